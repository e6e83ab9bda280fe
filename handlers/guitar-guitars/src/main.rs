//! Lambda entry point: build the DynamoDB client once, serve requests.

use handler_support::{aws, config};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [table] = config::required_all(["DYNAMODB_TABLE_GUITARS"])?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws::config().await);
    let state = guitar_guitars::Guitars { dynamodb, table };
    handler_support::serve(state, guitar_guitars::handle).await
}

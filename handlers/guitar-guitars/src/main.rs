//! Lambda entry point: build the DynamoDB client once, serve API requests.

use handler_support::{aws, config, Function, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [table] = config::required_all(["DYNAMODB_TABLE_GUITARS"])?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws::config().await);
    let state = guitar_guitars::Guitars {
        dynamodb,
        table,
        clock: Box::new(SystemClock),
    };
    handler_support::serve(Function::new(state).serves_http()).await
}

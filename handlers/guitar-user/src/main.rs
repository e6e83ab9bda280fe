//! Lambda entry point: build the DynamoDB and Cognito clients once, serve API requests.

use handler_support::{aws, config, Function, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [table, user_pool_id] =
        config::required_all(["DYNAMODB_TABLE_USERS", "COGNITO_USER_POOL_ID"])?;
    let sdk = aws::config().await;
    let state = guitar_user::Users {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        table,
        user_pool_id,
        clock: Box::new(SystemClock),
    };
    handler_support::serve(Function::new(state).serves_http()).await
}

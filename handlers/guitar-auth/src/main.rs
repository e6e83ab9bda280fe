//! Lambda entry point: build the Cognito and DynamoDB clients once, serve API requests.

use handler_support::{aws, config, Function, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [client_id, user_pool_id, users_table] = config::required_all([
        "COGNITO_CLIENT_ID",
        "COGNITO_USER_POOL_ID",
        "DYNAMODB_TABLE_USERS",
    ])?;
    let sdk = aws::config().await;
    let state = guitar_auth::Auth {
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        client_id,
        user_pool_id,
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        users_table,
        clock: Box::new(SystemClock),
    };
    handler_support::serve(Function::new(state).serves_http()).await
}

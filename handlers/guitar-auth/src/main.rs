//! Lambda entry point: build the Cognito client once, serve API requests.

use handler_support::{aws, config, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [client_id] = config::required_all(["COGNITO_CLIENT_ID"])?;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&aws::config().await);
    handler_support::serve(Function::new(guitar_auth::Auth { cognito, client_id }).serves_http())
        .await
}

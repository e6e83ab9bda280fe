//! Lambda entry point: build the Cognito client once, serve requests.

use handler_support::{aws, config};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [client_id] = config::required_all(["COGNITO_CLIENT_ID"])?;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&aws::config().await);
    handler_support::serve(
        guitar_auth::Auth { cognito, client_id },
        guitar_auth::handle,
    )
    .await
}

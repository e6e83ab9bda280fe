//! Lambda entry point: build the Cognito client once, serve API requests.

use handler_support::{aws, config, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let client_id = config::required("COGNITO_CLIENT_ID")?;
    let sdk = aws::config().await;
    let state = fleet_auth_refresh::Refresh {
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        client_id,
    };
    let function = Function::new(state)
        .serves_http()
        .allows_origin(config::optional("CORS_ALLOW_ORIGIN"));
    handler_support::serve(function).await
}

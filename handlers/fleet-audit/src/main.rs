//! Lambda entry point: build the DynamoDB client once, serve API requests.

use fleet_shared::audit::AuditLog;
use handler_support::{aws, config, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let sdk = aws::config().await;
    let state = fleet_audit::Audit {
        log: AuditLog::from_environment(&sdk)?,
    };
    let function = Function::new(state)
        .serves_http()
        .allows_origin(config::optional("CORS_ALLOW_ORIGIN"));
    handler_support::serve(function).await
}

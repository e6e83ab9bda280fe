//! Lambda entry point: build the DynamoDB client once, serve API requests.

use fleet_shared::audit::AuditLog;
use handler_support::{aws, config, Function, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let table = config::required("AUDIT_TABLE_NAME")?;
    let sdk = aws::config().await;
    let state = fleet_audit::Audit {
        log: AuditLog {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            table,
            clock: Box::new(SystemClock),
        },
    };
    let function = Function::new(state)
        .serves_http()
        .allows_origin(config::optional("CORS_ALLOW_ORIGIN"));
    handler_support::serve(function).await
}

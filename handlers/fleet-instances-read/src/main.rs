//! Lambda entry point: build the EC2 and DynamoDB clients once, serve API requests.

use fleet_shared::audit::AuditLog;
use fleet_shared::instances::ManagedTag;
use handler_support::{aws, config, Function, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [table, managed] = config::required_all(["AUDIT_TABLE_NAME", "MANAGED_TAG"])?;
    let managed = ManagedTag::parse(&managed).ok_or("MANAGED_TAG must be key=value")?;
    let sdk = aws::config().await;
    let state = fleet_instances_read::Instances {
        ec2: aws_sdk_ec2::Client::new(&sdk),
        audit: AuditLog {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            table,
            clock: Box::new(SystemClock),
        },
        managed,
    };
    let function = Function::new(state)
        .serves_http()
        .allows_origin(config::optional("CORS_ALLOW_ORIGIN"));
    handler_support::serve(function).await
}

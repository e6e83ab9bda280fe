//! Lambda entry point: build the EC2 and DynamoDB clients once, serve API requests.

use fleet_shared::audit::AuditLog;
use fleet_shared::instances::ManagedTag;
use handler_support::{aws, config, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let managed = ManagedTag::from_environment()?;
    let sdk = aws::config().await;
    let state = fleet_instances_reboot::Reboot {
        ec2: aws_sdk_ec2::Client::new(&sdk),
        audit: AuditLog::from_environment(&sdk)?,
        managed,
    };
    let function = Function::new(state)
        .serves_http()
        .allows_origin(config::optional("CORS_ALLOW_ORIGIN"));
    handler_support::serve(function).await
}

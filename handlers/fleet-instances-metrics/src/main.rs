//! Lambda entry point: build the CloudWatch, EC2 and DynamoDB clients once, serve API requests.

use fleet_shared::audit::AuditLog;
use handler_support::{aws, config, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let sdk = aws::config().await;
    let state = fleet_instances_metrics::Metrics {
        cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
        ec2: aws_sdk_ec2::Client::new(&sdk),
        audit: AuditLog::from_environment(&sdk)?,
    };
    let function = Function::new(state)
        .serves_http()
        .allows_origin(config::optional("CORS_ALLOW_ORIGIN"));
    handler_support::serve(function).await
}

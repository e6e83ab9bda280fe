//! The instances handler through the entry point Lambda uses, one JSON
//! fixture per case (`tests/fixtures/`): the REST API event, the EC2 and
//! DynamoDB calls it must make with AWS's answers, and the answer it gives.

use fleet_instances_read::Instances;
use fleet_shared::audit::AuditLog;
use fleet_shared::instances::ManagedTag;
use handler_support::testing::check_fixtures;
use handler_support::{FixedClock, Function};
use std::path::Path;

/// 2026-11-23T03:19:05Z, the time every fixture is stamped with.
const NOW: u64 = 1_795_403_945;

#[tokio::test]
async fn every_fixture_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_fixtures(&dir, |aws| {
        Function::new(Instances {
            ec2: aws_sdk_ec2::Client::new(aws.config()),
            audit: AuditLog {
                dynamodb: aws_sdk_dynamodb::Client::new(aws.config()),
                table: "fleet-console-test-audit-logs".into(),
                clock: Box::new(FixedClock(NOW)),
            },
            managed: ManagedTag::parse("fleet-console=managed").unwrap(),
        })
        .serves_http()
        .allows_origin(Some("https://console.example.com".into()))
    })
    .await;
}

//! The images handler through the entry point Lambda uses, one JSON fixture
//! per case (`tests/fixtures/`): the event, the DynamoDB and S3 calls it
//! must make with their answers (an uploaded PNG among them), and the
//! answer it must give.

use guitar_images::Images;
use handler_support::testing::check_fixtures;
use handler_support::{FixedClock, Function};
use std::path::Path;

/// 2026-11-23T03:19:05Z, the time every fixture is stamped with.
const NOW: u64 = 1_795_403_945;

#[tokio::test]
async fn every_fixture_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_fixtures(&dir, |aws| {
        let s3 = aws_sdk_s3::config::Builder::from(aws.config())
            .force_path_style(true)
            .build();
        Function::new(Images {
            s3: aws_sdk_s3::Client::from_conf(s3),
            dynamodb: aws_sdk_dynamodb::Client::new(aws.config()),
            table: "guitar-collection-guitars-test".into(),
            bucket: "guitar-collection-test-123456789012".into(),
            cdn_domain: "d111111abcdef8.cloudfront.net".into(),
            clock: Box::new(FixedClock(NOW)),
        })
        .serves_http()
    })
    .await;
}

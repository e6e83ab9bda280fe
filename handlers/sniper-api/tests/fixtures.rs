//! The API through the entry point Lambda uses, one JSON fixture per case
//! (`tests/fixtures/`): the HTTP API event, the AWS and eBay calls it must
//! make (in order) with the answers they give, and the answer it gives.

use handler_support::testing::check_fixtures;
use handler_support::{FixedClock, Function};
use sniper_api::{Api, BidIds, Settings};
use sniper_shared::ebay::Ebay;
use sniper_shared::secrets::Secrets;
use std::path::Path;

/// 2026-11-23T03:19:05Z, the time every fixture is stamped with.
const NOW: u64 = 1_795_403_945;
/// The random part of the fixtures' bid ids: with NOW, the first bid id
/// is `01a2066a-1428-7001-8203-040506070809`.
const ID_BITS: [u8; 10] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];

fn settings() -> Settings {
    let arn = |rest: &str| format!("arn:aws:{rest}");
    Settings {
        users_table: "ebay-sniper-test-Users".into(),
        bids_table: "ebay-sniper-test-Bids".into(),
        history_table: "ebay-sniper-test-BidHistory".into(),
        schedule_group: "ebay-sniper-test-bid-schedules".into(),
        scheduler_role_arn: arn("iam::123456789012:role/ebay-sniper-test-bid-schedules-scheduler"),
        bid_executor_arn: arn(
            "lambda:us-east-1:123456789012:function:ebay-sniper-test-bid-executor",
        ),
        schedule_dead_letter_arn: arn(
            "sqs:us-east-1:123456789012:ebay-sniper-test-bid-schedules-dlq",
        ),
        stack_key_arn: arn("kms:us-east-1:123456789012:key/0f6e7d8c-1a2b-4c3d-9e8f-7a6b5c4d3e2f"),
        ebay_secret_arn: arn(
            "secretsmanager:us-east-1:123456789012:secret:ebay-sniper-test/ebay-credentials-AbCdEf",
        ),
        ebay_base_url: "https://api.sandbox.ebay.com".into(),
        debug: false,
    }
}

#[tokio::test]
async fn every_fixture_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_fixtures(&dir, |aws| {
        Function::new(Api {
            dynamodb: aws_sdk_dynamodb::Client::new(aws.config()),
            scheduler: aws_sdk_scheduler::Client::new(aws.config()),
            kms: aws_sdk_kms::Client::new(aws.config()),
            secrets: Secrets::new(aws_sdk_secretsmanager::Client::new(aws.config())),
            ebay: Ebay::new(aws.outbound(), "https://api.sandbox.ebay.com".into()),
            clock: Box::new(FixedClock(NOW)),
            ids: BidIds::Fixed(ID_BITS),
            settings: settings(),
        })
        .serves_http()
    })
    .await;
}

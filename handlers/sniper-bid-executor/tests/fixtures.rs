//! The bid executor through the entry point Lambda uses, one JSON fixture
//! per case (`tests/fixtures/`, written by `tests/make_fixtures.py`): the
//! schedule's input, every outside call in order (DynamoDB, Secrets
//! Manager, KMS, eBay, Postmark) with the answers given, and the result.

use handler_support::testing::check_fixtures;
use handler_support::{FixedClock, Function};
use sniper_bid_executor::postmark::Postmark;
use sniper_bid_executor::record::Store;
use sniper_bid_executor::{Executor, Settings};
use sniper_shared::ebay::{Ebay, SANDBOX_URL};
use sniper_shared::secrets::Secrets;
use std::path::Path;

/// 2026-12-03T00:00:00Z, the time every fixture is stamped with.
const NOW: u64 = 1_796_256_000;
const EBAY_SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ebay-sniper-test/ebay-credentials-AbCdEf";
const POSTMARK_SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ebay-sniper-test/postmark-GhIjKl";
const STACK_KEY: &str =
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

#[tokio::test]
async fn every_fixture_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_fixtures(&dir, |aws| {
        let http = aws.outbound();
        Function::new(Executor {
            store: Store {
                dynamodb: aws_sdk_dynamodb::Client::new(aws.config()),
                bids_table: "ebay-sniper-test-Bids".into(),
                history_table: "ebay-sniper-test-BidHistory".into(),
                users_table: "ebay-sniper-test-Users".into(),
            },
            kms: aws_sdk_kms::Client::new(aws.config()),
            secrets: Secrets::new(aws_sdk_secretsmanager::Client::new(aws.config())),
            ebay: Ebay::new(http.clone(), SANDBOX_URL.into()),
            postmark: Postmark::new(http, None),
            clock: Box::new(FixedClock(NOW)),
            settings: Settings {
                ebay_secret_arn: EBAY_SECRET.into(),
                postmark_secret_arn: POSTMARK_SECRET.into(),
                stack_key_arn: STACK_KEY.into(),
            },
        })
        .serves_invocations()
    })
    .await;
}

//! The auth handler through the entry point Lambda uses, one JSON fixture
//! per case (`tests/fixtures/`): the event, the Cognito (and, at
//! confirmation, DynamoDB) calls it must make with their answers, and the
//! answer it must give.

use guitar_auth::Auth;
use handler_support::testing::check_fixtures;
use handler_support::{FixedClock, Function};
use std::path::Path;

/// 2026-11-23T03:19:05Z, the time every fixture is stamped with.
const NOW: u64 = 1_795_403_945;

#[tokio::test]
async fn every_fixture_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_fixtures(&dir, |aws| {
        Function::new(Auth {
            cognito: aws_sdk_cognitoidentityprovider::Client::new(aws.config()),
            client_id: "4kq0examplec1ient1d".into(),
            user_pool_id: "us-east-1_AbCdEfGhI".into(),
            dynamodb: aws_sdk_dynamodb::Client::new(aws.config()),
            users_table: "guitar-collection-users-test".into(),
            clock: Box::new(FixedClock(NOW)),
        })
        .serves_http()
    })
    .await;
}

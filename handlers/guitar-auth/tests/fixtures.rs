//! The auth handler through the entry point Lambda uses, one JSON fixture
//! per case (`tests/fixtures/`): the event, the Cognito calls it must make
//! with Cognito's answers, and the answer it must give.

use guitar_auth::Auth;
use handler_support::testing::check_fixtures;
use handler_support::Function;
use std::path::Path;

#[tokio::test]
async fn every_fixture_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_fixtures(&dir, |aws| {
        Function::new(Auth {
            cognito: aws_sdk_cognitoidentityprovider::Client::new(aws.config()),
            client_id: "4kq0examplec1ient1d".into(),
        })
        .serves_http()
    })
    .await;
}

//! The refresh handler through the entry point Lambda uses, one JSON
//! fixture per case (`tests/fixtures/`): the REST API event, the Cognito
//! call it must make with Cognito's answer, and the answer it gives.

use fleet_auth_refresh::Refresh;
use handler_support::testing::check_fixtures;
use handler_support::Function;
use std::path::Path;

#[tokio::test]
async fn every_fixture_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_fixtures(&dir, |aws| {
        Function::new(Refresh {
            cognito: aws_sdk_cognitoidentityprovider::Client::new(aws.config()),
            client_id: "4040b1c82f3c475cb3a850a1bb".into(),
        })
        .serves_http()
    })
    .await;
}

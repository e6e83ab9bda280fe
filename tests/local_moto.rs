//! `stackctl local` end to end on the emulator (tier `tier-emulator`): the
//! guitar-collection stack deployed with its real handler packages, then
//! served by `stackctl local` and called over HTTP with real Cognito tokens
//! of the deployed pool: sign up, confirm, log in, guitars created and
//! listed through the JWT authorizer. Every request the authorizer must
//! refuse is refused (no token, a tampered token, another pool's token,
//! another client's token), a route the API lacks answers as API Gateway
//! does, and a grant taken out of the stack file is reported by name when
//! the function's call needs it.
#![cfg(feature = "tier-emulator")]

mod support;

use serde_json::json;
use std::path::Path;
use support::local::{http, output, sign_in, Local, Project, PASSWORD};
use support::moto::Moto;

/// A token of another pool, or of another client of the stack's pool.
async fn foreign_token(moto: &Moto, pool: Option<&str>) -> String {
    use aws_sdk_cognitoidentityprovider::types::{
        AuthFlowType, ExplicitAuthFlowsType, UsernameAttributeType,
    };
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&moto.sdk_config().await);
    let pool_id = match pool {
        Some(id) => id.to_string(),
        None => cognito
            .create_user_pool()
            .pool_name("someone-elses-pool")
            .username_attributes(UsernameAttributeType::Email)
            .send()
            .await
            .unwrap()
            .user_pool()
            .unwrap()
            .id()
            .unwrap()
            .to_string(),
    };
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("another-client")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = client
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_string();
    let email = format!("mallory-{}@example.com", pool.is_some());
    cognito
        .sign_up()
        .client_id(&client_id)
        .username(&email)
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    cognito
        .admin_confirm_sign_up()
        .user_pool_id(&pool_id)
        .username(&email)
        .send()
        .await
        .unwrap();
    let auth = cognito
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", &email)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    auth.authentication_result()
        .unwrap()
        .id_token()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guitar_collection_runs_through_stackctl_local_against_the_emulator() {
    let moto = Moto::start();
    let project = Project::new();
    project.deploy(&moto);
    let pool = output(&project.outputs(&moto), "UserPoolId");

    let local = Local::start(&project, &moto, "contract");
    let alice = sign_in(&local, "alice@example.com", "Alice");

    // The authorizer: nothing reaches a function without a token of this
    // pool for the stack's own client.
    assert_eq!(local.call("GET", "/guitars", None, None).status, 401);
    let mut tampered = alice.clone();
    tampered.insert(tampered.len() - 5, 'A');
    tampered.truncate(tampered.len() - 1);
    let other_pool = foreign_token(&moto, None).await;
    let other_client = foreign_token(&moto, Some(&pool)).await;
    for (token, what) in [
        (&tampered, "a tampered token"),
        (&other_pool, "another pool's token"),
        (&other_client, "another client's token"),
    ] {
        let r = local.call("GET", "/guitars", Some(token), None);
        assert_eq!(
            (r.status, &r.body),
            (401, &json!({"message": "Unauthorized"})),
            "{what}"
        );
    }

    let guitar =
        json!({"brand": "Fender", "model": "Stratocaster", "year": 1962, "type": "electric"});
    let r = local.call("POST", "/guitars", Some(&alice), Some(guitar));
    assert_eq!(r.status, 201, "{r:?}\n{}", local.output());
    let r = local.call("GET", "/guitars", Some(&alice), None);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.to_string().contains("Stratocaster"), "{r:?}");
    assert!(r.header("apigw-requestid").is_some());

    let r = local.call("GET", "/user/profile", Some(&alice), None);
    assert_eq!(
        (r.status, &r.body["data"]["name"]),
        (200, &json!("Alice")),
        "{r:?}"
    );

    // A route the API does not have, and a CORS preflight from the dev origin.
    let r = local.call("GET", "/no/such/route", Some(&alice), None);
    assert_eq!((r.status, &r.body), (404, &json!({"message": "Not Found"})));
    let origin = ("origin".to_string(), "http://localhost:5173".to_string());
    let method = (
        "access-control-request-method".to_string(),
        "POST".to_string(),
    );
    let r = http(
        "OPTIONS",
        &format!("{}/guitars", local.url),
        &[origin, method],
        b"",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );

    let printed = local.stop();
    assert!(printed.contains("POST /guitars → 201"), "{printed}");
    assert!(
        printed.contains("GuitarsFunction"),
        "function logs are tagged: {printed}"
    );
    assert!(
        printed.contains("authorizer"),
        "refusals say why: {printed}"
    );
    assert!(
        printed.contains("never used"),
        "unused grants are listed on exit: {printed}"
    );

    // The guitars function loses its write grant in the stack file: the
    // call it makes to create a guitar is denied and named in the stack
    // file's terms.
    project.edit(
        "      tables: {guitars: read_write}\n  images:",
        "      tables: {guitars: read}\n  images:",
    );
    let local = Local::start(&project, &moto, "missing-grant");
    let bob = sign_in(&local, "bob@example.com", "Bob");
    let guitar = json!({"brand": "Gibson", "model": "Les Paul", "year": 1959, "type": "electric"});
    let r = local.call("POST", "/guitars", Some(&bob), Some(guitar));
    assert!(r.status >= 500, "the denied write fails the request: {r:?}");
    let printed = local.stop();
    assert!(printed.contains("dynamodb:PutItem"), "{printed}");
    assert!(
        printed.contains("tables: {guitars:"),
        "the missing grant in the stack file's terms: {printed}"
    );
    assert!(Path::new(&project.dir.path().join("stacks")).exists());
}

//! Contract tests of the guitar-collection backend against the local AWS
//! emulator (moto: DynamoDB, Cognito user pools, S3). Each handler is driven
//! with API Gateway HTTP API (payload 2.0) events through the same path the
//! Lambda runtime uses (`handler_support::Function::invoke`).
//!
//! The flow: register → confirm with the e-mailed code (the user record is
//! created then, named by the `name` attribute) → login → refresh → create
//! guitars → filter → brands → update → upload images (for a guitar, and the
//! seed's `{imageKey}`-only completion) and get their thumbnails → profile
//! and display name → delete; a second user can neither see nor touch the
//! first one's guitars; bad input gets the documented codes and changes
//! nothing; Cognito refusing a name change is a 4xx.

mod support;

use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, UsernameAttributeType};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use handler_support::{log::Logger, Function, HttpResponse, SystemClock};
use serde_json::{json, Value};
use std::time::Instant;
use support::moto::Moto;

const GUITARS: &str = "guitar-collection-guitars-test";
const USERS: &str = "guitar-collection-users-test";
const BUCKET: &str = "guitar-collection-test-123456789012";
const CDN: &str = "d111111abcdef8.cloudfront.net";

/// A public route's request (no authorizer claims).
fn public_post(route_key: &str, body: Value) -> Value {
    let (_, path) = route_key.split_once(' ').unwrap();
    event(route_key, path, &[], &[], Some(body), None)
}

/// A protected route's request without path parameters, by `claims`.
fn signed_in(route_key: &str, body: Option<Value>, claims: &Value) -> Value {
    let (_, path) = route_key.split_once(' ').unwrap();
    event(route_key, path, &[], &[], body, Some(claims))
}

/// An API Gateway HTTP API event as Lambda receives it.
fn event(
    route_key: &str,
    path: &str,
    params: &[(&str, &str)],
    query: &[(&str, &str)],
    body: Option<Value>,
    claims: Option<&Value>,
) -> Value {
    let (method, _) = route_key.split_once(' ').unwrap();
    let mut authorizer = Value::Null;
    if let Some(c) = claims {
        authorizer = json!({"jwt": {"claims": c, "scopes": null}});
    }
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"),
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "contract-test"},
        "queryStringParameters": if query.is_empty() { Value::Null } else { query.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>().into() },
        "pathParameters": if params.is_empty() { Value::Null } else { params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>().into() },
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "authorizer": authorizer, "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "contract-test"},
            "requestId": "req-1", "routeKey": route_key, "stage": "$default", "time": "23/Nov/2026:03:20:00 +0000", "timeEpoch": 1795403945000u64
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    fn data(&self) -> &Value {
        &self.body["data"]
    }
}

async fn call<S>(function: &Function<S>, event: Value) -> Answer {
    let result = function
        .invoke(event, &Logger::new("req-1"))
        .await
        .expect("an HTTP API request is answered");
    let HttpResponse {
        status_code,
        body,
        headers,
        ..
    } = serde_json::from_value(result).expect("an API Gateway response");
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    let body: Value = serde_json::from_str(&body).expect("a JSON envelope");
    assert_eq!(body["success"], json!(status_code < 400), "{body}");
    Answer {
        status: status_code,
        body,
    }
}

/// The claims API Gateway's JWT authorizer passes on, read from a real token.
fn claims_of(id_token: &str) -> Value {
    let payload = id_token.split('.').nth(1).expect("a JWT");
    let mut bytes = Vec::new();
    let table = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'-' | b'+' => 62,
            _ => 63,
        }
    };
    let chars: Vec<u8> = payload.bytes().filter(|c| *c != b'=').collect();
    for chunk in chars.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, c)| acc | (table(*c) << (18 - 6 * i)));
        bytes.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// PUT `body` to a pre-signed URL, as a browser would.
fn http_put(url: &str, content_type: &str, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .expect("the emulator speaks plain HTTP");
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The image the CDN would serve at `url`, read from the bucket.
async fn stored_image(s3: &aws_sdk_s3::Client, url: &str) -> image::DynamicImage {
    let key = url.trim_start_matches(&format!("https://{CDN}/"));
    let bytes = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no object at {key}: {e}"))
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    image::load_from_memory(&bytes).unwrap()
}

/// The seed's client: an upload URL asked for no guitar (the seed's key
/// layout), then completion with `{imageKey}` alone. The image and its
/// thumbnail are stored and both URLs returned.
async fn upload_for_no_guitar<S>(images: &Function<S>, s3: &aws_sdk_s3::Client, claims: &Value) {
    let user = claims["sub"].as_str().unwrap();
    let ask = json!({"fileName": "headstock.png", "fileType": "image/png"});
    let r = call(
        images,
        event(
            "POST /images/upload-url",
            "/",
            &[],
            &[],
            Some(ask),
            Some(claims),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let key = r.data()["imageKey"].as_str().unwrap().to_string();
    assert_eq!(
        key.rsplit_once('/').unwrap().0,
        format!("uploads/{user}"),
        "{key}"
    );
    let put = http_put(
        r.data()["uploadUrl"].as_str().unwrap(),
        "image/png",
        &png(300, 600),
    );
    assert_eq!(put, 200);
    let r = call(
        images,
        event(
            "POST /images/upload-complete",
            "/",
            &[],
            &[],
            Some(json!({"imageKey": key})),
            Some(claims),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let image_url = r.data()["imageUrl"].as_str().unwrap();
    assert!(
        image_url.starts_with(&format!("https://{CDN}/images/{user}/")),
        "{image_url}"
    );
    assert_eq!(stored_image(s3, image_url).await.height(), 600);
    let thumb = stored_image(s3, r.data()["thumbnailUrl"].as_str().unwrap()).await;
    assert_eq!((thumb.width(), thumb.height()), (200, 400));
    assert!(r.data()["image"].get("isPrimary").is_none(), "on no guitar");
}

async fn create_resources(sdk: &aws_config::SdkConfig) -> (String, String) {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    ddb.create_table()
        .table_name(GUITARS)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("userId"))
        .attribute_definitions(attr("guitarId"))
        .attribute_definitions(attr("brand"))
        .key_schema(key("userId", KeyType::Hash))
        .key_schema(key("guitarId", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("brand-userId-index")
                .key_schema(key("brand", KeyType::Hash))
                .key_schema(key("userId", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ddb.create_table()
        .table_name(USERS)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("userId"))
        .key_schema(key("userId", KeyType::Hash))
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let pool = cognito
        .create_user_pool()
        .pool_name("guitar-collection-test-users")
        .username_attributes(UsernameAttributeType::Email)
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap().to_string();
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    (
        pool_id,
        client
            .user_pool_client()
            .unwrap()
            .client_id()
            .unwrap()
            .to_string(),
    )
}

/// The seed's verification step, through the API. moto 5.2.5's
/// ConfirmSignUp checks no code (any code confirms the account), so only the
/// success and an unknown account cross the wire here; wrong, expired and
/// repeated codes are the auth handler's fixtures
/// (`handlers/guitar-auth/tests/fixtures/confirm-*.json`).
async fn confirm_sign_up<S>(
    auth: &Function<S>,
    dynamodb: &aws_sdk_dynamodb::Client,
    user_id: &Value,
) {
    let user_record = move || async move {
        dynamodb
            .get_item()
            .table_name(USERS)
            .key(
                "userId",
                AttributeValue::S(user_id.as_str().unwrap().into()),
            )
            .send()
            .await
            .unwrap()
            .item
    };
    let r = call(
        auth,
        public_post("POST /auth/confirm", json!({"email": "alice@example.com"})),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "AUTH_VALIDATION_ERROR"));
    let unknown = json!({"email": "nobody@example.com", "code": "123456"});
    let r = call(auth, public_post("POST /auth/confirm", unknown)).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "AUTH_CODE_INVALID"),
        "{}",
        r.body
    );
    assert!(
        user_record().await.is_none(),
        "no record before confirmation"
    );

    let alice = json!({"email": "Alice@Example.com", "code": "123456"});
    let r = call(auth, public_post("POST /auth/confirm", alice)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.data()["userId"], &r.data()["name"]),
        (user_id, &json!("Alice"))
    );
    let item = user_record()
        .await
        .expect("the user record is created at confirmation");
    // Named by the `name` attribute, not by the username (a UUID in this pool).
    assert_eq!(item["name"], AttributeValue::S("Alice".into()));
    assert_eq!(item["email"], AttributeValue::S("alice@example.com".into()));
}

/// A user confirmed by an administrator (no record made at confirmation)
/// gets one on the first profile read, from Cognito's attributes: the
/// access token the seed's client sends carries neither e-mail nor name.
async fn first_read_of_an_admin_confirmed_user<A, U>(
    auth: &Function<A>,
    users: &Function<U>,
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool_id: &str,
) {
    let carol =
        json!({"email": "carol@example.com", "password": "Str0ng!Passw0rd", "name": "Carol Kaye"});
    let r = call(auth, public_post("POST /auth/register", carol)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    cognito
        .admin_confirm_sign_up()
        .user_pool_id(pool_id)
        .username("carol@example.com")
        .send()
        .await
        .unwrap();
    let login = json!({"email": "carol@example.com", "password": "Str0ng!Passw0rd"});
    let r = call(auth, public_post("POST /auth/login", login)).await;
    let claims = claims_of(r.data()["accessToken"].as_str().unwrap());
    assert_eq!(claims["token_use"], "access");
    let r = call(users, signed_in("GET /user/profile", None, &claims)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.data()["name"], &r.data()["email"]),
        (&json!("Carol Kaye"), &json!("carol@example.com"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guitar_backend_honours_its_contract() {
    let moto = Moto::start();
    moto.export();
    let sdk = handler_support::aws::config().await;
    let (pool_id, client_id) = create_resources(&sdk).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let auth = Function::new(guitar_auth::Auth {
        cognito: cognito.clone(),
        client_id,
        user_pool_id: pool_id.clone(),
        dynamodb: dynamodb.clone(),
        users_table: USERS.into(),
        clock: Box::new(SystemClock),
    })
    .serves_http();
    let guitars = Function::new(guitar_guitars::Guitars {
        dynamodb: dynamodb.clone(),
        table: GUITARS.into(),
        clock: Box::new(SystemClock),
    })
    .serves_http();
    let images = Function::new(guitar_images::Images {
        s3: s3.clone(),
        dynamodb: dynamodb.clone(),
        table: GUITARS.into(),
        bucket: BUCKET.into(),
        cdn_domain: CDN.into(),
        clock: Box::new(SystemClock),
    })
    .serves_http();
    let users = Function::new(guitar_user::Users {
        dynamodb: dynamodb.clone(),
        cognito: cognito.clone(),
        table: USERS.into(),
        user_pool_id: pool_id.clone(),
        clock: Box::new(SystemClock),
    })
    .serves_http();

    // Registration, with the documented errors.
    let alice =
        json!({"email": "Alice@Example.com", "password": "Str0ng!Passw0rd", "name": "Alice"});
    let r = call(
        &auth,
        event(
            "POST /auth/register",
            "/auth/register",
            &[],
            &[],
            Some(alice.clone()),
            None,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["email"], "alice@example.com");
    let registered_id = r.data()["userId"].clone();
    let r = call(
        &auth,
        event(
            "POST /auth/register",
            "/auth/register",
            &[],
            &[],
            Some(alice.clone()),
            None,
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (409, "AUTH_USER_EXISTS"));
    let r = call(
        &auth,
        event(
            "POST /auth/register",
            "/auth/register",
            &[],
            &[],
            Some(json!({"email": "nope", "password": "x"})),
            None,
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "AUTH_VALIDATION_ERROR"));
    assert_eq!(
        r.body["error"]["details"].as_array().unwrap().len(),
        3,
        "{}",
        r.body
    );
    confirm_sign_up(&auth, &dynamodb, &registered_id).await;

    // Login, wrong password, refresh.
    let r = call(
        &auth,
        event(
            "POST /auth/login",
            "/auth/login",
            &[],
            &[],
            Some(json!({"email": "alice@example.com", "password": "Wrong!Passw0rd1"})),
            None,
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_CREDENTIALS"));
    let started = Instant::now();
    let r = call(
        &auth,
        event(
            "POST /auth/login",
            "/auth/login",
            &[],
            &[],
            Some(json!({"email": "alice@example.com", "password": "Str0ng!Passw0rd"})),
            None,
        ),
    )
    .await;
    eprintln!("login answered in {:?}", started.elapsed());
    assert_eq!(r.status, 200, "{}", r.body);
    let id_token = r.data()["idToken"].as_str().unwrap().to_string();
    let refresh = r.data()["refreshToken"].as_str().unwrap().to_string();
    let r = call(
        &auth,
        event(
            "POST /auth/refresh",
            "/auth/refresh",
            &[],
            &[],
            Some(json!({"refreshToken": refresh})),
            None,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["accessToken"].is_string());
    let r = call(
        &auth,
        event(
            "POST /auth/refresh",
            "/auth/refresh",
            &[],
            &[],
            Some(json!({"refreshToken": "garbage"})),
            None,
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (401, "AUTH_TOKEN_EXPIRED"));
    let r = call(
        &auth,
        event(
            "POST /auth/forgot-password",
            "/auth/forgot-password",
            &[],
            &[],
            Some(json!({"email": "nobody@example.com"})),
            None,
        ),
    )
    .await;
    assert_eq!(
        r.status, 200,
        "an unknown address gets the same answer: {}",
        r.body
    );
    let alice_claims = claims_of(&id_token);
    let alice_id = alice_claims["sub"].as_str().unwrap().to_string();
    let bob_claims = json!({"sub": "b0b00000-0000-4000-8000-000000000000", "email": "bob@example.com", "cognito:username": "bob"});

    // No claims: refused.
    let r = call(
        &guitars,
        event("GET /guitars", "/guitars", &[], &[], None, None),
    )
    .await;
    assert_eq!((r.status, r.code()), (401, "AUTH_UNAUTHORIZED"));

    // Create guitars; bad input changes nothing.
    let mut ids = Vec::new();
    for body in [
        json!({"brand": "Fender", "model": "Stratocaster", "year": 1962, "type": "electric", "numberOfFrets": 21, "caseIncluded": true,
               "privateInfo": {"serialNumber": "L01234", "purchasePrice": 18000, "currency": "usd"}, "notes": [{"content": "Refretted 2019"}],
               "detailedSpecs": {"radius": "7.25in"}}),
        json!({"brand": "Gibson", "model": "Les Paul Standard", "year": 1959, "type": "electric"}),
        json!({"brand": "Martin", "model": "D-28", "year": 2010, "type": "acoustic"}),
    ] {
        let started = Instant::now();
        let r = call(
            &guitars,
            event(
                "POST /guitars",
                "/guitars",
                &[],
                &[],
                Some(body),
                Some(&alice_claims),
            ),
        )
        .await;
        eprintln!("create guitar answered in {:?}", started.elapsed());
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.data()["userId"], json!(alice_id));
        ids.push(r.data()["guitarId"].as_str().unwrap().to_string());
    }
    for bad in [
        json!({"model": "No brand"}),
        json!({"brand": "X", "model": "Y", "year": 1800}),
        json!({"brand": "X", "model": "Y", "userId": "someone-else"}),
        json!({"brand": "X", "model": "Y", "privateInfo": {"purchasePrice": -5}}),
    ] {
        let r = call(
            &guitars,
            event(
                "POST /guitars",
                "/guitars",
                &[],
                &[],
                Some(bad.clone()),
                Some(&alice_claims),
            ),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (400, "GUITAR_VALIDATION_ERROR"),
            "{bad}: {}",
            r.body
        );
    }
    let r = call(
        &guitars,
        event(
            "POST /guitars",
            "/guitars",
            &[],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "GUITAR_VALIDATION_ERROR"));
    let started = Instant::now();
    let r = call(
        &guitars,
        event(
            "GET /guitars",
            "/guitars",
            &[],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    eprintln!("list guitars answered in {:?}", started.elapsed());
    assert_eq!(
        r.data()["count"],
        3,
        "bad input created nothing: {}",
        r.body
    );
    let fender = r.data()["guitars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["brand"] == "Fender")
        .unwrap()
        .clone();
    assert_eq!(fender["privateInfo"]["currency"], "USD");
    assert_eq!(fender["notes"][0]["content"], "Refretted 2019");

    // Filters and brands.
    for (query, expected) in [
        (vec![("brand", "Fender")], 1),
        (vec![("type", "electric")], 2),
        (vec![("yearFrom", "1955"), ("yearTo", "1965")], 2),
        (vec![("type", "electric"), ("yearFrom", "1960")], 1),
    ] {
        let r = call(
            &guitars,
            event(
                "GET /guitars",
                "/guitars",
                &[],
                &query,
                None,
                Some(&alice_claims),
            ),
        )
        .await;
        assert_eq!(r.data()["count"], expected, "{query:?}: {}", r.body);
    }
    let r = call(
        &guitars,
        event(
            "GET /guitars",
            "/guitars",
            &[],
            &[("yearFrom", "2000"), ("yearTo", "1990")],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.code(), "GUITAR_VALIDATION_ERROR");
    let r = call(
        &guitars,
        event(
            "GET /guitars/brands",
            "/guitars/brands",
            &[],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.data()["brands"], json!(["Fender", "Gibson", "Martin"]));

    // Update.
    let gibson = ids[1].clone();
    let r = call(
        &guitars,
        event(
            "PUT /guitars/{id}",
            &format!("/guitars/{gibson}"),
            &[("id", &gibson)],
            &[],
            Some(json!({"year": 1960, "color": "Cherry Sunburst"})),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.data()["year"].clone(), r.data()["color"].clone()),
        (json!(1960), json!("Cherry Sunburst"))
    );
    let r = call(
        &guitars,
        event(
            "PUT /guitars/{id}",
            "/guitars/nope",
            &[("id", "nope")],
            &[],
            Some(json!({"year": 1960})),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "GUITAR_NOT_FOUND"));

    // Another user can neither see nor touch them.
    let r = call(
        &guitars,
        event(
            "GET /guitars",
            "/guitars",
            &[],
            &[],
            None,
            Some(&bob_claims),
        ),
    )
    .await;
    assert_eq!(r.data()["count"], 0);
    for (route, body) in [
        ("GET /guitars/{id}", None),
        ("PUT /guitars/{id}", Some(json!({"brand": "Stolen"}))),
        ("DELETE /guitars/{id}", None),
    ] {
        let r = call(
            &guitars,
            event(
                route,
                &format!("/guitars/{gibson}"),
                &[("id", &gibson)],
                &[],
                body,
                Some(&bob_claims),
            ),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (404, "GUITAR_NOT_FOUND"),
            "{route}: {}",
            r.body
        );
    }
    let r = call(
        &guitars,
        event(
            "GET /guitars/{id}",
            &format!("/guitars/{gibson}"),
            &[("id", &gibson)],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(
        (r.data()["brand"].clone(), r.data()["year"].clone()),
        (json!("Gibson"), json!(1960))
    );

    // Image: pre-signed upload, completion, thumbnail.
    let picture = png(1200, 600);
    let r = call(&images, event("POST /images/upload-url", "/images/upload-url", &[], &[], Some(json!({"fileName": "../strat front.png", "fileType": "image/png", "fileSize": picture.len(), "guitarId": ids[0]})), Some(&alice_claims))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let key = r.data()["imageKey"].as_str().unwrap().to_string();
    assert!(
        key.starts_with(&format!("uploads/{alice_id}/{}/", ids[0]))
            && key.ends_with("-strat_front.png"),
        "an upload for a guitar names it in the key: {key}"
    );
    assert_eq!(r.data()["expiresIn"], 300);
    let put = http_put(
        r.data()["uploadUrl"].as_str().unwrap(),
        "image/png",
        &picture,
    );
    assert_eq!(put, 200, "the pre-signed URL accepts the upload");
    let r = call(
        &images,
        event(
            "POST /images/upload-url",
            "/images/upload-url",
            &[],
            &[],
            Some(json!({"fileName": "x.gif", "fileType": "image/gif"})),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.code(), "IMAGE_VALIDATION_ERROR");
    let r = call(
        &images,
        event(
            "POST /images/upload-url",
            "/images/upload-url",
            &[],
            &[],
            Some(
                json!({"fileName": "x.png", "fileType": "image/png", "fileSize": 11 * 1024 * 1024}),
            ),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(
        r.code(),
        "IMAGE_VALIDATION_ERROR",
        "more than 10 MB is refused"
    );
    // Bob cannot claim Alice's upload.
    let r = call(
        &images,
        event(
            "POST /images/upload-complete",
            "/images/upload-complete",
            &[],
            &[],
            Some(json!({"imageKey": key})),
            Some(&bob_claims),
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "IMAGE_VALIDATION_ERROR"));
    let started = Instant::now();
    let r = call(
        &images,
        event(
            "POST /images/upload-complete",
            "/images/upload-complete",
            &[],
            &[],
            // The seed's body, plus a caption; the guitar comes from the key.
            Some(json!({"imageKey": key, "caption": "Front"})),
            Some(&alice_claims),
        ),
    )
    .await;
    eprintln!(
        "upload-complete (thumbnail) answered in {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let thumb_url = r.data()["thumbnailUrl"].as_str().unwrap();
    assert!(
        thumb_url.starts_with(&format!("https://{CDN}/images/{alice_id}/")),
        "{thumb_url}"
    );
    let thumb = stored_image(&s3, thumb_url).await;
    assert_eq!((thumb.width(), thumb.height()), (400, 200));
    assert!(
        s3.head_object()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
            .is_err(),
        "the upload was moved out of uploads/"
    );
    let r = call(
        &guitars,
        event(
            "GET /guitars/{id}",
            "/",
            &[("id", &ids[0])],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.data()["images"][0]["isPrimary"], true);
    assert_eq!(r.data()["images"][0]["caption"], "Front");
    upload_for_no_guitar(&images, &s3, &alice_claims).await;
    // Not an image: refused, and the upload is removed.
    let junk = format!("uploads/{alice_id}/00000000-0000-4000-8000-000000000000-notes.png");
    s3.put_object()
        .bucket(BUCKET)
        .key(&junk)
        .body(b"not a picture".to_vec().into())
        .send()
        .await
        .unwrap();
    let r = call(
        &images,
        event(
            "POST /images/upload-complete",
            "/",
            &[],
            &[],
            Some(json!({"imageKey": junk, "guitarId": ids[0]})),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "IMAGE_VALIDATION_ERROR"));
    assert!(s3
        .head_object()
        .bucket(BUCKET)
        .key(&junk)
        .send()
        .await
        .is_err());

    // Profile and display name (kept in Cognito too).
    let r = call(&users, signed_in("GET /user/profile", None, &alice_claims)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["email"], "alice@example.com");
    assert_eq!(r.data()["name"], "Alice", "the record made at confirmation");
    first_read_of_an_admin_confirmed_user(&auth, &users, &cognito, &pool_id).await;
    // Cognito refusing a name change is a 4xx: Bob's claims name no Cognito
    // user (UserNotFoundException). Other refusals are the user handler's
    // fixtures (moto accepts any `name`).
    for (route, body) in [
        ("PUT /user/name", Some(json!({"name": "Robert"}))),
        ("PUT /user/profile", Some(json!({"name": "Robert"}))),
        ("GET /user/profile", None),
    ] {
        let r = call(&users, signed_in(route, body, &bob_claims)).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "AUTH_UNAUTHORIZED"),
            "{route}: {}",
            r.body
        );
    }
    let r = call(
        &users,
        event(
            "PUT /user/name",
            "/user/name",
            &[],
            &[],
            Some(json!({"name": "Alice Cooper"})),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.data()["name"], "Alice Cooper", "{}", r.body);
    let user = cognito
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username(
            alice_claims["cognito:username"]
                .as_str()
                .unwrap_or("alice@example.com"),
        )
        .send()
        .await
        .unwrap();
    assert!(user
        .user_attributes()
        .iter()
        .any(|a| a.name() == "name" && a.value() == Some("Alice Cooper")));
    let r = call(
        &users,
        event(
            "PUT /user/profile",
            "/user/profile",
            &[],
            &[],
            Some(json!({"preferences": {"currency": "EUR"}, "email": "x@y.z"})),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "USER_VALIDATION_ERROR"),
        "e-mail cannot be changed here"
    );
    let r = call(
        &users,
        event(
            "PUT /user/profile",
            "/user/profile",
            &[],
            &[],
            Some(json!({"preferences": {"currency": "EUR"}})),
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.data()["preferences"]["currency"], "EUR");

    // Delete.
    let r = call(
        &guitars,
        event(
            "DELETE /guitars/{id}",
            "/",
            &[("id", &ids[2])],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = call(
        &guitars,
        event(
            "GET /guitars/{id}",
            "/",
            &[("id", &ids[2])],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.code(), "GUITAR_NOT_FOUND");
    let r = call(
        &guitars,
        event(
            "GET /guitars",
            "/guitars",
            &[],
            &[],
            None,
            Some(&alice_claims),
        ),
    )
    .await;
    assert_eq!(r.data()["count"], 2);

    // Not a route of this handler.
    let r = call(
        &guitars,
        event("GET /nope", "/nope", &[], &[], None, Some(&alice_claims)),
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "ROUTE_NOT_FOUND"));
}

//! Contract tests of the guitar-collection backend, through the path a
//! user's request takes (tier `tier-emulator`): the stack deployed to the
//! emulator (moto: DynamoDB, Cognito user pools, S3) with its real handler
//! packages, served by `stackctl local` (API Gateway's routing, the JWT
//! authorizer checking real tokens of the deployed pool, each function a
//! `bootstrap` process under its own role, its AWS calls checked by the IAM
//! proxy) and called over HTTP. What the API stored is read back from the
//! emulator through the SDK.
//!
//! The flow: register → confirm with the e-mailed code (the user record is
//! created then, named by the `name` attribute) → login → refresh → create
//! guitars → filter → brands → update → upload images (for a guitar, and the
//! seed's `{imageKey}`-only completion; the PUT goes to the pre-signed URL,
//! which points at `stackctl local`'s AWS proxy) and get their thumbnails →
//! profile and display name → delete; a second user can neither see nor
//! touch the first one's guitars; bad input gets the documented codes and
//! changes nothing; Cognito refusing a name change is a 4xx; requests
//! without a valid token are refused by the authorizer and reach no
//! function.

mod support;

use serde_json::{json, Value};
use std::time::Instant;
use support::local::{http, output, sign_in, Answer, Local, Project, PASSWORD};
use support::moto::Moto;

const USERS: &str = "guitar-collection-users-dev";
const BUCKET: &str = "guitar-collection-dev-123456789012";

/// The deployed backend, served by one `stackctl local`.
struct Backend {
    local: Local,
    /// The distribution's domain (`CLOUDFRONT_DOMAIN` of the images function).
    cdn: String,
    pool_id: String,
    cognito: aws_sdk_cognitoidentityprovider::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
}

impl Backend {
    /// A request a function answers: JSON in the handlers' envelope.
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let r = self.local.call(method, path, token, body);
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{method} {path}: {r:?}"
        );
        assert_eq!(
            r.body["success"],
            json!(r.status < 400),
            "{method} {path}: {r:?}"
        );
        r
    }

    /// A public route's request (no token).
    fn public(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, None, Some(body))
    }

    /// The image the CDN would serve at `url`, read from the bucket.
    async fn stored_image(&self, url: &str) -> image::DynamicImage {
        let key = url.trim_start_matches(&format!("https://{}/", self.cdn));
        let bytes = self
            .s3
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

    async fn stored(&self, key: &str) -> bool {
        self.s3
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .is_ok()
    }

    async fn user_record(
        &self,
        user_id: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(USERS)
            .key(
                "userId",
                aws_sdk_dynamodb::types::AttributeValue::S(user_id.into()),
            )
            .send()
            .await
            .unwrap()
            .item
    }
}

/// The claims of a real token (what the authorizer passes on).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
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
    let mut bytes = Vec::new();
    for chunk in chars.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, c)| acc | (table(*c) << (18 - 6 * i)));
        bytes.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// PUT `body` to a pre-signed URL, as a browser would.
fn put_presigned(url: &str, content_type: &str, body: &[u8]) -> Answer {
    let headers = [("content-type".to_string(), content_type.to_string())];
    http("PUT", url, &headers, body)
}

/// Registration with the documented errors, the seed's verification step
/// and login, wrong password, refresh; Alice's id token.
async fn register_confirm_and_log_in(b: &Backend) -> String {
    let alice = json!({"email": "Alice@Example.com", "password": PASSWORD, "name": "Alice"});
    let r = b.public("/auth/register", alice.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["email"], "alice@example.com");
    let registered_id = r.data()["userId"].clone();
    let r = b.public("/auth/register", alice);
    assert_eq!((r.status, r.code()), (409, "AUTH_USER_EXISTS"));
    let r = b.public("/auth/register", json!({"email": "nope", "password": "x"}));
    assert_eq!((r.status, r.code()), (400, "AUTH_VALIDATION_ERROR"));
    assert_eq!(
        r.body["error"]["details"].as_array().unwrap().len(),
        3,
        "{}",
        r.body
    );
    confirm_sign_up(b, registered_id.as_str().unwrap()).await;

    let wrong = json!({"email": "alice@example.com", "password": "Wrong!Passw0rd1"});
    let r = b.public("/auth/login", wrong);
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_CREDENTIALS"));
    let started = Instant::now();
    let r = b.public(
        "/auth/login",
        json!({"email": "alice@example.com", "password": PASSWORD}),
    );
    eprintln!("login answered in {:?}", started.elapsed());
    assert_eq!(r.status, 200, "{}", r.body);
    let id_token = r.data()["idToken"].as_str().unwrap().to_string();
    let refresh = r.data()["refreshToken"].as_str().unwrap().to_string();
    let r = b.public("/auth/refresh", json!({"refreshToken": refresh}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["accessToken"].is_string());
    let r = b.public("/auth/refresh", json!({"refreshToken": "garbage"}));
    assert_eq!((r.status, r.code()), (401, "AUTH_TOKEN_EXPIRED"));
    let r = b.public(
        "/auth/forgot-password",
        json!({"email": "nobody@example.com"}),
    );
    assert_eq!(
        r.status, 200,
        "an unknown address gets the same answer: {}",
        r.body
    );
    id_token
}

/// The seed's verification step, through the API. moto 5.2.5's
/// ConfirmSignUp checks no code (any code confirms the account), so only the
/// success and an unknown account cross the wire here; wrong, expired and
/// repeated codes are the auth handler's fixtures
/// (`handlers/guitar-auth/tests/fixtures/confirm-*.json`).
async fn confirm_sign_up(b: &Backend, user_id: &str) {
    let r = b.public("/auth/confirm", json!({"email": "alice@example.com"}));
    assert_eq!((r.status, r.code()), (400, "AUTH_VALIDATION_ERROR"));
    let unknown = json!({"email": "nobody@example.com", "code": "123456"});
    let r = b.public("/auth/confirm", unknown);
    assert_eq!(
        (r.status, r.code()),
        (400, "AUTH_CODE_INVALID"),
        "{}",
        r.body
    );
    assert!(
        b.user_record(user_id).await.is_none(),
        "no record before confirmation"
    );

    let alice = json!({"email": "Alice@Example.com", "code": "123456"});
    let r = b.public("/auth/confirm", alice);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.data()["userId"], &r.data()["name"]),
        (&json!(user_id), &json!("Alice"))
    );
    let item = b
        .user_record(user_id)
        .await
        .expect("the user record is created at confirmation");
    // Named by the `name` attribute, not by the username (a UUID in this pool).
    use aws_sdk_dynamodb::types::AttributeValue;
    assert_eq!(item["name"], AttributeValue::S("Alice".into()));
    assert_eq!(item["email"], AttributeValue::S("alice@example.com".into()));
}

/// No token, or one that is not a token of the pool: API Gateway's 401,
/// before any function runs (the function's own 401 for a request without
/// claims cannot be reached through the authorizer; it is the guitars
/// handler's `no-token` fixture).
fn refused_by_the_authorizer(b: &Backend, alice: &str) {
    let mut tampered = alice.to_string();
    tampered.insert(tampered.len() - 5, 'A');
    tampered.truncate(tampered.len() - 1);
    let guitar = json!({"brand": "Stolen", "model": "Refused", "year": 2000});
    for token in [None, Some("garbage"), Some(tampered.as_str())] {
        for (method, path, body) in [
            ("GET", "/guitars", None),
            ("POST", "/guitars", Some(guitar.clone())),
            ("GET", "/user/profile", None),
            ("POST", "/images/upload-url", Some(json!({}))),
        ] {
            let r = b.local.call(method, path, token, body);
            assert_eq!(
                (r.status, &r.body),
                (401, &json!({"message": "Unauthorized"})),
                "{method} {path} with {token:?}"
            );
        }
    }
}

/// Create, validate, list, filter, brands, update; the guitars' ids.
fn guitars(b: &Backend, alice: &str) -> Vec<String> {
    let alice_id = claims_of(alice)["sub"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    for body in [
        json!({"brand": "Fender", "model": "Stratocaster", "year": 1962, "type": "electric", "numberOfFrets": 21, "caseIncluded": true,
               "privateInfo": {"serialNumber": "L01234", "purchasePrice": 18000, "currency": "usd"}, "notes": [{"content": "Refretted 2019"}],
               "detailedSpecs": {"radius": "7.25in"}}),
        json!({"brand": "Gibson", "model": "Les Paul Standard", "year": 1959, "type": "electric"}),
        json!({"brand": "Martin", "model": "D-28", "year": 2010, "type": "acoustic"}),
    ] {
        let started = Instant::now();
        let r = b.call("POST", "/guitars", Some(alice), Some(body));
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
        let r = b.call("POST", "/guitars", Some(alice), Some(bad.clone()));
        assert_eq!(
            (r.status, r.code()),
            (400, "GUITAR_VALIDATION_ERROR"),
            "{bad}: {}",
            r.body
        );
    }
    let r = b.call("POST", "/guitars", Some(alice), None);
    assert_eq!((r.status, r.code()), (400, "GUITAR_VALIDATION_ERROR"));
    let started = Instant::now();
    let r = b.call("GET", "/guitars", Some(alice), None);
    eprintln!("list guitars answered in {:?}", started.elapsed());
    assert_eq!(
        r.data()["count"],
        3,
        "neither bad input nor refused requests created anything: {}",
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
        ("brand=Fender", 1),
        ("type=electric", 2),
        ("yearFrom=1955&yearTo=1965", 2),
        ("type=electric&yearFrom=1960", 1),
    ] {
        let r = b.call("GET", &format!("/guitars?{query}"), Some(alice), None);
        assert_eq!(r.data()["count"], expected, "{query}: {}", r.body);
    }
    let r = b.call(
        "GET",
        "/guitars?yearFrom=2000&yearTo=1990",
        Some(alice),
        None,
    );
    assert_eq!(r.code(), "GUITAR_VALIDATION_ERROR");
    let r = b.call("GET", "/guitars/brands", Some(alice), None);
    assert_eq!(r.data()["brands"], json!(["Fender", "Gibson", "Martin"]));

    // Update.
    let gibson = &ids[1];
    let change = json!({"year": 1960, "color": "Cherry Sunburst"});
    let r = b.call(
        "PUT",
        &format!("/guitars/{gibson}"),
        Some(alice),
        Some(change),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.data()["year"].clone(), r.data()["color"].clone()),
        (json!(1960), json!("Cherry Sunburst"))
    );
    let r = b.call(
        "PUT",
        "/guitars/nope",
        Some(alice),
        Some(json!({"year": 1960})),
    );
    assert_eq!((r.status, r.code()), (404, "GUITAR_NOT_FOUND"));
    ids
}

/// Another user can neither see nor touch Alice's guitars.
fn another_user_sees_nothing(b: &Backend, alice: &str, bob: &str, ids: &[String]) {
    let r = b.call("GET", "/guitars", Some(bob), None);
    assert_eq!(r.data()["count"], 0, "{}", r.body);
    let gibson = format!("/guitars/{}", ids[1]);
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"brand": "Stolen"}))),
        ("DELETE", None),
    ] {
        let r = b.call(method, &gibson, Some(bob), body);
        assert_eq!(
            (r.status, r.code()),
            (404, "GUITAR_NOT_FOUND"),
            "{method} {gibson}: {}",
            r.body
        );
    }
    let r = b.call("GET", &gibson, Some(alice), None);
    assert_eq!(
        (r.data()["brand"].clone(), r.data()["year"].clone()),
        (json!("Gibson"), json!(1960))
    );
}

/// Pre-signed upload for a guitar, completion, thumbnail; refusals.
async fn images(b: &Backend, alice: &str, bob: &str, ids: &[String]) {
    let alice_id = claims_of(alice)["sub"].as_str().unwrap().to_string();
    let picture = png(1200, 600);
    let ask = json!({"fileName": "../strat front.png", "fileType": "image/png", "fileSize": picture.len(), "guitarId": ids[0]});
    let r = b.call("POST", "/images/upload-url", Some(alice), Some(ask));
    assert_eq!(r.status, 200, "{}", r.body);
    let key = r.data()["imageKey"].as_str().unwrap().to_string();
    assert!(
        key.starts_with(&format!("uploads/{alice_id}/{}/", ids[0]))
            && key.ends_with("-strat_front.png"),
        "an upload for a guitar names it in the key: {key}"
    );
    assert_eq!(r.data()["expiresIn"], 300);
    let url = r.data()["uploadUrl"].as_str().unwrap();
    let put = put_presigned(url, "image/png", &picture);
    assert_eq!(
        put.status,
        200,
        "the pre-signed URL accepts the upload: {url}\n{put:?}\n{}",
        b.local.output()
    );
    let gif = json!({"fileName": "x.gif", "fileType": "image/gif"});
    let r = b.call("POST", "/images/upload-url", Some(alice), Some(gif));
    assert_eq!(r.code(), "IMAGE_VALIDATION_ERROR");
    let big = json!({"fileName": "x.png", "fileType": "image/png", "fileSize": 11 * 1024 * 1024});
    let r = b.call("POST", "/images/upload-url", Some(alice), Some(big));
    assert_eq!(
        r.code(),
        "IMAGE_VALIDATION_ERROR",
        "more than 10 MB is refused"
    );
    // Bob cannot claim Alice's upload.
    let claim = json!({"imageKey": key});
    let r = b.call("POST", "/images/upload-complete", Some(bob), Some(claim));
    assert_eq!((r.status, r.code()), (400, "IMAGE_VALIDATION_ERROR"));
    let started = Instant::now();
    // The seed's body, plus a caption; the guitar comes from the key.
    let complete = json!({"imageKey": key, "caption": "Front"});
    let r = b.call(
        "POST",
        "/images/upload-complete",
        Some(alice),
        Some(complete),
    );
    eprintln!(
        "upload-complete (thumbnail) answered in {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let thumb_url = r.data()["thumbnailUrl"].as_str().unwrap();
    assert!(
        thumb_url.starts_with(&format!("https://{}/images/{alice_id}/", b.cdn)),
        "{thumb_url}"
    );
    let thumb = b.stored_image(thumb_url).await;
    assert_eq!((thumb.width(), thumb.height()), (400, 200));
    assert!(
        !b.stored(&key).await,
        "the upload was moved out of uploads/"
    );
    let r = b.call("GET", &format!("/guitars/{}", ids[0]), Some(alice), None);
    assert_eq!(r.data()["images"][0]["isPrimary"], true);
    assert_eq!(r.data()["images"][0]["caption"], "Front");
    upload_for_no_guitar(b, alice).await;

    // Not an image: refused, and the upload is removed.
    let junk = format!("uploads/{alice_id}/00000000-0000-4000-8000-000000000000-notes.png");
    b.s3.put_object()
        .bucket(BUCKET)
        .key(&junk)
        .body(b"not a picture".to_vec().into())
        .send()
        .await
        .unwrap();
    let complete = json!({"imageKey": junk, "guitarId": ids[0]});
    let r = b.call(
        "POST",
        "/images/upload-complete",
        Some(alice),
        Some(complete),
    );
    assert_eq!((r.status, r.code()), (400, "IMAGE_VALIDATION_ERROR"));
    assert!(!b.stored(&junk).await);
}

/// The seed's client: an upload URL asked for no guitar (the seed's key
/// layout), then completion with `{imageKey}` alone. The image and its
/// thumbnail are stored and both URLs returned.
async fn upload_for_no_guitar(b: &Backend, alice: &str) {
    let user = claims_of(alice)["sub"].as_str().unwrap().to_string();
    let ask = json!({"fileName": "headstock.png", "fileType": "image/png"});
    let r = b.call("POST", "/images/upload-url", Some(alice), Some(ask));
    assert_eq!(r.status, 200, "{}", r.body);
    let key = r.data()["imageKey"].as_str().unwrap().to_string();
    assert_eq!(
        key.rsplit_once('/').unwrap().0,
        format!("uploads/{user}"),
        "{key}"
    );
    let put = put_presigned(
        r.data()["uploadUrl"].as_str().unwrap(),
        "image/png",
        &png(300, 600),
    );
    assert_eq!(put.status, 200, "{put:?}");
    let complete = json!({"imageKey": key});
    let r = b.call(
        "POST",
        "/images/upload-complete",
        Some(alice),
        Some(complete),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let image_url = r.data()["imageUrl"].as_str().unwrap();
    assert!(
        image_url.starts_with(&format!("https://{}/images/{user}/", b.cdn)),
        "{image_url}"
    );
    assert_eq!(b.stored_image(image_url).await.height(), 600);
    let thumb = b
        .stored_image(r.data()["thumbnailUrl"].as_str().unwrap())
        .await;
    assert_eq!((thumb.width(), thumb.height()), (200, 400));
    assert!(r.data()["image"].get("isPrimary").is_none(), "on no guitar");
}

/// Profile and display name (kept in Cognito too).
async fn profile(b: &Backend, alice: &str) {
    let r = b.call("GET", "/user/profile", Some(alice), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["email"], "alice@example.com");
    assert_eq!(r.data()["name"], "Alice", "the record made at confirmation");
    let rename = json!({"name": "Alice Cooper"});
    let r = b.call("PUT", "/user/name", Some(alice), Some(rename));
    assert_eq!(r.data()["name"], "Alice Cooper", "{}", r.body);
    let username = claims_of(alice)["cognito:username"]
        .as_str()
        .unwrap_or("alice@example.com")
        .to_string();
    let user = b
        .cognito
        .admin_get_user()
        .user_pool_id(&b.pool_id)
        .username(username)
        .send()
        .await
        .unwrap();
    assert!(user
        .user_attributes()
        .iter()
        .any(|a| a.name() == "name" && a.value() == Some("Alice Cooper")));
    let change = json!({"preferences": {"currency": "EUR"}, "email": "x@y.z"});
    let r = b.call("PUT", "/user/profile", Some(alice), Some(change));
    assert_eq!(
        (r.status, r.code()),
        (400, "USER_VALIDATION_ERROR"),
        "e-mail cannot be changed here"
    );
    let change = json!({"preferences": {"currency": "EUR"}});
    let r = b.call("PUT", "/user/profile", Some(alice), Some(change));
    assert_eq!(r.data()["preferences"]["currency"], "EUR", "{}", r.body);
}

/// Registers through the API, has an administrator confirm the account on
/// the deployed pool (no record is made then) and logs in; the access
/// token (what the seed's client sends).
async fn admin_confirmed(b: &Backend, email: &str, name: &str) -> String {
    let r = b.public(
        "/auth/register",
        json!({"email": email, "password": PASSWORD, "name": name}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    b.cognito
        .admin_confirm_sign_up()
        .user_pool_id(&b.pool_id)
        .username(email)
        .send()
        .await
        .unwrap();
    let r = b.public("/auth/login", json!({"email": email, "password": PASSWORD}));
    assert_eq!(r.status, 200, "{}", r.body);
    let access = r.data()["accessToken"].as_str().unwrap().to_string();
    assert_eq!(claims_of(&access)["token_use"], "access");
    access
}

/// A user confirmed by an administrator gets a record on the first profile
/// read, from Cognito's attributes: the access token carries neither e-mail
/// nor name.
async fn first_read_of_an_admin_confirmed_user(b: &Backend) {
    let carol = admin_confirmed(b, "carol@example.com", "Carol Kaye").await;
    let r = b.call("GET", "/user/profile", Some(&carol), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.data()["name"], &r.data()["email"]),
        (&json!("Carol Kaye"), &json!("carol@example.com"))
    );
}

/// Cognito refusing a name change is a 4xx: a valid token of an account
/// deleted from the pool since (UserNotFoundException). Other refusals are
/// the user handler's fixtures (moto accepts any `name`).
async fn cognito_refusing_is_a_4xx(b: &Backend) {
    let ghost = admin_confirmed(b, "ghost@example.com", "Ghost").await;
    let username = claims_of(&ghost)["username"].as_str().unwrap().to_string();
    b.cognito
        .admin_delete_user()
        .user_pool_id(&b.pool_id)
        .username(username)
        .send()
        .await
        .unwrap();
    for (method, path, body) in [
        ("PUT", "/user/name", Some(json!({"name": "Robert"}))),
        ("PUT", "/user/profile", Some(json!({"name": "Robert"}))),
        ("GET", "/user/profile", None),
    ] {
        let r = b.call(method, path, Some(&ghost), body);
        assert_eq!(
            (r.status, r.code()),
            (401, "AUTH_UNAUTHORIZED"),
            "{method} {path}: {}",
            r.body
        );
    }
}

fn delete(b: &Backend, alice: &str, ids: &[String]) {
    let martin = format!("/guitars/{}", ids[2]);
    let r = b.call("DELETE", &martin, Some(alice), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.call("GET", &martin, Some(alice), None);
    assert_eq!(r.code(), "GUITAR_NOT_FOUND");
    let r = b.call("GET", "/guitars", Some(alice), None);
    assert_eq!(r.data()["count"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guitar_backend_honours_its_contract_through_stackctl_local() {
    let moto = Moto::start();
    let project = Project::new();
    let started = Instant::now();
    project.deploy(&moto);
    eprintln!("deployed in {:?}", started.elapsed());
    let outputs = project.outputs(&moto);
    let sdk = moto.sdk_config().await;
    let b = Backend {
        local: Local::start(&project, &moto, "contract"),
        cdn: output(&outputs, "SiteDistributionDomain"),
        pool_id: output(&outputs, "UserPoolId"),
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        ),
    };

    let alice = register_confirm_and_log_in(&b).await;
    refused_by_the_authorizer(&b, &alice);
    let ids = guitars(&b, &alice);
    let bob = sign_in(&b.local, "bob@example.com", "Bob");
    another_user_sees_nothing(&b, &alice, &bob, &ids);
    images(&b, &alice, &bob, &ids).await;
    profile(&b, &alice).await;
    first_read_of_an_admin_confirmed_user(&b).await;
    cognito_refusing_is_a_4xx(&b).await;
    delete(&b, &alice, &ids);

    // A route the API does not have is API Gateway's 404; the handlers'
    // own ROUTE_NOT_FOUND cannot be reached through the API (every route
    // names one its function serves) and is handler_support's
    // `http-api-unknown-route` fixture.
    let r = b.local.call("GET", "/nope", Some(&alice), None);
    assert_eq!((r.status, &r.body), (404, &json!({"message": "Not Found"})));

    let printed = b.local.stop();
    reached_no_function_when_refused(&printed);
}

/// What `stackctl local` printed: the twelve requests the authorizer
/// refused ran no function (one `START` per request a function answered),
/// and no AWS call of a function was denied (nor left unchecked) by the
/// IAM proxy.
fn reached_no_function_when_refused(printed: &str) {
    let served: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("MainApi "))
        .collect();
    let refused = served
        .iter()
        .filter(|l| l.contains(": authorizer cognito refused"))
        .count();
    assert_eq!(refused, 12, "{printed}");
    let invoked = served
        .iter()
        .filter(|l| l.contains("Function)") && !l.contains("refused"))
        .count();
    assert_eq!(
        printed.matches("* START RequestId").count(),
        invoked,
        "{printed}"
    );
    let problems: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("warning:") || l.contains("denied"))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}\n{printed}");
}

//! The proxy end to end: real SDK clients and raw requests in, a fake
//! upstream behind it that records what reached it.

use super::*;
use crate::local::iam::fixtures::{self, ACCOUNT, REGION};
use crate::local::iam::role_policy;
use aws_sdk_dynamodb::types::AttributeValue;
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::time::Duration;

/// What reached the fake upstream.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Seen {
    /// The body as text (every fake answer here reads form or JSON bodies).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

type Answer = fn(&Seen) -> (u16, &'static str);

/// An upstream on a local port that records every request and answers
/// with `answer` (a status and a body).
pub(super) async fn fake_upstream<B: Into<Bytes> + Send + 'static>(
    answer: fn(&Seen) -> (u16, B),
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                        let record = record.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            let s = Seen {
                                method: parts.method.to_string(),
                                uri: parts.uri.to_string(),
                                headers: parts.headers,
                                body,
                            };
                            let (status, text) = answer(&s);
                            lock(&record).push(s);
                            let response = Response::builder()
                                .status(status)
                                .header("x-upstream", "fake")
                                .body(Full::new(text.into()))
                                .unwrap();
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{address}"), seen)
}

fn caller(f: &fixtures::Fixture, function: &str, key: &str) -> Caller {
    Caller {
        function: function.into(),
        access_key_id: key.into(),
        secret_access_key: format!("{key}-secret"),
        session_token: Some(format!("{key}-token")),
        session_name: format!("stackctl-local-{function}"),
        policy: role_policy(&f.template, &f.resolver(), &f.function(function)).unwrap(),
    }
}

struct Setup {
    proxy: AwsProxy,
    seen: Arc<Mutex<Vec<Seen>>>,
    fixture: fixtures::Fixture,
}

async fn setup(upstream: impl FnOnce(String) -> Upstream, answer: Answer) -> Setup {
    let fixture = fixtures::stack("guitar-collection");
    let (base, seen) = fake_upstream(answer).await;
    let callers = vec![
        caller(&fixture, "images", "ASIAIMAGES"),
        caller(&fixture, "user", "ASIAUSER"),
    ];
    let stack = StackContext::new(&fixture.def, &fixture.template, &fixture.deployed);
    let proxy = AwsProxy::start(upstream(base), callers, stack)
        .await
        .unwrap();
    Setup {
        proxy,
        seen,
        fixture,
    }
}

impl Setup {
    fn physical(&self, id: &str) -> String {
        self.fixture.deployed.physical_ids[id].clone()
    }
    fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }
}

fn sdk_credentials(key: &str) -> aws_sdk_dynamodb::config::Credentials {
    aws_sdk_dynamodb::config::Credentials::new(
        key,
        format!("{key}-secret"),
        Some(format!("{key}-token")),
        None,
        "test",
    )
}

fn dynamodb(proxy: &AwsProxy, key: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(proxy.endpoint())
        .region(aws_sdk_dynamodb::config::Region::new(REGION))
        .credentials_provider(sdk_credentials(key))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn s3(proxy: &AwsProxy, key: &str) -> aws_sdk_s3::Client {
    let credentials = aws_sdk_s3::config::Credentials::new(
        key,
        format!("{key}-secret"),
        Some(format!("{key}-token")),
        None,
        "test",
    );
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(proxy.endpoint())
        .force_path_style(true)
        .region(aws_sdk_s3::config::Region::new(REGION))
        .credentials_provider(credentials)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Sends a raw request and returns status, headers and body.
async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: &'static [u8],
) -> (u16, http::HeaderMap, String) {
    let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from_static(body))).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status.as_u16(),
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

use hyper_util::client::legacy::Client;

const ITEM: &str = r#"{"Item": {"userId": {"S": "u1"}}}"#;

/// A presigned PUT URL for `object` in the images bucket, signed with `key`.
async fn presigned_put(s: &Setup, key: &str, object: &str) -> String {
    let presign =
        aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(300)).unwrap();
    let put = s3(&s.proxy, key)
        .put_object()
        .bucket(s.physical("ImagesBucket"))
        .key(object)
        .presigned(presign)
        .await
        .unwrap();
    put.uri().to_string()
}

/// GetItem on the guitars table, signed with `key`.
async fn get_guitar(
    s: &Setup,
    key: &str,
) -> Result<aws_sdk_dynamodb::operation::get_item::GetItemOutput, String> {
    dynamodb(&s.proxy, key)
        .get_item()
        .table_name(s.physical("GuitarsTable"))
        .key("userId", AttributeValue::S("u1".into()))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn an_allowed_call_reaches_the_emulator_unchanged_and_its_answer_comes_back() {
    let s = setup(Upstream::Emulator, |_| (200, ITEM)).await;
    let table = s.physical("GuitarsTable");
    let got = get_guitar(&s, "ASIAIMAGES")
        .await
        .expect("allowed and relayed");
    assert_eq!(got.item.unwrap()["userId"], AttributeValue::S("u1".into()));
    let seen = s.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(
        (request.method.as_str(), request.uri.as_str()),
        ("POST", "/")
    );
    assert_eq!(request.headers["x-amz-target"], "DynamoDB_20120810.GetItem");
    let authorization = request.headers["authorization"].to_str().unwrap();
    assert!(
        authorization.contains("Credential=ASIAIMAGES/"),
        "forwarded unchanged: {authorization}"
    );
    assert!(
        !request.headers["host"]
            .to_str()
            .unwrap()
            .contains(&s.proxy.endpoint()[7..]),
        "host is the emulator's"
    );
    assert!(String::from_utf8_lossy(&request.body).contains(&table));
    assert!(s.proxy.report().denied.is_empty());
}

#[tokio::test]
async fn a_denied_call_gets_aws_access_denied_and_is_reported_in_stack_file_terms() {
    let s = setup(Upstream::Emulator, |_| (200, "{}")).await;
    let mut events = s.proxy.events().expect("first take");
    let users = s.physical("UsersTable");
    let error = dynamodb(&s.proxy, "ASIAIMAGES")
        .delete_item()
        .table_name(&users)
        .key("userId", AttributeValue::S("u1".into()))
        .send()
        .await
        .expect_err("images may not write users");
    let service_error = error.into_service_error();
    assert_eq!(
        aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&service_error),
        Some("AccessDeniedException")
    );
    let message = aws_smithy_types::error::metadata::ProvideErrorMetadata::message(&service_error)
        .unwrap()
        .to_string();
    let role = s.physical("ImagesFunctionRole");
    let arn = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{users}");
    assert_eq!(
        message,
        format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/stackctl-local-images is not authorized to perform: dynamodb:DeleteItem on resource: {arn} because no identity-based policy allows the dynamodb:DeleteItem action")
    );
    assert!(
        s.seen().is_empty(),
        "a denied call never reaches the upstream"
    );
    let Ok(Event::Denied(finding)) = events.try_recv() else {
        panic!("reported at once")
    };
    assert_eq!(
        finding.to_string(),
        format!("function images called dynamodb:DeleteItem on {arn}: no statement of its role allows it; the stack file grants it with `access: {{tables: {{users: write}}}}` (tables.users is {users})")
    );
    assert_eq!(s.proxy.report().denied, vec![finding]);
}

#[tokio::test]
async fn presigned_urls_are_checked_by_their_credential_and_s3_denials_are_xml() {
    let s = setup(Upstream::Emulator, |_| (200, "")).await;
    let bucket = s.physical("ImagesBucket");
    let put = presigned_put(&s, "ASIAIMAGES", "images/a b.jpg").await;
    let (status, headers, _) = send("PUT", &put, &[], b"jpeg bytes").await;
    assert_eq!(
        (status, headers["x-upstream"].to_str().unwrap()),
        (200, "fake")
    );
    let seen = s.seen();
    assert!(
        seen[0]
            .uri
            .starts_with(&format!("/{bucket}/images/a%20b.jpg?")),
        "{}",
        seen[0].uri
    );
    assert!(seen[0].uri.contains("X-Amz-Signature="));
    assert_eq!(&seen[0].body[..], b"jpeg bytes");
    // The user function may not touch the images bucket.
    let put = presigned_put(&s, "ASIAUSER", "images/x.jpg").await;
    let (status, _, body) = send("PUT", &put, &[], b"x").await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("s3:PutObject"),
        "{body}"
    );
    assert_eq!(s.seen().len(), 1);
    let finding = &s.proxy.report().denied[0];
    assert!(
        finding
            .to_string()
            .contains("`access: {buckets: {images: write}}`"),
        "{finding}"
    );
}

#[tokio::test]
async fn s3_calls_through_the_sdk_are_checked_per_key() {
    let s = setup(Upstream::Emulator, |_| (204, "")).await;
    let bucket = s.physical("ImagesBucket");
    let client = s3(&s.proxy, "ASIAIMAGES");
    client
        .delete_object()
        .bucket(&bucket)
        .key("images/x.jpg")
        .send()
        .await
        .expect("images writes its bucket");
    let error = client
        .delete_object()
        .bucket("someone-elses")
        .key("x.jpg")
        .send()
        .await
        .expect_err("not its bucket");
    assert_eq!(
        aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&error.into_service_error()),
        Some("AccessDenied")
    );
    let report = s.proxy.report();
    assert_eq!(report.denied[0].remedy, iam::Remedy::Undeclared);
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test]
async fn unknown_keys_and_unclassified_calls_are_forwarded_and_recorded_and_public_cognito_calls_pass(
) {
    let s = setup(Upstream::Emulator, |_| (200, "{}")).await;
    let mut events = s.proxy.events().unwrap();
    get_guitar(&s, "AKIASOMEONE").await.unwrap();
    let Ok(Event::Unchecked(u)) = events.try_recv() else {
        panic!("reported")
    };
    assert_eq!(
        u.to_string(),
        "not checked: dynamodb GetItem: signed with access key AKIASOMEONE, which is no function's"
    );
    dynamodb(&s.proxy, "ASIAIMAGES")
        .execute_statement()
        .statement("SELECT * FROM t")
        .send()
        .await
        .unwrap();
    let Ok(Event::Unchecked(u)) = events.try_recv() else {
        panic!("reported")
    };
    assert_eq!(u.function.as_deref(), Some("images"));
    let headers = [
        (
            "x-amz-target",
            "AWSCognitoIdentityProviderService.InitiateAuth".to_string(),
        ),
        ("content-type", "application/x-amz-json-1.1".to_string()),
    ];
    let (status, _, _) = send(
        "POST",
        &s.proxy.endpoint(),
        &headers,
        b"{\"AuthFlow\":\"USER_PASSWORD_AUTH\"}",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        events.try_recv().is_err(),
        "a public Cognito call needs no permission and is not a finding"
    );
    assert_eq!(s.seen().len(), 3);
    assert_eq!(s.proxy.report().unchecked.len(), 2);
}

#[tokio::test]
async fn towards_aws_a_call_is_re_signed_with_the_functions_key_for_the_upstream_host() {
    let s = setup(|base| Upstream::Aws { endpoint: base }, |_| (200, ITEM)).await;
    get_guitar(&s, "ASIAIMAGES").await.unwrap();
    let put = presigned_put(&s, "ASIAIMAGES", "images/y.jpg").await;
    send("PUT", &put, &[], b"y").await;
    let seen = s.seen();
    let by_target: HashMap<bool, &Seen> = seen
        .iter()
        .map(|r| (r.headers.contains_key("x-amz-target"), r))
        .collect();
    let get = by_target[&true];
    let authorization = get.headers["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAIMAGES/"),
        "{authorization}"
    );
    assert!(
        authorization.contains(&format!("/{REGION}/dynamodb/aws4_request")),
        "{authorization}"
    );
    assert_eq!(get.headers["x-amz-security-token"], "ASIAIMAGES-token");
    let upload = by_target[&false];
    assert!(
        !upload.uri.contains("X-Amz-Signature"),
        "re-signed in headers: {}",
        upload.uri
    );
    assert!(upload.headers["authorization"]
        .to_str()
        .unwrap()
        .contains("/s3/aws4_request"));
    assert_eq!(upload.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
}

#[tokio::test]
async fn on_exit_the_report_lists_grants_never_used_but_not_those_aws_uses_for_the_function() {
    let s = setup(Upstream::Emulator, |_| (200, ITEM)).await;
    get_guitar(&s, "ASIAIMAGES").await.unwrap();
    let report = s.proxy.report();
    let (function, unused) = &report.unused[0];
    assert_eq!(function, "images");
    let actions: Vec<&str> = unused.iter().map(|u| u.action.as_str()).collect();
    assert!(!actions.contains(&"dynamodb:GetItem"));
    assert!(
        actions.contains(&"dynamodb:PutItem") && actions.contains(&"s3:DeleteObject"),
        "{actions:?}"
    );
    assert!(
        unused
            .iter()
            .all(|u| u.statement != "WriteOwnLogs" && !u.action.starts_with("kms:")),
        "{unused:?}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = setup(Upstream::Emulator, |_| (200, "")).await;
    let mut stream = tokio::net::TcpStream::connect(&s.proxy.endpoint()[7..])
        .await
        .unwrap();
    let head = format!(
        "PUT /b/k HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
        BODY_LIMIT + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 64];
    stream.read_exact(&mut answer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(s.seen().is_empty());
}

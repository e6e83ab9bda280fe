use super::*;
use std::time::{Duration, UNIX_EPOCH};

/// 2015-08-30T12:36:00Z, the time of aws-sigv4's test suite.
fn suite_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn suite_target(service: &'static str) -> Target<'static> {
    Target {
        endpoint: "https://example.amazonaws.com",
        service,
        region: "us-east-1",
        credentials: Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        ),
        time: suite_time(),
    }
}

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = Request::builder().method(method).uri(uri);
    for (n, v) in headers {
        builder = builder.header(*n, *v);
    }
    builder.body(()).unwrap().into_parts().0
}

#[test]
fn a_presigned_request_is_re_signed_in_headers_as_the_sigv4_test_suite_expects() {
    // aws-sigv4's `get-vanilla`, arriving as a presigned URL at the proxy.
    let presigned = parts(
        "GET",
        "http://127.0.0.1:4566/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d",
        &[("host", "127.0.0.1:4566")],
    );
    let request = to_aws(&suite_target("service"), &presigned, Bytes::new()).expect("signs");
    assert_eq!(request.uri(), "https://example.amazonaws.com/");
    assert_eq!(request.headers()["host"], "example.amazonaws.com");
    assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
    assert_eq!(
        request.headers()["authorization"],
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[test]
fn a_header_signed_request_gets_the_functions_key_token_and_the_services_host() {
    let original = parts(
        "POST",
        "http://127.0.0.1:4566/",
        &[
            ("host", "127.0.0.1:4566"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=ASIAOLD/20250101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"),
            ("x-amz-date", "20250101T000000Z"),
            ("x-amz-security-token", "old-token"),
            ("x-amz-target", "DynamoDB_20120810.GetItem"),
            ("connection", "keep-alive"),
        ],
    );
    let target = Target {
        endpoint: "https://{service}.{region}.amazonaws.com",
        service: "dynamodb",
        region: "eu-west-1",
        credentials: Credentials::new("ASIAFN", "secret", Some("fn-token".into()), None, "test"),
        time: suite_time(),
    };
    let request = to_aws(&target, &original, Bytes::from_static(b"{}")).expect("signs");
    assert_eq!(request.uri(), "https://dynamodb.eu-west-1.amazonaws.com/");
    let h = request.headers();
    assert_eq!(h["host"], "dynamodb.eu-west-1.amazonaws.com");
    assert_eq!(h["x-amz-security-token"], "fn-token");
    assert_eq!(h["x-amz-target"], "DynamoDB_20120810.GetItem");
    assert!(h.get("connection").is_none());
    let authorization = h["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=ASIAFN/20150830/eu-west-1/dynamodb/aws4_request"
        ),
        "{authorization}"
    );
    assert!(authorization.contains("x-amz-target"), "{authorization}");
}

#[test]
fn s3_keeps_its_payload_hash_and_signed_chunks_are_refused() {
    let unsigned = parts(
        "PUT",
        "http://127.0.0.1:1/b/k",
        &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
    );
    let request =
        to_aws(&suite_target("s3"), &unsigned, Bytes::from_static(b"data")).expect("signs");
    assert_eq!(
        request.headers()["x-amz-content-sha256"],
        "UNSIGNED-PAYLOAD"
    );
    let presigned = parts(
        "PUT",
        "http://127.0.0.1:1/b/k?X-Amz-Signature=1&x-id=PutObject",
        &[],
    );
    let request = to_aws(&suite_target("s3"), &presigned, Bytes::new()).expect("signs");
    assert_eq!(
        request.uri(),
        "https://example.amazonaws.com/b/k?x-id=PutObject"
    );
    assert_eq!(
        request.headers()["x-amz-content-sha256"],
        "UNSIGNED-PAYLOAD"
    );
    let chunked = parts(
        "PUT",
        "http://127.0.0.1:1/b/k",
        &[("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")],
    );
    assert!(matches!(
        to_aws(&suite_target("s3"), &chunked, Bytes::new()),
        Err(ForwardError::SignedChunks)
    ));
}

#[test]
fn the_emulator_gets_everything_but_host_and_hop_by_hop_headers() {
    let original = parts(
        "GET",
        "http://127.0.0.1:1/b/k?x-id=GetObject",
        &[
            ("host", "127.0.0.1:1"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=K/1/r/s3/aws4_request",
            ),
            ("transfer-encoding", "chunked"),
        ],
    );
    let request = unchanged("http://127.0.0.1:5000/", &original, Bytes::new()).expect("builds");
    assert_eq!(request.uri(), "http://127.0.0.1:5000/b/k?x-id=GetObject");
    assert!(request.headers().get("host").is_none());
    assert!(request.headers().get("transfer-encoding").is_none());
    assert!(request.headers().contains_key("authorization"));
}

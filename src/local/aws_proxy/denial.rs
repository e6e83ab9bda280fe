//! The answer AWS gives a request IAM refuses, in the request's protocol,
//! so the function's SDK reports the same error it would get from AWS:
//! JSON services `400` with `__type` `AccessDeniedException` and the
//! `x-amzn-ErrorType` header; REST-JSON services `403` with the same; S3
//! `403` with an XML `<Error>`; query services `403` with an XML
//! `<ErrorResponse>` (`AuthorizationError` for SNS); EC2 `403` with
//! `<Response><Errors>` and `UnauthorizedOperation`; RPC v2 services the
//! same fields in CBOR.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};

/// How a service frames its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    RestJson,
    Cbor,
    S3,
    Query { code: &'static str },
    Ec2,
}

impl Protocol {
    pub fn of(headers: &HeaderMap, path: &str, signing_service: Option<&str>) -> Protocol {
        if headers.contains_key("x-amz-target") {
            return Protocol::Json;
        }
        if path.starts_with("/service/") && path.contains("/operation/") {
            return Protocol::Cbor;
        }
        match signing_service {
            Some("s3") => Protocol::S3,
            Some("lambda" | "scheduler") => Protocol::RestJson,
            Some("ec2") => Protocol::Ec2,
            Some("sns") => Protocol::Query {
                code: "AuthorizationError",
            },
            _ => Protocol::Query {
                code: "AccessDenied",
            },
        }
    }
}

/// An error answer: `code` and `message` framed as `protocol` frames them.
pub fn error(
    protocol: Protocol,
    status: Option<StatusCode>,
    code: &str,
    message: &str,
    head: bool,
) -> Response<Bytes> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (default_status, content_type, body) = match protocol {
        Protocol::Json => (StatusCode::BAD_REQUEST, "application/x-amz-json-1.0", json(code, message)),
        Protocol::RestJson => (StatusCode::FORBIDDEN, "application/json", json(code, message)),
        Protocol::Cbor => (StatusCode::BAD_REQUEST, "application/cbor", cbor(code, message)),
        Protocol::S3 => (
            StatusCode::FORBIDDEN,
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                escape(code),
                escape(message)
            )
            .into_bytes(),
        ),
        Protocol::Query { .. } => (
            StatusCode::FORBIDDEN,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                escape(code),
                escape(message)
            )
            .into_bytes(),
        ),
        Protocol::Ec2 => (
            StatusCode::FORBIDDEN,
            "text/xml",
            format!(
                "<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
                escape(code),
                escape(message)
            )
            .into_bytes(),
        ),
    };
    let mut response = Response::builder()
        .status(status.unwrap_or(default_status))
        .header("content-type", content_type)
        .header("x-amzn-requestid", &request_id)
        .header("x-amz-request-id", &request_id);
    if matches!(
        protocol,
        Protocol::Json | Protocol::RestJson | Protocol::Cbor
    ) {
        response = response.header("x-amzn-errortype", code);
    }
    if protocol == Protocol::Cbor {
        response = response.header("smithy-protocol", "rpc-v2-cbor");
    }
    // A HEAD answer has no body: S3 clients read the status alone.
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(body)
    };
    response.body(body).expect("static header names and values")
}

/// The access-denied answer, with the error code the protocol uses for it.
pub fn access_denied(protocol: Protocol, message: &str, head: bool) -> Response<Bytes> {
    let code = match protocol {
        Protocol::S3 => "AccessDenied",
        Protocol::Query { code } => code,
        Protocol::Ec2 => "UnauthorizedOperation",
        Protocol::Json | Protocol::RestJson | Protocol::Cbor => "AccessDeniedException",
    };
    error(protocol, None, code, message, head)
}

fn json(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "__type": code, "message": message }))
        .expect("strings serialize")
}

/// `{"__type": code, "message": message}` in CBOR (RFC 8949): a map of two
/// text strings to text strings.
fn cbor(code: &str, message: &str) -> Vec<u8> {
    let mut out = vec![0xa2];
    for text in ["__type", code, "message", message] {
        cbor_text(&mut out, text);
    }
    out
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    let len = text.len();
    match len {
        0..=23 => out.push(0x60 | len as u8),
        24..=0xff => out.extend([0x78, len as u8]),
        0x100..=0xffff => out.extend([0x79, (len >> 8) as u8, len as u8]),
        _ => {
            out.push(0x7a);
            out.extend((len as u32).to_be_bytes());
        }
    }
    out.extend(text.as_bytes());
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response<Bytes>) -> String {
        String::from_utf8(r.body().to_vec()).unwrap()
    }

    #[test]
    fn json_services_answer_400_with_type_and_error_type_header() {
        let r = access_denied(Protocol::Json, "User: x is not authorized", false);
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["x-amzn-errortype"], "AccessDeniedException");
        let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"__type": "AccessDeniedException", "message": "User: x is not authorized"})
        );
    }

    #[test]
    fn s3_answers_403_xml_and_nothing_for_head() {
        let r = access_denied(Protocol::S3, "a <b> & c", false);
        assert_eq!(r.status(), 403);
        assert!(
            body(&r)
                .contains("<Error><Code>AccessDenied</Code><Message>a &lt;b&gt; &amp; c</Message>"),
            "{}",
            body(&r)
        );
        assert!(access_denied(Protocol::S3, "m", true).body().is_empty());
    }

    #[test]
    fn query_services_answer_error_response_and_sns_says_authorization_error() {
        let headers = HeaderMap::new();
        let sns = Protocol::of(&headers, "/", Some("sns"));
        assert!(body(&access_denied(sns, "m", false))
            .contains("<Type>Sender</Type><Code>AuthorizationError</Code>"));
        let ec2 = Protocol::of(&headers, "/", Some("ec2"));
        assert!(body(&access_denied(ec2, "m", false))
            .starts_with("<Response><Errors><Error><Code>UnauthorizedOperation</Code>"));
    }

    #[test]
    fn cbor_encodes_the_same_two_fields() {
        let r = access_denied(Protocol::Cbor, "m", false);
        let mut expected = vec![0xa2, 0x66];
        expected.extend(b"__type");
        expected.push(0x75);
        expected.extend(b"AccessDeniedException");
        expected.push(0x67);
        expected.extend(b"message");
        expected.extend([0x61, b'm']);
        assert_eq!(r.body().to_vec(), expected);
        let long = "x".repeat(300);
        let mut out = Vec::new();
        cbor_text(&mut out, &long);
        assert_eq!(&out[..3], &[0x79, 0x01, 0x2c]);
    }
}

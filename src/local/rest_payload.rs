//! The event a REST API's Lambda proxy integration sends a function
//! (payload format 1.0) and what it makes of the function's answer, as the
//! developer guide's "Set up Lambda proxy integrations in API Gateway"
//! ("Input format …" and "Output format of a Lambda function for proxy
//! integration") describes them:
//!
//! - `headers` and `queryStringParameters` hold the last value of a repeated
//!   name, `multiValueHeaders` and `multiValueQueryStringParameters` all of
//!   them; a map with nothing in it is `null`, as are `stageVariables` (the
//!   stack's stages declare none);
//! - `requestContext` holds `$context` variables: `path` is the request path
//!   with the stage in front (`/dev/pets/1`), `resourcePath` the resource
//!   (`/pets/{id}`), `requestTime` is CLF (`dd/MMM/yyyy:HH:mm:ss +0000`);
//! - the answer is `statusCode`, `headers`, `multiValueHeaders`, `body` (a
//!   string) and `isBase64Encoded`; "if the function output is of a
//!   different format, API Gateway returns a `502 Bad Gateway`", as it does
//!   for a function error: `502 {"message":"Internal server error"}`
//!   (serverless/serverless#8671 shows that body).
//!
//! Binary payloads: "Working with binary media types for REST APIs" says a
//! proxy integration handles binary only for the API's `binaryMediaTypes`,
//! and that without them "the payloads are handled as UTF-8 encoded JSON
//! strings". The stack's REST APIs declare none, so a request body reaches
//! the function as UTF-8 text (bytes that are not UTF-8 are replaced, as
//! they would be on AWS) with `isBase64Encoded: false`, and an answer's
//! `isBase64Encoded: true` does not make API Gateway decode its body: the
//! client gets the base64 text.
//!
//! Not in the guide, taken from AWS's own emulator (SAM CLI's
//! `local_apigw_service.py`, and its PR #1154 "per my testing … any extra
//! keys will result in a 502 error from the service"): no key other than
//! the five above (and `base64Encoded`, which its trials found REST APIs
//! read) is accepted; none of the keys is required, a missing `statusCode`
//! being 200; `statusCode` may be a string of digits; the flag may be the
//! string `"true"` or `"false"`; an answer without a `Content-Type` gets
//! `application/json`. Not measured against AWS: whether `path` arrives
//! URL-decoded (it is passed as received here), and which status codes
//! past 100-599 it passes on (none here).

use super::payload::{decode_query, request_time, scalar, Request, Response};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What identifies one request to the function.
#[derive(Debug, Clone)]
pub struct RestContext<'a> {
    pub account_id: &'a str,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub request_id: &'a str,
    /// `extendedRequestId`: API Gateway's own id for the request.
    pub extended_request_id: &'a str,
    /// Milliseconds since the epoch.
    pub time_epoch_ms: u64,
    /// `requestContext.authorizer` when an authorizer let the request in:
    /// `{"claims": {…}}` for a Cognito authorizer, or what
    /// [`super::lambda_authorizer::Answer::decide`] allowed for a Lambda one.
    pub authorizer: Option<Value>,
}

/// The payload 1.0 event for `request` (its `raw_path` without the stage),
/// which went to the resource `resource_path` (`/pets/{id}`, `/{proxy+}`).
pub fn rest_event(
    request: &Request,
    resource_path: &str,
    path_parameters: &BTreeMap<String, String>,
    context: &RestContext<'_>,
) -> Value {
    // Header names are matched without regard to case and written as first sent.
    let mut grouped: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for (name, value) in &request.headers {
        grouped
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| (name.clone(), Vec::new()))
            .1
            .push(value.clone());
    }
    let multi_headers: Map<String, Value> = grouped
        .values()
        .map(|(name, values)| (name.clone(), json!(values)))
        .collect();
    let headers: Map<String, Value> = grouped
        .values()
        .filter_map(|(name, values)| Some((name.clone(), json!(values.last()?))))
        .collect();
    let header = |name: &str| {
        grouped
            .get(name)
            .and_then(|(_, values)| values.last().cloned())
            .unwrap_or_default()
    };
    let mut multi_query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in request.raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        multi_query
            .entry(decode_query(name))
            .or_default()
            .push(decode_query(value));
    }
    let query: BTreeMap<&String, &String> = multi_query
        .iter()
        .filter_map(|(name, values)| Some((name, values.last()?)))
        .collect();
    let body = (!request.body.is_empty()).then(|| String::from_utf8_lossy(&request.body));
    let host = header("host");
    json!({
        "resource": resource_path,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": null_if_empty(json!(headers)),
        "multiValueHeaders": null_if_empty(json!(multi_headers)),
        "queryStringParameters": null_if_empty(json!(query)),
        "multiValueQueryStringParameters": null_if_empty(json!(multi_query)),
        "pathParameters": null_if_empty(json!(path_parameters)),
        "stageVariables": null,
        "requestContext": {
            "accountId": context.account_id,
            "apiId": context.api_id,
            "authorizer": context.authorizer,
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "extendedRequestId": context.extended_request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": null,
                "accountId": null,
                "caller": null,
                "cognitoAuthenticationProvider": null,
                "cognitoAuthenticationType": null,
                "cognitoIdentityId": null,
                "cognitoIdentityPoolId": null,
                "principalOrgId": null,
                "sourceIp": request.source_ip,
                "user": null,
                "userAgent": header("user-agent"),
                "userArn": null,
            },
            "path": format!("/{}{}", context.stage, request.raw_path),
            "protocol": "HTTP/1.1",
            "requestId": context.request_id,
            "requestTime": request_time(context.time_epoch_ms),
            "requestTimeEpoch": context.time_epoch_ms,
            "resourceId": null,
            "resourcePath": resource_path,
            "stage": context.stage,
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// `null` for an empty map, as the event writes a map with nothing in it.
fn null_if_empty(map: Value) -> Value {
    match &map {
        Value::Object(fields) if fields.is_empty() => Value::Null,
        _ => map,
    }
}

/// The keys an answer may have; any other makes it malformed.
const ANSWER_KEYS: [&str; 6] = [
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
    "base64Encoded",
];

/// What the client gets for the function's answer `output` (its bytes).
pub fn rest_response(output: &[u8]) -> Response {
    match serde_json::from_slice::<Value>(output) {
        Ok(Value::Object(answer)) => proxy_response(&answer).unwrap_or_else(rest_function_error),
        _ => rest_function_error(),
    }
}

/// What the client gets when the function failed (an error, a timeout, a
/// crash) or answered in a shape API Gateway cannot read.
pub fn rest_function_error() -> Response {
    Response::gateway(502, "Internal server error")
}

/// The response an answer stands for; `None` when it is malformed.
fn proxy_response(answer: &Map<String, Value>) -> Option<Response> {
    if answer
        .keys()
        .any(|key| !ANSWER_KEYS.contains(&key.as_str()))
    {
        return None;
    }
    let status = match answer.get("statusCode") {
        None | Some(Value::Null) => 200,
        Some(Value::Number(n)) => u16::try_from(n.as_u64()?).ok()?,
        Some(Value::String(digits)) => digits.parse::<u16>().ok()?,
        Some(_) => return None,
    };
    if !(100..=599).contains(&status) {
        return None;
    }
    for flag in ["isBase64Encoded", "base64Encoded"] {
        match answer.get(flag) {
            None | Some(Value::Null) | Some(Value::Bool(_)) => {}
            Some(Value::String(s)) if ["true", "True", "false", "False"].contains(&s.as_str()) => {}
            Some(_) => return None,
        }
    }
    // "If you specify values for both headers and multiValueHeaders, API
    // Gateway merges them into a single list. If the same key-value pair is
    // specified in both, only the values from multiValueHeaders will appear."
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(map) = answer.get("multiValueHeaders").filter(|m| !m.is_null()) {
        for (name, values) in map.as_object()? {
            for value in values.as_array()? {
                headers.push((name.to_ascii_lowercase(), scalar(value)?));
            }
        }
    }
    let from_multi = headers.len();
    if let Some(map) = answer.get("headers").filter(|m| !m.is_null()) {
        for (name, value) in map.as_object()? {
            let pair = (name.to_ascii_lowercase(), scalar(value)?);
            if !headers[..from_multi].contains(&pair) {
                headers.push(pair);
            }
        }
    }
    if !headers.iter().any(|(name, _)| name == "content-type") {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let body = match answer.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(_) => return None,
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayProxyRequest;

    fn context() -> RestContext<'static> {
        RestContext {
            account_id: "123456789012",
            api_id: "abc123",
            stage: "dev",
            request_id: "req-1",
            extended_request_id: "ext-1",
            time_epoch_ms: 1_764_700_000_000,
            authorizer: None,
        }
    }

    fn request() -> Request {
        Request {
            method: "POST".into(),
            raw_path: "/instances/i-1".into(),
            raw_query: "tag=x&tag=y&q=hello+world&flag".into(),
            headers: vec![
                ("Host".into(), "localhost:3000".into()),
                ("X-Trace".into(), "1".into()),
                ("x-trace".into(), "2".into()),
                ("User-Agent".into(), "curl/8".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: br#"{"size":"large"}"#.to_vec(),
            source_ip: "127.0.0.1".into(),
        }
    }

    fn parameters(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_event_is_what_the_lambda_event_types_read() {
        let mut context = context();
        context.authorizer = Some(json!({"principalId": "user-1", "integrationLatency": 3}));
        let event = rest_event(
            &request(),
            "/instances/{instanceId}",
            &parameters(&[("instanceId", "i-1")]),
            &context,
        );
        let typed: ApiGatewayProxyRequest = serde_json::from_value(event).unwrap();
        assert_eq!(typed.resource.as_deref(), Some("/instances/{instanceId}"));
        assert_eq!(typed.path.as_deref(), Some("/instances/i-1"));
        assert_eq!(typed.http_method, http::Method::POST);
        assert_eq!(typed.headers["x-trace"], "2", "the last value wins");
        let traces: Vec<_> = typed
            .multi_value_headers
            .get_all("x-trace")
            .iter()
            .collect();
        assert_eq!(traces, ["1", "2"]);
        assert_eq!(typed.query_string_parameters.first("tag"), Some("y"));
        assert_eq!(
            typed.multi_value_query_string_parameters.all("tag"),
            Some(vec!["x", "y"])
        );
        assert_eq!(
            typed.query_string_parameters.first("q"),
            Some("hello world")
        );
        assert_eq!(typed.query_string_parameters.first("flag"), Some(""));
        assert_eq!(typed.path_parameters["instanceId"], "i-1");
        assert!(typed.stage_variables.is_empty());
        assert_eq!(typed.body.as_deref(), Some(r#"{"size":"large"}"#));
        assert!(!typed.is_base64_encoded);
        let rc = &typed.request_context;
        assert_eq!(rc.path.as_deref(), Some("/dev/instances/i-1"));
        assert_eq!(rc.resource_path.as_deref(), Some("/instances/{instanceId}"));
        assert_eq!(rc.stage.as_deref(), Some("dev"));
        assert_eq!(rc.http_method, http::Method::POST);
        assert_eq!(rc.request_id.as_deref(), Some("req-1"));
        assert_eq!(rc.account_id.as_deref(), Some("123456789012"));
        assert_eq!(rc.apiid.as_deref(), Some("abc123"));
        assert_eq!(rc.domain_name.as_deref(), Some("localhost:3000"));
        assert_eq!(rc.protocol.as_deref(), Some("HTTP/1.1"));
        assert_eq!(
            rc.request_time.as_deref(),
            Some("02/Dec/2025:18:26:40 +0000")
        );
        assert_eq!(rc.request_time_epoch, 1_764_700_000_000);
        assert_eq!(rc.identity.source_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(rc.identity.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(rc.authorizer.fields["principalId"], "user-1");
        assert_eq!(rc.authorizer.fields["integrationLatency"], 3);
    }

    #[test]
    fn what_a_request_lacks_is_null() {
        let request = Request {
            method: "GET".into(),
            raw_path: "/".into(),
            ..Request::default()
        };
        let event = rest_event(&request, "/", &BTreeMap::new(), &context());
        for key in [
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "pathParameters",
            "stageVariables",
            "body",
        ] {
            assert_eq!(event[key], Value::Null, "{key}");
        }
        assert_eq!(event["requestContext"]["path"], "/dev/");
        assert_eq!(event["requestContext"]["authorizer"], Value::Null);
        let typed: ApiGatewayProxyRequest = serde_json::from_value(event).unwrap();
        assert_eq!(typed.http_method, http::Method::GET);
    }

    #[test]
    fn a_greedy_resource_carries_the_rest_of_the_path() {
        let mut request = request();
        request.raw_path = "/a/b/c".into();
        let event = rest_event(
            &request,
            "/{proxy+}",
            &parameters(&[("proxy", "a/b/c")]),
            &context(),
        );
        assert_eq!(event["resource"], "/{proxy+}");
        assert_eq!(event["pathParameters"]["proxy"], "a/b/c");
        assert_eq!(event["requestContext"]["resourcePath"], "/{proxy+}");
        assert_eq!(event["requestContext"]["path"], "/dev/a/b/c");
    }

    #[test]
    fn without_binary_media_types_a_body_travels_as_text() {
        let request = Request {
            method: "PUT".into(),
            raw_path: "/images".into(),
            headers: vec![("content-type".into(), "image/png".into())],
            body: vec![b'P', b'N', b'G', 0xff],
            ..Request::default()
        };
        let event = rest_event(&request, "/images", &BTreeMap::new(), &context());
        assert_eq!(event["isBase64Encoded"], false);
        assert_eq!(event["body"], "PNG\u{fffd}");
    }

    #[test]
    fn an_answer_keeps_its_status_merged_headers_and_body() {
        let r = rest_response(
            br#"{"statusCode":201,
                 "headers":{"Location":"/g/1","X-Count":3,"Set-Cookie":"a=1"},
                 "multiValueHeaders":{"Set-Cookie":["a=1","b=2"],"Content-Type":["text/plain"]},
                 "body":"made","isBase64Encoded":false}"#,
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"made");
        let cookies: Vec<&str> = r
            .headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(cookies, ["a=1", "b=2"], "a pair in both appears once");
        assert!(r.headers.contains(&("location".into(), "/g/1".into())));
        assert!(r.headers.contains(&("x-count".into(), "3".into())));
        assert!(r
            .headers
            .contains(&("content-type".into(), "text/plain".into())));
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| n == "content-type")
                .count(),
            1
        );
    }

    #[test]
    fn no_key_is_required_and_a_missing_status_is_200() {
        let r = rest_response(b"{}");
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        assert_eq!(
            r.headers,
            vec![("content-type".to_string(), "application/json".to_string())]
        );
        let r = rest_response(br#"{"statusCode":"204","body":null,"base64Encoded":"false"}"#);
        assert_eq!(r.status, 204);
    }

    #[test]
    fn a_base64_answer_is_not_decoded_without_binary_media_types() {
        let r = rest_response(br#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#);
        assert_eq!(r.body, b"aGk=");
    }

    #[test]
    fn an_answer_api_gateway_cannot_read_is_a_502() {
        let bad = Response::gateway(502, "Internal server error");
        for output in [
            &b"not json"[..],
            b"",
            br#"[{"statusCode":200}]"#,
            br#""just a string""#,
            br#"{"statusCode":200,"body":"x","extra":1}"#,
            br#"{"statusCode":200,"cookies":["a=1"]}"#,
            br#"{"statusCode":200,"body":{"not":"a string"}}"#,
            br#"{"statusCode":200,"body":42}"#,
            br#"{"statusCode":"two hundred"}"#,
            br#"{"statusCode":200.5}"#,
            br#"{"statusCode":0}"#,
            br#"{"statusCode":-1}"#,
            br#"{"statusCode":1000}"#,
            br#"{"statusCode":99999999999999999999}"#,
            br#"{"statusCode":true}"#,
            br#"{"statusCode":200,"headers":{"x":{"nested":1}}}"#,
            br#"{"statusCode":200,"headers":["x"]}"#,
            br#"{"statusCode":200,"multiValueHeaders":{"x":"not a list"}}"#,
            br#"{"statusCode":200,"multiValueHeaders":{"x":[null]}}"#,
            br#"{"statusCode":200,"isBase64Encoded":"maybe"}"#,
            br#"{"statusCode":200,"isBase64Encoded":1}"#,
        ] {
            assert_eq!(
                rest_response(output),
                bad,
                "{}",
                String::from_utf8_lossy(output)
            );
        }
        assert_eq!(bad.body, br#"{"message":"Internal server error"}"#);
    }

    #[test]
    fn a_function_error_is_the_same_502() {
        let r = rest_function_error();
        assert_eq!(r.status, 502);
        assert_eq!(r.body, br#"{"message":"Internal server error"}"#);
    }
}

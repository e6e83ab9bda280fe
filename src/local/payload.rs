//! The event an HTTP API sends a Lambda integration (payload format 2.0)
//! and what it makes of the function's answer, as the developer guide's
//! "Create AWS Lambda proxy integrations for HTTP APIs" describes them:
//!
//! - header names lowercased; repeated headers joined with commas; repeated
//!   query parameters joined with commas; `Cookie` headers become `cookies`;
//! - a `statusCode` in the answer makes it a full response (`headers`,
//!   `cookies` as `set-cookie`, `body`, `isBase64Encoded`); any other JSON is
//!   the body of a 200 `application/json` answer;
//! - an answer that is not JSON, or a function error, is API Gateway's own
//!   `500 {"message":"Internal Server Error"}`.

use super::routing::Selected;
use aws_smithy_types::base64;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A request as it reached the local server.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The path, still URL-encoded (`rawPath`).
    pub raw_path: String,
    /// The query string without `?`, still URL-encoded (`rawQueryString`).
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub source_ip: String,
}

/// What identifies one request to the function.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    pub request_id: &'a str,
    /// Milliseconds since the epoch.
    pub time_epoch_ms: u64,
    /// `requestContext.authorizer`, when an authorizer let the request in.
    pub authorizer: Option<Value>,
}

/// An answer for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// API Gateway's own JSON answer: `{"message": …}`.
    pub fn gateway(status: u16, message: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: json!({ "message": message }).to_string().into_bytes(),
        }
    }
}

/// The payload 2.0 event for `request`, which `route` selected.
pub fn http_event<T>(request: &Request, route: &Selected<'_, T>, context: &Context<'_>) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_string()));
            continue;
        }
        join_repeated(&mut headers, name, value.clone());
    }
    let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
    let (body, base64_encoded) = body_text(&request.body, &header("content-type"));
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.key.as_str(),
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "local",
            "apiId": context.api_id,
            "domainName": header("host"),
            "domainPrefix": header("host").split('.').next().unwrap_or_default(),
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": header("user-agent"),
            },
            "requestId": context.request_id,
            "routeKey": route.key.as_str(),
            "stage": context.stage,
            "time": request_time(context.time_epoch_ms),
            "timeEpoch": context.time_epoch_ms,
        },
        "isBase64Encoded": base64_encoded,
    });
    let Value::Object(fields) = &mut event else {
        return event;
    };
    if !cookies.is_empty() {
        fields.insert("cookies".into(), json!(cookies));
    }
    let query = query_parameters(&request.raw_query);
    if !query.is_empty() {
        fields.insert("queryStringParameters".into(), json!(query));
    }
    if !route.path_parameters.is_empty() {
        fields.insert("pathParameters".into(), json!(route.path_parameters));
    }
    if let Some(body) = body {
        fields.insert("body".into(), Value::String(body));
    }
    if let Some(authorizer) = &context.authorizer {
        event["requestContext"]["authorizer"] = authorizer.clone();
    }
    event
}

/// `requestContext.time` as API Gateway writes it: `12/Mar/2020:19:03:58 +0000`.
pub(super) fn request_time(epoch_ms: u64) -> String {
    let t = super::utc::Utc::from_epoch_s(epoch_ms / 1000);
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        t.day,
        t.month_name(),
        t.year,
        t.hour,
        t.minute,
        t.second
    )
}

/// The body as the event carries it: text when it is UTF-8 of a textual
/// content type, else base64 (and whether it is base64).
fn body_text(body: &[u8], content_type: &str) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let textual = media.starts_with("text/")
        || [
            "application/json",
            "application/xml",
            "application/javascript",
        ]
        .contains(&media)
        || media == "application/x-www-form-urlencoded"
        || media.ends_with("+json")
        || media.ends_with("+xml");
    match std::str::from_utf8(body) {
        Ok(text) if textual => (Some(text.to_string()), false),
        _ => (Some(base64::encode(body)), true),
    }
}

/// Query parameters, decoded, repeated ones joined with commas.
pub(super) fn query_parameters(raw: &str) -> BTreeMap<String, String> {
    let mut joined: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode_query(name), decode_query(value));
        join_repeated(&mut joined, name, value);
    }
    joined
}

/// Adds `value` under `name`, after a comma when the name is already there:
/// how payload 2.0 carries repeated headers and query parameters.
fn join_repeated(map: &mut BTreeMap<String, String>, name: String, value: String) {
    map.entry(name)
        .and_modify(|joined| {
            joined.push(',');
            joined.push_str(&value);
        })
        .or_insert(value);
}

pub(super) fn decode_query(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// What the client gets for the function's answer `output` (its bytes).
pub fn http_response(output: &[u8]) -> Response {
    let Ok(answer) = serde_json::from_slice::<Value>(output) else {
        return Response::gateway(500, "Internal Server Error");
    };
    match answer.get("statusCode") {
        Some(_) => full_response(&answer)
            .unwrap_or_else(|| Response::gateway(500, "Internal Server Error")),
        None => Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: answer.to_string().into_bytes(),
        },
    }
}

/// An answer with a `statusCode`; `None` when its fields have the wrong types.
fn full_response(answer: &Value) -> Option<Response> {
    let status = u16::try_from(answer["statusCode"].as_u64()?).ok()?;
    let mut headers = Vec::new();
    if let Some(map) = answer.get("headers").filter(|h| !h.is_null()) {
        for (name, value) in map.as_object()? {
            headers.push((name.to_ascii_lowercase(), scalar(value)?));
        }
    }
    if let Some(list) = answer.get("cookies").filter(|c| !c.is_null()) {
        for cookie in list.as_array()? {
            headers.push(("set-cookie".into(), cookie.as_str()?.to_string()));
        }
    }
    let text = match answer.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(_) => return None,
    };
    let body = if answer.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::decode(&text).ok()?
    } else {
        text.into_bytes()
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

/// A header value as text: strings as they are, numbers and booleans written out.
pub(super) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::routing::{RouteKey, RouteTable};
    use aws_lambda_events::apigw::ApiGatewayV2httpRequest;

    fn context() -> Context<'static> {
        Context {
            api_id: "local",
            stage: "$default",
            request_id: "req-1",
            time_epoch_ms: 1_764_700_000_000,
            authorizer: None,
        }
    }

    fn event_for(request: &Request, route: &str) -> Value {
        let table = RouteTable::new(vec![(RouteKey::parse(route).unwrap(), ())]);
        let path = request.raw_path.clone();
        let selected = table.select(&request.method, &path).unwrap();
        http_event(request, &selected, &context())
    }

    #[test]
    fn the_event_is_what_the_lambda_event_types_read() {
        let request = Request {
            method: "POST".into(),
            raw_path: "/guitars/a%20b".into(),
            raw_query: "tag=x&tag=y&q=hello+world".into(),
            headers: vec![
                ("Host".into(), "localhost:3000".into()),
                ("X-Trace".into(), "1".into()),
                ("x-trace".into(), "2".into()),
                ("Cookie".into(), "a=1; b=2".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: br#"{"make":"Fender"}"#.to_vec(),
            source_ip: "127.0.0.1".into(),
        };
        let event = event_for(&request, "POST /guitars/{id}");
        assert_eq!(
            event["queryStringParameters"]["tag"], "x,y",
            "repeated query parameters joined"
        );
        let typed: ApiGatewayV2httpRequest = serde_json::from_value(event).unwrap();
        assert_eq!(typed.route_key.as_deref(), Some("POST /guitars/{id}"));
        assert_eq!(typed.raw_path.as_deref(), Some("/guitars/a%20b"));
        assert_eq!(typed.path_parameters["id"], "a b");
        assert_eq!(typed.headers["x-trace"], "1,2", "repeated headers joined");
        assert!(typed.headers.get("cookie").is_none());
        assert_eq!(
            typed.cookies,
            Some(vec!["a=1".to_string(), "b=2".to_string()])
        );
        // The event types read a comma-joined value as its parts.
        assert_eq!(
            typed.query_string_parameters.all("tag"),
            Some(vec!["x", "y"])
        );
        assert_eq!(
            typed.query_string_parameters.first("q"),
            Some("hello world")
        );
        assert_eq!(typed.body.as_deref(), Some(r#"{"make":"Fender"}"#));
        assert!(!typed.is_base64_encoded);
        assert_eq!(typed.request_context.http.method, http::Method::POST);
        assert_eq!(typed.request_context.request_id.as_deref(), Some("req-1"));
        assert_eq!(
            typed.request_context.time.as_deref(),
            Some("02/Dec/2025:18:26:40 +0000")
        );
    }

    #[test]
    fn the_request_time_is_written_as_api_gateway_writes_it() {
        assert_eq!(request_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(
            request_time(1_584_039_838_000),
            "12/Mar/2020:19:03:58 +0000"
        );
        assert_eq!(request_time(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
    }

    #[test]
    fn a_binary_body_travels_as_base64_and_an_empty_one_not_at_all() {
        let mut request = Request {
            method: "PUT".into(),
            raw_path: "/images".into(),
            headers: vec![("content-type".into(), "image/png".into())],
            body: vec![0x89, b'P', b'N', b'G', 0xff],
            ..Request::default()
        };
        let event = event_for(&request, "PUT /images");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(
            base64::decode(event["body"].as_str().unwrap()).unwrap(),
            request.body
        );
        request.body.clear();
        let event = event_for(&request, "PUT /images");
        assert!(event.get("body").is_none());
        assert_eq!(event["isBase64Encoded"], false);
    }

    #[test]
    fn an_answer_without_a_status_code_is_a_json_body_of_200() {
        let r = http_response(br#"{"items":[]}"#);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, br#"{"items":[]}"#);
        assert_eq!(
            r.headers,
            vec![("content-type".to_string(), "application/json".to_string())]
        );
        let r = http_response(br#""plain""#);
        assert_eq!((r.status, r.body.as_slice()), (200, &br#""plain""#[..]));
    }

    #[test]
    fn a_full_answer_keeps_its_status_headers_cookies_and_decoded_body() {
        let r = http_response(
            br#"{"statusCode":201,"headers":{"Location":"/g/1","X-Count":3},
                 "cookies":["s=1; HttpOnly"],"body":"aGk=","isBase64Encoded":true}"#,
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"hi");
        assert!(r.headers.contains(&("location".into(), "/g/1".into())));
        assert!(r.headers.contains(&("x-count".into(), "3".into())));
        assert!(r
            .headers
            .contains(&("set-cookie".into(), "s=1; HttpOnly".into())));
    }

    #[test]
    fn an_answer_api_gateway_cannot_read_is_its_own_500() {
        let internal = Response::gateway(500, "Internal Server Error");
        for output in [
            &b"not json"[..],
            br#"{"statusCode":"200"}"#,
            br#"{"statusCode":200,"body":{"not":"a string"}}"#,
            br#"{"statusCode":200,"headers":{"x":{"nested":1}}}"#,
            br#"{"statusCode":200,"body":"%%%","isBase64Encoded":true}"#,
        ] {
            assert_eq!(
                http_response(output),
                internal,
                "{}",
                String::from_utf8_lossy(output)
            );
        }
        assert_eq!(internal.body, br#"{"message":"Internal Server Error"}"#);
    }
}

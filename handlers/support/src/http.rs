//! API Gateway requests, whichever payload they came in (HTTP API payload
//! 2.0 or REST API payload 1.0, read with `aws_lambda_events`), as one
//! [`Request`]; and the response both payload formats accept.

use crate::caller::Caller;
use crate::reply::{ApiError, ErrorCode};
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The API Gateway payload a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    /// HTTP API, payload format 2.0.
    HttpApi2,
    /// REST API proxy integration (and HTTP API payload 1.0).
    Rest1,
}

/// One API request, the same whichever API type sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `METHOD /path` as declared, such as `GET /guitars/{id}`.
    pub route: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub query: HashMap<String, String>,
    pub path_parameters: HashMap<String, String>,
    /// The body as text (base64 decoded when API Gateway encoded it); `None`
    /// when absent or not UTF-8.
    pub body: Option<String>,
    /// Who is calling, when an authorizer verified a token.
    pub caller: Option<Caller>,
    pub request_id: String,
    pub format: PayloadFormat,
    /// The client's address as API Gateway saw it.
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Request {
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_parameters.get(name).map(String::as_str)
    }

    /// A query parameter that is present and not empty.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The caller of a protected route. A request without verified claims
    /// (a route misconfigured as public, say) is answered 401 with the
    /// application's `code`, never given a guessed identity.
    pub fn caller(&self, code: impl ErrorCode) -> Result<&Caller, ApiError> {
        self.caller.as_ref().ok_or_else(|| ApiError {
            status: 401,
            ..ApiError::new(code, "Missing or invalid token")
        })
    }

    /// An HTTP API (payload 2.0) event.
    pub fn from_http_api(mut event: Value) -> Result<Request, serde_json::Error> {
        stringify_jwt_claims(&mut event);
        let e: ApiGatewayV2httpRequest = serde_json::from_value(event)?;
        let context = e.request_context;
        let route = e.route_key.or(context.route_key).unwrap_or_else(|| {
            format!(
                "{} {}",
                context.http.method,
                e.raw_path.as_deref().unwrap_or("/")
            )
        });
        let claims = context.authorizer.and_then(|a| a.jwt).map(|jwt| {
            jwt.claims
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        });
        Ok(Request {
            route,
            path: e.raw_path.or(context.http.path).unwrap_or_default(),
            headers: text_headers(&e.headers),
            query: joined(&e.query_string_parameters),
            path_parameters: e.path_parameters,
            body: body_text(e.body, e.is_base64_encoded),
            caller: claims.as_ref().and_then(Caller::from_claims),
            request_id: context.request_id.unwrap_or_default(),
            format: PayloadFormat::HttpApi2,
            source_ip: context.http.source_ip,
            user_agent: context.http.user_agent,
        })
    }

    /// A REST API proxy integration (payload 1.0) event.
    pub fn from_rest_api(event: Value) -> Result<Request, serde_json::Error> {
        let e: ApiGatewayProxyRequest = serde_json::from_value(event)?;
        let context = e.request_context;
        let resource = e.resource.or(context.resource_path).or(e.path.clone());
        let authorizer = &context.authorizer.fields;
        // A Cognito authorizer puts the claims here; an HTTP API's JWT
        // authorizer with payload 1.0 one level down.
        let claims = authorizer
            .get("claims")
            .or_else(|| authorizer.get("jwt").and_then(|j| j.get("claims")))
            .and_then(Value::as_object);
        Ok(Request {
            route: format!("{} {}", e.http_method, resource.as_deref().unwrap_or("/")),
            path: e.path.unwrap_or_default(),
            headers: text_headers(&e.headers),
            query: joined(&e.query_string_parameters),
            path_parameters: e.path_parameters,
            body: body_text(e.body, e.is_base64_encoded),
            caller: claims.and_then(Caller::from_claims),
            request_id: context.request_id.unwrap_or_default(),
            format: PayloadFormat::Rest1,
            source_ip: context.identity.source_ip,
            user_agent: context.identity.user_agent,
        })
    }
}

/// API Gateway hands a JWT authorizer's claims over as strings (numbers as
/// digits, lists as `[a b]`); emulators and hand-made events pass them as
/// they are in the token. Both are read the way API Gateway sends them.
fn stringify_jwt_claims(event: &mut Value) {
    let claims = event
        .pointer_mut("/requestContext/authorizer/jwt/claims")
        .and_then(Value::as_object_mut);
    for value in claims.into_iter().flat_map(Map::values_mut) {
        let text = match &*value {
            Value::String(_) => continue,
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(claim_text).collect();
                format!("[{}]", items.join(" "))
            }
            other => claim_text(other),
        };
        *value = Value::String(text);
    }
}

fn claim_text(value: &Value) -> String {
    value
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| value.to_string())
}

fn text_headers(headers: &aws_lambda_events::http::HeaderMap) -> HashMap<String, String> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
        })
        .collect()
}

/// Each parameter once; repeated values joined with commas, as API Gateway's
/// payload 2.0 sends them.
fn joined(query: &QueryMap) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for (name, value) in query.iter() {
        out.entry(name.to_string())
            .and_modify(|v| {
                v.push(',');
                v.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    out
}

fn body_text(body: Option<String>, base64_encoded: bool) -> Option<String> {
    let body = body?;
    if !base64_encoded {
        return Some(body);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// An answer to API Gateway: the fields payload 2.0 and 1.0 responses share.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub is_base64_encoded: bool,
}

impl HttpResponse {
    pub fn json(status_code: u16, body: &Value) -> Self {
        let mut headers = HashMap::new();
        headers.insert("content-type".to_string(), "application/json".to_string());
        headers.insert("cache-control".to_string(), "no-store".to_string());
        HttpResponse {
            status_code,
            headers,
            body: body.to_string(),
            is_base64_encoded: false,
        }
    }
}

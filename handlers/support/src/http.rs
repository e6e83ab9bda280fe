//! API Gateway HTTP API requests (payload format 2.0) and responses.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    /// `METHOD /path` as declared, such as `GET /guitars/{id}`.
    pub route_key: String,
    #[serde(default)]
    pub raw_path: String,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub query_string_parameters: HashMap<String, String>,
    #[serde(default)]
    pub path_parameters: HashMap<String, String>,
    pub request_context: RequestContext,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub is_base64_encoded: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    #[serde(default)]
    pub request_id: String,
    #[serde(default)]
    pub authorizer: Option<Authorizer>,
    #[serde(default)]
    pub http: Option<HttpDetails>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Authorizer {
    #[serde(default)]
    pub jwt: Option<Jwt>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Jwt {
    #[serde(default)]
    pub claims: HashMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpDetails {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub source_ip: String,
    #[serde(default)]
    pub user_agent: String,
}

impl HttpRequest {
    /// The body as text (decoding base64 when API Gateway encoded it).
    pub fn body_text(&self) -> Option<String> {
        let body = self.body.as_ref()?;
        if self.is_base64_encoded {
            base64::engine::general_purpose::STANDARD.decode(body).ok().and_then(|b| String::from_utf8(b).ok())
        } else {
            Some(body.clone())
        }
    }

    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_parameters.get(name).map(String::as_str)
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query_string_parameters.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub is_base64_encoded: bool,
}

impl HttpResponse {
    pub fn json(status_code: u16, body: &serde_json::Value) -> Self {
        let mut headers = HashMap::new();
        headers.insert("content-type".to_string(), "application/json".to_string());
        headers.insert("cache-control".to_string(), "no-store".to_string());
        HttpResponse { status_code, headers, body: body.to_string(), is_base64_encoded: false }
    }
}

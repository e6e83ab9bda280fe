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
    #[serde(default, deserialize_with = "null_as_empty")]
    pub headers: HashMap<String, String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub query_string_parameters: HashMap<String, String>,
    #[serde(default, deserialize_with = "null_as_empty")]
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
    #[serde(default, deserialize_with = "null_as_empty")]
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

/// API Gateway leaves empty maps out; other producers send `null`. Both mean empty.
fn null_as_empty<'de, D, V>(deserializer: D) -> Result<HashMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    Ok(Option::<HashMap<String, V>>::deserialize(deserializer)?.unwrap_or_default())
}

impl HttpRequest {
    /// The body as text (decoding base64 when API Gateway encoded it).
    pub fn body_text(&self) -> Option<String> {
        let body = self.body.as_ref()?;
        if self.is_base64_encoded {
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        } else {
            Some(body.clone())
        }
    }

    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_parameters.get(name).map(String::as_str)
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query_string_parameters
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_null_maps_are_empty() {
        let base = serde_json::json!({"routeKey": "GET /x", "requestContext": {"requestId": "r"}});
        let r: HttpRequest = serde_json::from_value(base.clone()).unwrap();
        assert!(r.path_parameters.is_empty());
        let mut with_nulls = base;
        with_nulls["pathParameters"] = serde_json::Value::Null;
        with_nulls["queryStringParameters"] = serde_json::Value::Null;
        let r: HttpRequest = serde_json::from_value(with_nulls).unwrap();
        assert!(r.query_string_parameters.is_empty());
    }
}

impl HttpResponse {
    pub fn json(status_code: u16, body: &serde_json::Value) -> Self {
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

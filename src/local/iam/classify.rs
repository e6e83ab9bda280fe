//! An HTTP request to an AWS service → the IAM actions and resource ARNs
//! it needs, the way each service's authorization reference lists them.
//!
//! The request's protocol says where to look: JSON services name the
//! operation in `X-Amz-Target` ([`json`], [`dynamodb`]), RPC v2 services in
//! the path, query services in the `Action` parameter ([`query`]), REST
//! services in method and path ([`rest`], [`s3`]). What is not understood
//! here is [`Classified::NotChecked`] and says why: never a silent allow.

mod dynamodb;
mod json;
mod query;
mod rest;
mod s3;

use super::condition::Context;
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::Value;

/// One request as the proxy received it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded).
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The service of the request's SigV4 credential scope, when signed.
    pub signing_service: Option<&'a str>,
}

/// Where the request's resources are: what their ARNs are built from.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// Full ARNs of the stack's secrets. A call naming a secret by name is
    /// checked against the full ARN, 6-character suffix and all, as IAM does.
    pub secret_arns: &'a [String],
}

impl Scope<'_> {
    /// `arn:{partition}:{service}:{region}:{account}:{resource}`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }
}

/// One permission a call needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `s3:GetObject`.
    pub action: String,
    pub resource: String,
    /// The condition keys the request itself tells.
    pub context: Context,
}

impl Check {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Check {
        Check {
            action: action.into(),
            resource: resource.into(),
            context: Context::new(),
        }
    }

    pub fn with(mut self, key: &str, value: Option<&str>) -> Check {
        self.context = self.context.with(key, value);
        self
    }
}

/// A classified call: its service and operation, and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// IAM's service prefix (`dynamodb`, `s3`).
    pub service: String,
    /// The API operation (`TransactWriteItems`).
    pub operation: String,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    Checked(Call),
    /// An operation IAM does not authorize: Cognito's public user
    /// operations (the user's token or password is the authorization),
    /// `sts:GetCallerIdentity`.
    NoPermission {
        service: String,
        operation: String,
    },
    /// Not understood here; the proxy forwards it unchecked and records it.
    NotChecked {
        service: String,
        operation: String,
        why: String,
    },
}

impl Classified {
    fn checked(service: &str, operation: &str, checks: Vec<Check>) -> Classified {
        let mut unique: Vec<Check> = Vec::with_capacity(checks.len());
        for check in checks {
            if !unique.contains(&check) {
                unique.push(check);
            }
        }
        Classified::Checked(Call {
            service: service.into(),
            operation: operation.into(),
            checks: unique,
        })
    }

    /// `service:operation` on one resource.
    fn one(service: &str, operation: &str, resource: String) -> Classified {
        Classified::checked(
            service,
            operation,
            vec![Check::new(format!("{service}:{operation}"), resource)],
        )
    }

    fn not_checked(service: &str, operation: &str, why: impl Into<String>) -> Classified {
        Classified::NotChecked {
            service: service.into(),
            operation: operation.into(),
            why: why.into(),
        }
    }

    fn no_permission(service: &str, operation: &str) -> Classified {
        Classified::NoPermission {
            service: service.into(),
            operation: operation.into(),
        }
    }
}

/// What `request` needs.
pub fn classify(request: &Request<'_>, scope: &Scope<'_>) -> Classified {
    if let Some(target) = header(request.headers, "x-amz-target") {
        let (prefix, operation) = target.split_once('.').unwrap_or((target, ""));
        let body = json_body(request.body);
        return match prefix {
            "DynamoDB_20120810" => dynamodb::classify(operation, &body, scope),
            _ => json::classify(prefix, operation, &body, scope),
        };
    }
    // Smithy RPC v2 (CBOR): `/service/{Service}/operation/{Operation}`.
    if let Some(rest) = request.path.strip_prefix("/service/") {
        if let Some((service, operation)) = rest.split_once("/operation/") {
            return json::classify(service, operation, &Value::Null, scope);
        }
    }
    match request.signing_service {
        Some("s3") => s3::classify(request, scope),
        Some("lambda") => rest::lambda(request, scope),
        Some("scheduler") => rest::scheduler(request, scope),
        Some(service) => query::classify(service, request, scope),
        None => Classified::not_checked(
            "unknown",
            request.method,
            "an unsigned request of no known service",
        ),
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json_body(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// `a=1&b=x%20y` (a query string or a form body) as decoded pairs.
pub(crate) fn pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_form(k), decode_form(v))
        })
        .collect()
}

fn decode_form(text: &str) -> String {
    decode(&text.replace('+', " "))
}

/// Percent-decoding of a path segment (`+` stays a plus).
fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn param<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn has(pairs: &[(String, String)], name: &str) -> bool {
    pairs.iter().any(|(k, _)| k == name)
}

/// A string field of a JSON body.
fn field<'v>(body: &'v Value, name: &str) -> Option<&'v str> {
    body.get(name).and_then(Value::as_str)
}

#[cfg(test)]
mod tests;

//! Calls to third-party HTTP APIs (eBay, Postmark, PayPal, webhooks): one
//! pooled HTTPS client for the life of the process, a time limit on every
//! call, answers read whole up to a bound.
//!
//! Handlers hold an [`Outbound`] (`Arc<dyn Outbound>`), so fixture tests
//! script these calls beside the AWS ones (`testing::FakeAws::outbound`).
//! A call that gets no answer says whether it could have had an effect
//! ([`OutboundError::may_have_reached`]): a handler decides from that
//! whether retrying is safe.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The most an answer may hold; third-party APIs answer far less.
const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// How long an idle connection is kept: long enough to span a function's
/// wait before a timed call, so that call does not pay for a new handshake.
const POOL_IDLE: Duration = Duration::from_secs(300);

/// One request to a third-party API.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRequest {
    pub method: String,
    /// Absolute `https://` (or, for a stand-in on this machine, `http://`) URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The whole call, connecting included, must finish within this.
    pub timeout: Duration,
}

impl OutboundRequest {
    pub fn new(method: &str, url: impl Into<String>, timeout: Duration) -> Self {
        OutboundRequest {
            method: method.to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// A JSON body, with its content type.
    pub fn json(self, body: &serde_json::Value) -> Self {
        let mut request = self.header("content-type", "application/json");
        request.body = body.to_string().into_bytes();
        request
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let text: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        let mut request = self.header("content-type", "application/x-www-form-urlencoded");
        request.body = text.join("&").into_bytes();
        request
    }
}

/// An answer, whatever its status.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundResponse {
    pub status: u16,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OutboundResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// `Retry-After` in seconds, when the answer gives one as a number.
    pub fn retry_after(&self) -> Option<Duration> {
        let seconds: f64 = self.header("retry-after")?.trim().parse().ok()?;
        (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
    }
}

/// A call that got no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OutboundError {
    #[error("`{0}` is not a URL this client can call")]
    Url(String),
    /// Nothing was sent: the connection (DNS, TCP, TLS) failed.
    #[error("could not connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    /// The request may have been sent and acted on; its answer was lost.
    #[error("{host} did not answer within {} ms", after.as_millis())]
    Timeout { host: String, after: Duration },
    /// The connection broke after the request was (or may have been) sent.
    #[error("the connection to {host} broke: {detail}")]
    Broken { host: String, detail: String },
}

impl OutboundError {
    /// Whether the other side may have received (and acted on) the request:
    /// only a failure to connect proves it did not.
    pub fn may_have_reached(&self) -> bool {
        !matches!(self, OutboundError::Url(_) | OutboundError::Connect { .. })
    }
}

pub type Pending<'a> =
    Pin<Box<dyn Future<Output = Result<OutboundResponse, OutboundError>> + Send + 'a>>;

/// Sends requests to third-party APIs.
pub trait Outbound: Send + Sync {
    fn send(&self, request: OutboundRequest) -> Pending<'_>;
}

/// The real client: HTTPS with the system's root certificates (HTTP only
/// for a stand-in on this machine), connections kept for reuse.
pub struct HttpsClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpsClient {
    pub fn new() -> std::io::Result<HttpsClient> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(https);
        Ok(HttpsClient { client })
    }

    async fn call(&self, request: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let uri: hyper::Uri = request
            .url
            .parse()
            .map_err(|_| OutboundError::Url(request.url.clone()))?;
        let host = uri.host().unwrap_or_default().to_string();
        let plain_elsewhere = uri.scheme_str() == Some("http") && !is_loopback(&host);
        if host.is_empty() || plain_elsewhere {
            return Err(OutboundError::Url(request.url.clone()));
        }
        let mut builder = hyper::Request::builder()
            .method(request.method.as_str())
            .uri(uri);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let outgoing = builder
            .body(Full::new(Bytes::from(request.body)))
            .map_err(|_| OutboundError::Url(request.url.clone()))?;
        let exchange = async {
            let answer = self.client.request(outgoing).await.map_err(|e| {
                let detail = error_chain(&e);
                if e.is_connect() {
                    OutboundError::Connect {
                        host: host.clone(),
                        detail,
                    }
                } else {
                    OutboundError::Broken {
                        host: host.clone(),
                        detail,
                    }
                }
            })?;
            let status = answer.status().as_u16();
            let headers = answer
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let body = Limited::new(answer.into_body(), BODY_LIMIT)
                .collect()
                .await
                .map_err(|e| OutboundError::Broken {
                    host: host.clone(),
                    detail: e.to_string(),
                })?
                .to_bytes()
                .to_vec();
            Ok(OutboundResponse {
                status,
                headers,
                body,
            })
        };
        match tokio::time::timeout(request.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(OutboundError::Timeout {
                host,
                after: request.timeout,
            }),
        }
    }
}

impl Outbound for HttpsClient {
    fn send(&self, request: OutboundRequest) -> Pending<'_> {
        Box::pin(self.call(request))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
pub fn form_encode(text: &str) -> String {
    percent_encode(text, b"-._*", true)
}

/// A path segment with everything but unreserved characters percent-encoded
/// (eBay item ids hold `|`).
pub fn path_segment(text: &str) -> String {
    percent_encode(text, b"-._~", false)
}

/// Letters and digits and `kept` as they are, a space as `+` when asked,
/// every other byte as `%XX`.
fn percent_encode(text: &str, kept: &[u8], space_as_plus: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || kept.contains(&byte) {
            out.push(byte as char);
        } else if byte == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_path_segments_are_encoded() {
        assert_eq!(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(path_segment("v1|123|0"), "v1%7C123%7C0");
    }

    #[tokio::test]
    async fn plain_http_is_refused_except_to_this_machine() {
        let client = HttpsClient::new().unwrap();
        let request = OutboundRequest::new("GET", "http://api.ebay.com/x", Duration::from_secs(1));
        assert!(matches!(
            client.send(request).await,
            Err(OutboundError::Url(_))
        ));
        // Nothing listens on port 9 here: a refused connection is `Connect`,
        // which proves the request was never received.
        let request = OutboundRequest::new("GET", "http://127.0.0.1:9/x", Duration::from_secs(5));
        let error = client.send(request).await.unwrap_err();
        assert!(!error.may_have_reached(), "{error}");
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let answer = OutboundResponse {
            status: 429,
            headers: vec![("retry-after".into(), "2".into())],
            body: Vec::new(),
        };
        assert_eq!(answer.retry_after(), Some(Duration::from_secs(2)));
    }
}

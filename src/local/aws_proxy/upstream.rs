//! Where an allowed request goes. An emulator that does not verify
//! signatures gets it unchanged but for `Host`; AWS gets it re-signed with
//! the calling function's own credentials, at the endpoint of the signing
//! service of its credential scope (a presigned URL is re-signed in the
//! headers: its query signature was made for the proxy's host).

use super::credential::Credential;
use crate::local::http_client::HttpClient;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningError,
    SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Request, Uri};
use http_body_util::Full;
use std::time::SystemTime;

/// Where the proxy sends allowed requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// One emulator endpoint (moto) that does not verify signatures.
    Emulator(String),
    /// AWS: `endpoint` with `{service}` and `{region}` filled in from the
    /// request's credential scope ([`Upstream::aws`] gives AWS's own).
    Aws { endpoint: String },
}

impl Upstream {
    pub fn aws() -> Upstream {
        Upstream::Aws {
            endpoint: "https://{service}.{region}.amazonaws.com".into(),
        }
    }

    fn uses_tls(&self) -> bool {
        match self {
            Upstream::Emulator(base) => base.starts_with("https:"),
            Upstream::Aws { endpoint } => endpoint.starts_with("https:"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("the upstream URL {0} is not a valid URI")]
    Uri(String),
    #[error("re-signing the request failed: {0}")]
    Signing(#[from] SigningError),
    #[error("a request with signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) cannot be re-signed: each chunk's signature chains from the original one")]
    SignedChunks,
    #[error("the request could not be built: {0}")]
    Http(#[from] http::Error),
}

/// The client for `upstream`: plain HTTP for an emulator, TLS for AWS.
pub fn client_for(upstream: &Upstream) -> std::io::Result<HttpClient> {
    if upstream.uses_tls() {
        HttpClient::tls()
    } else {
        Ok(HttpClient::plain())
    }
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1).
pub fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// The request as it came (for an emulator, which checks no signature):
/// the same path, query, headers and body, at `base`.
pub fn unchanged(
    base: &str,
    parts: &Parts,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, ForwardError> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let uri: Uri = url.parse().map_err(|_| ForwardError::Uri(url.clone()))?;
    let mut request = Request::builder().method(parts.method.clone()).uri(uri);
    for (name, value) in &parts.headers {
        if name != http::header::HOST && !is_hop_by_hop(name.as_str()) {
            request = request.header(name, value);
        }
    }
    Ok(request.body(Full::new(body))?)
}

/// What re-signing needs besides the request.
pub struct Target<'a> {
    /// The upstream endpoint pattern (`https://{service}.{region}.amazonaws.com`).
    pub endpoint: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub credentials: Credentials,
    pub time: SystemTime,
}

/// The request for AWS, signed anew with `target`'s credentials.
pub fn to_aws(
    target: &Target<'_>,
    parts: &Parts,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, ForwardError> {
    let base = target
        .endpoint
        .replace("{service}", target.service)
        .replace("{region}", target.region);
    let query = without_presigning(parts.uri.query().unwrap_or(""));
    let url = match query.is_empty() {
        true => format!("{base}{}", parts.uri.path()),
        false => format!("{base}{}?{query}", parts.uri.path()),
    };
    let uri: Uri = url.parse().map_err(|_| ForwardError::Uri(url.clone()))?;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(|| ForwardError::Uri(url.clone()))?;
    let mut headers = unsigned_headers(&parts.headers);
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(&host).map_err(http::Error::from)?,
    );
    let payload_hash = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok());
    if payload_hash.is_some_and(|h| h.starts_with("STREAMING-AWS4-HMAC-SHA256")) {
        return Err(ForwardError::SignedChunks);
    }
    let s3 = target.service == "s3";
    let signable_body = match payload_hash {
        Some(hash) => SignableBody::Precomputed(hash.to_string()),
        // A presigned S3 URL leaves its payload unsigned.
        None if s3 => SignableBody::UnsignedPayload,
        None => SignableBody::Bytes(&body),
    };
    let pairs = headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)));
    let signable = SignableRequest::new(parts.method.as_str(), url.clone(), pairs, signable_body)?;
    let identity = target.credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(target.region)
        .name(target.service)
        .time(target.time)
        .settings(settings(s3))
        .build()
        .expect("every required parameter is set")
        .into();
    let (instructions, _) = sign(signable, &params)?.into_parts();
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri(uri)
        .body(Full::new(body))?;
    *request.headers_mut() = headers;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

/// S3 signs the path as sent and the payload hash as a header; the other
/// services sign a normalized, double-encoded path.
fn settings(s3: bool) -> SigningSettings {
    let mut settings = SigningSettings::default();
    if s3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    settings
}

/// The request's headers without its signature and what only the hop to
/// the proxy had.
fn unsigned_headers(headers: &HeaderMap) -> HeaderMap {
    let signature = [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "host",
    ];
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        if !signature.contains(&name.as_str()) && !is_hop_by_hop(name.as_str()) {
            out.append(name, value.clone());
        }
    }
    out
}

/// The query without a presigned URL's signature parameters (kept as sent).
fn without_presigning(query: &str) -> String {
    const PRESIGNING: [&str; 7] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ];
    query
        .split('&')
        .filter(|p| !p.is_empty() && !PRESIGNING.contains(&p.split('=').next().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("&")
}

/// The service to sign for: the credential's, else the one classified.
pub fn signing_service<'a>(credential: Option<&'a Credential>, classified: &'a str) -> &'a str {
    credential.map_or(classified, |c| c.service.as_str())
}

#[cfg(test)]
mod tests;

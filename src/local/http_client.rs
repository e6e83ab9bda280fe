//! One HTTP(S) client for what `local` sends itself: user pools' key sets,
//! and the functions' AWS calls the proxy forwards; to AWS (HTTPS, the
//! system's roots) or to the emulator (HTTP).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Plain HTTP for an emulator on this machine; HTTP and HTTPS with the
/// system's root certificates for AWS.
#[derive(Clone)]
pub enum HttpClient {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>),
}

/// A fetch that did not give a body.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a URL")]
    Url(String),
    #[error("{url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
}

/// The most a fetched document may hold.
const BODY_LIMIT: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

impl HttpClient {
    /// A client for plain HTTP only (an emulator), which needs no certificates.
    pub fn plain() -> HttpClient {
        HttpClient::Plain(Client::builder(TokioExecutor::new()).build_http())
    }

    /// A client for HTTPS (and HTTP) trusting the system's root certificates.
    pub fn tls() -> std::io::Result<HttpClient> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient::Tls(
            Client::builder(TokioExecutor::new()).build(https),
        ))
    }

    pub async fn send(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<hyper::Response<Incoming>, hyper_util::client::legacy::Error> {
        match self {
            HttpClient::Plain(c) => c.request(request).await,
            HttpClient::Tls(c) => c.request(request).await,
        }
    }

    /// GETs `url`, whose answer must be `200` with a body of at most 1 MiB.
    pub async fn get(&self, url: &str) -> Result<Bytes, FetchError> {
        let uri: hyper::Uri = url.parse().map_err(|_| FetchError::Url(url.into()))?;
        let unreachable = |detail: String| FetchError::Unreachable {
            url: url.into(),
            detail,
        };
        let call = async {
            let request = hyper::Request::get(uri)
                .body(Full::new(Bytes::new()))
                .map_err(|e| unreachable(e.to_string()))?;
            let answer = self
                .send(request)
                .await
                .map_err(|e| unreachable(error_chain(&e)))?;
            let status = answer.status().as_u16();
            if status != 200 {
                return Err(FetchError::Status {
                    url: url.into(),
                    status,
                });
            }
            let body = Limited::new(answer.into_body(), BODY_LIMIT)
                .collect()
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            Ok(body.to_bytes())
        };
        tokio::time::timeout(TIMEOUT, call)
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.into(),
                seconds: TIMEOUT.as_secs(),
            })?
    }
}

/// An error with its causes, which is where a connection error says why.
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

//! The local HTTP servers: one port per API, each request handed to its
//! [`Gateway`] and reported on a channel for the terminal.

use super::gateway::{Gateway, Trace, PAYLOAD_LIMIT};
use super::payload::{Request, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;

/// One request served, for the access log.
#[derive(Debug, Clone)]
pub struct Served {
    pub api: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub took: Duration,
    pub trace: Trace,
}

/// A running API server; stops when dropped.
pub struct ApiServer {
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `gateway` on `listener`, reporting each request to `log`.
pub fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    log: UnboundedSender<Served>,
) -> std::io::Result<ApiServer> {
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let gateway = gateway.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let (gateway, log) = (gateway.clone(), log.clone());
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            answer(&gateway, request, peer, &log).await,
                        )
                    }
                });
                // A client that hangs up ends only its own connection.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(ApiServer { address, task })
}

async fn answer(
    gateway: &Gateway,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    log: &UnboundedSender<Served>,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    // One byte over the limit is enough to know the body is too large.
    let body = match Limited::new(body, PAYLOAD_LIMIT + 1).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => vec![0; PAYLOAD_LIMIT + 1],
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let request = Request {
        method: method.clone(),
        raw_path: path.clone(),
        raw_query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body,
        source_ip: peer.ip().to_string(),
    };
    let handled = gateway.handle(request).await;
    let _ = log.send(Served {
        api: gateway.api().logical_id.clone(),
        method,
        path,
        status: handled.response.status,
        took: started.elapsed(),
        trace: handled.trace,
    });
    to_hyper(handled.response)
}

fn to_hyper(response: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| {
            // A header the function wrote that HTTP cannot carry: API
            // Gateway would not pass it either; answer as for a malformed answer.
            let mut failed = hyper::Response::new(Full::new(Bytes::from_static(
                br#"{"message":"Internal Server Error"}"#,
            )));
            *failed.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            failed
        })
}

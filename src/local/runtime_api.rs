//! A local Lambda Runtime API: what a function's `bootstrap` talks to at
//! `AWS_LAMBDA_RUNTIME_API`, as the Lambda developer guide's "Using the
//! Lambda runtime API for custom runtimes" documents it (API version
//! `2018-06-01`):
//!
//! - `GET  /runtime/invocation/next` waits for the next event and answers it
//!   with `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`,
//!   `-Invoked-Function-Arn` and `-Trace-Id`;
//! - `POST /runtime/invocation/{id}/response` and `…/{id}/error` end that
//!   invocation (`202`); an unknown id is `400`, a response over Lambda's
//!   6 MB limit is `413`;
//! - `POST /runtime/init/error` reports that the function could not start.
//!
//! One server serves one instance of one function; the supervisor that runs
//! the process, enforces the timeout and keeps instances warm sits above it.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, Notify};

/// Lambda's limit on a buffered invocation response.
pub const RESPONSE_LIMIT: usize = 6 * 1024 * 1024;

const PREFIX: &str = "/2018-06-01/runtime/";

/// One event for the function.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Vec<u8>,
    /// Milliseconds since the epoch by which the function must answer.
    pub deadline_ms: u64,
    pub function_arn: String,
    pub trace_id: String,
}

/// How an invocation ended, as the function reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(Vec<u8>),
    /// `…/error`: the `Lambda-Runtime-Function-Error-Type` header and the body.
    Error {
        error_type: String,
        body: Vec<u8>,
    },
    /// `init/error`, before or instead of any invocation.
    InitError {
        error_type: String,
        body: Vec<u8>,
    },
    /// The response went over [`RESPONSE_LIMIT`].
    ResponseTooLarge,
    /// The function's connection broke while sending its answer.
    Lost,
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<Invocation>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Outcome>>,
    /// Set when the runtime first asks for an invocation or reports an init
    /// error: either ends its init phase.
    init_done: AtomicBool,
    init_ended: Notify,
}

impl State {
    fn end_init(&self) {
        if !self.init_done.swap(true, Ordering::SeqCst) {
            self.init_ended.notify_waiters();
        }
    }
}

/// A running Runtime API on a local port.
pub struct RuntimeApi {
    address: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let state = Arc::new(State::default());
        let shared = state.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(answer(&state, request).await) }
                    });
                    // A runtime that hangs up mid-request ends only its connection.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RuntimeApi {
            address,
            state,
            server,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for the function's process.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Returns once the runtime's init phase is over: it asked for its first
    /// invocation or reported an init error (which [`RuntimeApi::invoke`]
    /// then answers with).
    pub async fn init_ended(&self) {
        loop {
            // Registered before the check, so no notification falls between.
            let ended = self.state.init_ended.notified();
            if self.state.init_done.load(Ordering::SeqCst) {
                return;
            }
            ended.await;
        }
    }

    /// Hands `invocation` to the function and waits for how it ended; an
    /// init error (now or reported earlier) ends it at once.
    pub async fn invoke(&self, invocation: Invocation) -> Outcome {
        if let Some(failed) = lock(&self.state.init_error).clone() {
            return failed;
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.state.waiting).insert(invocation.request_id.clone(), tx);
        lock(&self.state.queue).push_back(invocation);
        self.state.queued.notify_one();
        // The sender is dropped only with the server's state.
        rx.await.unwrap_or(Outcome::Lost)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn answer(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    let Some(route) = path.strip_prefix(PREFIX) else {
        return reply(StatusCode::NOT_FOUND, "UnknownPath", &path);
    };
    let error_type = request
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Unhandled")
        .to_string();
    match (request.method().clone(), route) {
        (Method::GET, "invocation/next") => next(state).await,
        (Method::POST, "init/error") => {
            let body = match read(request).await {
                Body::Read(body) => body,
                Body::TooLarge | Body::Broken => Vec::new(),
            };
            let failed = Outcome::InitError { error_type, body };
            *lock(&state.init_error) = Some(failed.clone());
            for (_, waiting) in lock(&state.waiting).drain() {
                let _ = waiting.send(failed.clone());
            }
            state.end_init();
            accepted()
        }
        (Method::POST, rest) => {
            let Some((id, kind)) = rest
                .strip_prefix("invocation/")
                .and_then(|r| r.rsplit_once('/'))
            else {
                return reply(StatusCode::NOT_FOUND, "UnknownPath", &path);
            };
            let Some(waiting) = lock(&state.waiting).remove(id) else {
                return reply(StatusCode::BAD_REQUEST, "InvalidRequestID", id);
            };
            let outcome = match (kind, read(request).await) {
                (_, Body::TooLarge) => Outcome::ResponseTooLarge,
                (_, Body::Broken) => Outcome::Lost,
                ("response", Body::Read(body)) => Outcome::Response(body),
                (_, Body::Read(body)) => Outcome::Error { error_type, body },
            };
            let too_large = outcome == Outcome::ResponseTooLarge;
            let _ = waiting.send(outcome);
            if too_large {
                reply(StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", id)
            } else {
                accepted()
            }
        }
        _ => reply(StatusCode::NOT_FOUND, "UnknownPath", &path),
    }
}

/// Waits for the next invocation and hands it over.
async fn next(state: &State) -> Response<Full<Bytes>> {
    state.end_init();
    let invocation = loop {
        let notified = state.queued.notified();
        if let Some(invocation) = lock(&state.queue).pop_front() {
            break invocation;
        }
        notified.await;
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &invocation.request_id)
        .header(
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        )
        .header(
            "lambda-runtime-invoked-function-arn",
            &invocation.function_arn,
        )
        .header("lambda-runtime-trace-id", &invocation.trace_id)
        .body(Full::new(Bytes::from(invocation.payload)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// A request body as read.
enum Body {
    Read(Vec<u8>),
    TooLarge,
    Broken,
}

async fn read(request: Request<Incoming>) -> Body {
    let limited = Limited::new(request.into_body(), RESPONSE_LIMIT);
    match limited.collect().await {
        Ok(collected) => Body::Read(collected.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Body::TooLarge,
        Err(_) => Body::Broken,
    }
}

fn accepted() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(br#"{"status":"OK"}"#)));
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

fn reply(status: StatusCode, error_type: &str, about: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "errorType": error_type, "errorMessage": about }).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One HTTP/1.1 exchange on a fresh connection, as a runtime would make it.
    async fn call(
        api: &RuntimeApi,
        method: &str,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> String {
        let mut stream = tokio::net::TcpStream::connect(api.address()).await.unwrap();
        let head = format!(
            "{method} {PREFIX}{path} HTTP/1.1\r\nhost: local\r\nconnection: close\r\ncontent-length: {}\r\n{headers}\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn invocation(id: &str) -> Invocation {
        Invocation {
            request_id: id.into(),
            payload: br#"{"hello":"world"}"#.to_vec(),
            deadline_ms: 1_764_700_003_000,
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            trace_id: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".into(),
        }
    }

    #[tokio::test]
    async fn an_invocation_goes_to_next_and_its_response_comes_back() {
        let api = RuntimeApi::start().await.unwrap();
        let pending = api.invoke(invocation("req-1"));
        let runtime = async {
            let next = call(&api, "GET", "invocation/next", "", b"").await;
            assert!(next.starts_with("HTTP/1.1 200"), "{next}");
            for header in [
                "lambda-runtime-aws-request-id: req-1",
                "lambda-runtime-deadline-ms: 1764700003000",
                "lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:f",
                "lambda-runtime-trace-id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            ] {
                assert!(next.contains(header), "{header} in {next}");
            }
            assert!(next.ends_with(r#"{"hello":"world"}"#), "{next}");
            let done = call(&api, "POST", "invocation/req-1/response", "", b"\"ok\"").await;
            assert!(done.starts_with("HTTP/1.1 202"), "{done}");
        };
        let (outcome, ()) = tokio::join!(pending, runtime);
        assert_eq!(outcome, Outcome::Response(b"\"ok\"".to_vec()));
    }

    #[tokio::test]
    async fn a_function_error_keeps_its_type_and_an_unknown_id_is_refused() {
        let api = RuntimeApi::start().await.unwrap();
        let pending = api.invoke(invocation("req-2"));
        let runtime = async {
            call(&api, "GET", "invocation/next", "", b"").await;
            let unknown = call(&api, "POST", "invocation/nope/response", "", b"{}").await;
            assert!(unknown.starts_with("HTTP/1.1 400"), "{unknown}");
            assert!(unknown.contains("InvalidRequestID"), "{unknown}");
            let error = br#"{"errorType":"Boom","errorMessage":"it broke"}"#;
            call(
                &api,
                "POST",
                "invocation/req-2/error",
                "lambda-runtime-function-error-type: Runtime.Boom\r\n",
                error,
            )
            .await;
        };
        let (outcome, ()) = tokio::join!(pending, runtime);
        assert_eq!(
            outcome,
            Outcome::Error {
                error_type: "Runtime.Boom".into(),
                body: br#"{"errorType":"Boom","errorMessage":"it broke"}"#.to_vec(),
            }
        );
    }

    #[tokio::test]
    async fn an_init_error_ends_the_waiting_invocation_and_every_later_one() {
        let api = RuntimeApi::start().await.unwrap();
        let pending = api.invoke(invocation("req-3"));
        let runtime = async {
            // Let the invocation be queued first.
            tokio::task::yield_now().await;
            call(
                &api,
                "POST",
                "init/error",
                "lambda-runtime-function-error-type: Runtime.MissingVariable\r\n",
                b"TABLE_NAME is not set",
            )
            .await
        };
        let (outcome, answer) = tokio::join!(pending, runtime);
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        let failed = Outcome::InitError {
            error_type: "Runtime.MissingVariable".into(),
            body: b"TABLE_NAME is not set".to_vec(),
        };
        assert_eq!(outcome, failed);
        assert_eq!(api.invoke(invocation("req-4")).await, failed);
    }

    #[tokio::test]
    async fn init_ends_at_the_first_next_or_at_an_init_error() {
        let soon = |ms| std::time::Duration::from_millis(ms);
        let api = RuntimeApi::start().await.unwrap();
        let early = tokio::time::timeout(soon(50), api.init_ended()).await;
        assert!(early.is_err(), "no runtime has asked yet");
        let runtime = async {
            let (next, ended) = tokio::join!(
                call(&api, "GET", "invocation/next", "", b""),
                tokio::time::timeout(soon(5_000), api.init_ended())
            );
            assert!(next.starts_with("HTTP/1.1 200"), "{next}");
            assert!(ended.is_ok(), "the first next ends init");
            call(&api, "POST", "invocation/req-6/response", "", b"{}").await;
        };
        tokio::join!(api.invoke(invocation("req-6")), runtime);

        let failing = RuntimeApi::start().await.unwrap();
        call(&failing, "POST", "init/error", "", b"no table").await;
        let ended = tokio::time::timeout(soon(5_000), failing.init_ended()).await;
        assert!(ended.is_ok(), "an init error ends init");
    }

    #[tokio::test]
    async fn a_response_over_six_megabytes_is_refused_with_413() {
        let api = RuntimeApi::start().await.unwrap();
        let pending = api.invoke(invocation("req-5"));
        let runtime = async {
            call(&api, "GET", "invocation/next", "", b"").await;
            let big = vec![b'x'; RESPONSE_LIMIT + 1];
            call(&api, "POST", "invocation/req-5/response", "", &big).await
        };
        let (outcome, answer) = tokio::join!(pending, runtime);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert_eq!(outcome, Outcome::ResponseTooLarge);
    }
}

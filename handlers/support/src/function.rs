//! What one Lambda function serves, and one invocation from the raw event
//! to the answer. A function declares the event kinds it serves; an event
//! of any other kind fails the invocation (Lambda counts an error and
//! retries asynchronous ones) instead of being answered as if it were fine.

use crate::event::EventKind;
use crate::http::Request;
use crate::log::Logger;
use crate::reply::{ApiError, Reply};
use aws_lambda_events::s3::S3Event;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// Answers API Gateway requests (HTTP API 2.0 and REST 1.0 alike).
pub trait HttpHandler {
    /// One request; an error becomes the error envelope.
    fn respond(
        &self,
        request: Request,
        log: &Logger,
    ) -> impl Future<Output = Result<Reply, ApiError>>;
}

/// Processes S3 event notifications. They arrive asynchronously and are
/// retried on failure, so processing the same one twice must be harmless.
pub trait S3Handler {
    fn on_s3_event(
        &self,
        event: S3Event,
        log: &Logger,
    ) -> impl Future<Output = Result<(), Failure>>;
}

/// Processes batches of SQS messages (an event source mapping). The answer
/// names the messages that failed (`ReportBatchItemFailures` on the
/// mapping), which come back after the queue's visibility timeout; the
/// others are deleted. A `Failure` fails the whole batch. Messages arrive
/// at least once: processing one twice must be harmless.
pub trait SqsHandler {
    fn on_sqs_batch(
        &self,
        event: SqsEvent,
        log: &Logger,
    ) -> impl Future<Output = Result<SqsBatchResponse, Failure>>;
}

/// Serves direct invocations and EventBridge Scheduler targets (which
/// receive the schedule's `Input` as it is). Retried like S3 events.
pub trait InvocationHandler {
    fn on_invocation(
        &self,
        input: Value,
        log: &Logger,
    ) -> impl Future<Output = Result<Value, Failure>>;
}

/// Why an invocation failed; Lambda records it as the function's error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    #[error("this function does not serve {kind} events (it serves: {serves})")]
    Unserved { kind: EventKind, serves: String },
    #[error("the {kind} event cannot be read: {reason}")]
    Unreadable { kind: EventKind, reason: String },
    #[error("{0}")]
    Handler(String),
}

impl Failure {
    /// A handler's own failure, with what went wrong.
    pub fn handler(cause: impl fmt::Display) -> Self {
        Failure::Handler(cause.to_string())
    }

    fn error_type(&self) -> &'static str {
        match self {
            Failure::Unserved { .. } => "UnservedEvent",
            Failure::Unreadable { .. } => "UnreadableEvent",
            Failure::Handler(_) => "HandlerFailed",
        }
    }
}

impl From<Failure> for lambda_runtime::Diagnostic {
    fn from(failure: Failure) -> Self {
        lambda_runtime::Diagnostic {
            error_type: failure.error_type().to_string(),
            error_message: failure.to_string(),
        }
    }
}

tokio::task_local! {
    /// When Lambda stops the current invocation (epoch ms), set by `serve`.
    pub(crate) static DEADLINE_MS: u64;
}

/// When Lambda will stop the current invocation (epoch milliseconds):
/// `None` outside one (fixture tests), where there is no limit but the
/// test's own.
pub fn deadline_ms() -> Option<u64> {
    DEADLINE_MS.try_with(|d| *d).ok()
}

/// Reads a direct invocation's input as the handler's own type.
pub fn decode_input<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, Failure> {
    serde_json::from_value(input).map_err(|e| Failure::Unreadable {
        kind: EventKind::Direct,
        reason: e.to_string(),
    })
}

type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
type HttpFn<S> = for<'a> fn(&'a S, Request, &'a Logger) -> Pending<'a, Result<Reply, ApiError>>;
type S3Fn<S> = for<'a> fn(&'a S, S3Event, &'a Logger) -> Pending<'a, Result<(), Failure>>;
type SqsFn<S> =
    for<'a> fn(&'a S, SqsEvent, &'a Logger) -> Pending<'a, Result<SqsBatchResponse, Failure>>;
type InvocationFn<S> = for<'a> fn(&'a S, Value, &'a Logger) -> Pending<'a, Result<Value, Failure>>;

// The handlers' futures, boxed so one `Function` can hold any of them.
fn respond<'a, S: HttpHandler>(
    state: &'a S,
    request: Request,
    log: &'a Logger,
) -> Pending<'a, Result<Reply, ApiError>> {
    Box::pin(state.respond(request, log))
}

fn on_s3_event<'a, S: S3Handler>(
    state: &'a S,
    event: S3Event,
    log: &'a Logger,
) -> Pending<'a, Result<(), Failure>> {
    Box::pin(state.on_s3_event(event, log))
}

fn on_sqs_batch<'a, S: SqsHandler>(
    state: &'a S,
    event: SqsEvent,
    log: &'a Logger,
) -> Pending<'a, Result<SqsBatchResponse, Failure>> {
    Box::pin(state.on_sqs_batch(event, log))
}

fn on_invocation<'a, S: InvocationHandler>(
    state: &'a S,
    input: Value,
    log: &'a Logger,
) -> Pending<'a, Result<Value, Failure>> {
    Box::pin(state.on_invocation(input, log))
}

/// A function's state (clients, settings, clock) and the event kinds it serves.
pub struct Function<S> {
    state: S,
    http: Option<HttpFn<S>>,
    s3: Option<S3Fn<S>>,
    sqs: Option<SqsFn<S>>,
    invocations: Option<InvocationFn<S>>,
    cors_origin: Option<String>,
}

impl<S> Function<S> {
    /// A function that serves nothing yet; add kinds with `serves_*`.
    pub fn new(state: S) -> Self {
        Function {
            state,
            http: None,
            s3: None,
            sqs: None,
            invocations: None,
            cors_origin: None,
        }
    }

    /// Every API answer, errors included, carries
    /// `Access-Control-Allow-Origin: origin`. A REST API's proxy integration
    /// passes the function's headers through untouched, so a browser can
    /// read an answer only when the function writes this header itself (an
    /// HTTP API with CORS configured writes it instead). `None` or an empty
    /// origin adds nothing.
    pub fn allows_origin(mut self, origin: Option<String>) -> Self {
        self.cors_origin = origin.filter(|o| !o.is_empty());
        self
    }

    pub fn serves_http(mut self) -> Self
    where
        S: HttpHandler,
    {
        self.http = Some(respond::<S>);
        self
    }

    pub fn serves_s3(mut self) -> Self
    where
        S: S3Handler,
    {
        self.s3 = Some(on_s3_event::<S>);
        self
    }

    pub fn serves_sqs(mut self) -> Self
    where
        S: SqsHandler,
    {
        self.sqs = Some(on_sqs_batch::<S>);
        self
    }

    pub fn serves_invocations(mut self) -> Self
    where
        S: InvocationHandler,
    {
        self.invocations = Some(on_invocation::<S>);
        self
    }

    /// One invocation, exactly as the Lambda runtime makes it: the raw event
    /// in, the function's result or its failure out.
    pub async fn invoke(&self, event: Value, log: &Logger) -> Result<Value, Failure> {
        let kind = EventKind::of(&event);
        let result = match kind {
            EventKind::HttpApi | EventKind::RestApi => self.http_event(kind, event, log).await,
            EventKind::S3 => self.s3_event(event, log).await,
            EventKind::Sqs => self.sqs_event(event, log).await,
            EventKind::Direct => match self.invocations {
                Some(handle) => handle(&self.state, event, log).await,
                None => Err(self.unserved(kind)),
            },
        };
        if let Err(failure) = &result {
            log.error(
                "invocation failed",
                &[
                    ("eventKind", kind.to_string().into()),
                    ("errorType", failure.error_type().into()),
                    ("error", failure.to_string().into()),
                ],
            );
        }
        result
    }

    async fn http_event(
        &self,
        kind: EventKind,
        event: Value,
        log: &Logger,
    ) -> Result<Value, Failure> {
        let handle = self.http.ok_or_else(|| self.unserved(kind))?;
        let request = if kind == EventKind::HttpApi {
            Request::from_http_api(event)
        } else {
            Request::from_rest_api(event)
        }
        .map_err(|e| Failure::Unreadable {
            kind,
            reason: e.to_string(),
        })?;
        let route = request.route.clone();
        log.info("request", &[("route", route.clone().into())]);
        let mut response = match handle(&self.state, request, log).await {
            Ok(reply) => reply.into_response(),
            Err(e) => {
                log_refusal(log, &route, &e);
                e.into_response()
            }
        };
        if let Some(origin) = &self.cors_origin {
            response
                .headers
                .insert("access-control-allow-origin".into(), origin.clone());
            response.headers.insert("vary".into(), "Origin".into());
        }
        serde_json::to_value(response).map_err(Failure::handler)
    }

    async fn s3_event(&self, event: Value, log: &Logger) -> Result<Value, Failure> {
        let handle = self.s3.ok_or_else(|| self.unserved(EventKind::S3))?;
        let event: S3Event = serde_json::from_value(event).map_err(|e| Failure::Unreadable {
            kind: EventKind::S3,
            reason: e.to_string(),
        })?;
        handle(&self.state, event, log).await?;
        Ok(Value::Null)
    }

    async fn sqs_event(&self, event: Value, log: &Logger) -> Result<Value, Failure> {
        let handle = self.sqs.ok_or_else(|| self.unserved(EventKind::Sqs))?;
        let event: SqsEvent = serde_json::from_value(event).map_err(|e| Failure::Unreadable {
            kind: EventKind::Sqs,
            reason: e.to_string(),
        })?;
        let answer = handle(&self.state, event, log).await?;
        serde_json::to_value(answer).map_err(Failure::handler)
    }

    fn unserved(&self, kind: EventKind) -> Failure {
        let served: Vec<&str> = [
            (self.http.is_some(), "API Gateway requests"),
            (self.s3.is_some(), "S3 notifications"),
            (self.sqs.is_some(), "SQS message batches"),
            (
                self.invocations.is_some(),
                "direct or scheduled invocations",
            ),
        ]
        .into_iter()
        .filter_map(|(served, name)| served.then_some(name))
        .collect();
        Failure::Unserved {
            kind,
            serves: if served.is_empty() {
                "nothing".into()
            } else {
                served.join(", ")
            },
        }
    }
}

/// Our own failures are errors with their cause; a caller's mistakes are
/// information.
fn log_refusal(log: &Logger, route: &str, e: &ApiError) {
    if e.status >= 500 {
        log.error(
            "request failed",
            &[
                ("route", route.into()),
                ("code", e.code.into()),
                ("cause", e.cause.clone().unwrap_or_default().into()),
            ],
        );
    } else {
        log.info(
            "request refused",
            &[
                ("route", route.into()),
                ("code", e.code.into()),
                ("status", e.status.into()),
            ],
        );
    }
}

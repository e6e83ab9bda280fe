//! What every Lambda handler of this workspace shares.
//!
//! - [`http`]: API Gateway HTTP API (payload 2.0) requests and responses;
//! - [`reply`]: the response envelope `{"success": true, "data": …}` /
//!   `{"success": false, "error": {"code", "message", "statusCode"}}` and
//!   the error codes;
//! - [`caller`]: who is calling, from the JWT authorizer's claims;
//! - [`input`]: body parsing and field validation that reports every problem;
//! - [`config`]: settings from environment variables, failing clearly;
//! - [`log`]: one JSON object per line, with the request id;
//! - [`serve`]: runs a handler on the Lambda runtime.
//!
//! A handler's `main` builds its clients and calls [`serve`]; its logic is an
//! async function of a request, testable without Lambda.

#[cfg(feature = "aws")]
pub mod aws;
pub mod caller;
pub mod config;
pub mod http;
pub mod input;
#[cfg(feature = "dynamodb")]
pub mod item;
pub mod log;
pub mod reply;

pub use caller::Caller;
pub use http::{HttpRequest, HttpResponse};
pub use reply::{ApiError, Reply};

use std::future::Future;

/// Runs `handler` for every invocation until the runtime stops. Events that
/// are not HTTP API requests get a 400 answer; handler errors become the
/// error envelope; nothing a caller sends can crash the process.
pub async fn serve<S, F, Fut>(state: S, handler: F) -> Result<(), lambda_runtime::Error>
where
    S: Sync + 'static,
    F: Fn(&'static S, HttpRequest, log::Logger) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    // The state (clients, settings) lives as long as the process.
    let state: &'static S = Box::leak(Box::new(state));
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            let logger = log::Logger::new(&event.context.request_id);
            Ok::<HttpResponse, lambda_runtime::Error>(
                handle_event(state, handler, event.payload, logger).await,
            )
        },
    ))
    .await
}

/// One invocation: parse, call, answer. Public so tests drive a handler the
/// way the runtime does, with a raw event.
pub async fn handle_event<'s, S, F, Fut>(
    state: &'s S,
    handler: &F,
    payload: serde_json::Value,
    logger: log::Logger,
) -> HttpResponse
where
    F: Fn(&'s S, HttpRequest, log::Logger) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let request: HttpRequest = match serde_json::from_value(payload) {
        Ok(r) => r,
        Err(e) => {
            logger.warn(
                "event is not an HTTP API request",
                &[("error", e.to_string().into())],
            );
            return ApiError::bad_request(
                "INVALID_REQUEST",
                "the event is not an API Gateway HTTP API request",
            )
            .into_response();
        }
    };
    let route = request.route_key.clone();
    logger.info("request", &[("route", route.clone().into())]);
    match handler(state, request, logger.clone()).await {
        Ok(reply) => reply.into_response(),
        Err(e) => {
            if e.status >= 500 {
                logger.error(
                    "request failed",
                    &[
                        ("route", route.into()),
                        ("code", e.code.clone().into()),
                        ("cause", e.cause.clone().unwrap_or_default().into()),
                    ],
                );
            } else {
                logger.info(
                    "request refused",
                    &[
                        ("route", route.into()),
                        ("code", e.code.clone().into()),
                        ("status", e.status.into()),
                    ],
                );
            }
            e.into_response()
        }
    }
}

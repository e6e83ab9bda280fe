//! What every Lambda handler of this workspace shares.
//!
//! - [`function`]: what a function serves (API requests, S3 notifications,
//!   direct and scheduled invocations) and one invocation from raw event to
//!   answer; an event of a kind the function does not serve fails the
//!   invocation;
//! - [`event`]: which kind an event is, told from its shape;
//! - [`http`]: API Gateway requests of either payload format (HTTP API 2.0,
//!   REST 1.0) as one [`Request`], and the response;
//! - [`caller`]: who is calling, from either authorizer's claims;
//! - [`reply`]: the response envelope `{"success": true, "data": …}` /
//!   `{"success": false, "error": {"code", "message", "statusCode"}}`; the
//!   codes are the application's own ([`ErrorCode`]);
//! - [`s3`]: the objects an S3 notification names;
//! - [`clock`]: time as a dependency ([`Clock`]);
//! - [`input`]: body parsing and field validation that reports every problem;
//! - [`config`]: settings from environment variables, failing clearly;
//! - [`log`]: one JSON object per line, with the request id;
//! - [`outbound`]: calls to third-party HTTP APIs (feature `outbound`);
//! - [`serve`]: runs a function on the Lambda runtime.
//!
//! A handler's `main` builds its clients and calls [`serve`]; its logic is
//! async methods of its state, testable without Lambda through
//! [`Function::invoke`], the same entry point the runtime uses.

pub mod aws;
pub mod caller;
pub mod clock;
pub mod config;
pub mod event;
pub mod function;
pub mod http;
pub mod input;
pub mod item;
pub mod log;
pub mod outbound;
pub mod reply;
pub mod s3;
#[cfg(feature = "testing")]
pub mod testing;

pub use aws_lambda_events::s3::S3Event;
pub use caller::Caller;
pub use clock::{Clock, FixedClock, SystemClock};
pub use event::EventKind;
pub use function::{
    deadline_ms, Failure, Function, HttpHandler, InvocationHandler, S3Handler, SqsHandler,
};
pub use http::{HttpResponse, Request};
pub use reply::{ApiError, ErrorCode, Reply};

/// Runs `function` for every invocation until the runtime stops. Failures
/// are reported to Lambda as the invocation's error; with the `lambda`
/// build profile (`panic = "unwind"`) so are panics, and the process lives on.
pub async fn serve<S: 'static>(function: Function<S>) -> Result<(), lambda_runtime::Error> {
    // The state (clients, settings) lives as long as the process.
    let function: &'static Function<S> = Box::leak(Box::new(function));
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            let log = log::Logger::new(&event.context.request_id);
            function::DEADLINE_MS
                .scope(event.context.deadline, function.invoke(event.payload, &log))
                .await
        },
    ))
    .await
}

//! AWS failures as answers: a service limiting our calls is 429 (nothing
//! was changed; the client may try again), anything else is ours (500,
//! the SDK's whole error context logged, never sent).

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use handler_support::ApiError;
use sniper_shared::Code;
use std::error::Error;

/// The error codes AWS services limit calls with (DynamoDB, Scheduler, KMS).
const LIMITING: [&str; 4] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

/// Whether AWS refused the call only because of its rate.
fn is_throttled<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.code().is_some_and(|code| LIMITING.contains(&code))
}

/// The answer to a failed AWS call; `what` says which, for the log.
pub fn aws_failure<E, R>(what: &str, error: &SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug,
{
    let cause = format!("{what}: {}", DisplayErrorContext(error));
    if is_throttled(error) {
        return ApiError {
            cause: Some(cause),
            ..too_many_requests()
        };
    }
    ApiError::internal(cause)
}

pub fn too_many_requests() -> ApiError {
    ApiError::new(
        Code::TooManyRequests,
        "Too many requests right now; nothing was changed. Try again in a moment",
    )
}

/// The text of an error for a log line.
pub fn error_text<E, R>(error: &SdkError<E, R>) -> String
where
    E: Error + 'static,
    R: std::fmt::Debug,
{
    DisplayErrorContext(error).to_string()
}

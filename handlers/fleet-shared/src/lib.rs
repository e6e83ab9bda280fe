//! What the fleet console's functions share:
//!
//! - [`Code`]: the API's error codes and their statuses;
//! - [`roles`]: `custom:role` from the caller's ID token, and the guard
//!   that refuses (and audits) a caller without the role a route needs;
//! - [`audit`]: the append-only audit log;
//! - [`instances`] (feature `ec2`): instance ids, reads, and EC2's errors
//!   as answers.

pub mod audit;
#[cfg(feature = "ec2")]
pub mod instances;
pub mod roles;

use handler_support::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A protected route without verified claims, or a refresh token
    /// Cognito refuses.
    Unauthorized,
    /// The caller's role does not allow this.
    Forbidden,
    /// The instance exists but this console does not manage it: the
    /// stack's IAM only lets it act on instances carrying the managed tag.
    InstanceNotManaged,
    NotFound,
    ValidationError,
    /// AWS throttled us; the caller may retry later.
    TooManyRequests,
}

impl ErrorCode for Code {
    fn code(self) -> &'static str {
        match self {
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Forbidden => "FORBIDDEN",
            Code::InstanceNotManaged => "INSTANCE_NOT_MANAGED",
            Code::NotFound => "NOT_FOUND",
            Code::ValidationError => "VALIDATION_ERROR",
            Code::TooManyRequests => "TOO_MANY_REQUESTS",
        }
    }

    fn status(self) -> u16 {
        match self {
            Code::ValidationError => 400,
            Code::Unauthorized => 401,
            Code::Forbidden | Code::InstanceNotManaged => 403,
            Code::NotFound => 404,
            Code::TooManyRequests => 429,
        }
    }
}

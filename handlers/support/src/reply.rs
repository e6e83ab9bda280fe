//! The response envelope and the error codes handlers answer with.

use crate::http::HttpResponse;
use serde_json::{json, Value};

/// A successful answer: a status and the `data` of the envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub data: Value,
}

impl Reply {
    pub fn ok(data: Value) -> Self {
        Reply { status: 200, data }
    }
    pub fn created(data: Value) -> Self {
        Reply { status: 201, data }
    }
    pub fn into_response(self) -> HttpResponse {
        HttpResponse::json(self.status, &json!({"success": true, "data": self.data}))
    }
}

/// Error codes of the API (the seed's, plus generic ones).
pub mod codes {
    pub const AUTH_INVALID_CREDENTIALS: &str = "AUTH_INVALID_CREDENTIALS";
    pub const AUTH_USER_EXISTS: &str = "AUTH_USER_EXISTS";
    pub const AUTH_TOKEN_EXPIRED: &str = "AUTH_TOKEN_EXPIRED";
    pub const AUTH_UNAUTHORIZED: &str = "AUTH_UNAUTHORIZED";
    pub const AUTH_VALIDATION_ERROR: &str = "AUTH_VALIDATION_ERROR";
    pub const AUTH_CODE_INVALID: &str = "AUTH_CODE_INVALID";
    pub const AUTH_USER_NOT_CONFIRMED: &str = "AUTH_USER_NOT_CONFIRMED";
    pub const AUTH_RATE_LIMITED: &str = "AUTH_RATE_LIMITED";
    pub const GUITAR_NOT_FOUND: &str = "GUITAR_NOT_FOUND";
    pub const GUITAR_VALIDATION_ERROR: &str = "GUITAR_VALIDATION_ERROR";
    pub const IMAGE_UPLOAD_FAILED: &str = "IMAGE_UPLOAD_FAILED";
    pub const IMAGE_VALIDATION_ERROR: &str = "IMAGE_VALIDATION_ERROR";
    pub const USER_VALIDATION_ERROR: &str = "USER_VALIDATION_ERROR";
    pub const ROUTE_NOT_FOUND: &str = "ROUTE_NOT_FOUND";
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
}

/// An error answer. `cause` is logged, never sent to the caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Field problems for validation errors: `[{"field", "message"}]`.
    pub details: Option<Value>,
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            details: None,
            cause: None,
        }
    }
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, codes::AUTH_UNAUTHORIZED, message)
    }
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    /// A failure of ours: the caller sees a generic message, the log the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            cause: Some(cause.to_string()),
            ..Self::new(500, codes::INTERNAL_ERROR, "Internal server error")
        }
    }
    pub fn route_not_found(route: &str) -> Self {
        Self::new(404, codes::ROUTE_NOT_FOUND, format!("no route {route}"))
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
    pub fn into_response(self) -> HttpResponse {
        let mut error =
            json!({"code": self.code, "message": self.message, "statusCode": self.status});
        if let Some(d) = self.details {
            error["details"] = d;
        }
        HttpResponse::json(self.status, &json!({"success": false, "error": error}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_have_the_documented_shape() {
        let ok = Reply::created(json!({"id": 1})).into_response();
        assert_eq!(ok.status_code, 201);
        assert_eq!(
            serde_json::from_str::<Value>(&ok.body).unwrap(),
            json!({"success": true, "data": {"id": 1}})
        );
        let err = ApiError::not_found(codes::GUITAR_NOT_FOUND, "Guitar not found or unauthorized")
            .into_response();
        assert_eq!(
            serde_json::from_str::<Value>(&err.body).unwrap(),
            json!({"success": false, "error": {"code": "GUITAR_NOT_FOUND", "message": "Guitar not found or unauthorized", "statusCode": 404}})
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let err = ApiError::internal("dynamodb: ResourceNotFoundException table guitars-x");
        let body = err.clone().into_response().body;
        assert!(!body.contains("dynamodb"), "{body}");
        assert_eq!(
            err.cause.as_deref(),
            Some("dynamodb: ResourceNotFoundException table guitars-x")
        );
    }
}

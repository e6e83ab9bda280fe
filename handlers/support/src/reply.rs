//! The response envelope, and the error codes answers carry: each
//! application names its own codes (an enum implementing [`ErrorCode`]);
//! the platform only owns the codes no application decides
//! ([`PlatformCode`]).

use crate::http::HttpResponse;
use serde_json::{json, Value};

/// One of an application's error codes: the text the envelope shows and
/// the HTTP status it is answered with.
pub trait ErrorCode: Copy {
    /// As the envelope shows it, such as `GUITAR_NOT_FOUND`.
    fn code(self) -> &'static str;
    fn status(self) -> u16;
}

/// The codes the platform answers with itself, the same in every application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformCode {
    /// A route the function does not implement (the API and the function disagree).
    RouteNotFound,
    /// A failure of ours; the caller learns nothing more.
    Internal,
}

impl ErrorCode for PlatformCode {
    fn code(self) -> &'static str {
        match self {
            PlatformCode::RouteNotFound => "ROUTE_NOT_FOUND",
            PlatformCode::Internal => "INTERNAL_ERROR",
        }
    }
    fn status(self) -> u16 {
        match self {
            PlatformCode::RouteNotFound => 404,
            PlatformCode::Internal => 500,
        }
    }
}

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

/// An error answer. `cause` is logged, never sent to the caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Field problems for validation errors: `[{"field", "message"}]`
    /// (boxed: errors travel in every `Result`, most without details).
    pub details: Option<Box<Value>>,
    pub cause: Option<String>,
}

impl ApiError {
    /// An answer with `code`, at the status the code stands for.
    pub fn new(code: impl ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: code.status(),
            code: code.code(),
            message: message.into(),
            details: None,
            cause: None,
        }
    }
    /// A failure of ours: the caller sees a generic message, the log the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            cause: Some(cause.to_string()),
            ..Self::new(PlatformCode::Internal, "Internal server error")
        }
    }
    pub fn route_not_found(route: &str) -> Self {
        Self::new(PlatformCode::RouteNotFound, format!("no route {route}"))
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }
    /// Whether this answers with `code`.
    pub fn is(&self, code: impl ErrorCode) -> bool {
        self.code == code.code()
    }
    pub fn into_response(self) -> HttpResponse {
        let mut error =
            json!({"code": self.code, "message": self.message, "statusCode": self.status});
        if let Some(d) = self.details {
            error["details"] = *d;
        }
        HttpResponse::json(self.status, &json!({"success": false, "error": error}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct ShopCode;
    impl ErrorCode for ShopCode {
        fn code(self) -> &'static str {
            "ORDER_NOT_FOUND"
        }
        fn status(self) -> u16 {
            404
        }
    }

    #[test]
    fn envelopes_have_the_documented_shape() {
        let ok = Reply::created(json!({"id": 1})).into_response();
        assert_eq!(ok.status_code, 201);
        assert_eq!(
            serde_json::from_str::<Value>(&ok.body).unwrap(),
            json!({"success": true, "data": {"id": 1}})
        );
        let err = ApiError::new(ShopCode, "Order not found").into_response();
        assert_eq!(err.status_code, 404);
        assert_eq!(
            serde_json::from_str::<Value>(&err.body).unwrap(),
            json!({"success": false, "error": {"code": "ORDER_NOT_FOUND", "message": "Order not found", "statusCode": 404}})
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let err = ApiError::internal("dynamodb: ResourceNotFoundException table guitars-x");
        let body = err.clone().into_response().body;
        assert!(!body.contains("dynamodb"), "{body}");
        assert!(body.contains("INTERNAL_ERROR"), "{body}");
        assert_eq!(
            err.cause.as_deref(),
            Some("dynamodb: ResourceNotFoundException table guitars-x")
        );
    }
}

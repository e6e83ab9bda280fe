//! The guitar collection API's error codes (the seed's contract), each with
//! the HTTP status it is answered with. The platform renders them into the
//! envelope; its own codes (`ROUTE_NOT_FOUND`, `INTERNAL_ERROR`) are not here.

use handler_support::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    AuthInvalidCredentials,
    AuthUserExists,
    AuthTokenExpired,
    /// A protected route called without a verified token.
    AuthUnauthorized,
    AuthValidationError,
    AuthCodeInvalid,
    AuthUserNotConfirmed,
    AuthRateLimited,
    GuitarNotFound,
    GuitarValidationError,
    ImageUploadFailed,
    ImageValidationError,
    UserValidationError,
}

impl ErrorCode for Code {
    fn code(self) -> &'static str {
        match self {
            Code::AuthInvalidCredentials => "AUTH_INVALID_CREDENTIALS",
            Code::AuthUserExists => "AUTH_USER_EXISTS",
            Code::AuthTokenExpired => "AUTH_TOKEN_EXPIRED",
            Code::AuthUnauthorized => "AUTH_UNAUTHORIZED",
            Code::AuthValidationError => "AUTH_VALIDATION_ERROR",
            Code::AuthCodeInvalid => "AUTH_CODE_INVALID",
            Code::AuthUserNotConfirmed => "AUTH_USER_NOT_CONFIRMED",
            Code::AuthRateLimited => "AUTH_RATE_LIMITED",
            Code::GuitarNotFound => "GUITAR_NOT_FOUND",
            Code::GuitarValidationError => "GUITAR_VALIDATION_ERROR",
            Code::ImageUploadFailed => "IMAGE_UPLOAD_FAILED",
            Code::ImageValidationError => "IMAGE_VALIDATION_ERROR",
            Code::UserValidationError => "USER_VALIDATION_ERROR",
        }
    }

    fn status(self) -> u16 {
        match self {
            Code::AuthValidationError
            | Code::AuthCodeInvalid
            | Code::GuitarValidationError
            | Code::ImageValidationError
            | Code::UserValidationError => 400,
            Code::AuthInvalidCredentials | Code::AuthTokenExpired | Code::AuthUnauthorized => 401,
            Code::AuthUserNotConfirmed => 403,
            Code::GuitarNotFound => 404,
            Code::AuthUserExists => 409,
            Code::AuthRateLimited => 429,
            Code::ImageUploadFailed => 502,
        }
    }
}

//! A REST API's gateway responses applied to API Gateway's own answers.
//!
//! Each own answer has the response type the guide lists for it ("Gateway
//! response types for API Gateway"): `UNAUTHORIZED` 401 (the Cognito or
//! Lambda authorizer refused the caller), `ACCESS_DENIED` 403 (a Lambda
//! authorizer's policy denies), `AUTHORIZER_CONFIGURATION_ERROR` 500 (the
//! authorizer failed or answered unreadably), `MISSING_AUTHENTICATION_TOKEN`
//! 403 (no such resource or method), `THROTTLED` 429, `REQUEST_TOO_LARGE`
//! 413, `BAD_REQUEST_BODY` 400 (the body model refused the body),
//! `INTEGRATION_TIMEOUT` 504. A type without a gateway response of its own
//! takes `DEFAULT_4XX` or `DEFAULT_5XX` by its status, as API Gateway does.
//! A failed or throttled Lambda proxy call (502) and a method ARN over
//! 1600 bytes (414) are answers the guide names no type for: only the
//! defaults apply to them.
//!
//! Applied: the status code and the static headers. Not applied (said when
//! the API is served, see `GatewayResponse::not_applied`): response
//! templates, so the body stays API Gateway's `{"message": …}`, and values
//! mapped from the request.

use crate::local::payload::Response;
use crate::local::template::GatewayResponse;

/// What kind of own answer an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Unauthorized,
    AccessDenied,
    AuthorizerConfigurationError,
    AuthorizerFailure,
    MissingAuthenticationToken,
    Throttled,
    RequestTooLarge,
    BadRequestBody,
    BadRequestParameters,
    IntegrationTimeout,
    /// One the guide names no type for: only the defaults apply.
    Unnamed,
}

impl ResponseType {
    /// As a gateway response's `ResponseType` names it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            ResponseType::Unauthorized => "UNAUTHORIZED",
            ResponseType::AccessDenied => "ACCESS_DENIED",
            ResponseType::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            ResponseType::AuthorizerFailure => "AUTHORIZER_FAILURE",
            ResponseType::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            ResponseType::Throttled => "THROTTLED",
            ResponseType::RequestTooLarge => "REQUEST_TOO_LARGE",
            ResponseType::BadRequestBody => "BAD_REQUEST_BODY",
            ResponseType::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            ResponseType::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            ResponseType::Unnamed => return None,
        })
    }

    /// The type of an authorizer's refusal, from how it answers.
    pub fn of_refusal(response: &Response) -> ResponseType {
        let error_type = response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amzn-errortype"))
            .map(|(_, v)| v.as_str());
        match (response.status, error_type) {
            (401, _) => ResponseType::Unauthorized,
            (403, _) => ResponseType::AccessDenied,
            (500, Some("AuthorizerConfigurationException")) => {
                ResponseType::AuthorizerConfigurationError
            }
            (500, _) => ResponseType::AuthorizerFailure,
            _ => ResponseType::Unnamed,
        }
    }
}

/// `response`, an own answer of type `kind`, as `responses` make it: the
/// gateway response of its type, else `DEFAULT_4XX` or `DEFAULT_5XX`.
pub fn apply(responses: &[GatewayResponse], kind: ResponseType, response: &mut Response) {
    let fallback = match response.status {
        400..=499 => "DEFAULT_4XX",
        500..=599 => "DEFAULT_5XX",
        _ => return,
    };
    let named = |name: &str| responses.iter().find(|r| r.response_type == name);
    let Some(chosen) = kind.name().and_then(named).or_else(|| named(fallback)) else {
        return;
    };
    if let Some(status) = chosen.status {
        response.status = status;
    }
    for (name, value) in &chosen.headers {
        response
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        response.headers.push((name.clone(), value.clone()));
    }
}

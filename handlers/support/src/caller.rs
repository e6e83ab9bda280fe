//! Who is calling: the claims API Gateway's JWT authorizer verified.

use crate::{ApiError, HttpRequest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Cognito `sub`: stable, never reused; the key of everything a user owns.
    pub user_id: String,
    pub email: Option<String>,
    /// `custom:role`, when the pool has one.
    pub role: Option<String>,
    pub username: Option<String>,
}

impl Caller {
    /// The caller of an authorized route. A request without verified claims
    /// (a route misconfigured as public, say) is refused, never guessed.
    pub fn from_request(request: &HttpRequest) -> Result<Caller, ApiError> {
        let claims = request
            .request_context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims)
            .ok_or_else(|| ApiError::unauthorized("Missing or invalid token"))?;
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(|v| v.as_str())
                .map(String::from)
                .filter(|s| !s.is_empty())
        };
        let user_id =
            text("sub").ok_or_else(|| ApiError::unauthorized("Missing or invalid token"))?;
        Ok(Caller {
            user_id,
            email: text("email"),
            role: text("custom:role"),
            username: text("cognito:username").or_else(|| text("username")),
        })
    }
}

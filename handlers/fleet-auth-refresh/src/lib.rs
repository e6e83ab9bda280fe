//! `POST /auth/refresh` (public): a refresh token in, new ID and access
//! tokens out (Cognito's `REFRESH_TOKEN_AUTH`). A token Cognito refuses,
//! for whatever reason, is 401 with the same message, so the answer says
//! nothing about the account behind it.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use fleet_shared::Code;
use handler_support::input::{json_object, Fields};
use handler_support::log::Logger;
use handler_support::{ApiError, HttpHandler, Reply, Request};
use serde_json::json;

/// Cognito's refresh tokens are a few kilobytes; anything much longer is not one.
const TOKEN_MAX_CHARS: usize = 16_384;

pub struct Refresh {
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub client_id: String,
}

impl HttpHandler for Refresh {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        match request.route.as_str() {
            "POST /auth/refresh" => self.refresh(&request, log).await,
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

impl Refresh {
    async fn refresh(&self, request: &Request, log: &Logger) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::ValidationError)?;
        let mut f = Fields::new(&body, Code::ValidationError);
        let token = f.text("refreshToken", true, 1, TOKEN_MAX_CHARS);
        for key in body.keys().filter(|k| *k != "refreshToken") {
            f.problem(key, "is not accepted here");
        }
        f.finish()?;
        let token = token.ok_or_else(|| ApiError::internal("validated refreshToken missing"))?;
        let out = self
            .cognito
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", token)
            .send()
            .await
            .map_err(|e| refused(&e.into_service_error(), log))?;
        let result = out
            .authentication_result()
            .ok_or_else(|| ApiError::internal("Cognito answered a refresh with a challenge"))?;
        Ok(Reply::ok(json!({
            "idToken": result.id_token(),
            "accessToken": result.access_token(),
            // Present only when the client rotates refresh tokens.
            "refreshToken": result.refresh_token(),
            "expiresIn": result.expires_in(),
            "tokenType": result.token_type(),
        })))
    }
}

fn refused(e: &impl ProvideErrorMetadata, log: &Logger) -> ApiError {
    let code = e.code().unwrap_or_default();
    let cause = format!("Cognito {code}: {}", e.message().unwrap_or_default());
    match code {
        "NotAuthorizedException"
        | "UserNotFoundException"
        | "InvalidParameterException"
        | "UserNotConfirmedException" => {
            log.info("refresh refused", &[("cognitoCode", code.into())]);
            ApiError {
                cause: Some(cause),
                ..ApiError::new(
                    Code::Unauthorized,
                    "The refresh token is invalid, expired or revoked; sign in again",
                )
            }
        }
        "TooManyRequestsException" | "LimitExceededException" => ApiError {
            cause: Some(cause),
            ..ApiError::new(Code::TooManyRequests, "Too many requests; retry shortly")
        },
        _ => ApiError::internal(cause),
    }
}

//! Sign-up and sign-in against the Cognito user pool: register, confirm
//! (the e-mailed code; the user record is created then, as the seed's
//! registration flow says), login (USER_PASSWORD_AUTH), refresh
//! (REFRESH_TOKEN_AUTH), forgot and reset password. Cognito's errors become
//! the API's error codes; nothing reveals whether an e-mail address has an
//! account, except registering it.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::confirm_sign_up::ConfirmSignUpError;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, AuthenticationResultType,
};
use guitar_errors::Code;
use guitar_user::profile::Profiles;
use handler_support::input::{json_object, Fields};
use handler_support::log::Logger;
use handler_support::{ApiError, Clock, HttpHandler, Reply, Request};
use serde_json::json;

pub struct Auth {
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    /// The app client, which has no secret (a browser cannot keep one), so
    /// no call sends a SecretHash.
    pub client_id: String,
    pub user_pool_id: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub users_table: String,
    pub clock: Box<dyn Clock>,
}

impl HttpHandler for Auth {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        match request.route.as_str() {
            "POST /auth/register" => self.register(&request).await,
            "POST /auth/confirm" => self.confirm(&request, log).await,
            "POST /auth/login" => self.login(&request).await,
            "POST /auth/refresh" => self.refresh(&request).await,
            "POST /auth/forgot-password" => self.forgot(&request, log).await,
            "POST /auth/reset-password" => self.reset(&request).await,
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

/// Cognito's error names, mapped to the API's codes.
fn cognito_error<E: ProvideErrorMetadata + std::fmt::Display>(e: E) -> ApiError {
    let message = e.message().unwrap_or("").to_string();
    match e.code().unwrap_or("") {
        "UsernameExistsException" | "AliasExistsException" => ApiError::new(
            Code::AuthUserExists,
            "An account with this e-mail already exists",
        ),
        "NotAuthorizedException" | "UserNotFoundException" => {
            ApiError::new(Code::AuthInvalidCredentials, "Wrong e-mail or password")
        }
        "UserNotConfirmedException" => ApiError::new(
            Code::AuthUserNotConfirmed,
            "Confirm your e-mail address first",
        ),
        "InvalidPasswordException" => ApiError::new(
            Code::AuthValidationError,
            if message.is_empty() {
                "The password does not meet the policy".into()
            } else {
                message
            },
        ),
        "InvalidParameterException" => ApiError::new(
            Code::AuthValidationError,
            if message.is_empty() {
                "Invalid input".into()
            } else {
                message
            },
        ),
        "CodeMismatchException" | "ExpiredCodeException" => {
            ApiError::new(Code::AuthCodeInvalid, "The code is wrong or has expired")
        }
        "TooManyRequestsException"
        | "LimitExceededException"
        | "TooManyFailedAttemptsException" => {
            ApiError::new(Code::AuthRateLimited, "Too many attempts; try again later")
        }
        _ => ApiError::internal(e),
    }
}

/// ConfirmSignUp's refusals. Cognito answers NotAuthorized for an account
/// that is confirmed already, and UserNotFound for an address without one:
/// neither is a wrong password here.
fn confirm_error(e: ConfirmSignUpError) -> ApiError {
    match e {
        ConfirmSignUpError::NotAuthorizedException(_) => ApiError::new(
            Code::AuthCodeInvalid,
            "This account cannot be confirmed (it may be confirmed already: log in)",
        ),
        ConfirmSignUpError::UserNotFoundException(_) => {
            ApiError::new(Code::AuthCodeInvalid, "The code is wrong or has expired")
        }
        other => cognito_error(other),
    }
}

fn tokens(result: Option<&AuthenticationResultType>) -> Result<serde_json::Value, ApiError> {
    let r = result.ok_or_else(|| {
        ApiError::internal("Cognito answered without tokens (a challenge this API does not handle)")
    })?;
    Ok(json!({
        "accessToken": r.access_token(),
        "idToken": r.id_token(),
        "refreshToken": r.refresh_token(),
        "expiresIn": r.expires_in(),
        "tokenType": r.token_type(),
    }))
}

impl Auth {
    async fn register(&self, request: &Request) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::AuthValidationError)?;
        let mut f = Fields::new(&body, Code::AuthValidationError);
        let email = f.text("email", true, 3, 254).map(|e| e.to_lowercase());
        let password = f.text("password", true, 8, 256);
        let name = f.text("name", true, 1, 100);
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            f.problem("email", "must be an e-mail address");
        }
        f.finish()?;
        let (email, password, name) = (email.unwrap(), password.unwrap(), name.unwrap());
        let out = self
            .cognito
            .sign_up()
            .client_id(&self.client_id)
            .username(&email)
            .password(password)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(&email)
                    .build()
                    .map_err(ApiError::internal)?,
            )
            .user_attributes(
                AttributeType::builder()
                    .name("name")
                    .value(&name)
                    .build()
                    .map_err(ApiError::internal)?,
            )
            .send()
            .await
            .map_err(|e| cognito_error(e.into_service_error()))?;
        Ok(Reply::created(
            json!({"userId": out.user_sub(), "email": email, "confirmed": out.user_confirmed()}),
        ))
    }

    /// The seed's verification step: the code Cognito e-mailed at sign-up.
    async fn confirm(&self, request: &Request, log: &Logger) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::AuthValidationError)?;
        let mut f = Fields::new(&body, Code::AuthValidationError);
        let email = f.text("email", true, 3, 254).map(|e| e.to_lowercase());
        let code = f.text("code", true, 1, 20);
        f.finish()?;
        let email = email.expect("validated");
        self.cognito
            .confirm_sign_up()
            .client_id(&self.client_id)
            .username(&email)
            .confirmation_code(code.expect("validated"))
            .send()
            .await
            .map_err(|e| confirm_error(e.into_service_error()))?;
        let profile = match self
            .profiles()
            .create(&email, &self.clock.timestamp())
            .await
        {
            Ok(profile) => profile,
            // The account is confirmed all the same (a retry would be refused
            // as confirmed already), and the user function creates the record
            // on the first profile read: say so in the log, not to the user.
            Err(e) => {
                let cause = e.cause.unwrap_or(e.message);
                log.warn(
                    "user record not created at confirmation",
                    &[("cause", cause.into())],
                );
                json!({"email": email})
            }
        };
        Ok(Reply::ok(json!({
            "userId": profile["userId"],
            "email": profile["email"],
            "name": profile["name"],
            "confirmed": true,
        })))
    }

    fn profiles(&self) -> Profiles<'_> {
        Profiles {
            cognito: &self.cognito,
            user_pool_id: &self.user_pool_id,
            dynamodb: &self.dynamodb,
            table: &self.users_table,
        }
    }

    async fn login(&self, request: &Request) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::AuthValidationError)?;
        let mut f = Fields::new(&body, Code::AuthValidationError);
        let email = f.text("email", true, 3, 254).map(|e| e.to_lowercase());
        let password = f.text("password", true, 1, 256);
        f.finish()?;
        let out = self
            .cognito
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", email.unwrap())
            .auth_parameters("PASSWORD", password.unwrap())
            .send()
            .await
            .map_err(|e| cognito_error(e.into_service_error()))?;
        Ok(Reply::ok(tokens(out.authentication_result())?))
    }

    async fn refresh(&self, request: &Request) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::AuthValidationError)?;
        let mut f = Fields::new(&body, Code::AuthValidationError);
        let token = f.text("refreshToken", true, 1, 8192);
        f.finish()?;
        let out = self
            .cognito
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", token.unwrap())
            .send()
            .await
            .map_err(|e| match cognito_error(e.into_service_error()) {
                err if err.is(Code::AuthInvalidCredentials) => ApiError::new(
                    Code::AuthTokenExpired,
                    "The refresh token is invalid or has expired; log in again",
                ),
                err => err,
            })?;
        let mut t = tokens(out.authentication_result())?;
        // Cognito does not return the refresh token again; the caller keeps it.
        t.as_object_mut().expect("object").remove("refreshToken");
        Ok(Reply::ok(t))
    }

    async fn forgot(&self, request: &Request, log: &Logger) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::AuthValidationError)?;
        let mut f = Fields::new(&body, Code::AuthValidationError);
        let email = f.text("email", true, 3, 254).map(|e| e.to_lowercase());
        f.finish()?;
        let result = self
            .cognito
            .forgot_password()
            .client_id(&self.client_id)
            .username(email.unwrap())
            .send()
            .await;
        match result.map_err(|e| e.into_service_error()) {
            Ok(_) => {}
            // The same answer whether or not the account exists.
            Err(e)
                if matches!(
                    e.code(),
                    Some(
                        "UserNotFoundException"
                            | "NotAuthorizedException"
                            | "InvalidParameterException"
                    )
                ) =>
            {
                log.info("forgot-password for an unknown or unverified account", &[]);
            }
            Err(e) => return Err(cognito_error(e)),
        }
        Ok(Reply::ok(
            json!({"message": "If the account exists, a reset code has been sent"}),
        ))
    }

    async fn reset(&self, request: &Request) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::AuthValidationError)?;
        let mut f = Fields::new(&body, Code::AuthValidationError);
        let email = f.text("email", true, 3, 254).map(|e| e.to_lowercase());
        let code = f.text("code", true, 1, 20);
        let password = f.text("newPassword", true, 8, 256);
        f.finish()?;
        self.cognito
            .confirm_forgot_password()
            .client_id(&self.client_id)
            .username(email.unwrap())
            .confirmation_code(code.unwrap())
            .password(password.unwrap())
            .send()
            .await
            .map_err(|e| cognito_error(e.into_service_error()))?;
        Ok(Reply::ok(
            json!({"message": "Password reset; log in with the new password"}),
        ))
    }
}

//! The profile record in the users table, one per user, made from the
//! user's own Cognito attributes (`sub`, `email`, `name`). The seed creates
//! it when a sign-up is verified, so the auth function calls [`Profiles::create`]
//! after ConfirmSignUp; the user function calls it on a first read too, for
//! accounts confirmed some other way (by an administrator, say) or whose
//! record could not be written at confirmation.

use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
use aws_sdk_cognitoidentityprovider::types::AttributeType;
use guitar_errors::Code;
use handler_support::item::{from_item, s, to_item};
use handler_support::ApiError;
use serde_json::{json, Value};

/// Where profiles are stored and where their data comes from.
pub struct Profiles<'a> {
    pub cognito: &'a aws_sdk_cognitoidentityprovider::Client,
    pub user_pool_id: &'a str,
    pub dynamodb: &'a aws_sdk_dynamodb::Client,
    pub table: &'a str,
}

/// The caller's Cognito account no longer exists (deleted while a token
/// was still valid): the client has to sign in again.
pub fn account_gone() -> ApiError {
    ApiError::new(
        Code::AuthUnauthorized,
        "This account no longer exists; sign in again",
    )
}

pub fn rate_limited() -> ApiError {
    ApiError::new(Code::AuthRateLimited, "Too many attempts; try again later")
}

/// A new profile from Cognito's attributes. The display name is the `name`
/// attribute, never the username: in a pool that signs in with e-mail the
/// username is a generated UUID.
pub fn new_profile(attributes: &[AttributeType], now: &str) -> Result<Value, ApiError> {
    let attribute = |name: &str| {
        attributes
            .iter()
            .find(|a| a.name() == name)
            .and_then(AttributeType::value)
    };
    let user_id = attribute("sub")
        .ok_or_else(|| ApiError::internal("Cognito returned a user without a `sub`"))?;
    Ok(json!({
        "userId": user_id,
        "email": attribute("email"),
        // The pool requires `name`; an account made before it did has none.
        "name": attribute("name").unwrap_or_default(),
        "preferences": {},
        "createdAt": now,
        "updatedAt": now,
    }))
}

impl Profiles<'_> {
    /// Creates the profile of `username` (a username or an alias such as the
    /// e-mail address) unless it exists, and returns the stored one.
    pub async fn create(&self, username: &str, now: &str) -> Result<Value, ApiError> {
        let profile = new_profile(&self.attributes(username).await?, now)?;
        let result = self
            .dynamodb
            .put_item()
            .table_name(self.table)
            .set_item(Some(to_item(profile.as_object().expect("object"))))
            .condition_expression("attribute_not_exists(userId)")
            .send()
            .await;
        match result.map_err(|e| e.into_service_error()) {
            Ok(_) => Ok(profile),
            // Created meanwhile (a concurrent request, a repeated
            // confirmation): never overwrite it, answer with it.
            Err(e) if e.is_conditional_check_failed_exception() => {
                let user_id = profile["userId"].as_str().unwrap_or_default();
                Ok(self.stored(user_id).await?.unwrap_or(profile))
            }
            Err(e) => Err(ApiError::internal(e)),
        }
    }

    /// The stored profile of `user_id`, if there is one.
    pub async fn stored(&self, user_id: &str) -> Result<Option<Value>, ApiError> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(self.table)
            .key("userId", s(user_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        Ok(out.item().map(from_item))
    }

    async fn attributes(&self, username: &str) -> Result<Vec<AttributeType>, ApiError> {
        let out = self
            .cognito
            .admin_get_user()
            .user_pool_id(self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| match e.into_service_error() {
                AdminGetUserError::UserNotFoundException(_) => account_gone(),
                AdminGetUserError::TooManyRequestsException(_) => rate_limited(),
                other => ApiError::internal(other),
            })?;
        Ok(out.user_attributes.unwrap_or_default())
    }
}

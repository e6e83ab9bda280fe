//! The caller's profile: a record in the users table keyed by the Cognito
//! `sub` (see [`profile`] for when it is created); the display name is kept
//! in Cognito too, so new tokens carry it. A name Cognito refuses is
//! answered with a 4xx, never a 500.

pub mod profile;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::admin_update_user_attributes::AdminUpdateUserAttributesError;
use aws_sdk_cognitoidentityprovider::types::AttributeType;
use aws_sdk_dynamodb::types::ReturnValue;
use guitar_errors::Code;
use handler_support::input::{json_object, Fields};
use handler_support::item::{from_item, s, set_changes};
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Clock, HttpHandler, Reply, Request};
use profile::{account_gone, rate_limited, Profiles};
use serde_json::{Map, Value};

pub struct Users {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub table: String,
    pub user_pool_id: String,
    pub clock: Box<dyn Clock>,
}

impl HttpHandler for Users {
    async fn respond(&self, request: Request, _log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::AuthUnauthorized)?;
        match request.route.as_str() {
            "GET /user/profile" => self.profile(caller).await.map(Reply::ok),
            "PUT /user/profile" => self.update_profile(caller, &request).await,
            "PUT /user/name" => self.update_name(caller, &request).await,
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

impl Users {
    fn profiles(&self) -> Profiles<'_> {
        Profiles {
            cognito: &self.cognito,
            user_pool_id: &self.user_pool_id,
            dynamodb: &self.dynamodb,
            table: &self.table,
        }
    }

    async fn profile(&self, caller: &Caller) -> Result<Value, ApiError> {
        let profiles = self.profiles();
        if let Some(profile) = profiles.stored(&caller.user_id).await? {
            return Ok(profile);
        }
        // Made from Cognito, not from the token: an access token (what the
        // seed's client sends) carries neither the e-mail nor the name.
        let username = caller.username.as_deref().unwrap_or(&caller.user_id);
        profiles.create(username, &self.clock.timestamp()).await
    }

    async fn set(&self, caller: &Caller, changes: Map<String, Value>) -> Result<Value, ApiError> {
        self.profile(caller).await?;
        let set = set_changes(&changes, &self.clock.timestamp());
        let out = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("userId", s(&caller.user_id))
            .update_expression(set.expression)
            .condition_expression("attribute_exists(userId)")
            .set_expression_attribute_names(Some(set.names))
            .set_expression_attribute_values(Some(set.values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        Ok(out.attributes().map(from_item).unwrap_or(Value::Null))
    }

    async fn update_profile(&self, caller: &Caller, request: &Request) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::UserValidationError)?;
        let mut f = Fields::new(&body, Code::UserValidationError);
        let mut changes = Map::new();
        if let Some(name) = f.text("name", false, 1, 100) {
            changes.insert("name".into(), name.into());
        }
        match body.get("preferences") {
            None | Some(Value::Null) => {}
            Some(Value::Object(p))
                if p.len() <= 50 && serde_json::to_string(p).map_or(0, |t| t.len()) <= 10_000 =>
            {
                changes.insert("preferences".into(), Value::Object(p.clone()));
            }
            Some(_) => f.problem(
                "preferences",
                "must be an object of at most 50 entries and 10 KB",
            ),
        }
        for key in body
            .keys()
            .filter(|k| !["name", "preferences"].contains(&k.as_str()))
        {
            f.problem(key, "cannot be changed here");
        }
        f.finish()?;
        if changes.is_empty() {
            return Err(ApiError::new(
                Code::UserValidationError,
                "Nothing to update",
            ));
        }
        if let Some(Value::String(name)) = changes.get("name") {
            self.set_cognito_name(caller, name).await?;
        }
        Ok(Reply::ok(self.set(caller, changes).await?))
    }

    async fn update_name(&self, caller: &Caller, request: &Request) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::UserValidationError)?;
        let mut f = Fields::new(&body, Code::UserValidationError);
        let name = f.text("name", true, 1, 100);
        f.finish()?;
        let name = name.expect("validated");
        self.set_cognito_name(caller, &name).await?;
        Ok(Reply::ok(
            self.set(
                caller,
                Map::from_iter([("name".to_string(), Value::String(name))]),
            )
            .await?,
        ))
    }

    async fn set_cognito_name(&self, caller: &Caller, name: &str) -> Result<(), ApiError> {
        let username = caller
            .username
            .clone()
            .unwrap_or_else(|| caller.user_id.clone());
        self.cognito
            .admin_update_user_attributes()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .user_attributes(
                AttributeType::builder()
                    .name("name")
                    .value(name)
                    .build()
                    .map_err(ApiError::internal)?,
            )
            .send()
            .await
            .map_err(|e| name_refused(e.into_service_error()))?;
        Ok(())
    }
}

/// Cognito's refusals of a new name, as the API's 4xx answers: a value
/// Cognito does not accept (or a pre-update trigger refuses) is 400, one
/// another account holds 409, a deleted account 401, throttling 429. What
/// is left (permissions, the pool's configuration, Cognito failing) is
/// ours to fix, so it stays a 500.
fn name_refused(e: AdminUpdateUserAttributesError) -> ApiError {
    use AdminUpdateUserAttributesError as E;
    match &e {
        E::InvalidParameterException(_) | E::UserLambdaValidationException(_) => ApiError::new(
            Code::UserValidationError,
            e.message().unwrap_or("Cognito refused the new name"),
        ),
        E::AliasExistsException(_) => ApiError::new(
            Code::AuthUserExists,
            "Another account already uses this value",
        ),
        E::UserNotFoundException(_) => account_gone(),
        E::TooManyRequestsException(_) => rate_limited(),
        _ => ApiError::internal(e),
    }
}

//! `GET /profile` and `PUT /profile`: the Users item as the user sees it.
//! The item is created by the first write (a profile change or an eBay
//! link), never by reading; until then the profile is what the token says.

use crate::account::account_view;
use crate::aws_errors::aws_failure;
use crate::input::profile_changes;
use crate::update::Update;
use crate::Api;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use handler_support::item::{s, Item};
use handler_support::{ApiError, Caller, Reply, Request};
use serde_json::{json, Map, Value};
use sniper_shared::users::attr;

impl Api {
    pub(crate) async fn profile(&self, caller: &Caller) -> Result<Reply, ApiError> {
        let item = self.user_item(&caller.user_id).await?;
        Ok(Reply::ok(profile_view(caller, item.as_ref())))
    }

    pub(crate) async fn update_profile(
        &self,
        caller: &Caller,
        request: &Request,
    ) -> Result<Reply, ApiError> {
        let changes = profile_changes(request)?;
        let mut update = Update::default();
        if let Some(name) = &changes.name {
            update.set(attr::NAME, s(name));
        }
        if let Some(email) = &changes.email {
            update.set(attr::EMAIL, s(email));
        }
        if let Some(wanted) = changes.email_notifications {
            update.set(attr::EMAIL_NOTIFICATIONS, AttributeValue::Bool(wanted));
        }
        self.stamp_user(&mut update, caller);
        let item = self.write_user(caller, update).await?;
        Ok(Reply::ok(profile_view(caller, Some(&item))))
    }

    /// The caller's Users item, read consistently (a link or a change made
    /// just before must show).
    pub(crate) async fn user_item(&self, user_id: &str) -> Result<Option<Item>, ApiError> {
        let answer = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.users_table)
            .key(attr::USER_ID, s(user_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_failure("reading the user", &e))?;
        Ok(answer.item)
    }

    /// `updatedAt`, and what the item's first write sets: `createdAt`, and
    /// the token's e-mail as where notifications go (unless this write
    /// sets one).
    pub(crate) fn stamp_user(&self, update: &mut Update, caller: &Caller) {
        let now = self.clock.timestamp_millis();
        update.set(attr::UPDATED_AT, s(&now));
        update.set_if_absent(attr::CREATED_AT, s(&now));
        if let (Some(email), false) = (&caller.email, update.names_attribute(attr::EMAIL)) {
            update.set_if_absent(attr::EMAIL, s(email));
        }
    }

    /// Writes the caller's item (creating it on the first write) and
    /// answers it as it is now.
    pub(crate) async fn write_user(
        &self,
        caller: &Caller,
        update: Update,
    ) -> Result<Item, ApiError> {
        let answer = self
            .dynamodb
            .update_item()
            .table_name(&self.settings.users_table)
            .key(attr::USER_ID, s(&caller.user_id))
            .update_expression(update.expression())
            .set_expression_attribute_values(update.values())
            .set_expression_attribute_names(Some(update.names))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| aws_failure("writing the user", &e))?;
        Ok(answer.attributes.unwrap_or_default())
    }
}

/// The profile: the item's fields the user may see (never `ebayToken`),
/// with the defaults for what is not stored yet.
pub(crate) fn profile_view(caller: &Caller, item: Option<&Item>) -> Value {
    let text = |name: &str| {
        item.and_then(|i| i.get(name))
            .and_then(|v| v.as_s().ok())
            .cloned()
    };
    let mut view = Map::new();
    view.insert(attr::USER_ID.into(), json!(caller.user_id));
    if let Some(email) = text(attr::EMAIL).or_else(|| caller.email.clone()) {
        view.insert(attr::EMAIL.into(), json!(email));
    }
    if let Some(name) = text(attr::NAME) {
        view.insert(attr::NAME.into(), json!(name));
    }
    let notifications = item
        .and_then(|i| i.get(attr::EMAIL_NOTIFICATIONS))
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(true);
    view.insert(attr::EMAIL_NOTIFICATIONS.into(), json!(notifications));
    for stamp in [attr::CREATED_AT, attr::UPDATED_AT] {
        if let Some(at) = text(stamp) {
            view.insert(stamp.into(), json!(at));
        }
    }
    view.extend(account_view(item));
    Value::Object(view)
}

//! `/ebay-account`: linking the user's eBay account, reading whether it is
//! linked, unlinking it.
//!
//! Linking proves the refresh token with eBay first (an authorization
//! code is exchanged for one; a refresh token given as it is must refresh
//! with the bidding scope), then encrypts it with the stack key under the
//! user's encryption context ([`ebay_token_context`]): the API may
//! encrypt, only the executor may decrypt. Neither the token nor its
//! ciphertext is ever logged or answered.

use crate::aws_errors::aws_failure;
use crate::input::{self, Link, TOKEN_MAX_BYTES};
use crate::update::Update;
use crate::Api;
use aws_sdk_kms::primitives::Blob;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use handler_support::clock::rfc3339_millis;
use handler_support::item::{s, Item};
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Reply, Request};
use serde_json::{json, Map, Value};
use sniper_shared::ebay::UserGrant;
use sniper_shared::ebay_token_context;
use sniper_shared::users::attr;

impl Api {
    pub(crate) async fn ebay_account(&self, caller: &Caller) -> Result<Reply, ApiError> {
        let item = self.user_item(&caller.user_id).await?;
        Ok(Reply::ok(Value::Object(account_view(item.as_ref()))))
    }

    pub(crate) async fn link_ebay_account(
        &self,
        caller: &Caller,
        request: &Request,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let link = input::link(request)?;
        let keys = self.app_keys(log).await?;
        let now_ms = self.clock.epoch_millis();
        let (grant, via) = match link {
            Link::AuthorizationCode(code) => {
                let grant = self.ebay.exchange_code(&keys, &code, now_ms).await;
                (
                    grant.map_err(|e| self.link_failure(e, log))?,
                    "authorizationCode",
                )
            }
            Link::RefreshToken(token) => {
                // A token that refreshes with the bidding scope now is one
                // the executor can bid with later.
                let proof = self.ebay.user_token(&keys, &token, now_ms).await;
                proof.map_err(|e| self.link_failure(e, log))?;
                let grant = UserGrant {
                    refresh_token: token,
                    refresh_expires_at_ms: None,
                };
                (grant, "refreshToken")
            }
        };
        let ciphertext = self
            .encrypt_token(&caller.user_id, &grant.refresh_token)
            .await?;
        let mut update = Update::default();
        update
            .set(attr::EBAY_TOKEN, s(&ciphertext))
            .set(attr::EBAY_LINKED_AT, s(&self.clock.timestamp_millis()));
        let expires_at = grant.refresh_expires_at_ms.map(rfc3339_millis);
        match &expires_at {
            Some(at) => update.set(attr::EBAY_TOKEN_EXPIRES_AT, s(at)),
            // An earlier link's expiry says nothing about this token.
            None => update.remove(attr::EBAY_TOKEN_EXPIRES_AT),
        };
        self.stamp_user(&mut update, caller);
        let item = self.write_user(caller, update).await?;
        log.info(
            "ebay account linked",
            &[
                ("userId", json!(caller.user_id)),
                ("via", json!(via)),
                ("tokenExpiresAt", json!(expires_at)),
            ],
        );
        Ok(Reply::ok(Value::Object(account_view(Some(&item)))))
    }

    /// Unlinking is allowed with bids scheduled: they will fail at their
    /// moment with the reason recorded. The answer counts them so the
    /// client can warn. Unlinking an account that is not linked changes
    /// nothing and answers the same.
    pub(crate) async fn unlink_ebay_account(
        &self,
        caller: &Caller,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let mut update = Update::default();
        update
            .set(attr::UPDATED_AT, s(&self.clock.timestamp_millis()))
            .remove(attr::EBAY_TOKEN)
            .remove(attr::EBAY_LINKED_AT)
            .remove(attr::EBAY_TOKEN_EXPIRES_AT);
        let linked = format!("attribute_exists({})", update.name(attr::EBAY_TOKEN));
        let result = self
            .dynamodb
            .update_item()
            .table_name(&self.settings.users_table)
            .key(attr::USER_ID, s(&caller.user_id))
            .update_expression(update.expression())
            .condition_expression(linked)
            .set_expression_attribute_values(update.values())
            .set_expression_attribute_names(Some(update.names))
            .send()
            .await;
        match result {
            Ok(_) => log.info(
                "ebay account unlinked",
                &[("userId", json!(caller.user_id))],
            ),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(aws_failure("unlinking the eBay account", &e)),
        }
        let scheduled = self.count_scheduled_bids(&caller.user_id).await?;
        Ok(Reply::ok(
            json!({"ebayLinked": false, "scheduledBids": scheduled}),
        ))
    }

    /// Base64 of KMS's ciphertext of the refresh token, bound to the user.
    async fn encrypt_token(&self, user_id: &str, token: &str) -> Result<String, ApiError> {
        if token.len() > TOKEN_MAX_BYTES {
            return Err(ApiError::internal(format!(
                "eBay issued a refresh token of {} bytes; KMS encrypts at most {TOKEN_MAX_BYTES}",
                token.len()
            )));
        }
        let answer = self
            .kms
            .encrypt()
            .key_id(&self.settings.stack_key_arn)
            .plaintext(Blob::new(token.as_bytes()))
            .set_encryption_context(Some(ebay_token_context(user_id)))
            .send()
            .await
            .map_err(|e| aws_failure("encrypting the eBay token with the stack key", &e))?;
        let ciphertext = answer
            .ciphertext_blob
            .ok_or_else(|| ApiError::internal("KMS answered Encrypt without a ciphertext"))?;
        Ok(STANDARD.encode(ciphertext.into_inner()))
    }
}

/// Whether an eBay account is linked, and since when; never the token.
pub(crate) fn account_view(item: Option<&Item>) -> Map<String, Value> {
    let text = |name: &str| {
        item.and_then(|i| i.get(name))
            .and_then(|v| v.as_s().ok())
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let linked = text(attr::EBAY_TOKEN).is_some();
    let mut view = Map::new();
    view.insert("ebayLinked".into(), json!(linked));
    if linked {
        for field in [attr::EBAY_LINKED_AT, attr::EBAY_TOKEN_EXPIRES_AT] {
            if let Some(value) = text(field) {
                view.insert(field.into(), json!(value));
            }
        }
    }
    view
}

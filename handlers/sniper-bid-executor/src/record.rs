//! The executor's reads and writes: the bid (taken under a condition,
//! finished under the same invocation's mark), the bidder, the history.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use handler_support::clock::rfc3339_millis;
use handler_support::item::{s, to_attribute, to_item};
use serde_json::{json, Value};
use sniper_shared::bids::{status_key, Bid, Status, HISTORY_KEPT_S};
use sniper_shared::users::{attr, Bidder};

/// Entries of one user in one millisecond move on by 1 ms, at most this often.
const SAME_MILLISECOND_ATTEMPTS: u64 = 5;

pub struct Store {
    pub dynamodb: Client,
    pub bids_table: String,
    pub history_table: String,
    pub users_table: String,
}

fn error_text(e: impl std::error::Error) -> String {
    aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()
}

impl Store {
    /// An update of `bid`'s item.
    fn update(
        &self,
        bid: &Bid,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.dynamodb
            .update_item()
            .table_name(&self.bids_table)
            .key("userId", s(&bid.user_id))
            .key("bidId", s(&bid.bid_id))
    }

    pub async fn load(&self, user_id: &str, bid_id: &str) -> Result<Option<Bid>, String> {
        let answer = self
            .dynamodb
            .get_item()
            .table_name(&self.bids_table)
            .key("userId", s(user_id))
            .key("bidId", s(bid_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| format!("reading the bid failed: {}", error_text(e)))?;
        answer.item().map(Bid::from_item).transpose()
    }

    /// SCHEDULED → EXECUTING, marked with this invocation's id; `false`
    /// when the bid is no longer SCHEDULED (another invocation took it,
    /// or the user cancelled it).
    pub async fn claim(&self, bid: &Bid, execution_id: &str, now: &str) -> Result<bool, String> {
        let update = self
            .update(bid)
            .update_expression(
                "SET #status = :executing, statusKey = :key, executionId = :me, executingSince = :now, updatedAt = :now",
            )
            .condition_expression("#status = :scheduled")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":executing", s(Status::Executing.as_str()))
            .expression_attribute_values(":scheduled", s(Status::Scheduled.as_str()))
            .expression_attribute_values(
                ":key",
                s(&status_key(Status::Executing, bid.auction_end_time, &bid.bid_id)),
            )
            .expression_attribute_values(":me", s(execution_id))
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        match update.map_err(|e| e.into_service_error()) {
            Ok(_) => Ok(true),
            Err(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(false),
            Err(e) => Err(format!("taking the bid failed: {}", error_text(e))),
        }
    }

    /// EXECUTING → the outcome's status, only by the invocation that took it.
    pub async fn finish(
        &self,
        bid: &Bid,
        execution_id: &str,
        outcome: &Value,
        status: Status,
        auction_end_ms: u64,
        now: &str,
    ) -> Result<(), String> {
        self.update(bid)
            .update_expression(
                "SET #status = :status, statusKey = :key, outcome = :outcome, auctionEndTime = :end, updatedAt = :now",
            )
            .condition_expression("#status = :executing AND executionId = :me")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":executing", s(Status::Executing.as_str()))
            .expression_attribute_values(
                ":key",
                s(&status_key(status, auction_end_ms, &bid.bid_id)),
            )
            .expression_attribute_values(":outcome", to_attribute(outcome))
            .expression_attribute_values(":end", AttributeValue::N(auction_end_ms.to_string()))
            .expression_attribute_values(":me", s(execution_id))
            .expression_attribute_values(":now", s(now))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("recording the outcome on the bid failed: {}", error_text(e)))
    }

    /// Whether the user was told, on the bid this invocation ran.
    pub async fn note_notification(
        &self,
        bid: &Bid,
        execution_id: &str,
        notification: &Value,
    ) -> Result<(), String> {
        self.update(bid)
            .update_expression("SET notification = :n")
            .condition_expression("executionId = :me")
            .expression_attribute_values(":n", to_attribute(notification))
            .expression_attribute_values(":me", s(execution_id))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("recording the e-mail on the bid failed: {}", error_text(e)))
    }

    /// Appends the outcome to the user's history (never replacing an
    /// entry: the grant is append-only and so is the write).
    pub async fn append_history(
        &self,
        bid: &Bid,
        outcome: &Value,
        now_ms: u64,
    ) -> Result<Value, String> {
        for attempt in 0..SAME_MILLISECOND_ATTEMPTS {
            let entry = history_entry(bid, outcome, now_ms + attempt);
            let Value::Object(fields) = &entry else {
                return Err("a history entry is always an object".into());
            };
            let put = self
                .dynamodb
                .put_item()
                .table_name(&self.history_table)
                .set_item(Some(to_item(fields)))
                .condition_expression("attribute_not_exists(userId)")
                .send()
                .await;
            match put.map_err(|e| e.into_service_error()) {
                Ok(_) => return Ok(entry),
                Err(PutItemError::ConditionalCheckFailedException(_)) => continue,
                Err(e) => return Err(format!("writing the history failed: {}", error_text(e))),
            }
        }
        Err(format!(
            "writing the history failed: {SAME_MILLISECOND_ATTEMPTS} entries of one user in the same millisecond"
        ))
    }

    /// The bidder's address, preference and encrypted eBay token.
    pub async fn bidder(&self, user_id: &str) -> Result<Option<Bidder>, String> {
        let answer = self
            .dynamodb
            .get_item()
            .table_name(&self.users_table)
            .key(attr::USER_ID, s(user_id))
            .projection_expression("#e, #n, #t")
            .expression_attribute_names("#e", attr::EMAIL)
            .expression_attribute_names("#n", attr::EMAIL_NOTIFICATIONS)
            .expression_attribute_names("#t", attr::EBAY_TOKEN)
            .send()
            .await
            .map_err(|e| format!("reading the user failed: {}", error_text(e)))?;
        Ok(answer.item().map(Bidder::from_item))
    }
}

fn history_entry(bid: &Bid, outcome: &Value, epoch_ms: u64) -> Value {
    let mut entry = json!({
        "userId": bid.user_id, "timestamp": epoch_ms, "at": rfc3339_millis(epoch_ms),
        "bidId": bid.bid_id, "itemId": bid.item_id, "title": bid.title,
        "maxAmount": {"value": bid.max_amount.value, "currency": bid.max_amount.currency},
        "leadSeconds": bid.lead_seconds, "ttl": epoch_ms / 1000 + HISTORY_KEPT_S,
    });
    if let (Some(entry), Some(outcome)) = (entry.as_object_mut(), outcome.as_object()) {
        for (key, value) in outcome {
            entry.insert(key.clone(), value.clone());
        }
    }
    entry
}

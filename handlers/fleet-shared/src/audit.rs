//! The append-only audit log: one item per action, keyed by the acting
//! user and the time (`userId`, `timestamp`), found by action and by
//! resource through the `action-index` and `resource-index` indexes.
//!
//! Who acted comes from the caller's verified claims, never from a request
//! body. Entries are only ever added: the functions' IAM grants
//! `dynamodb:PutItem` alone (the stack file's `append` level), and every
//! put carries `attribute_not_exists(userId)`, so an entry is never
//! replaced. IAM cannot require that condition, so it lives here, in the
//! one writer every function uses.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use handler_support::clock::rfc3339_millis;
use handler_support::item::to_item;
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Clock, Request};
use serde_json::{json, Map, Value};

/// Entries expire (DynamoDB's TTL deletes them) 30 days after they are written.
pub const RETENTION_SECONDS: u64 = 30 * 24 * 60 * 60;

/// Actions the console records itself; clients cannot write them.
pub const SERVER_ACTIONS: [&str; 2] = ["ACCESS_DENIED", "REBOOT_INSTANCE"];

/// Two entries of one user in the same millisecond share a key; the later
/// one moves on by a millisecond, at most this many times.
const SAME_MILLISECOND_ATTEMPTS: u64 = 5;

/// What happened, to what.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub details: Option<Value>,
}

pub struct AuditLog {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
    pub clock: Box<dyn Clock>,
}

impl AuditLog {
    /// The log of the table `AUDIT_TABLE_NAME` names, on the system clock
    /// (what every function's entry point builds once).
    pub fn from_environment(
        sdk: &handler_support::aws::SdkConfig,
    ) -> Result<AuditLog, handler_support::config::MissingVariable> {
        Ok(AuditLog {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            table: handler_support::config::required("AUDIT_TABLE_NAME")?,
            clock: Box::new(handler_support::SystemClock),
        })
    }

    /// Appends `entry` as `caller`'s, with the request's source address and
    /// user agent, and returns the item as written.
    pub async fn append(
        &self,
        caller: &Caller,
        request: &Request,
        entry: Entry,
    ) -> Result<Value, ApiError> {
        let now_ms = self.clock.epoch_millis();
        for attempt in 0..SAME_MILLISECOND_ATTEMPTS {
            let item = self.item(caller, request, &entry, now_ms + attempt);
            let Value::Object(fields) = &item else {
                return Err(ApiError::internal("an audit item is always an object"));
            };
            let put = self
                .dynamodb
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(fields)))
                .condition_expression("attribute_not_exists(userId)")
                .send()
                .await;
            match put.map_err(|e| e.into_service_error()) {
                Ok(_) => return Ok(item),
                Err(PutItemError::ConditionalCheckFailedException(_)) => continue,
                Err(e) => return Err(ApiError::internal(format!("audit write failed: {e}"))),
            }
        }
        Err(ApiError::internal(format!(
            "audit write failed: {SAME_MILLISECOND_ATTEMPTS} entries of one user in the same millisecond"
        )))
    }

    /// Like [`AuditLog::append`], for writes whose failure must not change
    /// the answer (a refusal, an action already done): a failure is logged
    /// at ERROR with the whole entry, so it can be recovered from the logs.
    pub async fn append_or_log(
        &self,
        caller: &Caller,
        request: &Request,
        entry: Entry,
        log: &Logger,
    ) -> bool {
        match self.append(caller, request, entry.clone()).await {
            Ok(_) => true,
            Err(e) => {
                log.error(
                    "audit entry not written",
                    &[
                        ("cause", e.cause.unwrap_or_default().into()),
                        ("userId", caller.user_id.clone().into()),
                        ("action", entry.action.into()),
                        ("resourceType", entry.resource_type.into()),
                        ("resourceId", entry.resource_id.into()),
                        ("details", entry.details.unwrap_or(Value::Null)),
                    ],
                );
                false
            }
        }
    }

    fn item(&self, caller: &Caller, request: &Request, entry: &Entry, epoch_ms: u64) -> Value {
        let mut item = Map::new();
        item.insert("userId".into(), json!(caller.user_id));
        item.insert("timestamp".into(), json!(rfc3339_millis(epoch_ms)));
        item.insert("auditId".into(), json!(uuid::Uuid::new_v4().to_string()));
        item.insert("action".into(), json!(entry.action));
        item.insert("resourceType".into(), json!(entry.resource_type));
        item.insert("resourceId".into(), json!(entry.resource_id));
        item.insert("ttl".into(), json!(epoch_ms / 1000 + RETENTION_SECONDS));
        let optional = [
            ("userEmail", caller.email.clone().map(Value::from)),
            ("details", entry.details.clone()),
            ("ipAddress", request.source_ip.clone().map(Value::from)),
            ("userAgent", request.user_agent.clone().map(Value::from)),
        ];
        for (key, value) in optional {
            if let Some(v) = value.filter(|v| !v.is_null()) {
                item.insert(key.into(), v);
            }
        }
        Value::Object(item)
    }
}

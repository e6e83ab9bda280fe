//! The app's secrets (eBay keyset, Postmark token) from Secrets Manager,
//! read once and kept for a few minutes: warm invocations skip the call,
//! and a rotated value is picked up without a redeploy.

use aws_sdk_secretsmanager::Client;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a value read is trusted.
const KEEP_MS: u64 = 5 * 60 * 1000;

pub struct Secrets {
    client: Client,
    read: Mutex<HashMap<String, (u64, Value)>>,
}

/// Why a secret could not be used; the message names the secret, never its value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SecretError {
    #[error("secret {arn} cannot be read: {detail}")]
    Unreadable { arn: String, detail: String },
    #[error(
        "secret {arn} has no value yet: set it out of band (aws secretsmanager put-secret-value)"
    )]
    NoValue { arn: String },
    #[error("secret {arn} is not a JSON object")]
    NotJson { arn: String },
}

impl Secrets {
    pub fn new(client: Client) -> Secrets {
        Secrets {
            client,
            read: Mutex::new(HashMap::new()),
        }
    }

    /// The secret's JSON object, from the cache while it is fresh.
    pub async fn json(&self, arn: &str, now_ms: u64) -> Result<Value, SecretError> {
        if let Some(value) = self.fresh(arn, now_ms) {
            return Ok(value);
        }
        let answer = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                let service = e.as_service_error();
                if service.is_some_and(|s| s.is_resource_not_found_exception()) {
                    return SecretError::NoValue { arn: arn.into() };
                }
                SecretError::Unreadable {
                    arn: arn.into(),
                    detail: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
                }
            })?;
        let text = answer
            .secret_string()
            .ok_or_else(|| SecretError::NoValue { arn: arn.into() })?;
        let value: Value = serde_json::from_str(text)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| SecretError::NotJson { arn: arn.into() })?;
        self.read
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(arn.to_string(), (now_ms, value.clone()));
        Ok(value)
    }

    fn fresh(&self, arn: &str, now_ms: u64) -> Option<Value> {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        read.get(arn)
            .filter(|(at, _)| now_ms.saturating_sub(*at) < KEEP_MS)
            .map(|(_, v)| v.clone())
    }
}

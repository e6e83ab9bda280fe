//! E-mail through Postmark's Email API (`POST /email`).
//!
//! Postmark answers 429 and 5xx without sending, so those are retried;
//! an unanswered request may have been sent, so it is not retried (a
//! second copy is worse than a note that delivery is unconfirmed). Every
//! result is returned as a [`Notification`] and recorded on the bid.

use handler_support::outbound::{Outbound, OutboundError, OutboundRequest};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const API_URL: &str = "https://api.postmarkapp.com";
const TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts for answers that prove nothing was sent.
const ATTEMPTS: u32 = 3;

/// The Postmark secret: `server_token` (or the seed's `api_key`) and the
/// sender signature's address, `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct PostmarkKeys {
    pub server_token: String,
    pub from: String,
}

impl PostmarkKeys {
    pub fn from_secret(secret: &Value) -> Result<PostmarkKeys, String> {
        let field = |name: &str| secret[name].as_str().filter(|v| !v.is_empty());
        match (field("server_token").or(field("api_key")), field("from")) {
            (Some(token), Some(from)) => Ok(PostmarkKeys {
                server_token: token.to_string(),
                from: from.to_string(),
            }),
            _ => Err("the Postmark secret needs `server_token` and `from` (a confirmed sender signature)".into()),
        }
    }
}

/// What became of an e-mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    Sent {
        message_id: String,
    },
    /// Postmark refused, or kept failing; nothing was sent.
    Failed {
        reason: String,
    },
    /// No answer: it may or may not have been sent.
    Unconfirmed {
        reason: String,
    },
    /// The user turned e-mails off, or has no address.
    Skipped {
        reason: String,
    },
}

impl Notification {
    pub fn to_json(&self) -> Value {
        match self {
            Notification::Sent { message_id } => json!({"status": "SENT", "messageId": message_id}),
            Notification::Failed { reason } => json!({"status": "FAILED", "reason": reason}),
            Notification::Unconfirmed { reason } => {
                json!({"status": "UNCONFIRMED", "reason": reason})
            }
            Notification::Skipped { reason } => json!({"status": "SKIPPED", "reason": reason}),
        }
    }
}

pub struct Postmark {
    http: Arc<dyn Outbound>,
    base_url: String,
}

/// One e-mail.
pub struct Email<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// Postmark metadata, to find the message from the bid.
    pub bid_id: &'a str,
}

impl Postmark {
    pub fn new(http: Arc<dyn Outbound>, base_url: Option<String>) -> Postmark {
        let base_url = base_url
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| API_URL.to_string());
        Postmark {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    pub async fn send(&self, keys: &PostmarkKeys, email: &Email<'_>) -> Notification {
        let body = json!({
            "From": keys.from, "To": email.to, "Subject": email.subject,
            "TextBody": email.text, "MessageStream": "outbound", "Tag": "bid-outcome",
            "Metadata": {"bidId": email.bid_id},
        });
        let mut last_failure = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
            }
            let request = OutboundRequest::new("POST", format!("{}/email", self.base_url), TIMEOUT)
                .header("accept", "application/json")
                .header("x-postmark-server-token", keys.server_token.as_str())
                .json(&body);
            let answer = match self.http.send(request).await {
                Ok(answer) => answer,
                Err(e @ (OutboundError::Url(_) | OutboundError::Connect { .. })) => {
                    last_failure = e.to_string();
                    continue;
                }
                Err(e) => {
                    return Notification::Unconfirmed {
                        reason: e.to_string(),
                    }
                }
            };
            let reply = answer.json();
            let said = format!(
                "Postmark answered {} (ErrorCode {}): {}",
                answer.status,
                reply["ErrorCode"]
                    .as_i64()
                    .map_or("none".to_string(), |c| c.to_string()),
                reply["Message"].as_str().unwrap_or("no message")
            );
            match answer.status {
                200 => {
                    return Notification::Sent {
                        message_id: reply["MessageID"].as_str().unwrap_or_default().to_string(),
                    }
                }
                429 | 500.. => last_failure = said,
                _ => return Notification::Failed { reason: said },
            }
        }
        Notification::Failed {
            reason: format!("{last_failure} ({ATTEMPTS} attempts)"),
        }
    }
}

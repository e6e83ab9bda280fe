//! The bid executor: invoked by a bid's one-time EventBridge Scheduler
//! schedule (input `{"userId", "bidId"}`), about two minutes before the
//! bid's moment (the auction's end less the user's lead time).
//!
//! 1. The bid is read; only a SCHEDULED one goes on. It is moved to
//!    EXECUTING under a condition, so of two invocations (Scheduler and
//!    Lambda both deliver at least once, and retry) exactly one bids.
//! 2. [`bidding`]: the user's eBay token, the item, the wait for the exact
//!    moment, the proxy bid, what eBay's answer means.
//! 3. The outcome is recorded on the bid and appended to the history,
//!    then mailed through Postmark (whether the mail went is recorded too).
//!
//! An invocation fails (Lambda counts an error, the alarm fires) only when
//! the bid cannot be read or taken, or its outcome cannot be recorded; in
//! the last case the whole outcome is in the ERROR log line.

pub mod bidding;
pub mod outcome;
pub mod postmark;
pub mod record;

use aws_sdk_kms::primitives::Blob;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use handler_support::config::{self, MissingVariable};
use handler_support::function::decode_input;
use handler_support::log::Logger;
use handler_support::{Clock, Failure, InvocationHandler};
use outcome::Outcome;
use postmark::{Email, Notification, Postmark, PostmarkKeys};
use record::Store;
use serde::Deserialize;
use serde_json::{json, Value};
use sniper_shared::bids::{Bid, Status};
use sniper_shared::ebay::Ebay;
use sniper_shared::secrets::Secrets;
use sniper_shared::users::Bidder;

/// What the executor needs after the bid: recording it and the e-mail.
pub(crate) const FINISH_MS: u64 = 15_000;

pub struct Settings {
    pub ebay_secret_arn: String,
    pub postmark_secret_arn: String,
    pub stack_key_arn: String,
}

impl Settings {
    pub fn from_environment() -> Result<Settings, MissingVariable> {
        let [ebay_secret_arn, postmark_secret_arn, stack_key_arn] =
            config::required_all(["EBAY_SECRET_ARN", "POSTMARK_SECRET_ARN", "STACK_KEY_ARN"])?;
        Ok(Settings {
            ebay_secret_arn,
            postmark_secret_arn,
            stack_key_arn,
        })
    }
}

pub struct Executor {
    pub store: Store,
    pub kms: aws_sdk_kms::Client,
    pub secrets: Secrets,
    pub ebay: Ebay,
    pub postmark: Postmark,
    pub clock: Box<dyn Clock>,
    pub settings: Settings,
}

/// The schedule's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Target {
    user_id: String,
    bid_id: String,
}

impl InvocationHandler for Executor {
    async fn on_invocation(&self, input: Value, log: &Logger) -> Result<Value, Failure> {
        let target: Target = decode_input(input)?;
        if target.user_id.is_empty() || target.bid_id.is_empty() {
            return Err(Failure::handler("the input names no bid"));
        }
        let Some(bid) = self
            .store
            .load(&target.user_id, &target.bid_id)
            .await
            .map_err(Failure::handler)?
        else {
            log.warn(
                "no such bid: nothing to do",
                &[("bidId", target.bid_id.into())],
            );
            return Ok(json!({"result": "NO_SUCH_BID"}));
        };
        if bid.status != Status::Scheduled {
            log.info(
                "the bid is not waiting: nothing to do",
                &[
                    ("bidId", bid.bid_id.clone().into()),
                    ("status", bid.status.as_str().into()),
                ],
            );
            return Ok(json!({"result": "NOT_SCHEDULED", "status": bid.status.as_str()}));
        }
        self.refuse_early_invocation(&bid)?;
        let me = log.request_id().to_string();
        let now = self.clock.timestamp_millis();
        if !self
            .store
            .claim(&bid, &me, &now)
            .await
            .map_err(Failure::handler)?
        {
            log.info(
                "another invocation took the bid",
                &[("bidId", bid.bid_id.clone().into())],
            );
            return Ok(json!({"result": "TAKEN_ELSEWHERE"}));
        }
        let (outcome, bidder) = match self.store.bidder(&bid.user_id).await {
            Ok(bidder) => (self.place(&bid, bidder.as_ref(), log).await, bidder),
            Err(e) => {
                log.error("bidder unreadable", &[("error", e.into())]);
                let outcome = Outcome::new(Status::Failed, "your account could not be read");
                (outcome, None)
            }
        };
        log.info(
            "bid outcome",
            &[
                ("bidId", bid.bid_id.clone().into()),
                ("outcome", outcome.to_json()),
            ],
        );
        self.record(&bid, bidder.as_ref(), &me, &outcome, log)
            .await?;
        Ok(bidding::summary(&outcome))
    }
}

impl Executor {
    /// A bid whose moment is beyond this invocation's time limit is left
    /// SCHEDULED (and the invocation fails, so it is retried and seen):
    /// taking it would strand it in EXECUTING.
    fn refuse_early_invocation(&self, bid: &Bid) -> Result<(), Failure> {
        match handler_support::deadline_ms() {
            Some(deadline) if bid.bid_at_ms() + FINISH_MS > deadline => {
                Err(Failure::handler(format!(
                "invoked too early: the bid's moment is {} ms away, beyond this invocation's limit",
                bid.bid_at_ms().saturating_sub(self.clock.epoch_millis())
            )))
            }
            _ => Ok(()),
        }
    }

    /// The user's refresh token, which only this function may decrypt
    /// (the stack key, under the user's encryption context).
    async fn decrypt_token(
        &self,
        user_id: &str,
        ciphertext: &str,
        log: &Logger,
    ) -> Result<String, Outcome> {
        let unusable = |detail: String| {
            log.error("eBay token not decrypted", &[("error", detail.into())]);
            Outcome::new(
                Status::Failed,
                "your linked eBay account's authorization could not be read: link your eBay account again",
            )
        };
        let blob = STANDARD
            .decode(ciphertext)
            .map_err(|e| unusable(e.to_string()))?;
        let answer = self
            .kms
            .decrypt()
            .key_id(&self.settings.stack_key_arn)
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(sniper_shared::ebay_token_context(user_id)))
            .send()
            .await
            .map_err(|e| unusable(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
        let plaintext = answer
            .plaintext()
            .map(|p| p.as_ref().to_vec())
            .unwrap_or_default();
        String::from_utf8(plaintext).map_err(|e| unusable(e.to_string()))
    }

    /// The outcome on the bid and in the history, then the e-mail.
    async fn record(
        &self,
        bid: &Bid,
        bidder: Option<&Bidder>,
        me: &str,
        outcome: &Outcome,
        log: &Logger,
    ) -> Result<(), Failure> {
        let details = outcome.to_json();
        let end = outcome.auction_end_ms.unwrap_or(bid.auction_end_time);
        let now = self.clock.timestamp_millis();
        let written = self
            .store
            .finish(bid, me, &details, outcome.status, end, &now)
            .await;
        let history = self
            .store
            .append_history(bid, &details, self.clock.epoch_millis())
            .await;
        let notification = self.notify(bid, bidder, outcome, log).await;
        let noted = self
            .store
            .note_notification(bid, me, &notification.to_json())
            .await;
        let problems: Vec<String> = [written.err(), history.err(), noted.err()]
            .into_iter()
            .flatten()
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        log.error(
            "outcome not recorded",
            &[
                ("bidId", bid.bid_id.clone().into()),
                ("userId", bid.user_id.clone().into()),
                ("outcome", details),
                ("notification", notification.to_json()),
                ("problems", problems.clone().into()),
            ],
        );
        Err(Failure::handler(problems.join("; ")))
    }

    async fn notify(
        &self,
        bid: &Bid,
        bidder: Option<&Bidder>,
        outcome: &Outcome,
        log: &Logger,
    ) -> Notification {
        let Some(bidder) = bidder else {
            return Notification::Skipped {
                reason: "the user's profile could not be read".into(),
            };
        };
        let Some(to) = bidder.email.clone().filter(|_| bidder.email_notifications) else {
            return Notification::Skipped {
                reason: "e-mails are off, or the profile has no address".into(),
            };
        };
        let now = self.clock.epoch_millis();
        let keys = self
            .secrets
            .json(&self.settings.postmark_secret_arn, now)
            .await
            .map_err(|e| e.to_string())
            .and_then(|s| PostmarkKeys::from_secret(&s));
        let keys = match keys {
            Ok(keys) => keys,
            Err(reason) => {
                log.error(
                    "Postmark keys unusable",
                    &[("error", reason.clone().into())],
                );
                return Notification::Failed { reason };
            }
        };
        let (subject, text) = outcome.message(bid);
        let email = Email {
            to: &to,
            subject: &subject,
            text: &text,
            bid_id: &bid.bid_id,
        };
        let notification = self.postmark.send(&keys, &email).await;
        if !matches!(notification, Notification::Sent { .. }) {
            log.error(
                "outcome e-mail not sent",
                &[("notification", notification.to_json())],
            );
        }
        notification
    }
}

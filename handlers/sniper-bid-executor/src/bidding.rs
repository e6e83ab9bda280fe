//! The bid itself, once the executor holds it: the user's eBay token,
//! a look at the item, the wait for the exact moment, the proxy bid, and
//! what eBay's answer means. Nothing here fails: every way it can go
//! wrong ends in an [`Outcome`] that says why.
//!
//! Repeats are bounded by the auction: a request is sent again only when
//! eBay certainly did nothing with it (429, no connection, an expired
//! token), or, after an answer was lost, when eBay's own record of the
//! user's bidding shows our bid is not there.

use crate::outcome::Outcome;
use crate::Executor;
use handler_support::log::Logger;
use serde_json::json;
use sniper_shared::bids::{bid_moment, Bid, Status};
use sniper_shared::ebay::{
    AppKeys, Bidding, EbayError, Item, AUCTION_ENDED, BID_TOO_LOW, CANNOT_LOWER_OWN_BID,
};
use sniper_shared::money::Amount;
use sniper_shared::users::Bidder;
use std::time::Duration;

/// Attempts at the bid request itself.
const BID_ATTEMPTS: u32 = 3;
/// A bid sent later than this before the end is not worth sending.
const TOO_LATE_MS: u64 = 300;
/// A wait longer than this ends with a cheap call that keeps the
/// connection to eBay open, so the bid does not pay for a handshake.
const WARM_UP_AFTER_MS: u64 = 10_000;
const WARM_UP_LEAD_MS: u64 = 2_000;

/// What the bid needs before the moment comes.
struct Ready {
    keys: AppKeys,
    refresh_token: String,
    token: String,
    end_ms: u64,
    maximum: Amount,
}

impl Executor {
    /// Places `bid` at its moment and says what happened.
    pub(crate) async fn place(&self, bid: &Bid, bidder: Option<&Bidder>, log: &Logger) -> Outcome {
        let mut ready = match self.prepare(bid, bidder, log).await {
            Ok(ready) => ready,
            Err(outcome) => return outcome,
        };
        if let Some(mut outcome) = self.look_at_item(bid, &mut ready, log).await {
            outcome.auction_end_ms = Some(ready.end_ms);
            return outcome;
        }
        let moment = bid_moment(ready.end_ms, bid.lead_seconds);
        if handler_support::deadline_ms().is_some_and(|d| moment + crate::FINISH_MS > d) {
            // eBay's end moved past what this invocation can wait for;
            // Lambda would stop it mid-wait and strand the bid.
            let mut outcome = Outcome::new(
                Status::Failed,
                "eBay's end time moved beyond the time this run had; no bid was sent",
            );
            outcome.auction_end_ms = Some(ready.end_ms);
            return outcome;
        }
        self.wait_until(moment, bid, &ready).await;
        let mut outcome = self.bid_until_answered(bid, &mut ready, moment, log).await;
        outcome.auction_end_ms = Some(ready.end_ms);
        outcome
    }

    /// The bidder's token: decrypted refresh token, then a user access token.
    async fn prepare(
        &self,
        bid: &Bid,
        bidder: Option<&Bidder>,
        log: &Logger,
    ) -> Result<Ready, Outcome> {
        let failed = |reason: &str| Outcome::new(Status::Failed, reason);
        let maximum = bid
            .max_amount
            .amount()
            .ok_or_else(|| failed("the stored maximum is not an amount"))?;
        let Some(ciphertext) = bidder.and_then(|b| b.ebay_token.as_deref()) else {
            return Err(failed("no eBay account is linked: link it and bid again"));
        };
        let keys = self.app_keys(log).await.map_err(|e| failed(&e))?;
        let refresh_token = self.decrypt_token(&bid.user_id, ciphertext, log).await?;
        let now = self.clock.epoch_millis();
        let token = self
            .with_retries(bid.bid_at_ms(), log, "user token", || {
                self.ebay.user_token(&keys, &refresh_token, now)
            })
            .await
            .map_err(|e| token_outcome(&e, log))?
            .token;
        Ok(Ready {
            keys,
            refresh_token,
            token,
            end_ms: bid.auction_end_time,
            maximum,
        })
    }

    async fn app_keys(&self, log: &Logger) -> Result<AppKeys, String> {
        let now = self.clock.epoch_millis();
        let secret = self.secrets.json(&self.settings.ebay_secret_arn, now).await;
        let keys = secret
            .map_err(|e| e.to_string())
            .and_then(|s| AppKeys::from_secret(&s));
        keys.map_err(|e| {
            log.error("eBay keyset unusable", &[("error", e.clone().into())]);
            "the sniper's eBay keyset is not usable (the operators are told)".to_string()
        })
    }

    /// Browse's view of the item right before the wait: the end time eBay
    /// holds now, and whether the bid can still win. A failure to look
    /// does not stop the bid: eBay decides when it comes.
    async fn look_at_item(&self, bid: &Bid, ready: &mut Ready, log: &Logger) -> Option<Outcome> {
        let item = match self.ebay.item(&ready.token, &bid.item_id).await {
            Ok(item) => item,
            Err(e) if e.transient() => {
                log.warn(
                    "item not read before bidding",
                    &[("error", e.to_string().into())],
                );
                return None;
            }
            Err(e) => {
                return Some(Outcome::refused(
                    Status::Rejected,
                    "eBay would not show the item",
                    &e,
                ))
            }
        };
        if let Some(end) = item.ends_at_ms {
            ready.end_ms = end;
        }
        let now = self.clock.epoch_millis();
        if ready.end_ms <= now {
            let mut outcome = Outcome::new(
                Status::AuctionEnded,
                "the auction had ended when the bid's turn came",
            );
            outcome.current_price = item.current_price.clone();
            return Some(outcome);
        }
        price_has_passed(&item, &ready.maximum)
    }

    async fn wait_until(&self, moment: u64, bid: &Bid, ready: &Ready) {
        let now = self.clock.epoch_millis();
        if moment > now + WARM_UP_AFTER_MS {
            sleep_ms(moment - WARM_UP_LEAD_MS - now).await;
            // Its answer does not matter: the connection it leaves open does.
            let _ = self.ebay.item(&ready.token, &bid.item_id).await;
        }
        let now = self.clock.epoch_millis();
        if moment > now {
            sleep_ms(moment - now).await;
        }
    }

    async fn bid_until_answered(
        &self,
        bid: &Bid,
        ready: &mut Ready,
        moment: u64,
        log: &Logger,
    ) -> Outcome {
        let mut last = Outcome::new(Status::Failed, "no bid was sent");
        let mut first_sent = None;
        for attempt in 1..=BID_ATTEMPTS {
            let now = self.clock.epoch_millis();
            if now + TOO_LATE_MS >= ready.end_ms {
                if first_sent.is_none() {
                    last = Outcome::new(
                        Status::Failed,
                        "the bid's turn came too late: the auction was ending",
                    );
                }
                break;
            }
            first_sent.get_or_insert(now);
            let sent = self
                .ebay
                .place_proxy_bid(
                    &ready.token,
                    &bid.item_id,
                    &bid.marketplace_id,
                    &ready.maximum,
                )
                .await;
            log.info(
                "bid sent",
                &[
                    ("attempt", attempt.into()),
                    ("sentAt", now.into()),
                    ("delayMs", (now as i64 - moment as i64).into()),
                    (
                        "answer",
                        sent.as_ref()
                            .map_or_else(|e| e.reason_code(), |_| "200".into())
                            .into(),
                    ),
                ],
            );
            let next = match &sent {
                Ok(proxy_bid_id) => {
                    Some(self.confirmed(bid, ready, Some(proxy_bid_id.clone())).await)
                }
                Err(e) => self.after_refusal(bid, ready, e, log).await,
            };
            match (next, sent) {
                (Some(outcome), _) => {
                    last = outcome;
                    break;
                }
                (None, Err(e)) => {
                    last = Outcome::refused(Status::Failed, "eBay did not take the bid", &e)
                }
                (None, Ok(_)) => {}
            }
        }
        if let Some(sent) = first_sent {
            last.bid_sent_at_ms = Some(sent);
            last.delay_ms = Some(sent as i64 - moment as i64);
        }
        last
    }

    /// What a refused or unanswered bid means: an outcome, or `None` to
    /// send it again (eBay certainly did nothing, or its record shows no
    /// bid of ours).
    async fn after_refusal(
        &self,
        bid: &Bid,
        ready: &mut Ready,
        error: &EbayError,
        log: &Logger,
    ) -> Option<Outcome> {
        match error.error_id() {
            Some(AUCTION_ENDED) => {
                return Some(Outcome::refused(
                    Status::AuctionEnded,
                    "eBay says the auction has ended",
                    error,
                ))
            }
            Some(BID_TOO_LOW) => {
                return Some(Outcome::refused(
                    Status::Outbid,
                    "the price had passed your maximum",
                    error,
                ))
            }
            // Our own earlier bid, whose answer was lost, is already there.
            Some(CANNOT_LOWER_OWN_BID) => return Some(self.confirmed(bid, ready, None).await),
            _ => {}
        }
        if matches!(error, EbayError::Refused { status: 401, .. }) {
            return self.renew_token(ready, log).await;
        }
        if error.not_processed() {
            if let EbayError::RateLimited { retry_after } = error {
                let pause = retry_after.unwrap_or(Duration::from_millis(250));
                sleep_ms(pause.as_millis().min(2_000) as u64).await;
            }
            return None;
        }
        if !error.transient() {
            return Some(Outcome::refused(
                Status::Rejected,
                "eBay refused the bid",
                error,
            ));
        }
        // The answer was lost or eBay failed: it may have taken the bid.
        match self
            .ebay
            .bidding(&ready.token, &bid.item_id, &bid.marketplace_id)
            .await
        {
            Ok(Some(standing)) if standing.max_amount.as_ref() == Some(&ready.maximum) => {
                Some(standing_outcome(&standing, None))
            }
            Ok(_) => None,
            Err(e) => {
                log.warn("bidding status unknown", &[("error", e.to_string().into())]);
                Some(Outcome::refused(
                    Status::Failed,
                    "eBay did not answer the bid and its record could not be read; check the item on eBay",
                    error,
                ))
            }
        }
    }

    /// A fresh user token after eBay refused ours (401: nothing was done).
    async fn renew_token(&self, ready: &mut Ready, log: &Logger) -> Option<Outcome> {
        let now = self.clock.epoch_millis();
        match self
            .ebay
            .user_token(&ready.keys, &ready.refresh_token, now)
            .await
        {
            Ok(token) => {
                ready.token = token.token;
                None
            }
            Err(e) => Some(token_outcome(&e, log)),
        }
    }

    /// Whether the bid leads, from eBay's record of the user's bidding.
    async fn confirmed(&self, bid: &Bid, ready: &Ready, proxy_bid_id: Option<String>) -> Outcome {
        match self
            .ebay
            .bidding(&ready.token, &bid.item_id, &bid.marketplace_id)
            .await
        {
            Ok(Some(standing)) => standing_outcome(&standing, proxy_bid_id),
            Ok(None) | Err(_) if proxy_bid_id.is_some() => Outcome {
                proxy_bid_id,
                ..Outcome::new(
                    Status::Placed,
                    "eBay took the bid; whether it leads could not be read",
                )
            },
            Ok(None) => Outcome::new(
                Status::Failed,
                "eBay refused a bid as a repeat but shows none of ours",
            ),
            Err(e) => Outcome::refused(
                Status::Failed,
                "eBay's record of the bid could not be read",
                &e,
            ),
        }
    }

    /// Calls `call` until it succeeds, fails for good, or there is no time
    /// left before `until` (epoch ms); only calls eBay did not act on, or
    /// that only read, are given to this.
    async fn with_retries<T, F, Fut>(
        &self,
        until: u64,
        log: &Logger,
        what: &str,
        call: F,
    ) -> Result<T, EbayError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, EbayError>>,
    {
        let mut pause = 500;
        loop {
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(e) if e.transient() => e,
                Err(e) => return Err(e),
            };
            let wait = match &error {
                EbayError::RateLimited {
                    retry_after: Some(after),
                } => after.as_millis() as u64,
                _ => pause,
            };
            if self.clock.epoch_millis() + wait + 1_000 >= until {
                return Err(error);
            }
            log.warn(
                "eBay call retried",
                &[("call", what.into()), ("error", error.to_string().into())],
            );
            sleep_ms(wait).await;
            pause = (pause * 2).min(8_000);
        }
    }
}

/// The user's standing as an outcome: leading or outbid.
fn standing_outcome(standing: &Bidding, proxy_bid_id: Option<String>) -> Outcome {
    let (status, reason) = if standing.high_bidder {
        (Status::Placed, "your bid leads")
    } else if standing.ended {
        (
            Status::AuctionEnded,
            "the auction ended and another bid leads",
        )
    } else {
        (Status::Outbid, "another bidder's maximum is higher")
    };
    Outcome {
        proxy_bid_id: proxy_bid_id.or_else(|| standing.proxy_bid_id.clone()),
        current_price: standing.current_price.clone(),
        ..Outcome::new(status, reason)
    }
}

/// OUTBID without a bid when the price has already passed the maximum.
fn price_has_passed(item: &Item, maximum: &Amount) -> Option<Outcome> {
    let least = item
        .minimum_to_bid
        .clone()
        .or_else(|| item.current_price.clone().filter(|_| item.bid_count > 0))?;
    let passed = least.compare(maximum).is_some_and(|o| o.is_gt());
    passed.then(|| Outcome {
        current_price: item.current_price.clone(),
        ..Outcome::new(
            Status::Outbid,
            format!("the least eBay would take ({least}) is above your maximum ({maximum}); no bid was sent"),
        )
    })
}

fn token_outcome(error: &EbayError, log: &Logger) -> Outcome {
    match error {
        EbayError::OAuth { error: code, .. } if code == "invalid_client" => {
            log.error(
                "eBay refused the app keyset",
                &[("error", error.to_string().into())],
            );
            Outcome::refused(
                Status::Failed,
                "the sniper's eBay keyset was refused (the operators are told)",
                error,
            )
        }
        EbayError::OAuth { .. } => Outcome::refused(
            Status::Failed,
            "eBay no longer accepts your account's authorization: link your eBay account again",
            error,
        ),
        _ => Outcome::refused(
            Status::Failed,
            "eBay could not be reached for a token",
            error,
        ),
    }
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

// For log lines and the result of an invocation.
pub(crate) fn summary(outcome: &Outcome) -> serde_json::Value {
    json!({"result": outcome.status.as_str(), "reason": outcome.reason, "delayMs": outcome.delay_ms})
}

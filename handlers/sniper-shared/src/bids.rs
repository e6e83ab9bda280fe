//! A bid as the Bids table keeps it, its states, and when it runs.
//!
//! A bid is `SCHEDULED` from creation until its schedule fires; the
//! executor moves it to `EXECUTING` under a condition (so a duplicated or
//! retried invocation bids at most once), then to its outcome. The user
//! may cancel (`CANCELLED`) only while it is `SCHEDULED`.

use crate::money::Amount;
use handler_support::clock::rfc3339_millis;
use handler_support::item::{from_item, to_item, Item};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long before the bid moment its schedule fires. EventBridge
/// Scheduler invokes a one-time schedule within about a minute of its time
/// (flexible window off), so the schedule fires early and the executor
/// waits for the exact moment; its timeout (300 s) covers this wait.
pub const SCHEDULE_AHEAD_MS: u64 = 120_000;
/// The least time between creating (or moving) a bid and its schedule's
/// time: Scheduler refuses `at()` times in the past, and a schedule needs
/// a moment to be in place.
pub const SCHEDULE_MARGIN_MS: u64 = 60_000;
/// Lead times a user may ask for, in seconds.
pub const LEAD_SECONDS: (u32, u32) = (1, 60);
pub const DEFAULT_LEAD_SECONDS: u32 = 5;
/// Bids stay 90 days after their auction, history a year (DynamoDB TTL).
pub const BID_KEPT_S: u64 = 90 * 86_400;
pub const HISTORY_KEPT_S: u64 = 365 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Scheduled,
    Executing,
    /// The proxy bid is in and leads (as eBay answered right after it).
    Placed,
    /// Someone's maximum is higher: the bid was placed and beaten at once,
    /// or the price had passed the maximum already.
    Outbid,
    AuctionEnded,
    /// eBay refused the bid (amount, currency, item rules).
    Rejected,
    /// The bid could not be placed (eBay unreachable, the account's
    /// authorization revoked, no moment left).
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "SCHEDULED",
            Status::Executing => "EXECUTING",
            Status::Placed => "PLACED",
            Status::Outbid => "OUTBID",
            Status::AuctionEnded => "AUCTION_ENDED",
            Status::Rejected => "REJECTED",
            Status::Failed => "FAILED",
            Status::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        serde_json::from_value(Value::String(text.to_string())).ok()
    }

    pub const ALL: [Status; 8] = [
        Status::Scheduled,
        Status::Executing,
        Status::Placed,
        Status::Outbid,
        Status::AuctionEnded,
        Status::Rejected,
        Status::Failed,
        Status::Cancelled,
    ];
}

/// An amount as stored: eBay's own shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAmount {
    pub value: String,
    pub currency: String,
}

impl From<&Amount> for StoredAmount {
    fn from(amount: &Amount) -> Self {
        StoredAmount {
            value: amount.value(),
            currency: amount.currency.clone(),
        }
    }
}

impl StoredAmount {
    pub fn amount(&self) -> Option<Amount> {
        Amount::parse(&self.value, &self.currency).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bid {
    pub user_id: String,
    pub bid_id: String,
    pub item_id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_url: Option<String>,
    pub marketplace_id: String,
    pub max_amount: StoredAmount,
    pub lead_seconds: u32,
    /// Epoch ms, as eBay's `itemEndDate` said when the bid was made or
    /// executed (the seed's numeric `auctionEndTime`).
    pub auction_end_time: u64,
    pub status: Status,
    /// `STATUS#<auction end>#<bidId>`: the `status-index` sort key.
    pub status_key: String,
    pub schedule_name: String,
    /// When the schedule fires (RFC 3339, UTC).
    pub fire_at: String,
    pub created_at: String,
    pub updated_at: String,
    /// DynamoDB TTL (epoch seconds).
    pub ttl: u64,
    /// Which invocation took the bid, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executing_since: Option<String>,
    /// What happened when it ran: see the executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Value>,
    /// Whether the user was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Value>,
}

impl Bid {
    /// The moment the bid is placed (epoch ms).
    pub fn bid_at_ms(&self) -> u64 {
        bid_moment(self.auction_end_time, self.lead_seconds)
    }

    pub fn from_item(item: &Item) -> Result<Bid, String> {
        serde_json::from_value(from_item(item))
            .map_err(|e| format!("a stored bid cannot be read: {e}"))
    }

    pub fn to_item(&self) -> Item {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => to_item(&map),
            _ => Item::new(),
        }
    }

    /// The bid as the API shows it: without the internals (index key,
    /// TTL, execution marks), with the end and bid moments as text.
    pub fn view(&self) -> Value {
        let mut view = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(map) = view.as_object_mut() {
            for internal in [
                "statusKey",
                "ttl",
                "executionId",
                "executingSince",
                "scheduleName",
            ] {
                map.remove(internal);
            }
            map.insert(
                "auctionEndsAt".into(),
                rfc3339_millis(self.auction_end_time).into(),
            );
            map.insert("bidAt".into(), rfc3339_millis(self.bid_at_ms()).into());
        }
        view
    }
}

pub fn bid_moment(auction_end_ms: u64, lead_seconds: u32) -> u64 {
    auction_end_ms.saturating_sub(u64::from(lead_seconds) * 1000)
}

/// `SCHEDULED#2026-12-03T10:00:00.000Z#<bidId>`.
pub fn status_key(status: Status, auction_end_ms: u64, bid_id: &str) -> String {
    format!(
        "{}#{}#{bid_id}",
        status.as_str(),
        rfc3339_millis(auction_end_ms)
    )
}

/// The one-time schedule of a bid: its name in the group.
pub fn schedule_name(bid_id: &str) -> String {
    format!("bid-{bid_id}")
}

/// When a bid's schedule fires (epoch ms, whole seconds: `at()` takes no
/// fractions), rounded down so it never fires late.
pub fn fire_at_ms(bid_at_ms: u64) -> u64 {
    bid_at_ms.saturating_sub(SCHEDULE_AHEAD_MS) / 1000 * 1000
}

/// The schedule's input: all the executor needs to find the bid.
pub fn schedule_input(user_id: &str, bid_id: &str) -> Value {
    serde_json::json!({"userId": user_id, "bidId": bid_id})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid() -> Bid {
        Bid {
            user_id: "u-1".into(),
            bid_id: "b-1".into(),
            item_id: "v1|110551991234|0".into(),
            title: "Fender Stratocaster 1962".into(),
            item_url: None,
            marketplace_id: "EBAY_US".into(),
            max_amount: StoredAmount {
                value: "250.00".into(),
                currency: "USD".into(),
            },
            lead_seconds: 5,
            auction_end_time: 1_796_256_000_000,
            status: Status::Scheduled,
            status_key: status_key(Status::Scheduled, 1_796_256_000_000, "b-1"),
            schedule_name: schedule_name("b-1"),
            fire_at: "2026-12-03T23:57:55Z".into(),
            created_at: "2026-12-01T00:00:00.000Z".into(),
            updated_at: "2026-12-01T00:00:00.000Z".into(),
            ttl: 1_796_256_000 + BID_KEPT_S,
            execution_id: None,
            executing_since: None,
            outcome: None,
            notification: None,
        }
    }

    #[test]
    fn a_bid_round_trips_through_its_item() {
        let bid = bid();
        assert_eq!(Bid::from_item(&bid.to_item()).unwrap(), bid);
        assert_eq!(bid.status_key, "SCHEDULED#2026-12-03T00:00:00.000Z#b-1");
        let view = bid.view();
        assert_eq!(view["bidAt"], "2026-12-02T23:59:55.000Z");
        assert!(view.get("statusKey").is_none() && view.get("ttl").is_none());
    }

    #[test]
    fn schedules_fire_ahead_on_whole_seconds() {
        assert_eq!(fire_at_ms(1_000_500_999), 1_000_380_000);
        assert_eq!(Status::parse("AUCTION_ENDED"), Some(Status::AuctionEnded));
        assert_eq!(Status::parse("nope"), None);
    }
}

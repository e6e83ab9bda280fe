//! What happened to a bid when it ran: the status it ends in, why, and
//! what eBay said; stored on the bid, appended to the history, mailed.

use handler_support::clock::rfc3339_millis;
use serde_json::{json, Map, Value};
use sniper_shared::bids::{Bid, Status};
use sniper_shared::ebay::EbayError;
use sniper_shared::money::Amount;

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// One of the final statuses: PLACED, OUTBID, AUCTION_ENDED, REJECTED, FAILED.
    pub status: Status,
    /// In words, for the user.
    pub reason: String,
    /// eBay's error id or OAuth error, when eBay refused.
    pub ebay_error: Option<String>,
    pub proxy_bid_id: Option<String>,
    /// When the bid request left (epoch ms), and how far from the moment
    /// asked for.
    pub bid_sent_at_ms: Option<u64>,
    pub delay_ms: Option<i64>,
    /// eBay's current price as last seen.
    pub current_price: Option<Amount>,
    /// The auction's end as eBay said at execution (epoch ms).
    pub auction_end_ms: Option<u64>,
}

impl Outcome {
    pub fn new(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome {
            status,
            reason: reason.into(),
            ebay_error: None,
            proxy_bid_id: None,
            bid_sent_at_ms: None,
            delay_ms: None,
            current_price: None,
            auction_end_ms: None,
        }
    }

    /// An outcome eBay's refusal decided, keeping its id and message.
    pub fn refused(status: Status, reason: &str, error: &EbayError) -> Outcome {
        Outcome {
            ebay_error: Some(error.reason_code()),
            ..Outcome::new(status, format!("{reason}: {error}"))
        }
    }

    /// As stored on the bid (`outcome`) and in the history.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("result".into(), json!(self.status.as_str()));
        out.insert("reason".into(), json!(self.reason));
        let optional = [
            ("ebayError", self.ebay_error.clone().map(Value::from)),
            ("proxyBidId", self.proxy_bid_id.clone().map(Value::from)),
            (
                "bidSentAt",
                self.bid_sent_at_ms.map(|ms| rfc3339_millis(ms).into()),
            ),
            ("delayMs", self.delay_ms.map(Value::from)),
            (
                "currentPrice",
                self.current_price.as_ref().map(Amount::to_json),
            ),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                out.insert(key.into(), value);
            }
        }
        Value::Object(out)
    }

    /// The e-mail's subject and text.
    pub fn message(&self, bid: &Bid) -> (String, String) {
        let headline = match self.status {
            Status::Placed => "Your bid is in and leading",
            Status::Outbid => "You were outbid",
            Status::AuctionEnded => "The auction ended before your bid",
            Status::Rejected => "eBay refused your bid",
            _ => "Your bid could not be placed",
        };
        let subject = format!("{headline}: {}", bid.title);
        let mut text = format!(
            "{headline}.\n\nItem: {}\nItem id: {}\nYour maximum: {} {}\n",
            bid.title, bid.item_id, bid.max_amount.value, bid.max_amount.currency
        );
        if let Some(price) = &self.current_price {
            text.push_str(&format!("Current price: {price}\n"));
        }
        text.push_str(&format!("What happened: {}\n", self.reason));
        if let Some(url) = &bid.item_url {
            text.push_str(&format!("\n{url}\n"));
        }
        (subject, text)
    }
}

//! Whether an item as eBay describes it can take a bid: an auction still
//! running, a maximum in its currency above its price, a bid moment far
//! enough ahead to schedule. Each refusal says what would work.

use handler_support::clock::rfc3339_millis;
use handler_support::ApiError;
use serde_json::{json, Map, Value};
use sniper_shared::bids::{bid_moment, fire_at_ms, LEAD_SECONDS, SCHEDULE_MARGIN_MS};
use sniper_shared::ebay::Item;
use sniper_shared::money::Amount;
use sniper_shared::Code;
use std::cmp::Ordering;

/// The auction's end (epoch ms), when the item is an auction still running.
pub fn open_auction_end(item: &Item, now_ms: u64) -> Result<u64, ApiError> {
    let end = match item.ends_at_ms {
        Some(end) if item.is_auction => end,
        _ => {
            return Err(ApiError::new(
                Code::NotAnAuction,
                format!(
                    "eBay item {} is not sold by auction: there is nothing to bid on",
                    item.item_id
                ),
            ))
        }
    };
    if end <= now_ms {
        return Err(ApiError::new(
            Code::AuctionEnded,
            format!("The auction ended at {}", rfc3339_millis(end)),
        )
        .with_details(json!({"auctionEndsAt": rfc3339_millis(end)})));
    }
    Ok(end)
}

/// Whether `maximum` can win the item: in its currency, above the current
/// price once someone has bid (at least the starting price before), and
/// at least eBay's minimum bid.
pub fn check_maximum(item: &Item, maximum: &Amount) -> Result<(), ApiError> {
    let priced_in = item
        .current_price
        .as_ref()
        .or(item.minimum_to_bid.as_ref())
        .map(|price| price.currency.as_str());
    if let Some(currency) = priced_in.filter(|c| *c != maximum.currency) {
        return Err(ApiError::new(
            Code::CurrencyMismatch,
            format!(
                "The item is priced in {currency}: the maximum must be in {currency}, not {}",
                maximum.currency
            ),
        )
        .with_details(json!({"itemCurrency": currency})));
    }
    let below_price = item.current_price.as_ref().is_some_and(|price| {
        let order = maximum.compare(price);
        if item.bid_count > 0 {
            order != Some(Ordering::Greater)
        } else {
            order == Some(Ordering::Less)
        }
    });
    let below_minimum = item
        .minimum_to_bid
        .as_ref()
        .is_some_and(|minimum| maximum.compare(minimum) == Some(Ordering::Less));
    if below_price || below_minimum {
        return Err(amount_too_low(item, maximum));
    }
    Ok(())
}

fn amount_too_low(item: &Item, maximum: &Amount) -> ApiError {
    let mut details = Map::new();
    let mut needs = Vec::new();
    if let Some(price) = &item.current_price {
        details.insert("currentPrice".into(), price.to_json());
        let relation = if item.bid_count > 0 {
            "above"
        } else {
            "at least"
        };
        needs.push(format!("{relation} the current price of {price}"));
    }
    if let Some(minimum) = &item.minimum_to_bid {
        details.insert("minimumToBid".into(), minimum.to_json());
        needs.push(format!("at least eBay's minimum bid of {minimum}"));
    }
    ApiError::new(
        Code::AmountTooLow,
        format!(
            "A maximum of {maximum} cannot win: it must be {}",
            needs.join(" and ")
        ),
    )
    .with_details(Value::Object(details))
}

/// When the bid's schedule fires (epoch ms), if that is far enough ahead
/// to schedule; otherwise the refusal names the auction's end and the
/// longest lead time that would still work, if one would.
pub fn schedule_time(end_ms: u64, lead_seconds: u32, now_ms: u64) -> Result<u64, ApiError> {
    let fires_in_time = |lead: u32| {
        let fire_at = fire_at_ms(bid_moment(end_ms, lead));
        (fire_at >= now_ms + SCHEDULE_MARGIN_MS).then_some(fire_at)
    };
    if let Some(fire_at) = fires_in_time(lead_seconds) {
        return Ok(fire_at);
    }
    let longest_lead = (LEAD_SECONDS.0..lead_seconds)
        .rev()
        .find(|lead| fires_in_time(*lead).is_some());
    let mut details = json!({"auctionEndsAt": rfc3339_millis(end_ms)});
    let advice = match longest_lead {
        Some(lead) => {
            details["maxLeadSeconds"] = json!(lead);
            format!("; a lead time of at most {lead} s would still work")
        }
        None => String::new(),
    };
    Err(ApiError::new(
        Code::AuctionEndsTooSoon,
        format!(
            "The auction ends at {}: too soon to schedule a bid {lead_seconds} s before it{advice}",
            rfc3339_millis(end_ms)
        ),
    )
    .with_details(details))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_403_945_000;

    fn usd(value: &str) -> Amount {
        Amount::parse(value, "USD").unwrap()
    }

    fn auction(bid_count: u64, price: &str, minimum: Option<&str>) -> Item {
        Item {
            item_id: "v1|1|0".into(),
            title: "Stratocaster".into(),
            web_url: None,
            is_auction: true,
            ends_at_ms: Some(NOW + 3_600_000),
            current_price: Some(usd(price)),
            minimum_to_bid: minimum.map(usd),
            bid_count,
        }
    }

    #[test]
    fn a_maximum_must_beat_the_price_once_someone_bid() {
        assert!(check_maximum(&auction(0, "30.00", None), &usd("30.00")).is_ok());
        let e = check_maximum(&auction(3, "30.00", Some("31.00")), &usd("30.00")).unwrap_err();
        assert_eq!(e.code, "AMOUNT_TOO_LOW");
        assert_eq!(
            *e.details.unwrap(),
            json!({"currentPrice": {"value": "30.00", "currency": "USD"}, "minimumToBid": {"value": "31.00", "currency": "USD"}})
        );
        let e = check_maximum(&auction(3, "30.00", Some("31.00")), &usd("30.50")).unwrap_err();
        assert_eq!(e.code, "AMOUNT_TOO_LOW");
        assert!(check_maximum(&auction(3, "30.00", Some("31.00")), &usd("31.00")).is_ok());
        let euros = Amount::parse("50", "EUR").unwrap();
        assert_eq!(
            check_maximum(&auction(0, "30.00", None), &euros)
                .unwrap_err()
                .code,
            "CURRENCY_MISMATCH"
        );
    }

    #[test]
    fn only_running_auctions_take_bids() {
        let fixed = Item {
            is_auction: false,
            ..auction(0, "30.00", None)
        };
        assert_eq!(
            open_auction_end(&fixed, NOW).unwrap_err().code,
            "NOT_AN_AUCTION"
        );
        let ended = Item {
            ends_at_ms: Some(NOW),
            ..auction(0, "30.00", None)
        };
        assert_eq!(
            open_auction_end(&ended, NOW).unwrap_err().code,
            "AUCTION_ENDED"
        );
        assert_eq!(
            open_auction_end(&auction(0, "1", None), NOW),
            Ok(NOW + 3_600_000)
        );
    }

    #[test]
    fn too_soon_names_the_longest_lead_that_works() {
        // Fires 120 s ahead of the bid moment, at least 60 s from now.
        assert_eq!(schedule_time(NOW + 185_000, 5, NOW), Ok(NOW + 60_000));
        let e = schedule_time(NOW + 184_000, 5, NOW).unwrap_err();
        assert_eq!(e.code, "AUCTION_ENDS_TOO_SOON");
        assert_eq!(e.details.unwrap()["maxLeadSeconds"], 4);
        let e = schedule_time(NOW + 180_000, 5, NOW).unwrap_err();
        assert!(e.details.unwrap().get("maxLeadSeconds").is_none());
    }
}

//! A bid is a Bids item and a one-time schedule that fires the executor.
//!
//! Creating one checks everything before changing anything (linked
//! account, the item on eBay, the amount, the timing, no duplicate), then
//! creates the schedule first and the item second, on purpose: a schedule
//! without a bid fires, finds nothing and deletes itself; a bid without a
//! schedule would never run. Cancelling marks the bid first and deletes
//! the schedule second, on purpose: a schedule firing in between finds
//! the bid CANCELLED and does nothing.

use crate::auction::{check_maximum, open_auction_end, schedule_time};
use crate::aws_errors::aws_failure;
use crate::input::{self, BidChanges, NewBid};
use crate::update::Update;
use crate::{bid_not_found, Api};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, Select,
};
use handler_support::clock::rfc3339;
use handler_support::item::{s, to_attribute, Item};
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Reply, Request};
use serde_json::json;
use sniper_shared::bids::{self, Bid, Status, StoredAmount, BID_KEPT_S};
use sniper_shared::ebay;
use sniper_shared::users::attr;
use sniper_shared::Code;

/// The index of a user's bids by status, soonest ending first.
pub(crate) const STATUS_INDEX: &str = "status-index";

/// What a conditional write of a bid found when its condition failed.
enum Refused {
    /// The bid as it is now (another status than the write expected).
    Now(Box<Bid>),
    Gone,
}

impl Api {
    pub(crate) async fn create_bid(
        &self,
        caller: &Caller,
        request: &Request,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let new = input::new_bid(request)?;
        self.require_linked_account(caller).await?;
        let item = self.ebay_item(&new.item_id, log).await?;
        let now_ms = self.clock.epoch_millis();
        let end = open_auction_end(&item, now_ms)?;
        check_maximum(&item, &new.max_amount)?;
        schedule_time(end, new.lead_seconds, now_ms)?;
        // Two requests at the same moment may both pass (the index is
        // eventually consistent); the second bid is then harmless: eBay
        // keeps the user's higher maximum and refuses a lower one.
        if let Some(existing) = self.scheduled_bid_on(caller, &new.item_id).await? {
            return Err(ApiError::new(
                Code::DuplicateBid,
                "A bid on this item is already scheduled: change that one instead",
            )
            .with_details(json!({"bidId": existing})));
        }
        let bid = self.new_bid(caller, new, item, end);
        self.create_schedule(&bid).await?;
        if let Err(failure) = self.put_bid(&bid).await {
            if let Err(e) = self.delete_schedule(&bid).await {
                log.error(
                    "the schedule of a bid that was not stored could not be deleted: it will fire, find no bid and delete itself",
                    &[("scheduleName", json!(bid.schedule_name)), ("error", json!(e))],
                );
            }
            return Err(failure);
        }
        log.info(
            "bid scheduled",
            &[
                ("userId", json!(bid.user_id)),
                ("bidId", json!(bid.bid_id)),
                ("itemId", json!(bid.item_id)),
                ("fireAt", json!(bid.fire_at)),
            ],
        );
        Ok(Reply::created(bid.view()))
    }

    fn new_bid(&self, caller: &Caller, new: NewBid, item: ebay::Item, end: u64) -> Bid {
        let now = self.clock.timestamp_millis();
        let bid_id = self.ids.next(self.clock.epoch_millis());
        let bid_at = bids::bid_moment(end, new.lead_seconds);
        Bid {
            user_id: caller.user_id.clone(),
            status_key: bids::status_key(Status::Scheduled, end, &bid_id),
            schedule_name: bids::schedule_name(&bid_id),
            bid_id,
            item_id: new.item_id,
            title: item.title,
            item_url: item.web_url,
            marketplace_id: new.marketplace_id,
            max_amount: StoredAmount::from(&new.max_amount),
            lead_seconds: new.lead_seconds,
            auction_end_time: end,
            status: Status::Scheduled,
            fire_at: rfc3339(bids::fire_at_ms(bid_at) / 1000),
            created_at: now.clone(),
            updated_at: now,
            ttl: end / 1000 + BID_KEPT_S,
            execution_id: None,
            executing_since: None,
            outcome: None,
            notification: None,
        }
    }

    pub(crate) async fn get_bid(&self, caller: &Caller, bid_id: &str) -> Result<Reply, ApiError> {
        let bid = self.load_bid(caller, bid_id).await?;
        Ok(Reply::ok(bid.view()))
    }

    /// A new maximum is checked against the item as eBay shows it now; a
    /// new lead time moves the schedule. The stored bid changes only while
    /// it is still SCHEDULED.
    pub(crate) async fn update_bid(
        &self,
        caller: &Caller,
        bid_id: &str,
        request: &Request,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let changes = input::bid_changes(request)?;
        let bid = self.load_bid(caller, bid_id).await?;
        if bid.status != Status::Scheduled {
            return Err(not_editable(bid.status));
        }
        let changed = self.changed_bid(&bid, &changes, log).await?;
        let moved = changed.fire_at != bid.fire_at;
        if moved {
            self.move_schedule(&changed).await?;
        }
        // Only what this request changes: two edits at once keep both.
        let mut update = Update::default();
        if changes.max_amount.is_some() {
            update.set("maxAmount", to_attribute(&json!(changed.max_amount)));
        }
        if changes.lead_seconds.is_some() {
            update
                .set(
                    "leadSeconds",
                    AttributeValue::N(changed.lead_seconds.to_string()),
                )
                .set("fireAt", s(&changed.fire_at));
        }
        update.set("updatedAt", s(&self.clock.timestamp_millis()));
        match self.write_scheduled_bid(&bid, update).await? {
            Ok(saved) => Ok(Reply::ok(saved.view())),
            Err(refused) => {
                if moved {
                    // The executor reads the bid's timing from the item, not
                    // from the schedule, so the outcome stays right.
                    log.warn(
                        "the schedule moved but the bid had been taken meanwhile",
                        &[("bidId", json!(bid.bid_id))],
                    );
                }
                Err(refused_answer(refused))
            }
        }
    }

    /// The bid with the changes applied, once they are known to work.
    async fn changed_bid(
        &self,
        bid: &Bid,
        changes: &BidChanges,
        log: &Logger,
    ) -> Result<Bid, ApiError> {
        let now_ms = self.clock.epoch_millis();
        let mut changed = bid.clone();
        if let Some(lead) = changes.lead_seconds {
            let fire_at = schedule_time(bid.auction_end_time, lead, now_ms)?;
            changed.lead_seconds = lead;
            changed.fire_at = rfc3339(fire_at / 1000);
        }
        if let Some(maximum) = &changes.max_amount {
            if maximum.currency != bid.max_amount.currency {
                return Err(ApiError::new(
                    Code::CurrencyMismatch,
                    format!(
                        "The bid is in {}: a new maximum must be too",
                        bid.max_amount.currency
                    ),
                )
                .with_details(json!({"itemCurrency": bid.max_amount.currency})));
            }
            let item = self.ebay_item(&bid.item_id, log).await?;
            open_auction_end(&item, now_ms)?;
            check_maximum(&item, maximum)?;
            changed.max_amount = StoredAmount::from(maximum);
        }
        Ok(changed)
    }

    /// Cancelling is idempotent: a cancelled bid answers as it is (and its
    /// schedule is deleted again, in case an earlier attempt stopped
    /// between the two steps).
    pub(crate) async fn cancel_bid(
        &self,
        caller: &Caller,
        bid_id: &str,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let bid = self.load_bid(caller, bid_id).await?;
        let cancelled = match bid.status {
            Status::Cancelled => bid,
            Status::Scheduled => self.mark_cancelled(&bid).await?,
            other => return Err(not_editable(other)),
        };
        if let Err(e) = self.delete_schedule(&cancelled).await {
            // Harmless: the schedule fires, finds the bid CANCELLED, does
            // nothing and deletes itself. Cancelling again retries this.
            log.warn(
                "the cancelled bid's schedule could not be deleted",
                &[
                    ("scheduleName", json!(cancelled.schedule_name)),
                    ("error", json!(e)),
                ],
            );
        }
        Ok(Reply::ok(cancelled.view()))
    }

    async fn mark_cancelled(&self, bid: &Bid) -> Result<Bid, ApiError> {
        let mut update = Update::default();
        update
            .set("status", s(Status::Cancelled.as_str()))
            .set(
                "statusKey",
                s(&bids::status_key(
                    Status::Cancelled,
                    bid.auction_end_time,
                    &bid.bid_id,
                )),
            )
            .set("updatedAt", s(&self.clock.timestamp_millis()));
        match self.write_scheduled_bid(bid, update).await? {
            Ok(cancelled) => Ok(cancelled),
            // Cancelled meanwhile by another request: the same outcome.
            Err(Refused::Now(now)) if now.status == Status::Cancelled => Ok(*now),
            Err(refused) => Err(refused_answer(refused)),
        }
    }

    /// Applies `update` to the bid only while it is SCHEDULED: the
    /// executor takes a bid by moving it to EXECUTING.
    async fn write_scheduled_bid(
        &self,
        bid: &Bid,
        mut update: Update,
    ) -> Result<Result<Bid, Refused>, ApiError> {
        let condition = format!(
            "{} = {}",
            update.name("status"),
            update.value("scheduled", s(Status::Scheduled.as_str()))
        );
        let result = self
            .dynamodb
            .update_item()
            .table_name(&self.settings.bids_table)
            .set_key(Some(bid_key(&bid.user_id, &bid.bid_id)))
            .update_expression(update.expression())
            .condition_expression(condition)
            .set_expression_attribute_names(Some(update.names.clone()))
            .set_expression_attribute_values(update.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(answer) => stored_bid(&answer.attributes.unwrap_or_default()).map(Ok),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(Err(match failed.item() {
                        Some(item) => Refused::Now(Box::new(stored_bid(item)?)),
                        None => Refused::Gone,
                    }))
                }
                _ => Err(aws_failure("updating the bid", &e)),
            },
        }
    }

    /// The caller's bid, read consistently; another user's is not found.
    async fn load_bid(&self, caller: &Caller, bid_id: &str) -> Result<Bid, ApiError> {
        let answer = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.bids_table)
            .set_key(Some(bid_key(&caller.user_id, bid_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_failure("reading the bid", &e))?;
        stored_bid(answer.item().ok_or_else(bid_not_found)?)
    }

    /// Stores a new bid; its id is new, so the condition only guards
    /// against ever replacing one.
    async fn put_bid(&self, bid: &Bid) -> Result<(), ApiError> {
        self.dynamodb
            .put_item()
            .table_name(&self.settings.bids_table)
            .set_item(Some(bid.to_item()))
            .condition_expression("attribute_not_exists(bidId)")
            .send()
            .await
            .map_err(|e| aws_failure("storing the bid", &e))?;
        Ok(())
    }

    async fn require_linked_account(&self, caller: &Caller) -> Result<(), ApiError> {
        let answer = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.users_table)
            .key(attr::USER_ID, s(&caller.user_id))
            .projection_expression("#token")
            .expression_attribute_names("#token", attr::EBAY_TOKEN)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_failure("reading the user", &e))?;
        let linked = answer
            .item()
            .and_then(|item| item.get(attr::EBAY_TOKEN))
            .and_then(|token| token.as_s().ok())
            .is_some_and(|token| !token.is_empty());
        if linked {
            return Ok(());
        }
        Err(ApiError::new(
            Code::EbayNotLinked,
            "Link your eBay account first (PUT /ebay-account): bids are placed with it",
        ))
    }

    /// The id of the caller's SCHEDULED bid on `item_id`, if there is one.
    async fn scheduled_bid_on(
        &self,
        caller: &Caller,
        item_id: &str,
    ) -> Result<Option<String>, ApiError> {
        let mut start = None;
        loop {
            let page = self
                .scheduled_bids(&caller.user_id)
                .filter_expression("itemId = :item")
                .expression_attribute_values(":item", s(item_id))
                .projection_expression("bidId")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| aws_failure("looking for a scheduled bid on the item", &e))?;
            let found = page
                .items()
                .iter()
                .find_map(|item| item.get("bidId")?.as_s().ok().cloned());
            if found.is_some() {
                return Ok(found);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(None);
            }
        }
    }

    pub(crate) async fn count_scheduled_bids(&self, user_id: &str) -> Result<i64, ApiError> {
        let (mut count, mut start) = (0, None);
        loop {
            let page = self
                .scheduled_bids(user_id)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| aws_failure("counting the scheduled bids", &e))?;
            count += i64::from(page.count);
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    /// A query of the user's SCHEDULED bids.
    fn scheduled_bids(
        &self,
        user_id: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.dynamodb
            .query()
            .table_name(&self.settings.bids_table)
            .index_name(STATUS_INDEX)
            .key_condition_expression("userId = :user AND begins_with(statusKey, :status)")
            .expression_attribute_values(":user", s(user_id))
            .expression_attribute_values(":status", s(&status_prefix(Status::Scheduled)))
    }
}

/// `SCHEDULED#`: how every `statusKey` of the status begins.
pub(crate) fn status_prefix(status: Status) -> String {
    format!("{}#", status.as_str())
}

pub(crate) fn bid_key(user_id: &str, bid_id: &str) -> Item {
    Item::from([
        ("userId".to_string(), s(user_id)),
        ("bidId".to_string(), s(bid_id)),
    ])
}

pub(crate) fn stored_bid(item: &Item) -> Result<Bid, ApiError> {
    Bid::from_item(item).map_err(ApiError::internal)
}

fn not_editable(status: Status) -> ApiError {
    ApiError::new(
        Code::BidNotEditable,
        format!(
            "The bid is {}: only a SCHEDULED bid can change",
            status.as_str()
        ),
    )
    .with_details(json!({"status": status}))
}

fn refused_answer(refused: Refused) -> ApiError {
    match refused {
        Refused::Now(bid) => not_editable(bid.status),
        Refused::Gone => bid_not_found(),
    }
}

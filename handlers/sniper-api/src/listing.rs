//! `GET /bids` and `GET /history`: pages of `limit` (1-100, 25 unless
//! asked), continued with the `nextToken` of the previous page. A token
//! is bound to the query it came from (the user, the listing, the
//! status), so one from another query is refused.

use crate::aws_errors::aws_failure;
use crate::bids::{status_prefix, stored_bid, STATUS_INDEX};
use crate::{is_bid_id, Api};
use handler_support::item::{from_item, page_token, s, Item};
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Reply, Request};
use serde_json::{json, Value};
use sniper_shared::bids::Status;
use sniper_shared::Code;

const PAGE_DEFAULT: i32 = 25;
const PAGE_MAX: i32 = 100;
/// The most queries one filtered history page makes: a page stops there
/// (with a token to go on) rather than reading a long history to its end
/// within one request.
const FILTERED_QUERIES_MAX: usize = 10;

/// Where a page starts and how long it is.
struct Page {
    limit: i32,
    start: Option<Item>,
}

impl Page {
    /// From `limit` and `nextToken`; `known` lists the listing's other
    /// parameters (any other is refused).
    fn of(request: &Request, scope: &str, key: &[&str], known: &[&str]) -> Result<Page, ApiError> {
        let invalid = |message: String| ApiError::new(Code::ValidationError, message);
        let mut accepted = vec!["limit", "nextToken"];
        accepted.extend_from_slice(known);
        let mut unknown: Vec<&String> = request
            .query
            .keys()
            .filter(|k| !accepted.contains(&k.as_str()))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            return Err(invalid(format!(
                "unknown query parameter {name:?} (known: {})",
                accepted.join(", ")
            )));
        }
        let limit = match request.query("limit") {
            None => PAGE_DEFAULT,
            Some(text) => text
                .parse()
                .ok()
                .filter(|n| (1..=PAGE_MAX).contains(n))
                .ok_or_else(|| {
                    invalid(format!("limit must be a whole number from 1 to {PAGE_MAX}"))
                })?,
        };
        let start =
            match request.query("nextToken") {
                None => None,
                Some(token) => Some(page_token::decode(token, scope, key).ok_or_else(|| {
                    invalid("nextToken is not a token this query returned".into())
                })?),
            };
        Ok(Page { limit, start })
    }
}

impl Api {
    /// With `status`, the bids of that status soonest ending first (the
    /// status index); without, all bids newest first (bid ids are UUID v7,
    /// so they sort by creation).
    pub(crate) async fn list_bids(
        &self,
        caller: &Caller,
        request: &Request,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let status = match request.query("status") {
            None => None,
            Some(text) => Some(Status::parse(text).ok_or_else(|| {
                let allowed: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::new(
                    Code::ValidationError,
                    format!("status must be one of {}", allowed.join(", ")),
                )
            })?),
        };
        let scope = format!(
            "bids:{}:{}",
            caller.user_id,
            status.map_or("all", Status::as_str)
        );
        let key: &[&str] = match status {
            Some(_) => &["userId", "bidId", "statusKey"],
            None => &["userId", "bidId"],
        };
        let page = Page::of(request, &scope, key, &["status"])?;
        let mut query = self
            .dynamodb
            .query()
            .table_name(&self.settings.bids_table)
            .expression_attribute_values(":user", s(&caller.user_id))
            .limit(page.limit)
            .set_exclusive_start_key(page.start);
        query = match status {
            Some(status) => query
                .index_name(STATUS_INDEX)
                .key_condition_expression("userId = :user AND begins_with(statusKey, :status)")
                .expression_attribute_values(":status", s(&status_prefix(status)))
                .scan_index_forward(true),
            None => query
                .key_condition_expression("userId = :user")
                .scan_index_forward(false),
        };
        let answer = query
            .send()
            .await
            .map_err(|e| aws_failure("listing the bids", &e))?;
        let mut views = Vec::new();
        for item in answer.items() {
            match stored_bid(item) {
                Ok(bid) => views.push(bid.view()),
                // One unreadable item must not hide the user's other bids.
                Err(e) => log.error(
                    "a stored bid cannot be read; it is left out of the list",
                    &[
                        ("bidId", json!(from_item(item)["bidId"])),
                        ("error", json!(e.cause)),
                    ],
                ),
            }
        }
        let mut data = json!({"bids": views});
        if let Some(key) = answer.last_evaluated_key() {
            data["nextToken"] = json!(page_token::encode(&scope, key));
        }
        Ok(Reply::ok(data))
    }

    /// The user's history newest first; `bidId` keeps one bid's entries,
    /// following pages until this one is full or the history ends.
    pub(crate) async fn history(
        &self,
        caller: &Caller,
        request: &Request,
    ) -> Result<Reply, ApiError> {
        let scope = format!("history:{}", caller.user_id);
        let page = Page::of(request, &scope, &["userId", "timestamp"], &["bidId"])?;
        let bid_id = request.query("bidId");
        if bid_id.is_some_and(|id| !is_bid_id(id)) {
            return Err(ApiError::new(
                Code::ValidationError,
                "bidId must be a bid id, as POST /bids answered it",
            ));
        }
        let mut entries: Vec<Value> = Vec::new();
        let mut start = page.start;
        for _ in 0..FILTERED_QUERIES_MAX {
            // Never more than the page still needs, so the page ends exactly
            // where DynamoDB stopped reading and the token resumes there.
            let room = page.limit - entries.len() as i32;
            let mut query = self
                .dynamodb
                .query()
                .table_name(&self.settings.history_table)
                .key_condition_expression("userId = :user")
                .expression_attribute_values(":user", s(&caller.user_id))
                .scan_index_forward(false)
                .limit(room)
                .set_exclusive_start_key(start);
            if let Some(bid_id) = bid_id {
                query = query
                    .filter_expression("bidId = :bid")
                    .expression_attribute_values(":bid", s(bid_id));
            }
            let answer = query
                .send()
                .await
                .map_err(|e| aws_failure("reading the history", &e))?;
            entries.extend(answer.items().iter().map(history_entry));
            start = answer.last_evaluated_key;
            if start.is_none() || entries.len() as i32 >= page.limit {
                break;
            }
        }
        let mut data = json!({"entries": entries});
        if let Some(key) = &start {
            data["nextToken"] = json!(page_token::encode(&scope, key));
        }
        Ok(Reply::ok(data))
    }
}

/// An entry as stored, without its expiry.
fn history_entry(item: &Item) -> Value {
    let mut entry = from_item(item);
    if let Some(fields) = entry.as_object_mut() {
        fields.remove("ttl");
    }
    entry
}

//! The eBay sniper's HTTP API (HTTP API payload 2.0, a Cognito JWT
//! authorizer on every route). Everything a user owns is keyed by the
//! token's `sub`, so another user's bid is simply not found.
//!
//! - `profile`: `GET`/`PUT /profile`, the Users item without its secrets;
//! - `account`: `GET`/`PUT`/`DELETE /ebay-account`: the user's eBay
//!   refresh token, proved with eBay and encrypted with the stack key
//!   before it is stored (only the executor can decrypt it);
//! - `bids`: `POST /bids`, `GET`/`PUT`/`DELETE /bids/{bidId}`: a bid is a
//!   Bids item and a one-time EventBridge schedule that fires the executor;
//! - `listing`: `GET /bids` and `GET /history`, paged.

mod account;
mod auction;
mod aws_errors;
mod bids;
mod ebay_calls;
mod input;
mod listing;
mod profile;
mod schedule;
mod update;

use handler_support::config::{self, MissingVariable};
use handler_support::log::Logger;
use handler_support::{ApiError, Clock, HttpHandler, Reply, Request};
use serde_json::Value;
use sniper_shared::ebay::{self, Ebay};
use sniper_shared::secrets::Secrets;
use sniper_shared::Code;
use uuid::{Builder, NoContext, Timestamp, Uuid};

/// Where the function's resources are, from its environment.
pub struct Settings {
    pub users_table: String,
    pub bids_table: String,
    pub history_table: String,
    pub schedule_group: String,
    /// The role Scheduler assumes to invoke the executor.
    pub scheduler_role_arn: String,
    pub bid_executor_arn: String,
    /// Where Scheduler puts a bid's invocation that failed for good.
    pub schedule_dead_letter_arn: String,
    /// The stack key that encrypts users' eBay refresh tokens.
    pub stack_key_arn: String,
    pub ebay_secret_arn: String,
    /// eBay's API host for this environment (see [`ebay::base_url`]).
    pub ebay_base_url: String,
    /// `LOG_LEVEL=DEBUG` or `DEBUG=true`: log what eBay said of items too.
    pub debug: bool,
}

impl Settings {
    /// Every variable at once, so a misconfigured function names all that
    /// are missing in one cold start.
    pub fn from_environment() -> Result<Settings, MissingVariable> {
        let [users, bids, history, group, role, executor, dead_letter, key, secret, environment] =
            config::required_all([
                "USERS_TABLE",
                "BIDS_TABLE",
                "BID_HISTORY_TABLE",
                "SCHEDULE_GROUP",
                "SCHEDULER_ROLE_ARN",
                "BID_EXECUTOR_ARN",
                "SCHEDULE_DEAD_LETTER_ARN",
                "STACK_KEY_ARN",
                "EBAY_SECRET_ARN",
                "ENVIRONMENT",
            ])?;
        let debug = config::optional("LOG_LEVEL").is_some_and(|l| l.eq_ignore_ascii_case("debug"))
            || config::optional("DEBUG").is_some_and(|d| d.eq_ignore_ascii_case("true"));
        Ok(Settings {
            users_table: users,
            bids_table: bids,
            history_table: history,
            schedule_group: group,
            scheduler_role_arn: role,
            bid_executor_arn: executor,
            schedule_dead_letter_arn: dead_letter,
            stack_key_arn: key,
            ebay_secret_arn: secret,
            ebay_base_url: ebay::base_url(&environment, config::optional("EBAY_API_BASE_URL")),
            debug,
        })
    }
}

/// Where the random part of new bid ids comes from. Bid ids are UUID v7
/// at the clock's time, so a user's bids sort by creation.
pub enum BidIds {
    Random,
    /// These bits after the time: fixtures compare the requests that carry
    /// the id (the schedule's name, its client token, the item's key).
    Fixed([u8; 10]),
}

impl BidIds {
    pub fn next(&self, now_ms: u64) -> String {
        let id = match self {
            BidIds::Random => {
                let nanos = (now_ms % 1000) as u32 * 1_000_000;
                Uuid::new_v7(Timestamp::from_unix(NoContext, now_ms / 1000, nanos))
            }
            BidIds::Fixed(bits) => Builder::from_unix_timestamp_millis(now_ms, bits).into_uuid(),
        };
        id.to_string()
    }
}

pub struct Api {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    pub kms: aws_sdk_kms::Client,
    pub secrets: Secrets,
    pub ebay: Ebay,
    pub clock: Box<dyn Clock>,
    pub ids: BidIds,
    pub settings: Settings,
}

impl HttpHandler for Api {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::Unauthorized)?;
        match request.route.as_str() {
            "GET /profile" => self.profile(caller).await,
            "PUT /profile" => self.update_profile(caller, &request).await,
            "GET /ebay-account" => self.ebay_account(caller).await,
            "PUT /ebay-account" => self.link_ebay_account(caller, &request, log).await,
            "DELETE /ebay-account" => self.unlink_ebay_account(caller, log).await,
            "POST /bids" => self.create_bid(caller, &request, log).await,
            "GET /bids" => self.list_bids(caller, &request, log).await,
            "GET /bids/{bidId}" => self.get_bid(caller, bid_id(&request)?).await,
            "PUT /bids/{bidId}" => {
                self.update_bid(caller, bid_id(&request)?, &request, log)
                    .await
            }
            "DELETE /bids/{bidId}" => self.cancel_bid(caller, bid_id(&request)?, log).await,
            "GET /history" => self.history(caller, &request).await,
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

impl Api {
    /// Logs only with `LOG_LEVEL=DEBUG` (or `DEBUG=true`).
    fn debug(&self, log: &Logger, message: &str, fields: &[(&str, Value)]) {
        if self.settings.debug {
            log.info(message, fields);
        }
    }
}

/// The path's bid id. Bid ids are UUIDs as this API writes them; anything
/// else names no bid (and never reaches DynamoDB, whose keys are bounded).
fn bid_id(request: &Request) -> Result<&str, ApiError> {
    request
        .path_param("bidId")
        .filter(|id| is_bid_id(id))
        .ok_or_else(bid_not_found)
}

/// A UUID in the canonical lower-case form the API writes.
fn is_bid_id(text: &str) -> bool {
    Uuid::try_parse(text).is_ok_and(|id| id.to_string() == text)
}

fn bid_not_found() -> ApiError {
    ApiError::new(Code::NotFound, "Bid not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bid_ids_are_v7_at_the_clock_time() {
        let id = BidIds::Fixed([0; 10]).next(1_795_403_945_000);
        let parsed = Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        let (seconds, nanos) = parsed.get_timestamp().unwrap().to_unix();
        assert_eq!((seconds, nanos), (1_795_403_945, 0));
        let random = BidIds::Random.next(1_795_403_945_000);
        assert!(
            is_bid_id(&random) && random.starts_with(&id[..13]),
            "{random} {id}"
        );
        assert_ne!(random, BidIds::Random.next(1_795_403_945_000));
        assert_eq!(
            BidIds::Fixed([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).next(1_795_403_945_000),
            "01a2066a-1428-7001-8203-040506070809"
        );
        assert!(!is_bid_id(&random.to_uppercase()) && !is_bid_id("b-1"));
    }
}

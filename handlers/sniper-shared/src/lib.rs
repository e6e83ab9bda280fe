//! What the eBay sniper's functions share:
//!
//! - [`Code`]: the API's error codes and their statuses;
//! - [`money`]: amounts in minor units, compared exactly;
//! - [`bids`]: the bid record, its states, its schedule's timing;
//! - [`ebay`]: eBay's OAuth, Browse and Offer APIs;
//! - [`secrets`]: the app's secrets, cached across invocations;
//! - [`users`]: the Users item: profile and the linked eBay account;
//! - [`ebay_token_context`]: how a user's eBay refresh token is bound
//!   when it is encrypted (only the executor may decrypt it).

pub mod bids;
pub mod ebay;
pub mod money;
pub mod secrets;
pub mod users;

use handler_support::ErrorCode;
use std::collections::HashMap;

/// The encryption context a user's eBay refresh token is encrypted under
/// with the stack key. `purpose` is what the stack's IAM conditions name
/// (`kms:EncryptionContext:purpose`); `userId` binds the ciphertext to its
/// owner, so a ciphertext copied onto another user's item does not decrypt.
pub fn ebay_token_context(user_id: &str) -> HashMap<String, String> {
    HashMap::from([
        ("purpose".to_string(), EBAY_TOKEN_PURPOSE.to_string()),
        ("userId".to_string(), user_id.to_string()),
    ])
}

pub const EBAY_TOKEN_PURPOSE: &str = "ebay-refresh-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Unauthorized,
    ValidationError,
    NotFound,
    /// eBay has no such item.
    ItemNotFound,
    /// The item is sold at a fixed price: there is nothing to bid on.
    NotAnAuction,
    AuctionEnded,
    /// The bid moment is too near to schedule.
    AuctionEndsTooSoon,
    /// The maximum is not above the current price (or below eBay's minimum).
    AmountTooLow,
    /// The maximum's currency is not the item's.
    CurrencyMismatch,
    /// Bidding needs a linked eBay account.
    EbayNotLinked,
    /// eBay refused the authorization code or refresh token.
    EbayLinkRefused,
    /// The user already has a scheduled bid on this item.
    DuplicateBid,
    /// The bid has run (or is running) or was cancelled: it cannot change.
    BidNotEditable,
    /// eBay did not answer, or failed; nothing was changed.
    EbayUnavailable,
    /// eBay or AWS is limiting calls; nothing was changed.
    TooManyRequests,
}

impl ErrorCode for Code {
    fn code(self) -> &'static str {
        match self {
            Code::Unauthorized => "UNAUTHORIZED",
            Code::ValidationError => "VALIDATION_ERROR",
            Code::NotFound => "NOT_FOUND",
            Code::ItemNotFound => "ITEM_NOT_FOUND",
            Code::NotAnAuction => "NOT_AN_AUCTION",
            Code::AuctionEnded => "AUCTION_ENDED",
            Code::AuctionEndsTooSoon => "AUCTION_ENDS_TOO_SOON",
            Code::AmountTooLow => "AMOUNT_TOO_LOW",
            Code::CurrencyMismatch => "CURRENCY_MISMATCH",
            Code::EbayNotLinked => "EBAY_NOT_LINKED",
            Code::EbayLinkRefused => "EBAY_LINK_REFUSED",
            Code::DuplicateBid => "DUPLICATE_BID",
            Code::BidNotEditable => "BID_NOT_EDITABLE",
            Code::EbayUnavailable => "EBAY_UNAVAILABLE",
            Code::TooManyRequests => "TOO_MANY_REQUESTS",
        }
    }

    fn status(self) -> u16 {
        match self {
            Code::ValidationError => 400,
            Code::Unauthorized => 401,
            Code::NotFound | Code::ItemNotFound => 404,
            Code::DuplicateBid | Code::BidNotEditable | Code::EbayNotLinked => 409,
            Code::NotAnAuction
            | Code::AuctionEnded
            | Code::AuctionEndsTooSoon
            | Code::AmountTooLow
            | Code::CurrencyMismatch
            | Code::EbayLinkRefused => 422,
            Code::TooManyRequests => 429,
            Code::EbayUnavailable => 502,
        }
    }
}

//! A user as the Users table keeps them: the profile the API edits, and
//! the linked eBay account (the refresh token encrypted with the stack
//! key under [`crate::ebay_token_context`]: the API can write it, only the
//! executor can read it).

use handler_support::item::Item;

/// Attribute names of a Users item.
pub mod attr {
    pub const USER_ID: &str = "userId";
    /// Where notifications go; from the ID token's `email` until the user
    /// sets another.
    pub const EMAIL: &str = "email";
    pub const NAME: &str = "name";
    /// Whether the executor mails outcomes (default: yes).
    pub const EMAIL_NOTIFICATIONS: &str = "emailNotifications";
    pub const CREATED_AT: &str = "createdAt";
    pub const UPDATED_AT: &str = "updatedAt";
    /// Base64 of KMS's `CiphertextBlob` of the user's eBay refresh token.
    pub const EBAY_TOKEN: &str = "ebayToken";
    pub const EBAY_LINKED_AT: &str = "ebayLinkedAt";
    /// When eBay said the refresh token expires (RFC 3339), if it said.
    pub const EBAY_TOKEN_EXPIRES_AT: &str = "ebayTokenExpiresAt";
}

/// What the executor needs of a user.
#[derive(Debug, Clone, PartialEq)]
pub struct Bidder {
    pub email: Option<String>,
    pub email_notifications: bool,
    /// The encrypted refresh token (base64), when an account is linked.
    pub ebay_token: Option<String>,
}

impl Bidder {
    pub fn from_item(item: &Item) -> Bidder {
        let text = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .filter(|s| !s.is_empty())
                .cloned()
        };
        Bidder {
            email: text(attr::EMAIL),
            email_notifications: item
                .get(attr::EMAIL_NOTIFICATIONS)
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(true),
            ebay_token: text(attr::EBAY_TOKEN),
        }
    }
}

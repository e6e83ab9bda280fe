//! What request bodies carry, every problem reported at once
//! (400 `VALIDATION_ERROR`, one `details` entry a problem). Fields the API
//! does not know are refused rather than ignored, so a misspelt field
//! never silently does nothing.

use handler_support::input::{json_object, Fields};
use handler_support::{ApiError, Request};
use serde_json::{Map, Value};
use sniper_shared::bids::{DEFAULT_LEAD_SECONDS, LEAD_SECONDS};
use sniper_shared::ebay::{self, OFFER_MARKETPLACES};
use sniper_shared::money::Amount;
use sniper_shared::users::attr;
use sniper_shared::Code;

/// The most KMS `Encrypt` takes as plaintext; a longer refresh token
/// cannot be stored encrypted.
pub const TOKEN_MAX_BYTES: usize = 4096;

type Body = Map<String, Value>;

/// A `PUT /profile` body: what changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_notifications: Option<bool>,
}

pub fn profile_changes(request: &Request) -> Result<ProfileChanges, ApiError> {
    let body = json_object(request, Code::ValidationError)?;
    let mut f = Fields::new(&body, Code::ValidationError);
    let known = [attr::NAME, attr::EMAIL, attr::EMAIL_NOTIFICATIONS];
    refuse_unknown(&mut f, &body, &known, "a profile");
    require_one(&mut f, &body, &known);
    let name = f.text(attr::NAME, false, 1, 100);
    let email = f.text(attr::EMAIL, false, 3, 254);
    if email.as_deref().is_some_and(|e| !plausible_email(e)) {
        f.problem(
            attr::EMAIL,
            "must be an e-mail address, such as ada@example.com",
        );
    }
    let email_notifications = f.boolean(attr::EMAIL_NOTIFICATIONS);
    f.finish()?;
    Ok(ProfileChanges {
        name,
        email,
        email_notifications,
    })
}

/// How the user proves their eBay account.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// The code eBay's consent page handed back, to exchange.
    AuthorizationCode(String),
    /// A refresh token the user already holds.
    RefreshToken(String),
}

pub fn link(request: &Request) -> Result<Link, ApiError> {
    let body = json_object(request, Code::ValidationError)?;
    let mut f = Fields::new(&body, Code::ValidationError);
    refuse_unknown(
        &mut f,
        &body,
        &["authorizationCode", "refreshToken"],
        "an eBay account link",
    );
    let code = token_text(&mut f, &body, "authorizationCode");
    let token = token_text(&mut f, &body, "refreshToken");
    let given = ["authorizationCode", "refreshToken"]
        .iter()
        .filter(|field| is_given(&body, field))
        .count();
    match given {
        0 => f.problem(
            "body",
            "must give authorizationCode (from eBay's consent page) or refreshToken",
        ),
        2 => f.problem(
            "body",
            "must give either authorizationCode or refreshToken, not both",
        ),
        _ => {}
    }
    f.finish()?;
    code.map(Link::AuthorizationCode)
        .or(token.map(Link::RefreshToken))
        .ok_or_else(|| ApiError::internal("validation passed without a code or token"))
}

/// A `POST /bids` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBid {
    /// RESTful form (`v1|N|0`).
    pub item_id: String,
    pub max_amount: Amount,
    pub lead_seconds: u32,
    pub marketplace_id: String,
}

pub fn new_bid(request: &Request) -> Result<NewBid, ApiError> {
    let body = json_object(request, Code::ValidationError)?;
    let mut f = Fields::new(&body, Code::ValidationError);
    let known = ["itemId", "maxAmount", "leadSeconds", "marketplaceId"];
    refuse_unknown(&mut f, &body, &known, "a bid");
    let item_id = match f.text("itemId", true, 1, 64) {
        Some(text) => {
            let id = ebay::item_id(&text);
            if id.is_none() {
                f.problem(
                    "itemId",
                    "must be an eBay item id: v1|<number>|0 or the number itself",
                );
            }
            id
        }
        None => None,
    };
    let max_amount = amount(&mut f, &body, "maxAmount", true);
    let lead_seconds = lead_seconds(&mut f).unwrap_or(DEFAULT_LEAD_SECONDS);
    let marketplace_id = marketplace(&mut f);
    f.finish()?;
    match (item_id, max_amount) {
        (Some(item_id), Some(max_amount)) => Ok(NewBid {
            item_id,
            max_amount,
            lead_seconds,
            marketplace_id,
        }),
        _ => Err(ApiError::internal(
            "validation passed without the required fields",
        )),
    }
}

/// A `PUT /bids/{bidId}` body: what changes.
#[derive(Debug, Clone, PartialEq)]
pub struct BidChanges {
    pub max_amount: Option<Amount>,
    pub lead_seconds: Option<u32>,
}

pub fn bid_changes(request: &Request) -> Result<BidChanges, ApiError> {
    let body = json_object(request, Code::ValidationError)?;
    let mut f = Fields::new(&body, Code::ValidationError);
    let known = ["maxAmount", "leadSeconds"];
    refuse_unknown(&mut f, &body, &known, "a bid's changes");
    require_one(&mut f, &body, &known);
    let max_amount = amount(&mut f, &body, "maxAmount", false);
    let lead_seconds = lead_seconds(&mut f);
    f.finish()?;
    Ok(BidChanges {
        max_amount,
        lead_seconds,
    })
}

/// Every field not in `known`, in name order.
fn refuse_unknown(f: &mut Fields<Code>, body: &Body, known: &[&str], what: &str) {
    let mut names: Vec<&String> = body.keys().collect();
    names.sort();
    for name in names {
        if !known.contains(&name.as_str()) {
            f.problem(
                name,
                format!(
                    "is not a field of {what} (its fields: {})",
                    known.join(", ")
                ),
            );
        }
    }
}

fn require_one(f: &mut Fields<Code>, body: &Body, fields: &[&str]) {
    if !fields.iter().any(|field| is_given(body, field)) {
        f.problem(
            "body",
            format!("must change at least one of {}", fields.join(", ")),
        );
    }
}

fn is_given(body: &Body, field: &str) -> bool {
    body.get(field).is_some_and(|v| !v.is_null())
}

/// An authorization code or refresh token: never echoed, only measured.
fn token_text(f: &mut Fields<Code>, body: &Body, field: &str) -> Option<String> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => {
            f.problem(field, "must not be empty");
            None
        }
        Some(Value::String(text)) if text.trim().len() > TOKEN_MAX_BYTES => {
            f.problem(
                field,
                format!("must be at most {TOKEN_MAX_BYTES} bytes (the most KMS encrypts)"),
            );
            None
        }
        Some(Value::String(text)) => Some(text.trim().to_string()),
        Some(_) => {
            f.problem(field, "must be a string");
            None
        }
    }
}

/// `{"value": "25.50", "currency": "USD"}`: the value a string, so it is
/// never rounded through floating point.
fn amount(f: &mut Fields<Code>, body: &Body, field: &str, required: bool) -> Option<Amount> {
    const SHAPE: &str = r#"must be {"value": "25.50", "currency": "USD"} (the value a string)"#;
    let parts = match body.get(field) {
        None | Some(Value::Null) => {
            if required {
                f.problem(field, "is required");
            }
            return None;
        }
        Some(Value::Object(parts)) => parts,
        Some(_) => {
            f.problem(field, SHAPE);
            return None;
        }
    };
    let only_known = parts.keys().all(|k| k == "value" || k == "currency");
    match (&parts.get("value"), &parts.get("currency")) {
        (Some(Value::String(value)), Some(Value::String(currency))) if only_known => {
            Amount::parse(value.trim(), currency.trim())
                .map_err(|problem| f.problem(field, problem))
                .ok()
        }
        _ => {
            f.problem(field, SHAPE);
            None
        }
    }
}

fn lead_seconds(f: &mut Fields<Code>) -> Option<u32> {
    let (least, most) = LEAD_SECONDS;
    f.integer("leadSeconds", false, i64::from(least), i64::from(most))
        .and_then(|lead| u32::try_from(lead).ok())
}

fn marketplace(f: &mut Fields<Code>) -> String {
    match f.text("marketplaceId", false, 1, 20) {
        Some(id) if OFFER_MARKETPLACES.contains(&id.as_str()) => id,
        Some(_) => {
            f.problem(
                "marketplaceId",
                format!("must be one of {}", OFFER_MARKETPLACES.join(", ")),
            );
            String::new()
        }
        None => "EBAY_US".to_string(),
    }
}

/// Plausible enough to send notifications to: one `@`, a local part of
/// printable characters, a domain of at least two dot-separated labels.
pub fn plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !"@,;:<>()[]\\\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_plausible() {
        for good in ["ada@example.com", "a.b+sniper@mail.example.co.uk"] {
            assert!(plausible_email(good), "{good}");
        }
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@ex..com",
            "ada@-x.com",
            "a@b@c.com",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}

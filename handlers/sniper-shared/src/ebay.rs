//! eBay's REST APIs as the sniper uses them: OAuth (application and user
//! tokens, the authorization code grant), Browse `getItem`, and the Buy
//! Offer API's `place_proxy_bid` and `getBidding`.
//!
//! Every call answers either its result or an [`EbayError`] that keeps
//! what eBay said (status, error id, message), so callers can record the
//! reason and decide whether a retry is safe ([`EbayError::not_processed`]).

use crate::money::Amount;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use handler_support::outbound::{path_segment, Outbound, OutboundError, OutboundRequest};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const PRODUCTION_URL: &str = "https://api.ebay.com";
pub const SANDBOX_URL: &str = "https://api.sandbox.ebay.com";
/// Public data (Browse).
pub const SCOPE_PUBLIC: &str = "https://api.ebay.com/oauth/api_scope";
/// Bidding on the user's behalf (Buy Offer).
pub const SCOPE_BIDDING: &str = "https://api.ebay.com/oauth/api_scope/buy.offer.auction";
/// The marketplaces the Offer API serves ("Buy API Support by Marketplace").
pub const OFFER_MARKETPLACES: [&str; 8] = [
    "EBAY_AU", "EBAY_CA", "EBAY_DE", "EBAY_ES", "EBAY_FR", "EBAY_GB", "EBAY_IT", "EBAY_US",
];

const TOKEN_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(5);
const BID_TIMEOUT: Duration = Duration::from_secs(8);

/// eBay's API host: production in prod, the sandbox everywhere else (the
/// seed's `ENVIRONMENT`); `EBAY_API_BASE_URL` replaces it for a stand-in.
pub fn base_url(environment: &str, replacement: Option<String>) -> String {
    match replacement.filter(|u| !u.is_empty()) {
        Some(url) => url.trim_end_matches('/').to_string(),
        None if environment == "prod" => PRODUCTION_URL.to_string(),
        None => SANDBOX_URL.to_string(),
    }
}

/// The application's keyset (the `ebay-credentials` secret): App ID and
/// Cert ID are OAuth's client id and secret; the RuName is the redirect
/// URI name the consent flow was started with.
#[derive(Debug, Clone, PartialEq)]
pub struct AppKeys {
    pub client_id: String,
    pub client_secret: String,
    pub ru_name: Option<String>,
}

impl AppKeys {
    /// From the secret's JSON: `app_id`, `cert_id`, optional `ru_name`.
    pub fn from_secret(secret: &Value) -> Result<AppKeys, String> {
        let field = |name: &str| {
            secret[name]
                .as_str()
                .filter(|v| !v.is_empty() && !v.starts_with("REPLACE_WITH"))
                .map(str::to_string)
        };
        match (field("app_id"), field("cert_id")) {
            (Some(client_id), Some(client_secret)) => Ok(AppKeys {
                client_id,
                client_secret,
                ru_name: field("ru_name"),
            }),
            _ => Err("the eBay credentials secret needs `app_id` and `cert_id` (the keyset's App ID and Cert ID)".into()),
        }
    }

    fn basic(&self) -> String {
        let pair = format!("{}:{}", self.client_id, self.client_secret);
        format!("Basic {}", STANDARD.encode(pair))
    }
}

/// What went wrong with a call to eBay.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EbayError {
    /// eBay refused the request with one of its documented errors.
    #[error("eBay refused ({status}{}): {message}", error_id.map(|id| format!(", error {id}")).unwrap_or_default())]
    Refused {
        status: u16,
        error_id: Option<u64>,
        message: String,
    },
    /// The OAuth endpoint refused (`invalid_grant`, `invalid_client`, …).
    #[error("eBay OAuth refused ({status}): {error}{}", if description.is_empty() { String::new() } else { format!(": {description}") })]
    OAuth {
        status: u16,
        error: String,
        description: String,
    },
    /// 429: nothing was done; try again later.
    #[error("eBay is limiting our calls (429){}", retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx: eBay failed; whether it acted is unknown.
    #[error("eBay failed ({status})")]
    Unavailable { status: u16 },
    /// No answer at all.
    #[error("no answer from eBay: {0}")]
    NoAnswer(OutboundError),
    /// A success whose body is not what eBay documents.
    #[error("eBay's answer ({status}) cannot be read: {detail}")]
    Unreadable { status: u16, detail: String },
}

impl EbayError {
    /// Whether eBay certainly did nothing, so sending the request again
    /// cannot act twice: a 429, an auth refusal, or no connection at all.
    pub fn not_processed(&self) -> bool {
        match self {
            EbayError::RateLimited { .. } => true,
            EbayError::Refused { status, .. } | EbayError::OAuth { status, .. } => *status == 401,
            EbayError::NoAnswer(e) => !e.may_have_reached(),
            EbayError::Unavailable { .. } | EbayError::Unreadable { .. } => false,
        }
    }

    /// Whether trying again later may succeed (eBay's side, not ours).
    pub fn transient(&self) -> bool {
        matches!(
            self,
            EbayError::RateLimited { .. } | EbayError::Unavailable { .. } | EbayError::NoAnswer(_)
        )
    }

    /// eBay's error id, when it gave one.
    pub fn error_id(&self) -> Option<u64> {
        match self {
            EbayError::Refused { error_id, .. } => *error_id,
            _ => None,
        }
    }

    /// A short label for logs and records: `120012`, `invalid_grant`, `429`, `timeout`.
    pub fn reason_code(&self) -> String {
        match self {
            EbayError::Refused {
                error_id: Some(id), ..
            } => id.to_string(),
            EbayError::Refused { status, .. } | EbayError::Unavailable { status } => {
                status.to_string()
            }
            EbayError::OAuth { error, .. } => error.clone(),
            EbayError::RateLimited { .. } => "429".into(),
            EbayError::NoAnswer(OutboundError::Timeout { .. }) => "timeout".into(),
            EbayError::NoAnswer(_) => "no_answer".into(),
            EbayError::Unreadable { .. } => "unreadable".into(),
        }
    }
}

/// An access token and when it stops working (epoch ms).
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    pub token: String,
    pub expires_at_ms: u64,
}

/// What the authorization code grant gives: the user's refresh token.
#[derive(Debug, Clone, PartialEq)]
pub struct UserGrant {
    pub refresh_token: String,
    /// When the refresh token expires (epoch ms), when eBay says.
    pub refresh_expires_at_ms: Option<u64>,
}

/// An item as Browse describes it, the fields the sniper reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub item_id: String,
    pub title: String,
    pub web_url: Option<String>,
    pub is_auction: bool,
    /// Epoch ms; `None` for an item without an end (fixed price, good till cancelled).
    pub ends_at_ms: Option<u64>,
    pub current_price: Option<Amount>,
    /// The least a new bid must be, when eBay says.
    pub minimum_to_bid: Option<Amount>,
    pub bid_count: u64,
}

/// The caller's standing in an auction (`getBidding`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bidding {
    pub ended: bool,
    pub high_bidder: bool,
    pub current_price: Option<Amount>,
    pub proxy_bid_id: Option<String>,
    pub max_amount: Option<Amount>,
}

/// eBay, reached through an [`Outbound`] client.
pub struct Ebay {
    http: Arc<dyn Outbound>,
    base_url: String,
    /// The application token, reused until a minute before it expires.
    app_token: Mutex<Option<AccessToken>>,
}

impl Ebay {
    pub fn new(http: Arc<dyn Outbound>, base_url: String) -> Ebay {
        Ebay {
            http,
            base_url,
            app_token: Mutex::new(None),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn token_request(
        &self,
        keys: &AppKeys,
        form: &[(&str, &str)],
    ) -> Result<Value, EbayError> {
        let request =
            OutboundRequest::new("POST", self.url("/identity/v1/oauth2/token"), TOKEN_TIMEOUT)
                .header("authorization", keys.basic())
                .form(form);
        let answer = self.http.send(request).await.map_err(EbayError::NoAnswer)?;
        let body = answer.json();
        match answer.status {
            200 => Ok(body),
            429 => Err(EbayError::RateLimited {
                retry_after: answer.retry_after(),
            }),
            status @ 500.. => Err(EbayError::Unavailable { status }),
            status => Err(EbayError::OAuth {
                status,
                error: body["error"]
                    .as_str()
                    .unwrap_or("unknown_error")
                    .to_string(),
                description: body["error_description"].as_str().unwrap_or("").to_string(),
            }),
        }
    }

    /// An application token (client credentials grant), cached.
    pub async fn app_token(&self, keys: &AppKeys, now_ms: u64) -> Result<String, EbayError> {
        if let Some(cached) = self.cached_app_token(now_ms) {
            return Ok(cached);
        }
        let body = self
            .token_request(
                keys,
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", SCOPE_PUBLIC),
                ],
            )
            .await?;
        let token = access_token(&body, now_ms)?;
        let text = token.token.clone();
        *self.app_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
        Ok(text)
    }

    fn cached_app_token(&self, now_ms: u64) -> Option<String> {
        let cached = self.app_token.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|t| t.expires_at_ms > now_ms + 60_000)
            .map(|t| t.token.clone())
    }

    /// A user token for bidding, from the user's refresh token.
    pub async fn user_token(
        &self,
        keys: &AppKeys,
        refresh_token: &str,
        now_ms: u64,
    ) -> Result<AccessToken, EbayError> {
        let scopes = format!("{SCOPE_PUBLIC} {SCOPE_BIDDING}");
        let body = self
            .token_request(
                keys,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                    ("scope", &scopes),
                ],
            )
            .await?;
        access_token(&body, now_ms)
    }

    /// The authorization code grant: the code eBay's consent page handed
    /// the user, for their refresh token.
    pub async fn exchange_code(
        &self,
        keys: &AppKeys,
        code: &str,
        now_ms: u64,
    ) -> Result<UserGrant, EbayError> {
        let ru_name = keys.ru_name.as_deref().unwrap_or_default();
        let body = self
            .token_request(
                keys,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", ru_name),
                ],
            )
            .await?;
        let refresh_token = body["refresh_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| EbayError::Unreadable {
                status: 200,
                detail: "no refresh_token".into(),
            })?;
        Ok(UserGrant {
            refresh_token: refresh_token.to_string(),
            refresh_expires_at_ms: body["refresh_token_expires_in"]
                .as_u64()
                .map(|s| now_ms + s * 1000),
        })
    }

    /// Browse `getItem`.
    pub async fn item(&self, token: &str, item_id: &str) -> Result<Item, EbayError> {
        let url = self.url(&format!("/buy/browse/v1/item/{}", path_segment(item_id)));
        let request = OutboundRequest::new("GET", url, READ_TIMEOUT)
            .header("authorization", format!("Bearer {token}"));
        let body = self.call(request).await?;
        Ok(item_of(&body))
    }

    /// Offer `place_proxy_bid`: the proxy bid's id.
    pub async fn place_proxy_bid(
        &self,
        token: &str,
        item_id: &str,
        marketplace: &str,
        maximum: &Amount,
    ) -> Result<String, EbayError> {
        let url = self.url(&format!(
            "/buy/offer/v1_beta/bidding/{}/place_proxy_bid",
            path_segment(item_id)
        ));
        let request = OutboundRequest::new("POST", url, BID_TIMEOUT)
            .header("authorization", format!("Bearer {token}"))
            .header("x-ebay-c-marketplace-id", marketplace)
            .json(&serde_json::json!({"maxAmount": maximum.to_json()}));
        let body = self.call(request).await?;
        body["proxyBidId"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| EbayError::Unreadable {
                status: 200,
                detail: "no proxyBidId".into(),
            })
    }

    /// Offer `getBidding`: `None` when the user has not bid on the item
    /// (error 120033).
    pub async fn bidding(
        &self,
        token: &str,
        item_id: &str,
        marketplace: &str,
    ) -> Result<Option<Bidding>, EbayError> {
        let url = self.url(&format!(
            "/buy/offer/v1_beta/bidding/{}",
            path_segment(item_id)
        ));
        let request = OutboundRequest::new("GET", url, READ_TIMEOUT)
            .header("authorization", format!("Bearer {token}"))
            .header("x-ebay-c-marketplace-id", marketplace);
        match self.call(request).await {
            Ok(body) => Ok(Some(Bidding {
                ended: body["auctionStatus"] == "ENDED",
                high_bidder: body["highBidder"] == true,
                current_price: Amount::from_json(&body["currentPrice"]),
                proxy_bid_id: body["currentProxyBid"]["proxyBidId"]
                    .as_str()
                    .map(str::to_string),
                max_amount: Amount::from_json(&body["currentProxyBid"]["maxAmount"]),
            })),
            Err(e) if e.error_id() == Some(NO_BIDDING_ACTIVITY) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One call whose success is `200` with a JSON body.
    async fn call(&self, request: OutboundRequest) -> Result<Value, EbayError> {
        let answer = self.http.send(request).await.map_err(EbayError::NoAnswer)?;
        let body = answer.json();
        match answer.status {
            200 if body.is_object() => Ok(body),
            200 => Err(EbayError::Unreadable {
                status: 200,
                detail: "not a JSON object".into(),
            }),
            429 => Err(EbayError::RateLimited {
                retry_after: answer.retry_after(),
            }),
            status @ 500.. => Err(EbayError::Unavailable { status }),
            status => {
                let first = &body["errors"][0];
                let message = first["longMessage"]
                    .as_str()
                    .or(first["message"].as_str())
                    .unwrap_or("no message")
                    .to_string();
                Err(EbayError::Refused {
                    status,
                    error_id: first["errorId"].as_u64(),
                    message,
                })
            }
        }
    }
}

/// Offer error ids the sniper tells apart.
pub const ITEM_NOT_FOUND_BROWSE: u64 = 11001;
pub const ITEM_NOT_FOUND_OFFER: u64 = 120001;
pub const BID_TOO_LOW: u64 = 120008;
pub const CURRENCY_DIFFERS: u64 = 120009;
pub const CANNOT_LOWER_OWN_BID: u64 = 120010;
pub const AUCTION_ENDED: u64 = 120012;
pub const NO_BIDDING_ACTIVITY: u64 = 120033;

fn access_token(body: &Value, now_ms: u64) -> Result<AccessToken, EbayError> {
    let token = body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| EbayError::Unreadable {
            status: 200,
            detail: "no access_token".into(),
        })?;
    Ok(AccessToken {
        token: token.to_string(),
        expires_at_ms: now_ms + body["expires_in"].as_u64().unwrap_or(0) * 1000,
    })
}

fn item_of(body: &Value) -> Item {
    let buying = body["buyingOptions"].as_array();
    Item {
        item_id: body["itemId"].as_str().unwrap_or_default().to_string(),
        title: body["title"].as_str().unwrap_or_default().to_string(),
        web_url: body["itemWebUrl"].as_str().map(str::to_string),
        is_auction: buying.is_some_and(|b| b.iter().any(|o| o == "AUCTION")),
        ends_at_ms: body["itemEndDate"]
            .as_str()
            .and_then(handler_support::clock::parse_rfc3339_millis),
        current_price: Amount::from_json(&body["currentBidPrice"])
            .or_else(|| Amount::from_json(&body["price"])),
        minimum_to_bid: Amount::from_json(&body["minimumPriceToBid"]),
        bid_count: body["bidCount"].as_u64().unwrap_or(0),
    }
}

/// An eBay RESTful item id: `v1|123456789012|0` as given, or a legacy
/// numeric id (`123456789012`) in that form; `None` for anything else.
pub fn item_id(text: &str) -> Option<String> {
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    match text.split('|').collect::<Vec<_>>().as_slice() {
        [legacy] if digits(legacy, 19) => Some(format!("v1|{legacy}|0")),
        ["v1", legacy, variation] if digits(legacy, 19) && digits(variation, 19) => {
            Some(text.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_are_normalised() {
        assert_eq!(
            item_id("110551991234").as_deref(),
            Some("v1|110551991234|0")
        );
        assert_eq!(item_id("v1|1|2").as_deref(), Some("v1|1|2"));
        for bad in ["", "v2|1|0", "v1|x|0", "v1||0", "12 3", "v1|1"] {
            assert_eq!(item_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_sandbox_serves_everything_but_prod() {
        assert_eq!(base_url("prod", None), PRODUCTION_URL);
        assert_eq!(base_url("dev", None), SANDBOX_URL);
        assert_eq!(base_url("staging", Some(String::new())), SANDBOX_URL);
        assert_eq!(
            base_url("prod", Some("http://127.0.0.1:9/".into())),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn only_calls_ebay_cannot_have_acted_on_are_safe_to_repeat() {
        assert!(EbayError::RateLimited { retry_after: None }.not_processed());
        assert!(!EbayError::Unavailable { status: 503 }.not_processed());
        let timeout = OutboundError::Timeout {
            host: "api.ebay.com".into(),
            after: Duration::from_secs(8),
        };
        assert!(!EbayError::NoAnswer(timeout).not_processed());
        let refused = EbayError::Refused {
            status: 409,
            error_id: Some(AUCTION_ENDED),
            message: "ended".into(),
        };
        assert!(!refused.not_processed() && !refused.transient());
        assert_eq!(refused.reason_code(), "120012");
    }

    #[test]
    fn app_keys_come_from_the_secret() {
        let keys = AppKeys::from_secret(
            &serde_json::json!({"app_id": "a", "cert_id": "c", "dev_id": "d"}),
        )
        .unwrap();
        assert_eq!(keys.basic(), "Basic YTpj");
        let placeholder = serde_json::json!({"app_id": "a", "cert_id": "REPLACE_WITH_CERT_ID"});
        assert!(AppKeys::from_secret(&placeholder).is_err());
    }
}

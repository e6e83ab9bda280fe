//! eBay's answers as the API's: what eBay refused because of the user's
//! input is theirs to fix (404, 422), eBay limiting or failing is said as
//! such (429, 502), eBay refusing our own application keys is ours (500,
//! with an ERROR line saying the keyset in the secret is rejected).

use crate::Api;
use handler_support::log::Logger;
use handler_support::ApiError;
use serde_json::json;
use sniper_shared::ebay::{self, AppKeys, EbayError, ITEM_NOT_FOUND_BROWSE};
use sniper_shared::Code;

impl Api {
    /// The application's keyset from the eBay secret.
    pub(crate) async fn app_keys(&self, log: &Logger) -> Result<AppKeys, ApiError> {
        let arn = &self.settings.ebay_secret_arn;
        let secret = self
            .secrets
            .json(arn, self.clock.epoch_millis())
            .await
            .map_err(ApiError::internal)?;
        AppKeys::from_secret(&secret).map_err(|problem| {
            log.error(
                "the eBay credentials secret is incomplete",
                &[("secretArn", json!(arn))],
            );
            ApiError::internal(format!("{problem} ({arn})"))
        })
    }

    /// An item as Browse describes it. A read is safe to repeat, so one
    /// that failed for a passing reason (eBay failing, no answer) is tried
    /// once more before answering; a 429 is not (repeating it at once only
    /// adds to the load eBay is limiting).
    pub(crate) async fn ebay_item(
        &self,
        item_id: &str,
        log: &Logger,
    ) -> Result<ebay::Item, ApiError> {
        let keys = self.app_keys(log).await?;
        let mut retried = false;
        loop {
            match self.read_item(&keys, item_id).await {
                Ok(item) => {
                    self.debug(
                        log,
                        "ebay item",
                        &[
                            ("itemId", json!(item_id)),
                            ("auction", json!(item.is_auction)),
                            ("endsAtMs", json!(item.ends_at_ms)),
                            ("bidCount", json!(item.bid_count)),
                            (
                                "currentPrice",
                                json!(item.current_price.as_ref().map(|p| p.to_string())),
                            ),
                        ],
                    );
                    return Ok(item);
                }
                Err(e @ (EbayError::Unavailable { .. } | EbayError::NoAnswer(_))) if !retried => {
                    log.warn(
                        "reading the item from eBay failed; trying once more",
                        &[
                            ("itemId", json!(item_id)),
                            ("reason", json!(e.reason_code())),
                        ],
                    );
                    retried = true;
                }
                Err(e) => return Err(self.item_failure(e, item_id, log)),
            }
        }
    }

    async fn read_item(&self, keys: &AppKeys, item_id: &str) -> Result<ebay::Item, EbayError> {
        let token = self.ebay.app_token(keys, self.clock.epoch_millis()).await?;
        self.ebay.item(&token, item_id).await
    }

    /// Browse answers 404 (error 11001) for an item it does not have and
    /// 400 for an id it cannot read: to the user, both are no such item.
    fn item_failure(&self, e: EbayError, item_id: &str, log: &Logger) -> ApiError {
        match &e {
            EbayError::Refused {
                status: 400 | 404, ..
            } => item_not_found(item_id),
            EbayError::Refused {
                error_id: Some(ITEM_NOT_FOUND_BROWSE),
                ..
            } => item_not_found(item_id),
            EbayError::OAuth { .. } => self.app_token_refused(e, log),
            _ => ebay_failure(e),
        }
    }

    /// eBay refusing our application token: the keyset or its grants.
    fn app_token_refused(&self, e: EbayError, log: &Logger) -> ApiError {
        if is_invalid_client(&e) {
            return self.keyset_rejected(e, log);
        }
        ApiError::internal(format!("eBay refused the application token: {e}"))
    }

    fn keyset_rejected(&self, e: EbayError, log: &Logger) -> ApiError {
        log.error(
            "eBay rejects the application keyset in the secret (invalid_client): check app_id and cert_id, and that they are the keys of this environment",
            &[("secretArn", json!(self.settings.ebay_secret_arn))],
        );
        ApiError::internal(format!("the eBay keyset in the secret is rejected: {e}"))
    }

    /// eBay refusing a user's authorization code or refresh token: answered
    /// with eBay's error name, never with what the user sent.
    pub(crate) fn link_failure(&self, e: EbayError, log: &Logger) -> ApiError {
        match &e {
            _ if is_invalid_client(&e) => self.keyset_rejected(e, log),
            EbayError::OAuth {
                status: ..=499,
                error,
                ..
            } => link_refused(error),
            EbayError::Refused { status: ..=499, .. } => link_refused(&e.reason_code()),
            _ => ebay_failure(e),
        }
    }
}

fn is_invalid_client(e: &EbayError) -> bool {
    matches!(e, EbayError::OAuth { error, .. } if error == "invalid_client")
}

fn link_refused(ebay_error: &str) -> ApiError {
    ApiError::new(
        Code::EbayLinkRefused,
        format!(
            "eBay refused to link the account ({ebay_error}); start again from eBay's consent page"
        ),
    )
    .with_details(json!({"ebayError": ebay_error}))
}

fn item_not_found(item_id: &str) -> ApiError {
    ApiError::new(Code::ItemNotFound, format!("eBay has no item {item_id}"))
}

/// What is left once the caller's own mistakes are told apart.
pub(crate) fn ebay_failure(e: EbayError) -> ApiError {
    match e {
        EbayError::RateLimited { .. } => ApiError {
            cause: Some(e.to_string()),
            ..ApiError::new(
                Code::TooManyRequests,
                "eBay is limiting our calls right now; nothing was changed. Try again in a moment",
            )
        },
        EbayError::Unavailable { .. } | EbayError::NoAnswer(_) | EbayError::Unreadable { .. } => {
            ApiError {
                cause: Some(e.to_string()),
                ..ApiError::new(
                    Code::EbayUnavailable,
                    "eBay did not answer usefully; nothing was changed. Try again in a moment",
                )
            }
        }
        EbayError::Refused { .. } | EbayError::OAuth { .. } => {
            ApiError::internal(format!("eBay refused our request: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ebay_limiting_or_failing_is_said_as_such() {
        let limited = ebay_failure(EbayError::RateLimited { retry_after: None });
        assert_eq!((limited.status, limited.code), (429, "TOO_MANY_REQUESTS"));
        let failed = ebay_failure(EbayError::Unavailable { status: 503 });
        assert_eq!((failed.status, failed.code), (502, "EBAY_UNAVAILABLE"));
        let ours = ebay_failure(EbayError::Refused {
            status: 403,
            error_id: None,
            message: "Insufficient permissions".into(),
        });
        assert_eq!(ours.status, 500);
    }
}

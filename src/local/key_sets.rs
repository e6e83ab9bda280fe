//! User pools' JSON Web Key Sets, fetched once per issuer and kept for the
//! session. A Cognito issuer publishes its keys at
//! `{issuer}/.well-known/jwks.json`; the emulator publishes them at
//! `{endpoint}/{pool}/.well-known/jwks.json` while its tokens name the AWS
//! issuer, so with an emulator endpoint the issuer's path is looked up there.

use super::authorizer::Jwks;
use super::http_client::HttpClient;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

pub struct KeySets {
    client: HttpClient,
    emulator: Option<String>,
    cache: Mutex<HashMap<String, Arc<Jwks>>>,
    problems: UnboundedSender<String>,
}

impl KeySets {
    /// Key sets from AWS, or from the emulator at `emulator`; a fetch that
    /// fails is reported on `problems` (its tokens are then refused, as
    /// API Gateway refuses tokens it cannot verify) and tried again on the
    /// next request.
    pub fn new(
        client: HttpClient,
        emulator: Option<String>,
        problems: UnboundedSender<String>,
    ) -> KeySets {
        KeySets {
            client,
            emulator,
            cache: Mutex::new(HashMap::new()),
            problems,
        }
    }

    /// Where `issuer`'s keys are published.
    pub fn url(&self, issuer: &str) -> String {
        key_set_url(issuer, self.emulator.as_deref())
    }

    /// The key sets of `issuers` that could be had.
    pub async fn get(&self, issuers: &[String]) -> BTreeMap<String, Arc<Jwks>> {
        let mut found = BTreeMap::new();
        for issuer in issuers {
            let cached = self.lock().get(issuer).cloned();
            let keys = match cached {
                Some(keys) => keys,
                None => match self.fetch(issuer).await {
                    Some(keys) => keys,
                    None => continue,
                },
            };
            found.insert(issuer.clone(), keys);
        }
        found
    }

    async fn fetch(&self, issuer: &str) -> Option<Arc<Jwks>> {
        let url = self.url(issuer);
        let parsed = match self.client.get(&url).await {
            Ok(body) => Jwks::parse(&body).map_err(|e| format!("{url}: {e}")),
            Err(e) => Err(e.to_string()),
        };
        match parsed {
            Ok(keys) => {
                let keys = Arc::new(keys);
                self.lock().insert(issuer.to_string(), keys.clone());
                Some(keys)
            }
            Err(why) => {
                let _ = self.problems.send(format!(
                    "the key set of {issuer} could not be fetched ({why}); its tokens are refused"
                ));
                None
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Jwks>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `{issuer}/.well-known/jwks.json`, with the issuer's host replaced by
/// the emulator's endpoint when there is one.
pub fn key_set_url(issuer: &str, emulator: Option<&str>) -> String {
    let issuer = issuer.trim_end_matches('/');
    match emulator {
        Some(endpoint) => {
            let pool = issuer.rsplit('/').next().unwrap_or_default();
            format!(
                "{}/{pool}/.well-known/jwks.json",
                endpoint.trim_end_matches('/')
            )
        }
        None => format!("{issuer}/.well-known/jwks.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_publishes_keys_under_the_issuer_and_the_emulator_under_its_endpoint() {
        let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc";
        assert_eq!(
            key_set_url(issuer, None),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc/.well-known/jwks.json"
        );
        assert_eq!(
            key_set_url(issuer, Some("http://127.0.0.1:5000/")),
            "http://127.0.0.1:5000/eu-west-1_Abc/.well-known/jwks.json"
        );
    }
}

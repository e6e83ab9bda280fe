//! What `GET /audit` asks for, and its paging token.
//!
//! `action` and `timestamp` are DynamoDB reserved words, so every
//! expression names attributes through `#pk` / `#ts` placeholders.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fleet_shared::Code;
use handler_support::clock::{parse_rfc3339, rfc3339_millis};
use handler_support::{ApiError, Caller, Request};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const PAGE_SIZE: u32 = 50;

/// Which key the entries are found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    User,
    Action,
    Resource,
}

impl By {
    const ALL: [By; 3] = [By::User, By::Action, By::Resource];

    /// The query parameter, which is also the partition key attribute.
    pub fn attribute(self) -> &'static str {
        match self {
            By::User => "userId",
            By::Action => "action",
            By::Resource => "resourceId",
        }
    }

    pub fn index(self) -> Option<&'static str> {
        match self {
            By::User => None,
            By::Action => Some("action-index"),
            By::Resource => Some("resource-index"),
        }
    }

    /// The attributes of a `LastEvaluatedKey`: the index's key and the table's.
    fn page_key_attributes(self) -> Vec<&'static str> {
        let mut attributes = vec!["timestamp", "userId"];
        if self != By::User {
            attributes.push(self.attribute());
        }
        attributes.sort_unstable();
        attributes
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditQuery {
    pub by: By,
    pub value: String,
    /// The earliest timestamp, as stored (`…T00:00:00.000Z`).
    pub since: Option<String>,
    pub limit: u32,
    pub start: Option<PageToken>,
}

impl AuditQuery {
    /// From `userId`, `action` or `resourceId` (at most one; none means the
    /// caller's own entries), `since`, `limit` (1-50) and `nextToken`.
    pub fn from_request(request: &Request, caller: &Caller) -> Result<AuditQuery, ApiError> {
        let invalid = |m: String| ApiError::new(Code::ValidationError, m);
        let known = [
            "userId",
            "action",
            "resourceId",
            "since",
            "limit",
            "nextToken",
        ];
        if let Some(unknown) = request.query.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(invalid(format!(
                "unknown query parameter {unknown:?} (known: {})",
                known.join(", ")
            )));
        }
        let asked: Vec<(By, &str)> = By::ALL
            .iter()
            .filter_map(|b| Some((*b, request.query(b.attribute())?)))
            .collect();
        let (by, value) = match asked.as_slice() {
            [] => (By::User, caller.user_id.clone()),
            [(by, value)] => (*by, value.to_string()),
            _ => {
                return Err(invalid(
                    "ask by one of userId, action or resourceId, not several".into(),
                ))
            }
        };
        let well_formed = match by {
            By::User => {
                (1..=128).contains(&value.len())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_:.@".contains(&b))
            }
            By::Action => value.len() <= 50 && is_upper_snake(&value),
            By::Resource => (1..=255).contains(&value.chars().count()),
        };
        if !well_formed {
            return Err(invalid(format!(
                "{} {value:?} is not well-formed",
                by.attribute()
            )));
        }
        let since = match request.query("since") {
            None => None,
            Some(t) => Some(rfc3339_millis(
                parse_rfc3339(t).ok_or_else(|| {
                    invalid("since must be an RFC 3339 time or a date, such as 2026-11-23".into())
                })? * 1000,
            )),
        };
        let limit = match request.query("limit") {
            None => PAGE_SIZE,
            Some(l) => l
                .parse()
                .ok()
                .filter(|n| (1..=PAGE_SIZE).contains(n))
                .ok_or_else(|| invalid(format!("limit must be 1-{PAGE_SIZE}")))?,
        };
        let mut query = AuditQuery {
            by,
            value,
            since,
            limit,
            start: None,
        };
        if let Some(token) = request.query("nextToken") {
            query.start = Some(PageToken::decode(token, &query)?);
        }
        Ok(query)
    }

    pub fn key_condition(&self) -> String {
        match self.since {
            Some(_) => "#pk = :pk AND #ts >= :since".into(),
            None => "#pk = :pk".into(),
        }
    }

    /// Names and values of [`AuditQuery::key_condition`] (only those it
    /// uses: DynamoDB refuses unused ones).
    pub fn expression_parts(&self) -> (HashMap<String, String>, HashMap<String, AttributeValue>) {
        let mut names = HashMap::from([("#pk".to_string(), self.by.attribute().to_string())]);
        let mut values =
            HashMap::from([(":pk".to_string(), AttributeValue::S(self.value.clone()))]);
        if let Some(since) = &self.since {
            names.insert("#ts".into(), "timestamp".into());
            values.insert(":since".into(), AttributeValue::S(since.clone()));
        }
        (names, values)
    }
}

/// Where the next page starts: DynamoDB's `LastEvaluatedKey`, bound to the
/// query it came from so a token cannot steer a different one.
#[derive(Debug, Clone, PartialEq)]
pub struct PageToken {
    by: By,
    value: String,
    key: Vec<(String, String)>,
}

impl PageToken {
    pub fn for_key(query: &AuditQuery, key: &HashMap<String, AttributeValue>) -> PageToken {
        let mut key: Vec<(String, String)> = key
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
            .collect();
        key.sort();
        PageToken {
            by: query.by,
            value: query.value.clone(),
            key,
        }
    }

    pub fn encode(&self) -> String {
        let key: Map<String, Value> = self
            .key
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let text = json!({"by": self.by.attribute(), "value": self.value, "key": key}).to_string();
        URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(token: &str, query: &AuditQuery) -> Result<PageToken, ApiError> {
        let refused = || {
            ApiError::new(
                Code::ValidationError,
                "nextToken is not a token this query returned",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| refused())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| refused())?;
        if value["by"] != json!(query.by.attribute()) || value["value"] != json!(query.value) {
            return Err(refused());
        }
        let key_map = value["key"].as_object().ok_or_else(refused)?;
        let mut key = Vec::new();
        for (k, v) in key_map {
            key.push((
                k.clone(),
                v.as_str()
                    .filter(|s| !s.is_empty() && s.len() <= 255)
                    .ok_or_else(refused)?
                    .to_string(),
            ));
        }
        key.sort();
        let names: Vec<&str> = key.iter().map(|(k, _)| k.as_str()).collect();
        if names != query.by.page_key_attributes() {
            return Err(refused());
        }
        Ok(PageToken {
            by: query.by,
            value: query.value.clone(),
            key,
        })
    }

    pub fn key(&self) -> HashMap<String, AttributeValue> {
        self.key
            .iter()
            .map(|(k, v)| (k.clone(), AttributeValue::S(v.clone())))
            .collect()
    }
}

/// `VIEW_INSTANCE`: an upper-case letter, then upper-case letters, digits and `_`.
pub fn is_upper_snake(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_uppercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(by: By, value: &str) -> AuditQuery {
        AuditQuery {
            by,
            value: value.into(),
            since: None,
            limit: PAGE_SIZE,
            start: None,
        }
    }

    #[test]
    fn tokens_round_trip_and_stay_with_their_query() {
        let q = query(By::Action, "REBOOT_INSTANCE");
        let key = HashMap::from([
            (
                "action".to_string(),
                AttributeValue::S("REBOOT_INSTANCE".into()),
            ),
            (
                "timestamp".to_string(),
                AttributeValue::S("2026-11-23T03:19:05.000Z".into()),
            ),
            ("userId".to_string(), AttributeValue::S("u-1".into())),
        ]);
        let token = PageToken::for_key(&q, &key).encode();
        assert_eq!(PageToken::decode(&token, &q).unwrap().key(), key);
        for other in [
            query(By::Action, "ACCESS_DENIED"),
            query(By::Resource, "REBOOT_INSTANCE"),
            query(By::User, "u-1"),
        ] {
            assert!(PageToken::decode(&token, &other).is_err(), "{other:?}");
        }
        for garbage in [
            "",
            "!!",
            "bm90IGpzb24",
            &URL_SAFE_NO_PAD
                .encode(r#"{"by":"action","value":"REBOOT_INSTANCE","key":{"action":"x"}}"#),
        ] {
            let e = PageToken::decode(garbage, &q).unwrap_err();
            assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"), "{garbage}");
        }
    }

    #[test]
    fn only_the_condition_it_uses_is_named() {
        let (names, values) = query(By::User, "u-1").expression_parts();
        assert_eq!(names.len(), 1);
        assert_eq!(values.len(), 1);
        let q = AuditQuery {
            since: Some("2026-11-23T00:00:00.000Z".into()),
            ..query(By::Resource, "i-1")
        };
        assert_eq!(q.key_condition(), "#pk = :pk AND #ts >= :since");
        let (names, _) = q.expression_parts();
        assert_eq!(names["#ts"], "timestamp");
        assert_eq!(names["#pk"], "resourceId");
    }

    #[test]
    fn action_names_are_upper_snake_case() {
        assert!(is_upper_snake("VIEW_INSTANCE") && is_upper_snake("A1"));
        for bad in ["", "view", "_X", "1X", "VIEW-INSTANCE", "VIEW INSTANCE"] {
            assert!(!is_upper_snake(bad), "{bad}");
        }
    }
}

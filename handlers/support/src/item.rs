//! DynamoDB items as JSON and back, so handlers work with `serde_json`
//! values and the envelope carries items as they are stored.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// A JSON value as an attribute. Numbers keep their text; `null` is NULL.
pub fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

/// A JSON object as an item.
pub fn to_item(map: &Map<String, Value>) -> Item {
    map.iter()
        .map(|(k, v)| (k.clone(), to_attribute(v)))
        .collect()
}

/// An attribute as JSON. Numbers that are not valid JSON numbers stay text.
pub fn from_attribute(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
            })
            .unwrap_or_else(|| Value::String(n.clone())),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(items) => Value::Array(items.iter().map(from_attribute).collect()),
        AttributeValue::M(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), from_attribute(&map[k])))
                    .collect(),
            )
        }
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(
            items
                .iter()
                .map(|n| from_attribute(&AttributeValue::N(n.clone())))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// An item as a JSON object with sorted keys.
pub fn from_item(item: &Item) -> Value {
    from_attribute(&AttributeValue::M(item.clone()))
}

/// An `UpdateExpression` that sets each of `changes` and `updatedAt`, with
/// its placeholder names and values (field names never enter the expression).
pub struct SetChanges {
    pub expression: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

pub fn set_changes(changes: &Map<String, Value>, updated_at: &str) -> SetChanges {
    let mut sets = vec!["#updatedAt = :updatedAt".to_string()];
    let mut names = HashMap::from([("#updatedAt".to_string(), "updatedAt".to_string())]);
    let mut values = HashMap::from([(":updatedAt".to_string(), s(updated_at))]);
    for (i, (field, value)) in changes.iter().enumerate() {
        sets.push(format!("#f{i} = :v{i}"));
        names.insert(format!("#f{i}"), field.clone());
        values.insert(format!(":v{i}"), to_attribute(value));
    }
    SetChanges {
        expression: format!("SET {}", sets.join(", ")),
        names,
        values,
    }
}

pub fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

/// Where a paged query goes on: DynamoDB's `LastEvaluatedKey` as an opaque
/// base64url token, bound to the query it came from (`scope`: the caller,
/// the index, the filter) so a token cannot steer another query, and
/// holding exactly the key attributes that query's pages end on.
pub mod page_token {
    use super::Item;
    use aws_sdk_dynamodb::types::AttributeValue;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::{json, Map, Value};

    /// The token for the page after the one that ended at `key`.
    pub fn encode(scope: &str, key: &Item) -> String {
        let mut fields = Map::new();
        // In name order, so one key always gives the same token.
        let mut names: Vec<&String> = key.keys().collect();
        names.sort();
        for (name, value) in names.into_iter().map(|n| (n, &key[n])) {
            let typed = match value {
                AttributeValue::S(text) => json!({"S": text}),
                AttributeValue::N(number) => json!({"N": number}),
                _ => continue,
            };
            fields.insert(name.clone(), typed);
        }
        URL_SAFE_NO_PAD.encode(json!({"scope": scope, "key": fields}).to_string())
    }

    /// The key a token holds, when it came from a query of this `scope`
    /// and names exactly `attributes`; `None` for anything else.
    pub fn decode(token: &str, scope: &str, attributes: &[&str]) -> Option<Item> {
        if token.len() > 4096 {
            return None;
        }
        let value: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
        if value["scope"] != json!(scope) {
            return None;
        }
        let fields = value["key"].as_object()?;
        let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
        let mut wanted = attributes.to_vec();
        names.sort_unstable();
        wanted.sort_unstable();
        if names != wanted {
            return None;
        }
        let mut key = Item::new();
        for (name, typed) in fields {
            let attribute = match (typed["S"].as_str(), typed["N"].as_str()) {
                (Some(text), None) if !text.is_empty() && text.len() <= 1024 => {
                    AttributeValue::S(text.to_string())
                }
                (None, Some(number)) if number.parse::<f64>().is_ok() && number.len() <= 40 => {
                    AttributeValue::N(number.to_string())
                }
                _ => return None,
            };
            key.insert(name.clone(), attribute);
        }
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_tokens_round_trip_and_stay_with_their_query() {
        let key = Item::from([
            ("userId".to_string(), s("u-1")),
            (
                "timestamp".to_string(),
                AttributeValue::N("1795403945123".into()),
            ),
        ]);
        let token = page_token::encode("history:u-1", &key);
        assert_eq!(
            page_token::decode(&token, "history:u-1", &["timestamp", "userId"]),
            Some(key)
        );
        assert_eq!(
            page_token::decode(&token, "history:u-2", &["timestamp", "userId"]),
            None
        );
        assert_eq!(page_token::decode(&token, "history:u-1", &["userId"]), None);
        assert_eq!(
            page_token::decode("not base64!", "history:u-1", &["userId"]),
            None
        );
    }

    #[test]
    fn round_trips_nested_values() {
        let v = json!({"brand": "Fender", "year": 1962, "price": 1499.99, "caseIncluded": true, "notes": [{"id": "n1", "content": "fret work"}], "specs": {}, "none": null});
        let item = to_item(v.as_object().unwrap());
        assert_eq!(from_item(&item), v);
    }
}

//! Comparing IAM and key policy documents by meaning, not by spelling: IAM
//! and KMS hand a document back as it was stored, but a one-element list
//! and its single string, or statements in another order, grant the same.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Keys whose value may be a string or a list of strings, meaning the same.
const LIST_KEYS: [&str; 4] = ["Action", "NotAction", "Resource", "NotResource"];

/// The document's statements, each in one canonical spelling.
pub fn statements(document: &Value) -> BTreeSet<String> {
    let list = match &document["Statement"] {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        single => vec![single.clone()],
    };
    list.iter()
        .map(|s| sorted_keys(&canonical(s)).to_string())
        .collect::<BTreeSet<_>>()
}

/// What `found` grants that `expected` does not, and what it lacks.
pub fn differences(expected: &Value, found: &Value) -> PolicyDifference {
    let expected = statements(expected);
    let found = statements(found);
    PolicyDifference {
        added: found.difference(&expected).cloned().collect(),
        missing: expected.difference(&found).cloned().collect(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyDifference {
    /// Statements live but not declared.
    pub added: Vec<String>,
    /// Statements declared but not live.
    pub missing: Vec<String>,
}

impl PolicyDifference {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.missing.is_empty()
    }

    /// One line: `+1 statement: {…}; -1 statement: {…}`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (sign, list) in [("+", &self.added), ("-", &self.missing)] {
            if !list.is_empty() {
                parts.push(format!(
                    "{sign}{} statement{}: {}",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" },
                    list.join(" ")
                ));
            }
        }
        parts.join("; ")
    }
}

/// A statement with list-or-string values as sorted lists, principals and
/// condition values likewise.
fn canonical(statement: &Value) -> Value {
    let Value::Object(map) = statement else {
        return statement.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = match key.as_str() {
            k if LIST_KEYS.contains(&k) => sorted_list(value),
            "Principal" | "NotPrincipal" => each_value(value, sorted_list),
            "Condition" => each_value(value, |keys| each_value(keys, sorted_list)),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// The same value with every object's keys in order: documents keep the
/// order they were written in, which does not change what they grant.
fn sorted_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: std::collections::BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, sorted_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

fn each_value(value: &Value, f: impl Fn(&Value) -> Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
        other => other.clone(),
    }
}

fn sorted_list(value: &Value) -> Value {
    let mut items: Vec<Value> = match value {
        Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    items.sort_by_key(|v| v.to_string());
    items.dedup();
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_single_string_and_a_one_element_list_grant_the_same() {
        let declared = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "arn:t"},
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": ["arn:k"],
             "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}}
        ]});
        let live = json!({"Version": "2012-10-17", "Statement": [
            {"Resource": "arn:k", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
             "Condition": {"StringEquals": {"kms:ViaService": ["dynamodb.us-east-1.amazonaws.com"]}}},
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": ["arn:t"]}
        ]});
        assert!(differences(&declared, &live).is_empty());
    }

    #[test]
    fn a_widened_statement_shows_as_one_added_and_one_missing() {
        let declared = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:b/*"}]});
        let live =
            json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:b/*"}});
        let d = differences(&declared, &live);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.missing.len(), 1);
        assert!(d
            .describe()
            .starts_with("+1 statement: {\"Action\":[\"s3:*\"]"));
        assert!(d
            .describe()
            .contains("; -1 statement: {\"Action\":[\"s3:GetObject\"]"));
    }

    #[test]
    fn principals_compare_as_sets() {
        let a = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:a", "arn:b"]}, "Action": "kms:*", "Resource": "*"}]});
        let b = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:b", "arn:a"]}, "Action": ["kms:*"], "Resource": ["*"]}]});
        assert!(differences(&a, &b).is_empty());
        let c = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:a"}, "Action": "kms:*", "Resource": "*"}]});
        assert!(!differences(&a, &c).is_empty());
    }
}

//! A statement's `Condition` block against what the request tells.
//!
//! Keys compare without regard to case. Some keys are known to be absent
//! from a request (no `s3:prefix` on a listing without one, no
//! `kms:ViaService` on a call the function makes itself); IAM evaluates
//! those as absent. Others cannot be known here at all (a resource's tags
//! without asking the service): a condition on such a key is taken as not
//! met, and the evaluation says which key it was.

use super::pattern;
use serde_json::Value;
use std::collections::BTreeMap;

/// The request's condition keys: a value, several, or known to be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, Option<Vec<String>>>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// `key` with `value`, or known to be absent (`None`).
    pub fn with(mut self, key: &str, value: Option<&str>) -> Context {
        self.set(key, value.map(|v| vec![v.to_string()]));
        self
    }

    pub fn set(&mut self, key: &str, values: Option<Vec<String>>) {
        self.keys.insert(key.to_ascii_lowercase(), values);
    }

    /// Adds `other`'s keys where this context says nothing of them.
    pub fn or(mut self, other: &Context) -> Context {
        for (key, values) in &other.keys {
            self.keys
                .entry(key.clone())
                .or_insert_with(|| values.clone());
        }
        self
    }

    /// The first value of `key`, when the request has one.
    pub fn value(&self, key: &str) -> Option<&str> {
        match self.lookup(key) {
            Lookup::Values(values) => values.first().map(String::as_str),
            _ => None,
        }
    }

    fn lookup(&self, key: &str) -> Lookup<'_> {
        match self.keys.get(&key.to_ascii_lowercase()) {
            Some(Some(values)) => Lookup::Values(values),
            Some(None) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

enum Lookup<'a> {
    Values(&'a [String]),
    Absent,
    Unknown,
}

/// One operator on one key, with the values the policy lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// As written: `StringLike`, `StringEqualsIfExists`, `ForAnyValue:StringLike`.
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

/// What a condition came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    Met,
    NotMet,
    /// Cannot be decided here; the reason names the key or the operator.
    Unknown(String),
}

impl Condition {
    /// The conditions of a statement's `Condition` element.
    pub fn parse_block(block: &Value) -> Vec<Condition> {
        let Some(operators) = block.as_object() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (operator, keys) in operators {
            for (key, values) in keys.as_object().into_iter().flatten() {
                out.push(Condition {
                    operator: operator.clone(),
                    key: key.clone(),
                    values: strings(values),
                });
            }
        }
        out
    }

    pub fn test(&self, context: &Context) -> Test {
        let (set, rest) = match self.operator.split_once(':') {
            Some((set, rest)) => (Some(set), rest),
            None => (None, self.operator.as_str()),
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let Some(operator) = Operator::parse(base) else {
            return Test::Unknown(format!(
                "operator {} is not evaluated locally",
                self.operator
            ));
        };
        match context.lookup(&self.key) {
            Lookup::Unknown => {
                Test::Unknown(format!("condition key {} is not known locally", self.key))
            }
            Lookup::Absent if operator == Operator::Null => {
                met(self.values.iter().any(|v| v == "true"))
            }
            // IAM: a negated operator, an `…IfExists` one, or `ForAllValues`
            // is met by a missing key; any other is not.
            Lookup::Absent => met(if_exists || operator.negated() || set == Some("ForAllValues")),
            Lookup::Values(_) if operator == Operator::Null => {
                met(self.values.iter().any(|v| v == "false"))
            }
            Lookup::Values(request) => met(match set {
                Some("ForAllValues") => request
                    .iter()
                    .all(|r| operator.any_matches(&self.values, r)),
                _ => operator.matches_request(&self.values, request),
            }),
        }
    }
}

fn met(yes: bool) -> Test {
    if yes {
        Test::Met
    } else {
        Test::NotMet
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    Bool,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        Some(match name {
            "StringEquals" | "ArnEquals" => Operator::StringEquals,
            "StringNotEquals" | "ArnNotEquals" => Operator::StringNotEquals,
            "StringEqualsIgnoreCase" => Operator::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Operator::StringNotEqualsIgnoreCase,
            // ArnEquals and ArnLike both take wildcards in IAM.
            "StringLike" | "ArnLike" => Operator::StringLike,
            "StringNotLike" | "ArnNotLike" => Operator::StringNotLike,
            "Bool" => Operator::Bool,
            "Null" => Operator::Null,
            _ => return None,
        })
    }

    fn negated(self) -> bool {
        matches!(
            self,
            Operator::StringNotEquals
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringNotLike
        )
    }

    /// Positive operators: any request value matches any policy value.
    /// Negated ones: no request value matches any policy value.
    fn matches_request(self, policy: &[String], request: &[String]) -> bool {
        let any = request.iter().any(|r| self.any_matches(policy, r));
        if self.negated() {
            !any
        } else {
            any
        }
    }

    /// Whether request value `r` matches one of the policy's values, by the
    /// positive form of the operator.
    fn any_matches(self, policy: &[String], r: &str) -> bool {
        policy.iter().any(|p| match self {
            Operator::StringEquals | Operator::StringNotEquals => p == r,
            Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase => {
                p.eq_ignore_ascii_case(r)
            }
            Operator::StringLike | Operator::StringNotLike => pattern::matches(p, r),
            Operator::Bool => p.eq_ignore_ascii_case(r),
            Operator::Null => false,
        })
    }
}

/// A policy value as strings: `"a"`, `["a", "b"]`, `true`.
pub(super) fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(block: Value) -> Condition {
        Condition::parse_block(&block).remove(0)
    }

    #[test]
    fn string_like_matches_a_prefix_pattern_and_a_missing_key_is_not_met() {
        let c = one(json!({"StringLike": {"s3:prefix": ["incoming/*"]}}));
        assert_eq!(
            c.test(&Context::new().with("s3:prefix", Some("incoming/a"))),
            Test::Met
        );
        assert_eq!(
            c.test(&Context::new().with("s3:prefix", Some("other/"))),
            Test::NotMet
        );
        assert_eq!(
            c.test(&Context::new().with("s3:prefix", None)),
            Test::NotMet
        );
    }

    #[test]
    fn keys_compare_without_case_and_values_with_it() {
        let c = one(json!({"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}));
        let ctx = Context::new().with("KMS:VIASERVICE", Some("s3.eu-west-1.amazonaws.com"));
        assert_eq!(c.test(&ctx), Test::Met);
        let ctx = Context::new().with("kms:viaservice", Some("S3.eu-west-1.amazonaws.com"));
        assert_eq!(c.test(&ctx), Test::NotMet);
    }

    #[test]
    fn negated_and_if_exists_operators_are_met_by_an_absent_key() {
        let absent = Context::new().with("aws:SourceVpc", None);
        for op in ["StringNotEquals", "StringEqualsIfExists", "ArnNotLike"] {
            assert_eq!(
                one(json!({op: {"aws:SourceVpc": "vpc-1"}})).test(&absent),
                Test::Met,
                "{op}"
            );
        }
        let c = one(json!({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}));
        assert_eq!(
            c.test(&Context::new().with("aws:SourceVpc", Some("vpc-1"))),
            Test::NotMet
        );
        assert_eq!(
            c.test(&Context::new().with("aws:SourceVpc", Some("vpc-2"))),
            Test::Met
        );
    }

    #[test]
    fn the_append_condition_is_met_by_no_return_values_or_none_only() {
        let c = one(json!({"StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"}}));
        let sends = |v: Option<&str>| Context::new().with("dynamodb:ReturnValues", v);
        assert_eq!(c.test(&sends(None)), Test::Met);
        assert_eq!(c.test(&sends(Some("NONE"))), Test::Met);
        assert_eq!(c.test(&sends(Some("ALL_OLD"))), Test::NotMet);
        assert_eq!(
            c.test(&sends(Some("none"))),
            Test::NotMet,
            "values keep their case"
        );
        assert!(matches!(c.test(&Context::new()), Test::Unknown(_)));
    }

    #[test]
    fn a_key_that_cannot_be_known_is_unknown_and_says_which() {
        let c = one(json!({"StringEquals": {"aws:ResourceTag/fleet-console": "managed"}}));
        assert_eq!(
            c.test(&Context::new()),
            Test::Unknown(
                "condition key aws:ResourceTag/fleet-console is not known locally".into()
            )
        );
        let c = one(json!({"NumericLessThan": {"s3:max-keys": "10"}}));
        assert!(matches!(
            c.test(&Context::new().with("s3:max-keys", Some("5"))),
            Test::Unknown(_)
        ));
    }

    #[test]
    fn bool_arn_like_and_null() {
        let c = one(json!({"Bool": {"aws:SecureTransport": true}}));
        assert_eq!(
            c.test(&Context::new().with("aws:SecureTransport", Some("true"))),
            Test::Met
        );
        assert_eq!(
            c.test(&Context::new().with("aws:SecureTransport", Some("false"))),
            Test::NotMet
        );
        let c = one(json!({"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:1:function:f*"}}));
        let ctx = Context::new().with(
            "aws:SourceArn",
            Some("arn:aws:lambda:eu-west-1:1:function:fx"),
        );
        assert_eq!(c.test(&ctx), Test::Met);
        let c = one(json!({"Null": {"s3:prefix": "true"}}));
        assert_eq!(c.test(&Context::new().with("s3:prefix", None)), Test::Met);
        assert_eq!(
            c.test(&Context::new().with("s3:prefix", Some("a"))),
            Test::NotMet
        );
    }
}

//! The syntax of event patterns: EventBridge rules, Lambda event filtering
//! and SNS filter policies share one grammar with different operator sets
//! and limits.
//!
//! A pattern is a JSON object. Each key is a field of the event; its value
//! is either a nested object (a field inside that field) or an array of
//! match conditions, OR-ed together: literal values (strings, numbers,
//! `true`, `false`, `null`) and operator objects with exactly one operator
//! (`{"prefix": "us-"}`, `{"numeric": [">", 0, "<=", 5]}`, …). A `$or` key
//! holds an array of sub-patterns, any of which may match.
//!
//! Sources: the EventBridge user guide ("Comparison operators for use in
//! event patterns", "Content filtering in Amazon EventBridge event
//! patterns", the quota "Event pattern size": 2048 characters, adjustable
//! to 4096 — PutRule refuses longer), the Lambda developer guide ("Control
//! which events Lambda sends to your function": the filter rule syntax
//! table; `Filter.Pattern` is at most 4096 characters) and the SNS
//! developer guide ("Filter policy constraints in Amazon SNS": five keys,
//! 150 combinations of values, numbers within ±10^9 with five decimals,
//! 256 KB, no nesting for attribute-based policies).
//!
//! These checks are pure: callers turn a [`PatternProblem`]'s path (inside
//! the pattern) into a stack-file path by appending it to the path of the
//! pattern.

use crate::source::Path;
use serde_json::{Map, Value};

/// One thing wrong with a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternProblem {
    /// Where inside the pattern, relative to the pattern itself (empty for
    /// the pattern as a whole).
    pub path: Path,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// Which service reads the pattern: the operators and limits differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// An EventBridge rule's event pattern (event buses).
    Rule,
    /// A Lambda event source mapping's filter (`FilterCriteria.Filters[].Pattern`).
    LambdaFilter,
    /// An SNS subscription's filter policy on message attributes (no nesting).
    SnsAttributes,
    /// An SNS subscription's filter policy on the message body.
    SnsBody,
}

/// PutRule's hard maximum for `EventPattern`, in characters.
pub const RULE_PATTERN_MAX: usize = 4096;
/// EventBridge's default quota for a rule's event pattern (adjustable up to
/// [`RULE_PATTERN_MAX`] through Service Quotas).
pub const RULE_PATTERN_DEFAULT_QUOTA: usize = 2048;
/// Lambda's maximum length of one filter's `Pattern`.
pub const LAMBDA_FILTER_MAX: usize = 4096;
/// SNS's maximum size of a filter policy (256 KB).
pub const SNS_FILTER_POLICY_MAX: usize = 256 * 1024;
/// SNS: at most this many keys in a filter policy.
pub const SNS_MAX_KEYS: usize = 5;
/// SNS: at most this many combinations of values in a filter policy.
pub const SNS_MAX_COMBINATIONS: u64 = 150;

impl Dialect {
    fn service(self) -> &'static str {
        match self {
            Dialect::Rule => "EventBridge",
            Dialect::LambdaFilter => "Lambda event filtering",
            Dialect::SnsAttributes | Dialect::SnsBody => "SNS",
        }
    }

    fn is_sns(self) -> bool {
        matches!(self, Dialect::SnsAttributes | Dialect::SnsBody)
    }

    /// The longest pattern the service accepts, in characters of its compact JSON.
    pub fn max_len(self) -> usize {
        match self {
            Dialect::Rule => RULE_PATTERN_MAX,
            Dialect::LambdaFilter => LAMBDA_FILTER_MAX,
            Dialect::SnsAttributes | Dialect::SnsBody => SNS_FILTER_POLICY_MAX,
        }
    }

    /// The operators the service knows, as they are written.
    pub fn operators(self) -> &'static [&'static str] {
        match self {
            Dialect::Rule => &[
                "prefix",
                "suffix",
                "anything-but",
                "numeric",
                "exists",
                "equals-ignore-case",
                "wildcard",
                "cidr",
            ],
            // Lambda's filter rule syntax table: null, empty, equals, equals
            // (ignore case), and, or, not (anything-but), numeric (equals,
            // range), exists, does not exist, begins with, ends with.
            Dialect::LambdaFilter => &[
                "prefix",
                "suffix",
                "anything-but",
                "numeric",
                "exists",
                "equals-ignore-case",
            ],
            Dialect::SnsAttributes | Dialect::SnsBody => &[
                "prefix",
                "suffix",
                "anything-but",
                "numeric",
                "exists",
                "equals-ignore-case",
                "cidr",
            ],
        }
    }

    fn supports_or(self) -> bool {
        !matches!(self, Dialect::LambdaFilter)
    }

    /// The numbers the service compares, inclusive.
    fn numeric_bound(self) -> f64 {
        match self {
            // EventBridge: numeric matching works for values from -5.0e9 to +5.0e9.
            Dialect::Rule | Dialect::LambdaFilter => 5.0e9,
            // SNS: -10^9 to 10^9.
            Dialect::SnsAttributes | Dialect::SnsBody => 1.0e9,
        }
    }
}

/// Checks an EventBridge rule's event pattern.
pub fn check_rule_pattern(pattern: &Value) -> Result<(), Vec<PatternProblem>> {
    check_event_pattern(pattern, Dialect::Rule)
}

/// Checks one Lambda event source mapping filter pattern.
pub fn check_lambda_filter(pattern: &Value) -> Result<(), Vec<PatternProblem>> {
    check_event_pattern(pattern, Dialect::LambdaFilter)
}

/// Checks an SNS subscription's filter policy; `on_body` for a policy
/// scoped to the message body (`FilterPolicyScope: MessageBody`).
pub fn check_sns_filter_policy(policy: &Value, on_body: bool) -> Result<(), Vec<PatternProblem>> {
    let dialect = if on_body {
        Dialect::SnsBody
    } else {
        Dialect::SnsAttributes
    };
    check_event_pattern(policy, dialect)
}

/// Checks `pattern` against the grammar and limits of `dialect`.
pub fn check_event_pattern(pattern: &Value, dialect: Dialect) -> Result<(), Vec<PatternProblem>> {
    let mut c = PatternChecker {
        dialect,
        out: Vec::new(),
    };
    match pattern {
        Value::Object(map) => {
            c.object(&Path::root(), map, 0);
            let len = serde_json::to_string(pattern).map_or(0, |s| s.chars().count());
            if len > dialect.max_len() {
                c.push(
                    Path::root(),
                    format!(
                        "the pattern is {len} characters of JSON; {} accepts at most {}",
                        dialect.service(),
                        dialect.max_len()
                    ),
                    "match on fewer fields or values, or split it into several",
                );
            }
            if dialect.is_sns() && c.out.is_empty() {
                let keys = leaf_keys(map);
                if keys > SNS_MAX_KEYS {
                    c.push(
                        Path::root(),
                        format!(
                            "the filter policy has {keys} keys; SNS allows at most {SNS_MAX_KEYS}"
                        ),
                        "filter on at most five attributes (nested keys count at their leaves)",
                    );
                }
                let combinations = combinations(map);
                if combinations > SNS_MAX_COMBINATIONS {
                    c.push(
                        Path::root(),
                        format!(
                            "the filter policy has {combinations} combinations of values; SNS allows at most {SNS_MAX_COMBINATIONS}"
                        ),
                        "the combinations are the product of the number of values of each key (summed over `$or` branches); use fewer values",
                    );
                }
            }
        }
        other => c.push(
            Path::root(),
            format!("a pattern is a JSON object, not {}", kind(other)),
            "write fields mapped to arrays of values, such as `{\"source\": [\"my.app\"]}`",
        ),
    }
    if c.out.is_empty() {
        Ok(())
    } else {
        Err(c.out)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The number of leaf keys (keys whose value is an array of conditions).
fn leaf_keys(map: &Map<String, Value>) -> usize {
    map.iter()
        .map(|(k, v)| match v {
            Value::Object(inner) => leaf_keys(inner),
            Value::Array(alts) if k == "$or" => alts
                .iter()
                .filter_map(Value::as_object)
                .map(leaf_keys)
                .sum(),
            _ => 1,
        })
        .sum()
}

/// SNS's "total combination of values": the product of each array's length,
/// `$or` branches adding up.
fn combinations(map: &Map<String, Value>) -> u64 {
    map.iter()
        .map(|(k, v)| match v {
            Value::Object(inner) => combinations(inner),
            Value::Array(alts) if k == "$or" => alts
                .iter()
                .filter_map(Value::as_object)
                .map(combinations)
                .fold(0u64, u64::saturating_add),
            Value::Array(values) => values.len() as u64,
            _ => 1,
        })
        .fold(1u64, u64::saturating_mul)
}

struct PatternChecker {
    dialect: Dialect,
    out: Vec<PatternProblem>,
}

impl PatternChecker {
    fn push(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        self.out.push(PatternProblem {
            path,
            message: message.into(),
            hint: hint.into(),
        });
    }

    fn service(&self) -> &'static str {
        self.dialect.service()
    }

    /// A level of fields; `depth` 0 is the pattern itself.
    fn object(&mut self, at: &Path, map: &Map<String, Value>, depth: usize) {
        if map.is_empty() {
            let msg = if depth == 0 {
                "the pattern is empty".to_string()
            } else {
                format!("`{at}` is an empty object")
            };
            self.push(
                at.clone(),
                msg,
                "name at least one field with the values it must have",
            );
            return;
        }
        for (key, value) in map {
            let here = at.key(key.clone());
            if key == "$or" {
                self.or(&here, value, depth);
                continue;
            }
            match value {
                Value::Object(inner) => {
                    if self.dialect == Dialect::SnsAttributes {
                        self.push(
                            here,
                            format!("`{key}` nests an object, but a filter policy on message attributes is flat"),
                            "match attributes by name at the top level, or scope the policy to the message body",
                        );
                    } else {
                        self.object(&here, inner, depth + 1);
                    }
                }
                Value::Array(items) => self.conditions(&here, items),
                other => self.push(
                    here,
                    format!(
                        "`{key}` is {}; a field's values are an array of values to match",
                        kind(other)
                    ),
                    format!("write `{key}: [{other}]`"),
                ),
            }
        }
    }

    fn or(&mut self, at: &Path, value: &Value, depth: usize) {
        if !self.dialect.supports_or() {
            self.push(
                at.clone(),
                format!("{} does not support `$or`", self.service()),
                "Lambda ORs the values of one field's array and its filters (up to five per event source); use those instead",
            );
            return;
        }
        let Value::Array(branches) = value else {
            self.push(
                at.clone(),
                format!("`$or` is {}; it takes an array of patterns", kind(value)),
                "write `$or: [{…}, {…}]`",
            );
            return;
        };
        if branches.len() < 2 {
            self.push(
                at.clone(),
                format!(
                    "`$or` has {} pattern(s); it needs at least two",
                    branches.len()
                ),
                "list two or more alternative patterns, or drop `$or`",
            );
        }
        for (i, branch) in branches.iter().enumerate() {
            let here = at.index(i);
            match branch {
                Value::Object(map) => self.object(&here, map, depth + 1),
                other => self.push(
                    here,
                    format!("a `$or` alternative is {}; it must be a pattern object", kind(other)),
                    "write each alternative as an object of fields, such as `{\"source\": [\"my.app\"]}`",
                ),
            }
        }
    }

    /// A field's array of conditions.
    fn conditions(&mut self, at: &Path, items: &[Value]) {
        if items.is_empty() {
            self.push(
                at.clone(),
                format!("`{at}` is an empty array, which matches nothing"),
                "list the values to match; to match a field that is absent use `[{\"exists\": false}]`",
            );
            return;
        }
        for (i, item) in items.iter().enumerate() {
            let here = at.index(i);
            match item {
                Value::String(_) | Value::Bool(_) | Value::Null => {}
                Value::Number(n) => self.number(&here, n),
                Value::Array(_) => self.push(
                    here,
                    "an array inside a field's array of values",
                    "flatten it: a field's values are one array",
                ),
                Value::Object(op) => self.operator(&here, op),
            }
        }
    }

    fn number(&mut self, at: &Path, n: &serde_json::Number) {
        let bound = self.dialect.numeric_bound();
        if let Some(f) = n.as_f64() {
            if f.abs() > bound {
                self.push(
                    at.clone(),
                    format!(
                        "{n} is outside the numbers {} compares (±{bound:e})",
                        self.service()
                    ),
                    format!("use a number from -{bound:e} to {bound:e}"),
                );
            }
        }
        if self.dialect.is_sns() {
            let text = n.to_string();
            if let Some((_, decimals)) = text.split_once('.') {
                if decimals.trim_end_matches('0').len() > 5 {
                    self.push(
                        at.clone(),
                        format!("{n} has more than five digits after the decimal point"),
                        "SNS compares numbers with five digits of accuracy after the point; round it",
                    );
                }
            }
        }
    }

    fn operator(&mut self, at: &Path, op: &Map<String, Value>) {
        let known = self.dialect.operators();
        let mut keys = op.keys();
        let (Some(name), None) = (keys.next(), keys.next()) else {
            self.push(
                at.clone(),
                format!(
                    "a match condition object has {} keys; it must hold exactly one operator",
                    op.len()
                ),
                format!("use one of {} per object", known.join(", ")),
            );
            return;
        };
        let here = at.key(name.clone());
        if !known.contains(&name.as_str()) {
            let everywhere = Dialect::Rule.operators().contains(&name.as_str());
            let message = if everywhere {
                format!("{} does not support the `{name}` operator", self.service())
            } else {
                format!("`{name}` is not an event pattern operator")
            };
            self.push(
                here,
                message,
                format!("{} supports {}", self.service(), known.join(", ")),
            );
            return;
        }
        let value = &op[name];
        match name.as_str() {
            "prefix" | "suffix" => self.string_or_ignore_case(&here, name, value),
            "equals-ignore-case" | "wildcard" => {
                if !value.is_string() {
                    self.push(
                        here,
                        format!("`{name}` takes a string, not {}", kind(value)),
                        format!("write `{{\"{name}\": \"…\"}}`"),
                    );
                } else if name == "wildcard" {
                    self.wildcard(&here, value.as_str().unwrap_or_default());
                }
            }
            "exists" if !value.is_boolean() => {
                self.push(
                    here,
                    format!("`exists` takes true or false, not {}", kind(value)),
                    "write `{\"exists\": true}` or `{\"exists\": false}`",
                );
            }
            "cidr" => match value.as_str() {
                Some(s) if is_cidr(s) => {}
                Some(s) => self.push(
                    here,
                    format!("`{s}` is not an IP address range in CIDR notation"),
                    "write an IPv4 or IPv6 block such as `10.0.0.0/24` or `2001:db8::/32`",
                ),
                None => self.push(
                    here,
                    format!("`cidr` takes a string, not {}", kind(value)),
                    "write `{\"cidr\": \"10.0.0.0/24\"}`",
                ),
            },
            "numeric" => self.numeric(&here, value),
            "anything-but" => self.anything_but(&here, value),
            _ => {}
        }
    }

    /// `prefix` / `suffix`: a string, or (EventBridge) `{"equals-ignore-case": "…"}`.
    fn string_or_ignore_case(&mut self, at: &Path, name: &str, value: &Value) {
        match value {
            Value::String(_) => {}
            Value::Object(inner) if self.dialect == Dialect::Rule => {
                let ok = inner.len() == 1
                    && inner
                        .get("equals-ignore-case")
                        .is_some_and(Value::is_string);
                if !ok {
                    self.push(
                        at.clone(),
                        format!("`{name}` takes a string or `{{\"equals-ignore-case\": \"…\"}}`"),
                        format!("write `{{\"{name}\": \"…\"}}`"),
                    );
                }
            }
            other => self.push(
                at.clone(),
                format!("`{name}` takes a string, not {}", kind(other)),
                format!("write `{{\"{name}\": \"…\"}}`"),
            ),
        }
    }

    /// EventBridge refuses consecutive wildcard characters.
    fn wildcard(&mut self, at: &Path, text: &str) {
        if text.contains("**") {
            self.push(
                at.clone(),
                format!("`{text}` has consecutive `*` characters"),
                "one `*` already matches any number of characters; remove the repeat",
            );
        }
    }

    fn numeric(&mut self, at: &Path, value: &Value) {
        let hint = "write an operator and a number (`[\">=\", 10]`), or a range with a lower then an upper bound (`[\">\", 0, \"<=\", 5]`); operators are =, <, <=, >, >=";
        let Value::Array(items) = value else {
            self.push(
                at.clone(),
                format!("`numeric` takes an array, not {}", kind(value)),
                hint,
            );
            return;
        };
        if items.len() != 2 && items.len() != 4 {
            self.push(
                at.clone(),
                format!(
                    "`numeric` has {} items; it takes one comparison (2) or a range (4)",
                    items.len()
                ),
                hint,
            );
            return;
        }
        let mut pairs = Vec::new();
        for (i, pair) in items.chunks(2).enumerate() {
            let op = pair[0].as_str();
            let num = pair[1].as_number();
            match (op, num) {
                (Some(o), Some(n)) if ["=", "<", "<=", ">", ">="].contains(&o) => {
                    self.number(&at.index(2 * i + 1), n);
                    pairs.push((o, n.as_f64().unwrap_or(0.0)));
                }
                (Some(o), Some(_)) => {
                    self.push(
                        at.index(2 * i),
                        format!("`{o}` is not a numeric operator"),
                        hint,
                    );
                    return;
                }
                (None, _) => {
                    self.push(
                        at.index(2 * i),
                        format!("`numeric` expects an operator here, not {}", kind(&pair[0])),
                        hint,
                    );
                    return;
                }
                (Some(_), None) => {
                    self.push(
                        at.index(2 * i + 1),
                        format!("`numeric` expects a number here, not {}", kind(&pair[1])),
                        hint,
                    );
                    return;
                }
            }
        }
        if let [(lo_op, lo), (hi_op, hi)] = pairs[..] {
            if !matches!(lo_op, ">" | ">=") || !matches!(hi_op, "<" | "<=") {
                self.push(
                    at.clone(),
                    format!("the range `{lo_op} {lo}, {hi_op} {hi}` is not a lower bound followed by an upper bound"),
                    hint,
                );
            } else if lo >= hi {
                self.push(
                    at.clone(),
                    format!("the range `{lo_op} {lo}, {hi_op} {hi}` is empty"),
                    "the lower bound must be below the upper bound",
                );
            }
        }
    }

    fn anything_but(&mut self, at: &Path, value: &Value) {
        match value {
            Value::String(_) => {}
            Value::Number(n) => self.number(at, n),
            Value::Array(items) => {
                if items.is_empty() {
                    self.push(
                        at.clone(),
                        "`anything-but` has an empty list",
                        "list the values to exclude",
                    );
                }
                let strings = items.iter().all(Value::is_string);
                let numbers = items.iter().all(Value::is_number);
                if !strings && !numbers {
                    self.push(
                        at.clone(),
                        "`anything-but` lists values that are not all strings or all numbers",
                        "list only strings, or only numbers",
                    );
                }
            }
            Value::Object(inner) => {
                let allowed: &[&str] = match self.dialect {
                    Dialect::Rule => &["prefix", "suffix", "equals-ignore-case", "wildcard"],
                    Dialect::SnsAttributes | Dialect::SnsBody => &["prefix", "suffix"],
                    Dialect::LambdaFilter => &[],
                };
                let mut keys = inner.keys();
                let (Some(name), None) = (keys.next(), keys.next()) else {
                    self.push(
                        at.clone(),
                        format!(
                            "`anything-but` holds an object with {} keys; it takes one",
                            inner.len()
                        ),
                        "write `{\"anything-but\": {\"prefix\": \"…\"}}`",
                    );
                    return;
                };
                if !allowed.contains(&name.as_str()) {
                    let hint = if allowed.is_empty() {
                        format!(
                            "{} takes a value or a list of values after `anything-but`",
                            self.service()
                        )
                    } else {
                        format!(
                            "{} accepts {} inside `anything-but`",
                            self.service(),
                            allowed.join(", ")
                        )
                    };
                    self.push(
                        at.key(name.clone()),
                        format!(
                            "{} does not support `anything-but` with `{name}`",
                            self.service()
                        ),
                        hint,
                    );
                    return;
                }
                let inner_value = &inner[name];
                // EventBridge accepts a list for equals-ignore-case and wildcard.
                let ok = inner_value.is_string()
                    || (matches!(name.as_str(), "equals-ignore-case" | "wildcard")
                        && inner_value
                            .as_array()
                            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)));
                if !ok {
                    self.push(
                        at.key(name.clone()),
                        format!(
                            "`anything-but` `{name}` takes a string, not {}",
                            kind(inner_value)
                        ),
                        format!("write `{{\"anything-but\": {{\"{name}\": \"…\"}}}}`"),
                    );
                }
            }
            other => self.push(
                at.clone(),
                format!(
                    "`anything-but` takes a value, a list or an object, not {}",
                    kind(other)
                ),
                "write `{\"anything-but\": \"value\"}` or `{\"anything-but\": [\"a\", \"b\"]}`",
            ),
        }
    }
}

/// Whether `s` is an IPv4 or IPv6 network in CIDR notation.
fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    if let Ok(_v4) = addr.parse::<std::net::Ipv4Addr>() {
        bits <= 32
    } else if let Ok(_v6) = addr.parse::<std::net::Ipv6Addr>() {
        bits <= 128
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: Value, d: Dialect) -> Vec<(String, String)> {
        match check_event_pattern(&v, d) {
            Ok(()) => Vec::new(),
            Err(ps) => ps
                .into_iter()
                .map(|p| (p.path.to_string(), p.message))
                .collect(),
        }
    }

    fn one(v: Value, d: Dialect) -> (String, String) {
        let ps = problems(v, d);
        assert_eq!(ps.len(), 1, "{ps:?}");
        ps.into_iter().next().unwrap_or_default()
    }

    #[test]
    fn documented_rule_patterns_are_accepted() {
        let valid = [
            json!({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["running", "stopped"]}}),
            json!({"time": [{"prefix": "2017-10-02"}]}),
            json!({"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}),
            json!({"FileName": [{"suffix": ".png"}]}),
            json!({"service": [{"suffix": {"equals-ignore-case": "tbridge"}}]}),
            json!({"state": [{"anything-but": "initializing"}]}),
            json!({"x-limit": [{"anything-but": 123}]}),
            json!({"state": [{"anything-but": ["stopped", "overloaded"]}]}),
            json!({"Region": [{"anything-but": {"prefix": "us-"}}]}),
            json!({"FileName": [{"anything-but": {"suffix": ".png"}}]}),
            json!({"state": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]}),
            json!({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}),
            json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}}),
            json!({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}),
            json!({"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/64"}]}}),
            json!({"detail": {"c-count": [{"exists": false}]}}),
            json!({"Name": [{"equals-ignore-case": "alice"}]}),
            json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}),
            json!({"LastName": [""], "MiddleName": [null], "Active": [true]}),
            json!({"source": ["aws.ec2"], "$or": [{"detail": {"state": ["running"]}}, {"detail-type": ["x"]}]}),
        ];
        for v in valid {
            assert_eq!(check_rule_pattern(&v), Ok(()), "{v}");
        }
    }

    #[test]
    fn documented_lambda_filters_are_accepted() {
        let valid = [
            json!({"body": {"RequestCode": ["BBBB"]}}),
            json!({"dynamodb": {"NewImage": {"id": {"BOOL": [true]}}}, "eventName": ["INSERT"]}),
            json!({"data": {"Temperature": [{"numeric": [">", 0, "<=", 100]}], "City": [{"prefix": "Sea"}]}}),
            json!({"body": {"Weather": [{"anything-but": ["Raining"]}], "Name": [{"equals-ignore-case": "alice"}], "File": [{"suffix": ".png"}], "Gone": [{"exists": false}]}}),
        ];
        for v in valid {
            assert_eq!(check_lambda_filter(&v), Ok(()), "{v}");
        }
    }

    #[test]
    fn a_pattern_is_an_object() {
        assert_eq!(
            one(json!(["x"]), Dialect::Rule),
            (
                String::new(),
                "a pattern is a JSON object, not an array".into()
            )
        );
        assert_eq!(
            one(json!({}), Dialect::Rule),
            (String::new(), "the pattern is empty".into())
        );
        assert_eq!(
            one(json!({"detail": {}}), Dialect::Rule),
            ("detail".into(), "`detail` is an empty object".into())
        );
    }

    #[test]
    fn leaves_are_non_empty_arrays_of_flat_values() {
        assert_eq!(
            one(json!({"source": "aws.ec2"}), Dialect::Rule),
            (
                "source".into(),
                "`source` is a string; a field's values are an array of values to match".into()
            )
        );
        assert_eq!(
            one(json!({"detail": {"state": []}}), Dialect::Rule),
            (
                "detail.state".into(),
                "`detail.state` is an empty array, which matches nothing".into()
            )
        );
        assert_eq!(
            one(json!({"source": [["a"]]}), Dialect::Rule),
            (
                "source[0]".into(),
                "an array inside a field's array of values".into()
            )
        );
    }

    #[test]
    fn operator_objects_hold_exactly_one_known_operator() {
        assert_eq!(
            one(
                json!({"a": [{"prefix": "x", "suffix": "y"}]}),
                Dialect::Rule
            ),
            (
                "a[0]".into(),
                "a match condition object has 2 keys; it must hold exactly one operator".into()
            )
        );
        assert_eq!(
            one(json!({"a": [{"contains": "x"}]}), Dialect::Rule),
            (
                "a[0].contains".into(),
                "`contains` is not an event pattern operator".into()
            )
        );
    }

    #[test]
    fn lambda_lacks_some_eventbridge_operators() {
        for (op, v) in [("wildcard", json!("a*")), ("cidr", json!("10.0.0.0/8"))] {
            assert_eq!(
                one(json!({"a": [{op: v}]}), Dialect::LambdaFilter),
                (
                    format!("a[0].{op}"),
                    format!("Lambda event filtering does not support the `{op}` operator")
                )
            );
        }
        assert_eq!(
            one(
                json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]}),
                Dialect::LambdaFilter
            ),
            (
                "$or".into(),
                "Lambda event filtering does not support `$or`".into()
            )
        );
        assert_eq!(
            one(
                json!({"a": [{"anything-but": {"prefix": "x"}}]}),
                Dialect::LambdaFilter
            ),
            (
                "a[0].anything-but.prefix".into(),
                "Lambda event filtering does not support `anything-but` with `prefix`".into()
            )
        );
        assert_eq!(
            one(
                json!({"a": [{"prefix": {"equals-ignore-case": "x"}}]}),
                Dialect::LambdaFilter
            ),
            (
                "a[0].prefix".into(),
                "`prefix` takes a string, not an object".into()
            )
        );
    }

    #[test]
    fn operator_values_have_their_types() {
        let cases = [
            (
                json!({"a": [{"prefix": 1}]}),
                "a[0].prefix",
                "`prefix` takes a string, not a number",
            ),
            (
                json!({"a": [{"prefix": {"wildcard": "x"}}]}),
                "a[0].prefix",
                "`prefix` takes a string or `{\"equals-ignore-case\": \"…\"}`",
            ),
            (
                json!({"a": [{"exists": "yes"}]}),
                "a[0].exists",
                "`exists` takes true or false, not a string",
            ),
            (
                json!({"a": [{"equals-ignore-case": 3}]}),
                "a[0].equals-ignore-case",
                "`equals-ignore-case` takes a string, not a number",
            ),
            (
                json!({"a": [{"cidr": "10.0.0.0"}]}),
                "a[0].cidr",
                "`10.0.0.0` is not an IP address range in CIDR notation",
            ),
            (
                json!({"a": [{"cidr": "10.0.0.0/33"}]}),
                "a[0].cidr",
                "`10.0.0.0/33` is not an IP address range in CIDR notation",
            ),
            (
                json!({"a": [{"wildcard": "a**b"}]}),
                "a[0].wildcard",
                "`a**b` has consecutive `*` characters",
            ),
            (
                json!({"a": [{"anything-but": []}]}),
                "a[0].anything-but",
                "`anything-but` has an empty list",
            ),
            (
                json!({"a": [{"anything-but": ["x", 1]}]}),
                "a[0].anything-but",
                "`anything-but` lists values that are not all strings or all numbers",
            ),
            (
                json!({"a": [{"anything-but": {"prefix": 1}}]}),
                "a[0].anything-but.prefix",
                "`anything-but` `prefix` takes a string, not a number",
            ),
            (
                json!({"a": [{"anything-but": {"numeric": [">", 1]}}]}),
                "a[0].anything-but.numeric",
                "EventBridge does not support `anything-but` with `numeric`",
            ),
            (
                json!({"a": [{"anything-but": true}]}),
                "a[0].anything-but",
                "`anything-but` takes a value, a list or an object, not a boolean",
            ),
        ];
        for (v, path, msg) in cases {
            assert_eq!(
                one(v.clone(), Dialect::Rule),
                (path.to_string(), msg.to_string()),
                "{v}"
            );
        }
    }

    #[test]
    fn numeric_takes_one_comparison_or_an_ordered_range() {
        let cases = [
            (
                json!({"n": [{"numeric": 5}]}),
                "n[0].numeric",
                "`numeric` takes an array, not a number",
            ),
            (
                json!({"n": [{"numeric": [">", 1, "<"]}]}),
                "n[0].numeric",
                "`numeric` has 3 items; it takes one comparison (2) or a range (4)",
            ),
            (
                json!({"n": [{"numeric": ["!=", 1]}]}),
                "n[0].numeric[0]",
                "`!=` is not a numeric operator",
            ),
            (
                json!({"n": [{"numeric": [1, ">"]}]}),
                "n[0].numeric[0]",
                "`numeric` expects an operator here, not a number",
            ),
            (
                json!({"n": [{"numeric": [">", "1"]}]}),
                "n[0].numeric[1]",
                "`numeric` expects a number here, not a string",
            ),
            (
                json!({"n": [{"numeric": ["<", 5, ">", 0]}]}),
                "n[0].numeric",
                "the range `< 5, > 0` is not a lower bound followed by an upper bound",
            ),
            (
                json!({"n": [{"numeric": ["=", 5, "<", 9]}]}),
                "n[0].numeric",
                "the range `= 5, < 9` is not a lower bound followed by an upper bound",
            ),
            (
                json!({"n": [{"numeric": [">", 5, "<=", 5]}]}),
                "n[0].numeric",
                "the range `> 5, <= 5` is empty",
            ),
            (
                json!({"n": [{"numeric": [">", 6e9]}]}),
                "n[0].numeric[1]",
                "6000000000.0 is outside the numbers EventBridge compares (±5e9)",
            ),
        ];
        for (v, path, msg) in cases {
            assert_eq!(
                one(v.clone(), Dialect::Rule),
                (path.to_string(), msg.to_string()),
                "{v}"
            );
        }
    }

    #[test]
    fn or_takes_two_or_more_pattern_objects() {
        assert_eq!(
            one(json!({"$or": {"a": ["x"]}}), Dialect::Rule),
            (
                "$or".into(),
                "`$or` is an object; it takes an array of patterns".into()
            )
        );
        assert_eq!(
            one(json!({"$or": [{"a": ["x"]}]}), Dialect::Rule),
            (
                "$or".into(),
                "`$or` has 1 pattern(s); it needs at least two".into()
            )
        );
        assert_eq!(
            one(json!({"$or": [{"a": ["x"]}, "b"]}), Dialect::Rule),
            (
                "$or[1]".into(),
                "a `$or` alternative is a string; it must be a pattern object".into()
            )
        );
        assert_eq!(
            one(json!({"$or": [{"a": ["x"]}, {"b": "y"}]}), Dialect::Rule),
            (
                "$or[1].b".into(),
                "`b` is a string; a field's values are an array of values to match".into()
            )
        );
    }

    #[test]
    fn size_limits_depend_on_the_service() {
        let long = "x".repeat(4100);
        let v = json!({"a": [long]});
        let len = serde_json::to_string(&v).map(|s| s.len()).unwrap_or(0);
        assert_eq!(
            one(v.clone(), Dialect::Rule),
            (
                String::new(),
                format!(
                    "the pattern is {len} characters of JSON; EventBridge accepts at most 4096"
                )
            )
        );
        assert_eq!(
            one(v.clone(), Dialect::LambdaFilter).1,
            format!("the pattern is {len} characters of JSON; Lambda event filtering accepts at most 4096")
        );
        assert_eq!(check_sns_filter_policy(&v, false), Ok(()));
        let fits = json!({"a": ["x".repeat(4000)]});
        assert_eq!(check_rule_pattern(&fits), Ok(()));
    }

    #[test]
    fn sns_filter_policies_have_their_own_limits() {
        // The documented example: 3 × 1 × 2 = 6 combinations.
        let doc = json!({"key_a": ["value_one", "value_two", "value_three"], "key_b": ["value_one"], "key_c": ["value_one", "value_two"]});
        assert_eq!(check_sns_filter_policy(&doc, false), Ok(()));
        let six_keys =
            json!({"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]});
        assert_eq!(
            one(six_keys, Dialect::SnsAttributes),
            (
                String::new(),
                "the filter policy has 6 keys; SNS allows at most 5".into()
            )
        );
        let nested_six = json!({"a": {"b": ["1"], "c": ["1"], "d": ["1"]}, "e": {"f": ["1"], "g": ["1"], "h": ["1"]}});
        assert_eq!(
            one(nested_six, Dialect::SnsBody).1,
            "the filter policy has 6 keys; SNS allows at most 5"
        );
        let values: Vec<String> = (0..13).map(|i| i.to_string()).collect();
        let many = json!({"a": values, "b": values});
        assert_eq!(
            one(many, Dialect::SnsAttributes).1,
            "the filter policy has 169 combinations of values; SNS allows at most 150"
        );
        let twelve: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(
            check_sns_filter_policy(&json!({"a": twelve, "b": twelve}), false),
            Ok(())
        );
        assert_eq!(
            one(json!({"a": {"b": ["x"]}}), Dialect::SnsAttributes),
            (
                "a".into(),
                "`a` nests an object, but a filter policy on message attributes is flat".into()
            )
        );
        assert_eq!(
            check_sns_filter_policy(&json!({"a": {"b": ["x"]}}), true),
            Ok(())
        );
        assert_eq!(
            one(
                json!({"price": [{"numeric": [">", 2e9]}]}),
                Dialect::SnsAttributes
            )
            .1,
            "2000000000.0 is outside the numbers SNS compares (±1e9)"
        );
        assert_eq!(
            one(json!({"price": [1.123456]}), Dialect::SnsAttributes),
            (
                "price[0]".into(),
                "1.123456 has more than five digits after the decimal point".into()
            )
        );
        assert_eq!(
            one(json!({"a": [{"wildcard": "x*"}]}), Dialect::SnsAttributes).1,
            "SNS does not support the `wildcard` operator"
        );
        let documented = json!({
            "store": ["example_corp"],
            "event": [{"anything-but": "order_cancelled"}],
            "customer_interests": ["rugby", "football", "baseball"],
            "price_usd": [{"numeric": [">=", 100]}],
            "source_ip": [{"cidr": "10.0.0.0/24"}]
        });
        assert_eq!(check_sns_filter_policy(&documented, false), Ok(()));
        let or = json!({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]});
        assert_eq!(check_sns_filter_policy(&or, false), Ok(()));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let v = json!({"a": [], "b": "x", "c": [{"exists": 1}]});
        let paths: Vec<String> = problems(v, Dialect::Rule)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(paths, ["a", "b", "c[0].exists"]);
    }
}

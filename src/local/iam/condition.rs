//! A statement's `Condition` block against what the request tells.
//!
//! Keys compare without regard to case. Some keys are known to be absent
//! from a request (no `s3:prefix` on a listing without one, no
//! `kms:ViaService` on a call the function makes itself); IAM evaluates
//! those as absent. A resource's tags (`aws:ResourceTag/K`,
//! `ec2:ResourceTag/K`) are not in the request: they are unknown until the
//! caller asks the service and says what it answered
//! ([`Context::with_resource_tags`]), or says why it could not
//! ([`Context::with_resource_tags_unavailable`]). Some keys come as a
//! family under a prefix that the request tells whole (a KMS call's
//! encryption context, `kms:EncryptionContext:K` for each pair `K`): a key
//! of the family the request does not have is absent
//! ([`Context::with_family`]). A condition on a key that is not known is
//! taken as not met, and the evaluation says which key it was and, when a
//! lookup failed, why.

use super::pattern;
use serde_json::Value;
use std::collections::BTreeMap;

/// The request's condition keys: a value, several, or known to be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, Option<Vec<String>>>,
    resource_tags: ResourceTags,
    /// Prefixes (lowercased) of key families the request tells whole: a key
    /// under one of them that `keys` lacks is absent.
    families: Vec<String>,
}

/// What is known of the tags of the request's resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum ResourceTags {
    /// Not asked: the tag keys are unknown.
    #[default]
    NotAsked,
    /// Tag key (lowercased) to its values: every other tag key is absent.
    Known(BTreeMap<String, Vec<String>>),
    /// The service was asked and did not tell; the reason says why.
    Unavailable(String),
}

/// The tag key of `aws:ResourceTag/K` or `ec2:ResourceTag/K` (`K`, as
/// written), in any case; `None` for any other condition key.
pub fn resource_tag_key(key: &str) -> Option<&str> {
    ["aws:resourcetag/", "ec2:resourcetag/"]
        .iter()
        .find_map(|prefix| {
            let head = key.get(..prefix.len())?;
            head.eq_ignore_ascii_case(prefix)
                .then(|| &key[prefix.len()..])
        })
        .filter(|tag| !tag.is_empty())
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

    /// The whole family of keys under `prefix`: `prefix` + each name with
    /// its value, and every other key under `prefix` absent.
    ///
    /// Names are looked up lowercased, as every condition key here. Two
    /// names differing only in case (a KMS encryption context is
    /// case-sensitive, its condition key names are not) keep both values,
    /// so a positive operator is met by either.
    pub fn with_family<'p>(
        mut self,
        prefix: &str,
        pairs: impl IntoIterator<Item = (&'p str, &'p str)>,
    ) -> Context {
        let prefix = prefix.to_ascii_lowercase();
        self.keys.retain(|key, _| !key.starts_with(&prefix));
        for (name, value) in pairs {
            let values = self
                .keys
                .entry(format!("{prefix}{}", name.to_ascii_lowercase()))
                .or_insert_with(|| Some(Vec::new()));
            values.get_or_insert_with(Vec::new).push(value.to_string());
        }
        if !self.families.contains(&prefix) {
            self.families.push(prefix);
        }
        self
    }

    /// Whether the request tells the whole family `key` belongs to.
    fn in_told_family(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        self.families
            .iter()
            .any(|prefix| key.len() > prefix.len() && key.starts_with(prefix.as_str()))
    }

    /// The resource's tags are known: `aws:ResourceTag/K` and
    /// `ec2:ResourceTag/K` are the value of tag `K`, or absent when the
    /// resource has no tag `K`.
    ///
    /// Keys are looked up lowercased, as every condition key here: IAM
    /// compares condition key names without case. EC2 tag keys are
    /// case-sensitive, so a resource may have both `Env` and `env`; which
    /// one IAM reads then is not documented, so both values are kept
    /// (a positive operator is met by either).
    pub fn with_resource_tags<'t>(
        mut self,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> Context {
        let mut known: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in tags {
            known
                .entry(key.to_ascii_lowercase())
                .or_default()
                .push(value.to_string());
        }
        self.resource_tags = ResourceTags::Known(known);
        self
    }

    /// The resource's tags were asked for and not told: `why` is named in
    /// the reason of every condition on them.
    pub fn with_resource_tags_unavailable(mut self, why: impl Into<String>) -> Context {
        self.resource_tags = ResourceTags::Unavailable(why.into());
        self
    }

    /// Adds `other`'s keys (and resource tags) where this context says
    /// nothing of them.
    pub fn or(mut self, other: &Context) -> Context {
        for (key, values) in &other.keys {
            // A family this context tells whole has no other members.
            if self.in_told_family(key) {
                continue;
            }
            self.keys
                .entry(key.clone())
                .or_insert_with(|| values.clone());
        }
        for prefix in &other.families {
            if !self.families.contains(prefix) {
                self.families.push(prefix.clone());
            }
        }
        if self.resource_tags == ResourceTags::NotAsked {
            self.resource_tags = other.resource_tags.clone();
        }
        self
    }

    /// Whether `key` has a value here or is known to be absent.
    pub fn knows(&self, key: &str) -> bool {
        !matches!(self.lookup(key), Lookup::Unknown(_))
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
            None if self.in_told_family(key) => Lookup::Absent,
            None => match resource_tag_key(key) {
                Some(tag) => self.resource_tag(tag),
                None => Lookup::Unknown(None),
            },
        }
    }

    fn resource_tag(&self, tag: &str) -> Lookup<'_> {
        match &self.resource_tags {
            ResourceTags::NotAsked => Lookup::Unknown(None),
            ResourceTags::Unavailable(why) => Lookup::Unknown(Some(why)),
            ResourceTags::Known(tags) => match tags.get(&tag.to_ascii_lowercase()) {
                Some(values) => Lookup::Values(values),
                None => Lookup::Absent,
            },
        }
    }
}

enum Lookup<'a> {
    Values(&'a [String]),
    Absent,
    /// With the reason when the context was told why.
    Unknown(Option<&'a str>),
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
            Lookup::Unknown(None) => {
                Test::Unknown(format!("condition key {} is not known locally", self.key))
            }
            Lookup::Unknown(Some(why)) => {
                Test::Unknown(format!("condition key {} is not known: {why}", self.key))
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
    fn known_resource_tags_give_the_tag_value_under_both_prefixes() {
        let tagged = Context::new().with_resource_tags([("fleet-console", "managed")]);
        for key in [
            "aws:ResourceTag/fleet-console",
            "ec2:ResourceTag/fleet-console",
        ] {
            let c = one(json!({"StringEquals": {key: "managed"}}));
            assert_eq!(c.test(&tagged), Test::Met, "{key}");
            let other = Context::new().with_resource_tags([("fleet-console", "legacy")]);
            assert_eq!(c.test(&other), Test::NotMet, "{key}");
        }
        assert_eq!(
            tagged.value("AWS:RESOURCETAG/Fleet-Console"),
            Some("managed")
        );
    }

    #[test]
    fn a_tag_the_resource_does_not_have_is_known_absent() {
        let untagged = Context::new().with_resource_tags([("Name", "web-1")]);
        let equals = one(json!({"StringEquals": {"aws:ResourceTag/fleet-console": "managed"}}));
        assert_eq!(equals.test(&untagged), Test::NotMet);
        let not_equals =
            one(json!({"StringNotEquals": {"ec2:ResourceTag/fleet-console": "managed"}}));
        assert_eq!(not_equals.test(&untagged), Test::Met);
        let null = one(json!({"Null": {"aws:ResourceTag/fleet-console": "true"}}));
        assert_eq!(null.test(&untagged), Test::Met);
        assert!(untagged.knows("aws:ResourceTag/anything"));
        assert!(
            !untagged.knows("aws:RequestTag/fleet-console"),
            "only the resource's tags are told"
        );
    }

    #[test]
    fn tag_keys_compare_without_case_and_keys_differing_only_in_case_keep_both_values() {
        let c = one(json!({"StringEquals": {"aws:ResourceTag/Env": "prod"}}));
        let lower = Context::new().with_resource_tags([("env", "prod")]);
        assert_eq!(c.test(&lower), Test::Met);
        let both = Context::new().with_resource_tags([("Env", "dev"), ("env", "prod")]);
        assert_eq!(c.test(&both), Test::Met);
        let values = Context::new().with_resource_tags([("env", "PROD")]);
        assert_eq!(c.test(&values), Test::NotMet, "values keep their case");
    }

    #[test]
    fn unavailable_tags_stay_unknown_and_say_why() {
        let c = one(json!({"StringEquals": {"aws:ResourceTag/fleet-console": "managed"}}));
        let ctx = Context::new().with_resource_tags_unavailable("the lookup failed");
        assert_eq!(
            c.test(&ctx),
            Test::Unknown(
                "condition key aws:ResourceTag/fleet-console is not known: the lookup failed"
                    .into()
            )
        );
        assert!(!ctx.knows("aws:ResourceTag/fleet-console"));
    }

    #[test]
    fn or_keeps_known_tags_and_a_key_set_explicitly_wins_over_them() {
        let defaults = Context::new().with_resource_tags([("team", "a")]);
        let merged = Context::new().or(&defaults);
        assert_eq!(merged.value("aws:ResourceTag/team"), Some("a"));
        let own = Context::new()
            .with_resource_tags([("team", "b")])
            .or(&defaults);
        assert_eq!(own.value("aws:ResourceTag/team"), Some("b"));
        let explicit = Context::new()
            .with("aws:ResourceTag/team", Some("c"))
            .with_resource_tags([("team", "b")]);
        assert_eq!(explicit.value("aws:ResourceTag/team"), Some("c"));
    }

    #[test]
    fn a_family_told_whole_gives_its_values_and_every_other_member_is_absent() {
        let ctx = Context::new().with_family(
            "kms:EncryptionContext:",
            [("purpose", "ebay-refresh-token"), ("userId", "u-1")],
        );
        let purpose =
            one(json!({"StringEquals": {"kms:EncryptionContext:purpose": "ebay-refresh-token"}}));
        assert_eq!(purpose.test(&ctx), Test::Met);
        assert_eq!(
            ctx.value("KMS:ENCRYPTIONCONTEXT:USERID"),
            Some("u-1"),
            "names compare without case"
        );
        let other = one(json!({"StringEquals": {"kms:EncryptionContext:purpose": "session"}}));
        assert_eq!(
            other.test(&ctx),
            Test::NotMet,
            "values keep their case and text"
        );
        let missing = one(json!({"StringEquals": {"kms:EncryptionContext:tenant": "a"}}));
        assert_eq!(missing.test(&ctx), Test::NotMet, "absent, not unknown");
        assert!(ctx.knows("kms:EncryptionContext:anything"));
        assert!(
            !ctx.knows("kms:EncryptionContextKeys"),
            "only the family's members"
        );
        let none = Context::new().with_family("kms:EncryptionContext:", []);
        assert_eq!(purpose.test(&none), Test::NotMet);
        assert!(
            matches!(purpose.test(&Context::new()), Test::Unknown(_)),
            "untold, it stays unknown"
        );
    }

    #[test]
    fn a_family_keeps_both_values_of_names_differing_in_case_and_wins_over_defaults() {
        let ctx = Context::new().with_family(
            "kms:EncryptionContext:",
            [("Purpose", "other"), ("purpose", "ebay-refresh-token")],
        );
        let c =
            one(json!({"StringEquals": {"kms:EncryptionContext:purpose": "ebay-refresh-token"}}));
        assert_eq!(c.test(&ctx), Test::Met);
        let defaults = Context::new().with("kms:EncryptionContext:purpose", Some("x"));
        let merged = Context::new()
            .with_family("kms:EncryptionContext:", [])
            .or(&defaults);
        assert_eq!(
            c.test(&merged),
            Test::NotMet,
            "the request's family is whole"
        );
        let inherited = Context::new().or(&Context::new().with_family(
            "kms:EncryptionContext:",
            [("purpose", "ebay-refresh-token")],
        ));
        assert_eq!(c.test(&inherited), Test::Met);
    }

    #[test]
    fn resource_tag_keys_are_recognised_in_any_case() {
        assert_eq!(resource_tag_key("aws:ResourceTag/a/b"), Some("a/b"));
        assert_eq!(resource_tag_key("EC2:resourcetag/Env"), Some("Env"));
        assert_eq!(resource_tag_key("aws:ResourceTag/"), None);
        assert_eq!(resource_tag_key("aws:RequestTag/Env"), None);
        assert_eq!(resource_tag_key("s3:ExistingObjectTag/Env"), None);
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

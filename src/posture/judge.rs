//! The verdict: an expectation and what AWS reports about the resource
//! become checks, each PASS or FAIL with what was expected and found.

use super::policy::differences;
use super::{metric_query, AlarmSpec, Expectation, Expected, MetricNamed};
use crate::engine::cloudwatch::AlarmDefinition;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What AWS reports about the resource of one expectation; `None` inside
/// means the resource is not there.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// The ARN of the web ACL protecting the resource.
    WebAcl(Option<String>),
    Key(Option<KeyFacts>),
    Role(Option<RoleFacts>),
    Alarm(Option<Box<AlarmDefinition>>),
    /// Every subscription of the topic.
    Subscriptions(Vec<SubscriptionFacts>),
    Table(Option<TableFacts>),
    Bucket(Option<BucketFacts>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyFacts {
    /// KMS's key state: `Enabled`, `Disabled`, `PendingDeletion`…
    pub state: String,
    pub rotation: bool,
    /// The `default` key policy.
    pub policy: Value,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleFacts {
    pub inline: BTreeMap<String, Value>,
    pub managed: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionFacts {
    pub protocol: String,
    pub endpoint: String,
    /// `PendingConfirmation` until the endpoint confirms.
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableFacts {
    pub point_in_time_recovery: bool,
    /// The key's ARN when the table is encrypted with a customer key.
    pub kms_key_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BucketFacts {
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
    /// RestrictPublicBuckets; `None` when the bucket has no block.
    pub public_access_block: Option<[bool; 4]>,
    pub algorithm: Option<String>,
    pub kms_key: Option<String>,
}

/// One verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub logical_id: String,
    /// What is checked, as a short phrase: `key rotation`.
    pub check: String,
    pub passed: bool,
    pub expected: String,
    pub found: String,
}

fn check(e: &Expectation, what: &str, passed: bool, expected: String, found: String) -> Check {
    Check {
        logical_id: e.logical_id.clone(),
        check: what.to_string(),
        passed,
        expected,
        found,
    }
}

/// The checks of one expectation against what AWS reports.
pub fn judge(e: &Expectation, observed: &Observed) -> Vec<Check> {
    if !e.unresolved.is_empty() {
        return vec![check(
            e,
            "resolvable",
            false,
            "every value of the template known from the deployed stack".into(),
            e.unresolved.join("; "),
        )];
    }
    match (&e.expected, observed) {
        (
            Expected::WebAclAttached {
                web_acl_arn,
                resource_arn,
            },
            Observed::WebAcl(found),
        ) => {
            vec![check(
                e,
                "web ACL attached",
                found.as_deref() == Some(web_acl_arn),
                format!("{web_acl_arn} protects {resource_arn}"),
                match found {
                    Some(arn) => format!("{arn} protects it"),
                    None => "no web ACL protects it".into(),
                },
            )]
        }
        (Expected::Key { .. }, Observed::Key(facts)) => key(e, facts.as_ref()),
        (Expected::Role { .. }, Observed::Role(facts)) => role(e, facts.as_ref()),
        (Expected::Alarm(spec), Observed::Alarm(found)) => vec![alarm(e, spec, found.as_deref())],
        (Expected::Subscription { .. }, Observed::Subscriptions(found)) => {
            vec![subscription(e, found)]
        }
        (Expected::Table { .. }, Observed::Table(facts)) => table(e, facts.as_ref()),
        (Expected::Bucket { .. }, Observed::Bucket(facts)) => bucket(e, facts.as_ref()),
        (_, other) => vec![check(
            e,
            "readable",
            false,
            "facts of the resource's own kind".into(),
            format!("{other:?}"),
        )],
    }
}

fn missing(e: &Expectation, what: &str, name: &str) -> Vec<Check> {
    vec![check(
        e,
        what,
        false,
        format!("{name} exists"),
        "it does not exist".into(),
    )]
}

fn key(e: &Expectation, facts: Option<&KeyFacts>) -> Vec<Check> {
    let Expected::Key {
        key_id,
        rotation,
        policy,
    } = &e.expected
    else {
        return Vec::new();
    };
    let Some(facts) = facts else {
        return missing(e, "key enabled", &format!("key {key_id}"));
    };
    let on_off = |b: bool| if b { "on" } else { "off" }.to_string();
    let policy_difference = differences(policy, &facts.policy);
    vec![
        check(
            e,
            "key enabled",
            facts.state == "Enabled",
            "Enabled".into(),
            facts.state.clone(),
        ),
        check(
            e,
            "key rotation",
            facts.rotation == *rotation,
            on_off(*rotation),
            on_off(facts.rotation),
        ),
        check(
            e,
            "key policy",
            policy_difference.is_empty(),
            "the template's key policy".into(),
            if policy_difference.is_empty() {
                "the same statements".into()
            } else {
                policy_difference.describe()
            },
        ),
    ]
}

fn role(e: &Expectation, facts: Option<&RoleFacts>) -> Vec<Check> {
    let Expected::Role {
        role_name,
        inline,
        managed,
    } = &e.expected
    else {
        return Vec::new();
    };
    let Some(facts) = facts else {
        return missing(e, "role policies", &format!("role {role_name}"));
    };
    let mut checks = Vec::new();
    let names: BTreeSet<&String> = inline.keys().chain(facts.inline.keys()).collect();
    for name in names {
        let (passed, found) = match (inline.get(name), facts.inline.get(name)) {
            (Some(want), Some(have)) => {
                let d = differences(want, have);
                (
                    d.is_empty(),
                    if d.is_empty() {
                        "the same statements".into()
                    } else {
                        d.describe()
                    },
                )
            }
            (Some(_), None) => (false, "no such inline policy".into()),
            (None, Some(_)) => (false, "an inline policy added outside the stack".into()),
            (None, None) => continue,
        };
        let expected = if inline.contains_key(name) {
            "the derived statements".to_string()
        } else {
            "no such inline policy".to_string()
        };
        checks.push(check(
            e,
            &format!("inline policy {name}"),
            passed,
            expected,
            found,
        ));
    }
    let added: Vec<&String> = facts.managed.difference(managed).collect();
    let lacking: Vec<&String> = managed.difference(&facts.managed).collect();
    checks.push(check(
        e,
        "attached policies",
        added.is_empty() && lacking.is_empty(),
        list_or_none(managed.iter()),
        match (added.is_empty(), lacking.is_empty()) {
            (true, true) => list_or_none(facts.managed.iter()),
            _ => format!(
                "{}{}",
                if added.is_empty() {
                    String::new()
                } else {
                    format!(
                        "attached outside the stack: {} ",
                        list_or_none(added.into_iter())
                    )
                },
                if lacking.is_empty() {
                    String::new()
                } else {
                    format!("not attached: {}", list_or_none(lacking.into_iter()))
                },
            )
            .trim_end()
            .to_string(),
        },
    ));
    checks
}

fn list_or_none<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let items: Vec<&str> = items.map(String::as_str).collect();
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn alarm(e: &Expectation, spec: &AlarmSpec, found: Option<&AlarmDefinition>) -> Check {
    let Some(found) = found else {
        return check(
            e,
            "alarm",
            false,
            format!("alarm {} exists", spec.name),
            "it does not exist".into(),
        );
    };
    let mut wrong = Vec::new();
    let mut compare = |what: &str, want: String, have: String| {
        if want != have {
            wrong.push(format!("{what} {have} (expected {want})"));
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    let num = |v: Option<i64>| v.map_or("none".into(), |n| n.to_string());
    compare("namespace", opt(&spec.namespace), opt(&found.namespace));
    compare("metric", opt(&spec.metric_name), opt(&found.metric_name));
    let dimensions: BTreeMap<String, String> = found
        .dimensions
        .iter()
        .map(|d| (d.name.clone(), d.value.clone()))
        .collect();
    compare(
        "dimensions",
        format!("{:?}", spec.dimensions),
        format!("{dimensions:?}"),
    );
    compare("statistic", opt(&spec.statistic), opt(&found.statistic));
    compare(
        "extended statistic",
        opt(&spec.extended_statistic),
        opt(&found.extended_statistic),
    );
    compare(
        "threshold",
        spec.threshold.map_or("none".into(), |t| t.to_string()),
        found.threshold.map_or("none".into(), |t| t.to_string()),
    );
    compare(
        "comparison",
        opt(&spec.comparison_operator),
        opt(&found.comparison_operator),
    );
    compare("period", num(spec.period), num(found.period.map(i64::from)));
    compare(
        "evaluation periods",
        num(spec.evaluation_periods),
        num(found.evaluation_periods.map(i64::from)),
    );
    if spec.datapoints_to_alarm.is_some() {
        compare(
            "datapoints to alarm",
            num(spec.datapoints_to_alarm),
            num(found.datapoints_to_alarm.map(i64::from)),
        );
    }
    if spec.treat_missing_data.is_some() {
        compare(
            "missing data",
            opt(&spec.treat_missing_data),
            opt(&found.treat_missing_data),
        );
    }
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
    compare(
        "alarm actions",
        format!("{:?}", spec.alarm_actions),
        format!("{:?}", set(&found.alarm_actions)),
    );
    compare(
        "OK actions",
        format!("{:?}", spec.ok_actions),
        format!("{:?}", set(&found.ok_actions)),
    );
    let found_metrics: BTreeSet<String> = found
        .metrics
        .iter()
        .map(|q| {
            let stat = q.metric_stat.as_ref();
            let dimensions: BTreeMap<String, String> = stat
                .map(|s| {
                    s.dimensions
                        .iter()
                        .map(|d| (d.name.clone(), d.value.clone()))
                        .collect()
                })
                .unwrap_or_default();
            metric_query(
                &q.id,
                q.expression.as_deref(),
                stat.map(|s| MetricNamed {
                    namespace: &s.namespace,
                    name: &s.metric_name,
                    dimensions: &dimensions,
                    stat: s.stat.as_deref(),
                    period: s.period.map(i64::from),
                }),
                q.return_data,
            )
        })
        .collect();
    compare(
        "metric math",
        format!("{:?}", spec.metrics),
        format!("{found_metrics:?}"),
    );
    compare(
        "actions",
        if spec.actions_enabled {
            "enabled"
        } else {
            "disabled"
        }
        .into(),
        if found.actions_enabled == Some(false) {
            "disabled"
        } else {
            "enabled"
        }
        .into(),
    );
    let passed = wrong.is_empty();
    check(
        e,
        "alarm",
        passed,
        format!(
            "{} {} {} {} over {}s, telling {}",
            opt(&spec.metric_name),
            opt(&spec.statistic.clone().or(spec.extended_statistic.clone())),
            opt(&spec.comparison_operator),
            spec.threshold.map_or("none".into(), |t| t.to_string()),
            num(spec.period),
            list_or_none(spec.alarm_actions.iter()),
        ),
        if passed {
            "as declared".into()
        } else {
            wrong.join("; ")
        },
    )
}

fn subscription(e: &Expectation, found: &[SubscriptionFacts]) -> Check {
    let Expected::Subscription {
        topic_arn,
        protocol,
        endpoint,
    } = &e.expected
    else {
        return check(e, "subscription", false, String::new(), String::new());
    };
    let ours = found
        .iter()
        .find(|s| &s.protocol == protocol && &s.endpoint == endpoint);
    let expected = format!("{protocol} {endpoint} subscribed to {topic_arn}, confirmed");
    match ours {
        None => check(
            e,
            "subscription",
            false,
            expected,
            format!(
                "not subscribed (the topic has {} subscription{})",
                found.len(),
                if found.len() == 1 { "" } else { "s" }
            ),
        ),
        Some(s) if s.arn == "PendingConfirmation" => check(
            e,
            "subscription",
            false,
            expected,
            "pending confirmation: nobody receives the alerts until the endpoint confirms".into(),
        ),
        Some(s) => check(
            e,
            "subscription",
            true,
            expected,
            format!("confirmed ({})", s.arn),
        ),
    }
}

fn table(e: &Expectation, facts: Option<&TableFacts>) -> Vec<Check> {
    let Expected::Table {
        name,
        point_in_time_recovery,
        kms_key_arn,
    } = &e.expected
    else {
        return Vec::new();
    };
    let Some(facts) = facts else {
        return missing(e, "table", &format!("table {name}"));
    };
    let on_off = |b: bool| if b { "on" } else { "off" }.to_string();
    let key = |k: &Option<String>| k.clone().unwrap_or_else(|| "an AWS owned key".into());
    vec![
        check(
            e,
            "point-in-time recovery",
            facts.point_in_time_recovery == *point_in_time_recovery,
            on_off(*point_in_time_recovery),
            on_off(facts.point_in_time_recovery),
        ),
        check(
            e,
            "table key",
            facts.kms_key_arn == *kms_key_arn,
            key(kms_key_arn),
            key(&facts.kms_key_arn),
        ),
    ]
}

fn bucket(e: &Expectation, facts: Option<&BucketFacts>) -> Vec<Check> {
    let Expected::Bucket {
        name,
        algorithm,
        kms_key,
    } = &e.expected
    else {
        return Vec::new();
    };
    let Some(facts) = facts else {
        return missing(e, "bucket", &format!("bucket {name}"));
    };
    let block = match facts.public_access_block {
        None => "no public access block".to_string(),
        Some(flags) => {
            let names = [
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            ];
            let off: Vec<&str> = names
                .iter()
                .zip(flags)
                .filter(|(_, on)| !on)
                .map(|(n, _)| *n)
                .collect();
            if off.is_empty() {
                "all four settings on".into()
            } else {
                format!("off: {}", off.join(", "))
            }
        }
    };
    let encryption = |alg: &Option<String>, key: &Option<String>| match (alg, key) {
        (None, _) => "no default encryption".to_string(),
        (Some(alg), None) => alg.clone(),
        (Some(alg), Some(key)) => format!("{alg} with {key}"),
    };
    let wanted_algorithm = algorithm.clone().or_else(|| Some("AES256".into()));
    let encryption_ok = facts.algorithm.is_some()
        && facts.algorithm == wanted_algorithm
        && (kms_key.is_none() || facts.kms_key == *kms_key);
    vec![
        check(
            e,
            "public access blocked",
            facts.public_access_block == Some([true; 4]),
            "all four settings on".into(),
            block,
        ),
        check(
            e,
            "bucket encryption",
            encryption_ok,
            encryption(&wanted_algorithm, kms_key),
            encryption(&facts.algorithm, &facts.kms_key),
        ),
    ]
}

//! What `stackctl verify` checks: the posture a deployed stack must have,
//! derived from its rendered template resolved against the deployment
//! ([`expectations`]), and the verdict on what AWS reports ([`judge`]).
//!
//! Pure: no AWS, no I/O. The engine reads the live facts
//! (`engine::posture`); the CLI prints the checks.

pub mod judge;
pub mod policy;

use crate::local::iam::role::resolve;
use crate::local::template::{referenced_id, resources_of, Resolver};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One resource of the template and what it must be like once deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub logical_id: String,
    pub expected: Expected,
    /// Values of the template the deployment could not resolve: the
    /// expectation cannot be met while any is missing.
    pub unresolved: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// A web ACL protects a resource (`AWS::WAFv2::WebACLAssociation`).
    WebAclAttached {
        resource_arn: String,
        web_acl_arn: String,
    },
    /// A KMS key: enabled, rotating as declared, with the declared policy.
    Key {
        key_id: String,
        rotation: bool,
        policy: Value,
    },
    /// A role's inline policies (by name) and attached managed policies,
    /// nothing more.
    Role {
        role_name: String,
        inline: BTreeMap<String, Value>,
        managed: BTreeSet<String>,
    },
    /// A CloudWatch alarm as declared.
    Alarm(Box<AlarmSpec>),
    /// A topic's subscription.
    Subscription {
        topic_arn: String,
        protocol: String,
        endpoint: String,
    },
    /// A table's point-in-time recovery and encryption key.
    Table {
        name: String,
        point_in_time_recovery: bool,
        kms_key_arn: Option<String>,
    },
    /// A bucket's public access block (all four settings on) and encryption.
    Bucket {
        name: String,
        algorithm: Option<String>,
        kms_key: Option<String>,
    },
}

/// The parts of an alarm that decide when it fires and whom it tells.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: BTreeMap<String, String>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub period: Option<i64>,
    pub evaluation_periods: Option<i64>,
    pub datapoints_to_alarm: Option<i64>,
    pub treat_missing_data: Option<String>,
    pub alarm_actions: BTreeSet<String>,
    pub ok_actions: BTreeSet<String>,
    /// A metric-math alarm's queries, each in [`metric_query`]'s spelling.
    pub metrics: BTreeSet<String>,
    /// `ActionsEnabled` (default true): an alarm whose actions are off
    /// tells nobody.
    pub actions_enabled: bool,
}

/// The metric a query of a metric-math alarm names.
pub struct MetricNamed<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub dimensions: &'a BTreeMap<String, String>,
    pub stat: Option<&'a str>,
    pub period: Option<i64>,
}

/// One query of a metric-math alarm as one comparable line:
/// `e1 = m1 / m2 * 100` or `m1 = AWS/Lambda Errors {FunctionName=f} Sum 60`.
pub fn metric_query(
    id: &str,
    expression: Option<&str>,
    metric: Option<MetricNamed<'_>>,
    return_data: Option<bool>,
) -> String {
    let returned = if return_data == Some(false) {
        ""
    } else {
        " (returned)"
    };
    match (expression, metric) {
        (Some(expression), _) => format!("{id} = {expression}{returned}"),
        (None, Some(m)) => {
            let dimensions: Vec<String> = m
                .dimensions
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!(
                "{id} = {} {} {{{}}} {} {}{returned}",
                m.namespace,
                m.name,
                dimensions.join(","),
                m.stat.unwrap_or("?"),
                m.period.map_or("?".into(), |p| p.to_string())
            )
        }
        (None, None) => format!("{id} = ?"),
    }
}

/// Every expectation the template implies, in template order within kinds.
pub fn expectations(template: &Value, resolver: &Resolver<'_>) -> Vec<Expectation> {
    let mut found = Vec::new();
    let each = |kind: &'static str| resources_of(template, kind);
    for (id, r) in each("AWS::WAFv2::WebACLAssociation") {
        found.push(expectation(resolver, id, r, &|p| {
            Expected::WebAclAttached {
                resource_arn: text(&p["ResourceArn"]),
                web_acl_arn: text(&p["WebACLArn"]),
            }
        }));
    }
    for (id, r) in each("AWS::KMS::Key") {
        found.push(expectation(resolver, id, r, &|p| Expected::Key {
            key_id: text(&p["__physical_id"]),
            rotation: p["EnableKeyRotation"].as_bool().unwrap_or(false),
            policy: p["KeyPolicy"].clone(),
        }));
    }
    for (id, r) in each("AWS::IAM::Role") {
        let attached = attached_to(template, resolver, id);
        let mut e = expectation(resolver, id, r, &|p| role(p, &attached));
        e.unresolved.extend(attached.unresolved);
        found.push(e);
    }
    for (id, r) in each("AWS::CloudWatch::Alarm") {
        found.push(expectation(resolver, id, r, &|p| {
            Expected::Alarm(Box::new(alarm(p)))
        }));
    }
    for (id, r) in each("AWS::SNS::Subscription") {
        found.push(expectation(resolver, id, r, &|p| Expected::Subscription {
            topic_arn: text(&p["TopicArn"]),
            protocol: text(&p["Protocol"]),
            endpoint: text(&p["Endpoint"]),
        }));
    }
    for (id, r) in each("AWS::DynamoDB::Table") {
        found.push(expectation(resolver, id, r, &table));
    }
    for (id, r) in each("AWS::S3::Bucket") {
        found.push(expectation(resolver, id, r, &bucket));
    }
    found
}

/// One resource's expectation: its properties resolved, its own physical
/// id as `__physical_id`; what the deployment cannot tell (a value, or the
/// resource itself: not deployed yet, or without an id) is noted.
fn expectation(
    resolver: &Resolver<'_>,
    logical_id: &str,
    resource: &Value,
    derive: &dyn Fn(&Value) -> Expected,
) -> Expectation {
    let mut unresolved = Vec::new();
    let mut properties = resolve(
        resolver,
        &resource["Properties"],
        logical_id,
        &mut unresolved,
    );
    let own = match resolver.string(&serde_json::json!({ "Ref": logical_id })) {
        Ok(id) if !id.is_empty() => Value::String(id),
        Ok(_) => {
            unresolved.push(format!("{logical_id}: the deployed stack gives it no id"));
            Value::Null
        }
        Err(e) => {
            unresolved.push(format!("{logical_id}: {e}"));
            Value::Null
        }
    };
    if let Some(map) = properties.as_object_mut() {
        map.insert("__physical_id".into(), own);
    } else {
        properties = serde_json::json!({ "__physical_id": own });
    }
    Expectation {
        logical_id: logical_id.to_string(),
        expected: derive(&properties),
        unresolved,
    }
}

/// The resource's `Ref` value (its physical id), or `null`.
fn physical_id(resolver: &Resolver<'_>, logical_id: &str) -> Value {
    resolver
        .string(&serde_json::json!({ "Ref": logical_id }))
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn texts(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().map(text).collect()
}

/// The inline documents of `AWS::IAM::Policy` resources and the ARNs of
/// `AWS::IAM::ManagedPolicy` resources that name `role` in their `Roles`.
struct Attached {
    inline: BTreeMap<String, Value>,
    managed: BTreeSet<String>,
    unresolved: Vec<String>,
}

fn attached_to(template: &Value, resolver: &Resolver<'_>, role: &str) -> Attached {
    let names_role = |r: &Value| {
        r["Properties"]["Roles"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| referenced_id(v).as_deref() == Some(role))
    };
    let mut unresolved = Vec::new();
    let inline = resources_of(template, "AWS::IAM::Policy")
        .filter(|(_, r)| names_role(r))
        .map(|(id, r)| {
            let props = resolve(resolver, &r["Properties"], id, &mut unresolved);
            (text(&props["PolicyName"]), props["PolicyDocument"].clone())
        })
        .collect();
    let mut managed = BTreeSet::new();
    for (id, _) in resources_of(template, "AWS::IAM::ManagedPolicy").filter(|(_, r)| names_role(r))
    {
        match physical_id(resolver, id) {
            Value::String(arn) => {
                managed.insert(arn);
            }
            _ => unresolved.push(format!("{id}: not in the deployed stack")),
        }
    }
    Attached {
        inline,
        managed,
        unresolved,
    }
}

fn role(p: &Value, attached: &Attached) -> Expected {
    let mut inline: BTreeMap<String, Value> = p["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|policy| {
            (
                text(&policy["PolicyName"]),
                policy["PolicyDocument"].clone(),
            )
        })
        .collect();
    inline.extend(attached.inline.clone());
    let mut managed = texts(&p["ManagedPolicyArns"]);
    managed.extend(attached.managed.iter().cloned());
    Expected::Role {
        role_name: text(&p["__physical_id"]),
        inline,
        managed,
    }
}

fn alarm(p: &Value) -> AlarmSpec {
    let number = |v: &Value| v.as_i64().or_else(|| v.as_str()?.parse().ok());
    let word = |v: &Value| v.as_str().map(str::to_string);
    AlarmSpec {
        name: text(&p["__physical_id"]),
        namespace: word(&p["Namespace"]),
        metric_name: word(&p["MetricName"]),
        dimensions: p["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| (text(&d["Name"]), text(&d["Value"])))
            .collect(),
        statistic: word(&p["Statistic"]),
        extended_statistic: word(&p["ExtendedStatistic"]),
        threshold: p["Threshold"]
            .as_f64()
            .or_else(|| p["Threshold"].as_str()?.parse().ok()),
        comparison_operator: word(&p["ComparisonOperator"]),
        period: number(&p["Period"]),
        evaluation_periods: number(&p["EvaluationPeriods"]),
        datapoints_to_alarm: number(&p["DatapointsToAlarm"]),
        treat_missing_data: word(&p["TreatMissingData"]),
        alarm_actions: texts(&p["AlarmActions"]),
        ok_actions: texts(&p["OKActions"]),
        metrics: p["Metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|q| {
                let stat = &q["MetricStat"];
                let metric = &stat["Metric"];
                let dimensions: BTreeMap<String, String> = metric["Dimensions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| (text(&d["Name"]), text(&d["Value"])))
                    .collect();
                metric_query(
                    &text(&q["Id"]),
                    q["Expression"].as_str(),
                    metric["MetricName"].as_str().map(|name| MetricNamed {
                        namespace: metric["Namespace"].as_str().unwrap_or_default(),
                        name,
                        dimensions: &dimensions,
                        stat: stat["Stat"].as_str(),
                        period: number(&stat["Period"]),
                    }),
                    q["ReturnData"].as_bool(),
                )
            })
            .collect(),
        actions_enabled: p["ActionsEnabled"].as_bool().unwrap_or(true),
    }
}

fn table(p: &Value) -> Expected {
    let sse = &p["SSESpecification"];
    let kms = sse["SSEEnabled"].as_bool() == Some(true) && sse["SSEType"].as_str() == Some("KMS");
    Expected::Table {
        name: text(&p["__physical_id"]),
        point_in_time_recovery: p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
            .as_bool()
            .unwrap_or(false),
        kms_key_arn: kms.then(|| text(&sse["KMSMasterKeyId"])),
    }
}

fn bucket(p: &Value) -> Expected {
    let by_default = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        ["ServerSideEncryptionByDefault"];
    Expected::Bucket {
        name: text(&p["__physical_id"]),
        algorithm: by_default["SSEAlgorithm"].as_str().map(str::to_string),
        kms_key: by_default["KMSMasterKeyID"].as_str().map(str::to_string),
    }
}

#[cfg(test)]
mod tests;

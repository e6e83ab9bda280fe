//! The guards a deploy must pass.
//!
//! - Data loss: removing or replacing (True or Conditional) a stateful
//!   resource is refused unless the user allows exactly that resource.
//! - Security: any grant the new template makes that the deployed one did
//!   not (an IAM statement, a key or bucket policy statement, an invoke
//!   permission, loosened public-access settings) is "broadening" and needs
//!   approval, on a terminal or by flag.

use super::{Action, Replacement, ResourceChange};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// Resource types whose replacement or removal loses data.
pub use crate::resource_schema::STATEFUL_TYPES;

/// A change the data-loss guard refuses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub logical_id: String,
    pub resource_type: String,
    /// "removed", or "replaced (True) because KeySchema changes".
    pub reason: String,
}

/// Stateful resources the changes would remove or replace, except those in `allowed`.
pub fn data_loss(changes: &[ResourceChange], allowed: &[String]) -> Vec<Refusal> {
    changes
        .iter()
        .filter(|c| {
            STATEFUL_TYPES.contains(&c.resource_type.as_str()) && !allowed.contains(&c.logical_id)
        })
        .filter_map(|c| {
            let reason = match (c.action, c.replacement) {
                (Action::Remove, _) => "removed from the stack".to_string(),
                (Action::Modify, Some(r @ (Replacement::True | Replacement::Conditional))) => {
                    let causes: Vec<&str> = c
                        .properties
                        .iter()
                        .filter(|p| p.replacement != Replacement::False)
                        .map(|p| p.path.as_str())
                        .collect();
                    let how = if r == Replacement::True {
                        "replaced"
                    } else {
                        "possibly replaced (Conditional)"
                    };
                    if causes.is_empty() {
                        how.to_string()
                    } else {
                        format!("{how} because {} changes", causes.join(", "))
                    }
                }
                _ => return None,
            };
            Some(Refusal {
                logical_id: c.logical_id.clone(),
                resource_type: c.resource_type.clone(),
                reason,
            })
        })
        .collect()
}

/// One grant, reduced to what it allows; equal grants compare equal.
type Grant = String;

/// The grants a template makes, by resource: IAM policies, trust policies,
/// key and bucket policies, Lambda permissions, public-access settings.
pub fn grants(template: &Value) -> BTreeSet<(String, Grant)> {
    let mut out = BTreeSet::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, r) in resources {
        let props = r.get("Properties").cloned().unwrap_or(Value::Null);
        let mut add_policy = |what: &str, doc: Option<&Value>| {
            for s in doc
                .and_then(|d| d.get("Statement"))
                .map(statements)
                .unwrap_or_default()
            {
                out.insert((id.clone(), format!("{what}: {s}")));
            }
        };
        match r.get("Type").and_then(Value::as_str).unwrap_or("") {
            "AWS::IAM::Role" => {
                add_policy("trust", props.get("AssumeRolePolicyDocument"));
                for p in props
                    .get("Policies")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    add_policy("policy", p.get("PolicyDocument"));
                }
                for arn in props
                    .get("ManagedPolicyArns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.insert((id.clone(), format!("managed policy: {arn}")));
                }
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                add_policy("policy", props.get("PolicyDocument"))
            }
            "AWS::KMS::Key" => add_policy("key policy", props.get("KeyPolicy")),
            "AWS::S3::BucketPolicy" | "AWS::SNS::TopicPolicy" | "AWS::SQS::QueuePolicy" => {
                add_policy("resource policy", props.get("PolicyDocument"))
            }
            "AWS::Lambda::Permission" => {
                let source = props
                    .get("SourceArn")
                    .map(|s| format!(" from {}", compact(s)))
                    .unwrap_or_default();
                out.insert((
                    id.clone(),
                    format!(
                        "invoke permission: {} may invoke {}{source}",
                        compact(&props["Principal"]),
                        compact(&props["FunctionName"])
                    ),
                ));
            }
            "AWS::S3::Bucket" => {
                // Each public-access protection that is not on is a grant.
                let block = props.get("PublicAccessBlockConfiguration");
                for flag in [
                    "BlockPublicAcls",
                    "BlockPublicPolicy",
                    "IgnorePublicAcls",
                    "RestrictPublicBuckets",
                ] {
                    if block.and_then(|b| b.get(flag)) != Some(&Value::Bool(true)) {
                        out.insert((id.clone(), format!("public access: {flag} off")));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Statements split into one grant per (effect, principal, action, resource,
/// condition), so adding an action or a resource to a statement shows up.
fn statements(list: &Value) -> Vec<String> {
    let as_list = |v: Option<&Value>| -> Vec<Value> {
        match v {
            Some(Value::Array(items)) => items.clone(),
            Some(other) => vec![other.clone()],
            None => vec![Value::Null],
        }
    };
    let mut out = Vec::new();
    for s in as_list(Some(list)) {
        let effect = s.get("Effect").map(compact).unwrap_or_default();
        let principal = s
            .get("Principal")
            .map(|p| format!(" to {}", compact(p)))
            .unwrap_or_default();
        let condition = s
            .get("Condition")
            .map(|c| format!(" if {}", compact(c)))
            .unwrap_or_default();
        let not_action = if s.get("Action").is_none() && s.get("NotAction").is_some() {
            "all but "
        } else {
            ""
        };
        let not_resource = if s.get("Resource").is_none() && s.get("NotResource").is_some() {
            "all but "
        } else {
            ""
        };
        for action in as_list(s.get("Action").or_else(|| s.get("NotAction"))) {
            for resource in as_list(s.get("Resource").or_else(|| s.get("NotResource"))) {
                out.push(format!(
                    "{effect} {not_action}{} on {not_resource}{}{principal}{condition}",
                    compact(&action),
                    compact(&resource)
                ));
            }
        }
    }
    out
}

/// A value as a person reads it: strings bare, `{"Fn::GetAtt": ["T", "Arn"]}`
/// as `T.Arn`, `{"Ref": "X"}` as `X`, `{"Fn::Sub": "s"}` as `s`, else JSON.
fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.len() == 1 => match m.iter().next() {
            Some((k, Value::String(s))) if k == "Ref" || k == "Fn::Sub" => s.clone(),
            Some((k, Value::Array(a))) if k == "Fn::GetAtt" => {
                a.iter().map(compact).collect::<Vec<_>>().join(".")
            }
            _ => v.to_string(),
        },
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(compact).collect::<Vec<_>>().join(", ")
        ),
        _ => v.to_string(),
    }
}

/// What the deploy would widen: grants of `new` that `old` does not make,
/// and denials of `old` that `new` drops. (An added Deny narrows.)
pub fn broadening(old: &Value, new: &Value) -> Vec<(String, String)> {
    let (before, after) = (grants(old), grants(new));
    let is_deny = |g: &str| g.contains(": Deny ");
    let mut out: Vec<(String, String)> = after
        .iter()
        .filter(|g| !is_deny(&g.1) && !before.contains(*g))
        .cloned()
        .collect();
    out.extend(
        before
            .iter()
            .filter(|g| is_deny(&g.1) && !after.contains(*g))
            .map(|(id, g)| (id.clone(), format!("no longer: {g}"))),
    );
    out
}

/// When a deploy needs a person's (or a flag's) approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequireApproval {
    Never,
    Broadening,
    AnyChange,
}

impl RequireApproval {
    /// Every setting, in the order a command line lists them.
    pub const ALL: [RequireApproval; 3] = [
        RequireApproval::Never,
        RequireApproval::Broadening,
        RequireApproval::AnyChange,
    ];

    /// The name a command line and JSON output use.
    pub fn as_str(self) -> &'static str {
        match self {
            RequireApproval::Never => "never",
            RequireApproval::Broadening => "broadening",
            RequireApproval::AnyChange => "any-change",
        }
    }

    pub fn needs_approval(
        self,
        changes: &[ResourceChange],
        broadened: &[(String, String)],
    ) -> bool {
        match self {
            RequireApproval::Never => false,
            RequireApproval::Broadening => !broadened.is_empty(),
            RequireApproval::AnyChange => !changes.is_empty(),
        }
    }
}

impl std::fmt::Display for RequireApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RequireApproval {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        RequireApproval::ALL
            .into_iter()
            .find(|setting| setting.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not one of never, broadening, any-change"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff_templates;
    use serde_json::json;

    fn table(key: &str) -> Value {
        json!({"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t", "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}]}})
    }

    #[test]
    fn refuses_table_replacement_and_removal_unless_allowed() {
        let old = json!({"Resources": {"Orders": table("id"), "Users": table("id"), "Topic": {"Type": "AWS::SNS::Topic"}}});
        let new = json!({"Resources": {"Orders": table("orderId")}});
        let changes = diff_templates(&old, &new);
        let refused = data_loss(&changes, &[]);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert_eq!(refused[0].logical_id, "Orders");
        // The schema lists KeySchema as conditionally create-only; the change set's
        // own verdict (merged in by the engine) says True on AWS.
        assert_eq!(
            refused[0].reason,
            "possibly replaced (Conditional) because KeySchema changes"
        );
        assert_eq!(refused[1].reason, "removed from the stack");
        assert_eq!(
            data_loss(&changes, &["Orders".into(), "Users".into()]),
            vec![],
            "allowed by name"
        );
    }

    #[test]
    fn a_renamed_or_removed_dead_letter_queue_loses_its_failed_invocations() {
        let queue = |name: &str, days: u32| json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name, "MessageRetentionPeriod": days * 86_400}});
        let old = json!({"Resources": {"Dlq": queue("app-dev-bids-dlq", 14)}});
        let renamed = json!({"Resources": {"Dlq": queue("app-dev-bids-failed", 14)}});
        let refused = data_loss(&diff_templates(&old, &renamed), &[]);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].reason, "replaced because QueueName changes");
        let shorter = json!({"Resources": {"Dlq": queue("app-dev-bids-dlq", 3)}});
        assert!(
            data_loss(&diff_templates(&old, &shorter), &[]).is_empty(),
            "retention updates in place"
        );
        let removed = json!({"Resources": {}});
        assert_eq!(
            data_loss(&diff_templates(&old, &removed), &[])[0].reason,
            "removed from the stack"
        );
    }

    #[test]
    fn stateless_changes_pass_the_data_loss_guard() {
        let old = json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "a"}}}});
        let new = json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "b"}}}});
        assert!(data_loss(&diff_templates(&old, &new), &[]).is_empty());
    }

    fn role(actions: Value, resources: Value) -> Value {
        json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "access", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}}]}}}})
    }

    #[test]
    fn an_added_action_or_resource_is_broadening_and_a_removal_is_not() {
        let base = role(json!(["dynamodb:GetItem"]), json!(["arn:t"]));
        assert!(broadening(&base, &base).is_empty());
        assert_eq!(
            broadening(
                &base,
                &role(
                    json!(["dynamodb:GetItem", "dynamodb:PutItem"]),
                    json!(["arn:t"])
                )
            )
            .len(),
            1
        );
        assert_eq!(
            broadening(
                &base,
                &role(json!("dynamodb:GetItem"), json!(["arn:t", "arn:u"]))
            )
            .len(),
            1
        );
        assert!(broadening(
            &role(
                json!(["dynamodb:GetItem", "dynamodb:PutItem"]),
                json!("arn:t")
            ),
            &base
        )
        .is_empty());
    }

    #[test]
    fn loosened_public_access_and_new_permissions_are_broadening() {
        let locked = json!({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}}}}});
        let mut open = locked.clone();
        open["Resources"]["B"]["Properties"]["PublicAccessBlockConfiguration"]
            ["BlockPublicPolicy"] = json!(false);
        assert_eq!(
            broadening(&locked, &open),
            vec![(
                "B".to_string(),
                "public access: BlockPublicPolicy off".to_string()
            )]
        );
        let mut permitted = locked.clone();
        permitted["Resources"]["P"] = json!({"Type": "AWS::Lambda::Permission", "Properties": {"Principal": "s3.amazonaws.com", "FunctionName": {"Ref": "F"}}});
        assert_eq!(broadening(&locked, &permitted).len(), 1);
        assert!(RequireApproval::Broadening.needs_approval(&[], &broadening(&locked, &permitted)));
        assert!(!RequireApproval::Never.needs_approval(&[], &broadening(&locked, &permitted)));
    }

    #[test]
    fn an_added_deny_narrows_and_a_dropped_deny_widens() {
        let policy = |statements: Value| json!({"Resources": {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": statements}}}}});
        let allow = json!({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "arn:b/*"});
        let deny = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:b/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        assert!(broadening(&policy(json!([allow])), &policy(json!([allow, deny]))).is_empty());
        let widened = broadening(&policy(json!([allow, deny])), &policy(json!([allow])));
        assert_eq!(widened.len(), 1);
        assert!(
            widened[0]
                .1
                .starts_with("no longer: resource policy: Deny s3:* on arn:b/* to *"),
            "{widened:?}"
        );
    }

    #[test]
    fn grants_are_stable_for_the_same_template() {
        // The grant model must be stable: rendering twice shows no broadening.
        let t = json!({"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "root"}, "Action": "kms:*", "Resource": "*"}]}}}}});
        assert!(broadening(&t, &t).is_empty());
        assert_eq!(grants(&t).len(), 1);
    }
}

//! From a validated definition to the resources of one environment.
//!
//! This is where decisions are made: logical ids, secure defaults, derived
//! IAM, references resolved to CloudFormation. The result is a list of
//! fragments, each a template name and the view it renders; templates only
//! place values. Planning is pure, and takes only a definition that
//! validated ([`Valid`]): it relies on what validation proved (every name a
//! definition refers to exists, every reference parses), and where a lookup
//! could still fail it falls back instead of panicking, so no stack file can
//! make it panic.

// No stack file may make planning panic: clippy refuses the ways it could.
// (Indexing is not in the list: it would flag every `view["Key"] = value` on
// a JSON object, which cannot panic; maps are read with `get`.)
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable
    )
)]

pub mod account;
mod compute;
mod data;
mod edge;
mod events;
pub mod iam;
mod monitoring;
pub mod refs;
mod routing;
#[cfg(test)]
mod test_stacks;

pub use compute::{LIVE_ALIAS, RUST_RUNTIME};

use crate::kinds::KEY_ALIAS;
use crate::model::{StackDef, Tracing};
pub(crate) use crate::source::Path;
use crate::validate::{AvailableCode, Valid};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The bucket stackctl ships artifacts to, one per account and region.
pub const ARTIFACT_BUCKET_SUB: &str = "stackctl-artifacts-${AWS::AccountId}-${AWS::Region}";

/// Where each function's code is: S3 keys by function name. A function
/// without one gets a `pending/` key (the template is complete and lints;
/// `stackctl build` fills in the real, content-addressed key).
#[derive(Debug, Clone, Default)]
pub struct CodeLocations {
    pub keys: BTreeMap<String, String>,
    /// The crates and packages that exist, for validation to check the
    /// code functions name (by default nothing was looked up or checked).
    pub available: AvailableCode,
}

/// One template to render and the view it renders.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub template: &'static str,
    /// The part of the stack definition the resources come from, so a
    /// problem found in the rendered template can point at the stack file.
    pub source: Path,
    pub view: Value,
}

/// The path of a named entry of a section, such as `tables.users`.
pub(crate) fn entity(section: &str, name: &str) -> Path {
    Path::root().key(section).key(name)
}

/// Everything the renderer needs for one stack in one environment.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stack_name: String,
    pub description: String,
    /// Values every template sees as `stack`.
    pub globals: Value,
    pub fragments: Vec<Fragment>,
    pub outputs: Vec<Output>,
    /// Template parameters, by id (SSM-provided external ARNs).
    pub parameters: Vec<(String, Value)>,
    /// `Fn::Sub` variables bound to another stack's export
    /// (`Fn::ImportValue`), by variable: every `Fn::Sub` that names one
    /// gets the binding.
    pub imports: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub id: String,
    pub description: String,
    pub value: Value,
}

pub(crate) struct Planner<'a> {
    def: &'a StackDef,
    env: &'a str,
    code: &'a CodeLocations,
    fragments: Vec<Fragment>,
    outputs: Vec<Output>,
}

/// How a stack is deployed, beyond its template.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// `{name}-{env}`.
    pub stack_name: String,
    /// Stack tags (CloudFormation passes them on to every resource).
    pub tags: Vec<(String, String)>,
    pub termination_protection: bool,
    /// The region the stack must be deployed in, when it says so.
    pub region: Option<String>,
    /// The alarms that guard updates (CloudFormation's rollback triggers).
    pub rollback: crate::rollback::RollbackGuard,
}

pub fn deployment(def: &StackDef, env: &str) -> Deployment {
    let mut tags = vec![
        ("app".to_string(), def.name.clone()),
        ("env".to_string(), env.to_string()),
    ];
    tags.extend(def.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    Deployment {
        stack_name: format!("{}-{env}", def.name),
        tags,
        termination_protection: def.termination_protection.unwrap_or(env == "prod"),
        region: def.region.clone(),
        rollback: crate::rollback::rollback_guard(def, env),
    }
}

/// Plans a validated definition for the environment it was validated for.
pub fn plan(valid: &Valid<StackDef>, code: &CodeLocations) -> Plan {
    let def: &StackDef = valid;
    let env = valid.env();
    let mut p = Planner {
        def,
        env,
        code,
        fragments: Vec::new(),
        outputs: Vec::new(),
    };
    p.key();
    p.user_pool();
    p.tables();
    p.buckets();
    p.secrets();
    p.queues();
    p.streams();
    p.topics();
    p.event_buses();
    p.functions();
    p.event_sources();
    p.topic_subscriptions();
    p.rules();
    p.queue_policies();
    p.log_subscriptions();
    p.schedule_groups();
    p.schedules();
    p.apis();
    p.distributions();
    p.web_acls();
    p.frontend();
    p.alarms();
    p.dashboard();
    let stack_name = format!("{}-{env}", def.name);
    let description = def
        .description
        .clone()
        .unwrap_or_else(|| format!("{} ({env}), rendered by stackctl", def.name));
    Plan {
        stack_name,
        description,
        globals: p.globals(),
        fragments: p.fragments,
        outputs: p.outputs,
        parameters: iam::external::ssm_parameters(def),
        imports: iam::external::imports(def),
    }
}

impl Planner<'_> {
    fn push(&mut self, template: &'static str, source: Path, view: Value) {
        self.fragments.push(Fragment {
            template,
            source,
            view,
        });
    }

    fn output(&mut self, id: String, description: String, value: Value) {
        self.outputs.push(Output {
            id,
            description,
            value,
        });
    }

    fn retain(&self) -> bool {
        self.def.retain_data.unwrap_or(self.env != "dev")
    }

    fn tags(&self) -> Vec<(String, String)> {
        deployment(self.def, self.env).tags
    }

    fn globals(&self) -> Value {
        let tags = self.tags();
        let policy = if self.retain() { "Retain" } else { "Delete" };
        json!({
            "app": self.def.name,
            "env": self.env,
            "retain": self.retain(),
            "deletion_policy": policy,
            "tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            "tags_map": tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "key_arn": refs::get_att("StackKey", "Arn"),
            "key_id": refs::reference("StackKey"),
        })
    }

    fn tracing(&self, f: &crate::model::Function) -> Tracing {
        f.tracing
            .or(self.def.function_defaults.tracing)
            .unwrap_or(Tracing::Passthrough)
    }

    fn bucket_uses_kms(&self, name: &str) -> bool {
        use crate::model::BucketEncryption;
        let encryption = self.def.buckets.get(name).and_then(|b| b.encryption);
        match encryption {
            Some(BucketEncryption::Kms) => true,
            Some(BucketEncryption::S3Managed) => false,
            None => !self.served_by_cdn(name),
        }
    }

    fn served_by_cdn(&self, bucket: &str) -> bool {
        self.def
            .distributions
            .values()
            .any(|d| d.origin == bucket || d.behaviors.values().any(|b| b.bucket == bucket))
    }

    fn key(&mut self) {
        let d = &self.def.encryption;
        let mut statements = vec![json!({
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": { "AWS": refs::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root".into()) },
            "Action": "kms:*",
            "Resource": "*"
        })];
        statements.push(json!({
            "Sid": "CloudWatchLogsEncryptsThisStacksLogs",
            "Effect": "Allow",
            "Principal": { "Service": refs::sub("logs.${AWS::Region}.${AWS::URLSuffix}".into()) },
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
            "Resource": "*",
            "Condition": { "ArnLike": { "kms:EncryptionContext:aws:logs:arn": refs::sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*".into()) } }
        }));
        if !self.def.alarms.is_empty() && !self.def.topics.is_empty() {
            statements.push(json!({
                "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                "Effect": "Allow",
                "Principal": { "Service": "cloudwatch.amazonaws.com" },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": { "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } }
            }));
        }
        statements.extend(self.routing_key_statements());
        let view = json!({
            "id": "StackKey",
            "alias_id": "StackKeyAlias",
            "alias": refs::sub(format!("alias/{}", self.fitted_name_sub(&KEY_ALIAS, "key"))),
            "description": format!("{}-{}: encrypts tables, logs, secrets, topics and buckets", self.def.name, self.env),
            "rotation": d.key_rotation.unwrap_or(true),
            "pending_days": d.pending_deletion_days.unwrap_or(30),
            "policy": iam::policy(statements),
        });
        self.push("kms_key", Path::root().key("encryption"), view);
        self.output(
            "StackKeyArn".into(),
            "The stack's KMS key".into(),
            refs::get_att("StackKey", "Arn"),
        );
    }
}

/// A short, stable hash for logical ids that must change with content.
pub fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

//! The stack definition: what a stack file may say, as typed Rust.
//!
//! Every field is documented here once; the JSON schema (`stackctl schema`)
//! and the reference in the README come from these comments. Unknown fields
//! are rejected. Names of things (functions, tables…) are the author's and
//! become logical ids, so renaming one is the only thing that changes one.

mod api;
mod compute;
mod events;
mod external;
mod identity;
mod monitoring;
mod routing;
mod shorthand;
mod storage;

pub use api::*;
pub use compute::*;
pub use events::*;
pub use external::*;
pub use identity::*;
pub use monitoring::*;
pub use routing::*;
pub use storage::*;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A stack definition: one application in one file, deployed once per
/// environment as the CloudFormation stack `{name}-{env}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackDef {
    /// Application name: lowercase letters, digits and hyphens, starting with a
    /// letter. The CloudFormation stack for an environment is `{name}-{env}`.
    pub name: String,
    /// What this stack is, shown as the template's description.
    #[serde(default)]
    pub description: Option<String>,
    /// The AWS region this stack must be deployed in. Needed when a web ACL
    /// protects a CloudFront distribution (those exist only in us-east-1).
    #[serde(default)]
    pub region: Option<String>,
    /// Tags put on every resource that takes tags (stackctl adds `app` and `env`).
    #[serde(default)]
    pub tags: IndexMap<String, String>,
    /// Keep tables, buckets, user pools, keys, secrets, log groups and
    /// dead-letter queues when they are removed from the stack or the stack is
    /// deleted. Default: true, except in an environment named `dev`.
    #[serde(default)]
    pub retain_data: Option<bool>,
    /// Turn on CloudFormation termination protection. Default: true in `prod`.
    #[serde(default)]
    pub termination_protection: Option<bool>,
    /// Other stacks (by their `name`) that `stackctl deploy` must deploy
    /// before this one, in the same environment.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// IAM principals (role or user ARNs) whose sessions may run this
    /// stack's functions on a developer's machine with `stackctl local`:
    /// each function's role trusts them, for sessions named
    /// `stackctl-local-*` only. Not allowed in `prod`.
    #[serde(default)]
    pub local_principals: Vec<String>,
    /// Settings every function gets unless it says otherwise.
    #[serde(default)]
    pub function_defaults: FunctionDefaults,
    /// The stack's customer-managed KMS key, used by tables, logs, secrets,
    /// topics and buckets.
    #[serde(default)]
    pub encryption: Encryption,
    /// The Cognito user pool that signs users in.
    #[serde(default)]
    pub user_pool: Option<UserPool>,
    /// DynamoDB tables, by name.
    #[serde(default)]
    pub tables: IndexMap<String, Table>,
    /// Lambda functions, by name.
    #[serde(default)]
    pub functions: IndexMap<String, Function>,
    /// API Gateway APIs (HTTP or REST), by name.
    #[serde(default)]
    pub apis: IndexMap<String, Api>,
    /// S3 buckets, by name. Always private, encrypted and TLS-only.
    #[serde(default)]
    pub buckets: IndexMap<String, Bucket>,
    /// CloudFront distributions in front of buckets, by name.
    #[serde(default)]
    pub distributions: IndexMap<String, Distribution>,
    /// WAFv2 web ACLs, by name; attach one with `waf: NAME` on a REST API, a
    /// distribution or the user pool.
    #[serde(default)]
    pub web_acls: IndexMap<String, WebAcl>,
    /// Secrets Manager secrets, by name. Values never appear in templates.
    #[serde(default)]
    pub secrets: IndexMap<String, Secret>,
    /// EventBridge Scheduler groups in which functions create one-time schedules.
    #[serde(default)]
    pub schedule_groups: IndexMap<String, ScheduleGroup>,
    /// Fixed schedules that invoke a function (rate, cron or at expressions).
    #[serde(default)]
    pub schedules: IndexMap<String, Schedule>,
    /// SQS queues, by name, encrypted with the stack key.
    #[serde(default)]
    pub queues: IndexMap<String, Queue>,
    /// Kinesis data streams, by name, encrypted with the stack key.
    #[serde(default)]
    pub streams: IndexMap<String, Stream>,
    /// SNS topics, by name (alarm notifications, say).
    #[serde(default)]
    pub topics: IndexMap<String, Topic>,
    /// Custom EventBridge event buses, by name.
    #[serde(default)]
    pub event_buses: IndexMap<String, EventBus>,
    /// EventBridge rules, by name: events matching a pattern on a bus go to
    /// functions and queues.
    #[serde(default)]
    pub rules: IndexMap<String, Rule>,
    /// Resources this stack uses but does not own (another stack's table,
    /// a shared topic), by the name functions' `access.external` and
    /// `${external.NAME.arn}` references use.
    #[serde(default)]
    pub external: IndexMap<String, External>,
    /// CloudWatch alarms, by name.
    #[serde(default)]
    pub alarms: IndexMap<String, Alarm>,
    /// Alarms that roll an update back when they go into ALARM during it
    /// or in the minutes after (CloudFormation's rollback triggers). On by
    /// default, except in an environment named `dev`.
    #[serde(default)]
    pub rollback_triggers: RollbackTriggers,
    /// A CloudWatch dashboard of every function, API and table in the stack.
    #[serde(default)]
    pub dashboard: Option<bool>,
    /// Frontend hosting on Amplify.
    #[serde(default)]
    pub frontend: Option<Frontend>,
}

/// Settings for the stack's KMS key.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// Rotate the key material every year. Default: true.
    #[serde(default)]
    pub key_rotation: Option<bool>,
    /// The key's alias without `alias/`. Default: `{stack}`.
    #[serde(default)]
    pub key_alias: Option<String>,
    /// Days a deleted key waits before it is destroyed (7-30). Default: 30.
    #[serde(default)]
    pub pending_deletion_days: Option<u32>,
}

/// Environments stackctl knows without being told.
pub const DEFAULT_ENVIRONMENTS: [&str; 3] = ["dev", "staging", "prod"];

// The default is written once, here; validation and planning both read it.
impl Encryption {
    pub const DEFAULT_KEY_ALIAS: &'static str = "{stack}";

    /// The alias pattern, without `alias/`.
    pub fn key_alias_pattern(&self) -> &str {
        self.key_alias.as_deref().unwrap_or(Self::DEFAULT_KEY_ALIAS)
    }
}

/// The one option of `named` that is set; `None` when none or several are
/// (a field that names exactly one of several things).
pub(crate) fn exactly_one<T, const N: usize>(named: [Option<T>; N]) -> Option<T> {
    let mut set = named.into_iter().flatten();
    match (set.next(), set.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

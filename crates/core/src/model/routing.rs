//! Events routed to functions and queues: SNS subscriptions, EventBridge
//! buses and rules, and CloudWatch Logs subscriptions.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A function or a queue subscribed to a topic. Name exactly one of
/// `function` and `queue`. stackctl adds the permission for this topic to
/// invoke the function, or a statement to the queue's policy letting this
/// topic send to it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicSubscription {
    /// A function of the stack, invoked (asynchronously) with each message.
    #[serde(default)]
    pub function: Option<String>,
    /// A standard queue of the stack (a standard topic cannot deliver to a
    /// FIFO queue) that receives each message.
    #[serde(default)]
    pub queue: Option<String>,
    /// Deliver only the messages this SNS filter policy matches (JSON, as
    /// SNS writes it: `{"kind": ["order"], "total": [{"numeric": [">", 100]}]}`);
    /// at most 5 keys and 150 combinations of values. Default: every message.
    #[serde(default)]
    pub filter_policy: Option<serde_json::Value>,
    /// What the filter policy reads: `message_attributes` or
    /// `message_body` (a JSON body, which may be matched on nested fields).
    /// Default: `message_attributes`.
    #[serde(default)]
    pub filter_policy_scope: Option<FilterPolicyScope>,
    /// Queues only: deliver the message body as sent, without SNS's JSON
    /// envelope. Default: false.
    #[serde(default)]
    pub raw_message_delivery: Option<bool>,
    /// A standard queue of the stack where SNS puts messages it could not
    /// deliver (its redrive policy); stackctl lets this topic send to it.
    #[serde(default)]
    pub dead_letter: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterPolicyScope {
    MessageAttributes,
    MessageBody,
}

impl FilterPolicyScope {
    pub fn cloudformation(self) -> &'static str {
        match self {
            FilterPolicyScope::MessageAttributes => "MessageAttributes",
            FilterPolicyScope::MessageBody => "MessageBody",
        }
    }
}

/// A custom EventBridge event bus. Functions put events on it with
/// `access.event_buses: [NAME]`; rules with `bus: NAME` route them.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBus {
    /// Physical name (at most 256 characters: letters, digits, `.`, `-`,
    /// `_`, `/`; not `default`); `{stack}`, `{app}`, `{env}`, `{name}` are
    /// filled in. Default: `{stack}-{name}`.
    #[serde(default)]
    pub bus_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// An EventBridge rule: events matching `pattern` on a bus go to up to
/// five targets. (Rules run on patterns only: fixed schedules belong in
/// `schedules:`, which EventBridge Scheduler runs with time zones, one-time
/// `at()` expressions, retries and a dead-letter queue.)
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The bus the rule watches: an `event_buses` entry of the stack.
    /// Default: the account's default bus (where AWS services' events arrive).
    #[serde(default)]
    pub bus: Option<String>,
    /// The EventBridge event pattern (JSON), such as
    /// `{"source": ["orders"], "detail-type": ["OrderPlaced"]}`; checked
    /// against EventBridge's pattern syntax (at most 4096 characters).
    pub pattern: serde_json::Value,
    /// Physical name (at most 64 characters: letters, digits, `.`, `-`,
    /// `_`). Default: `{stack}-{name}`.
    #[serde(default)]
    pub rule_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the rule routes events. Default: true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Where matching events go (1 to 5 targets).
    pub targets: Vec<RuleTarget>,
}

/// One target of a rule: a function or a queue of the stack (exactly one),
/// and what it receives.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleTarget {
    /// A function of the stack, invoked asynchronously; stackctl adds the
    /// permission for this rule to invoke it.
    #[serde(default)]
    pub function: Option<String>,
    /// A queue of the stack; stackctl adds a statement to the queue's
    /// policy letting this rule send to it.
    #[serde(default)]
    pub queue: Option<String>,
    /// FIFO queues only (and required for them): the message group of the
    /// messages the rule sends.
    #[serde(default)]
    pub message_group_id: Option<String>,
    /// Send this JSON instead of the event. At most one of `input`,
    /// `input_path` and `input_transformer`. Default: the whole event.
    #[serde(default)]
    pub input: Option<serde_json::Value>,
    /// Send the part of the event this JSONPath selects (`$.detail`).
    #[serde(default)]
    pub input_path: Option<String>,
    /// Build the input from parts of the event.
    #[serde(default)]
    pub input_transformer: Option<InputTransformer>,
    /// How long and how often EventBridge retries a failed delivery.
    #[serde(default)]
    pub retry: Option<TargetRetry>,
    /// A standard queue of the stack that receives the events EventBridge
    /// could not deliver; stackctl lets this rule send to it.
    #[serde(default)]
    pub dead_letter: Option<String>,
}

/// An input transformer: JSONPaths from the event, placed in a template.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputTransformer {
    /// Names (letters and digits, at most 100) and the JSONPath each reads
    /// (`order: $.detail.order-id`).
    #[serde(default)]
    pub paths: IndexMap<String, String>,
    /// The input, with `<name>` where a path's value goes (at most 8192
    /// characters), such as `{"order": <order>}`.
    pub template: String,
}

/// A rule target's retry policy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRetry {
    /// Retries after the first attempt (0-185). Default: 185.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Seconds an event may wait to be delivered (60-86400). Default: 86400.
    #[serde(default)]
    pub max_event_age_seconds: Option<u32>,
}

/// A CloudWatch Logs subscription: the log events of a function or an API
/// of the stack that match `filter_pattern` are sent to the subscribing
/// function. Name exactly one of `function` and `api`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogSubscription {
    /// Another function of the stack whose log group is read.
    #[serde(default)]
    pub function: Option<String>,
    /// An API of the stack whose access-log group is read.
    #[serde(default)]
    pub api: Option<String>,
    /// A CloudWatch Logs filter pattern (at most 1024 characters): terms
    /// (`ERROR`, `"request failed"`, `-DEBUG`, `?WARN ?ERROR`), a JSON
    /// condition (`{ $.status >= 500 }`) or space-delimited fields
    /// (`[ip, user, status=5*, ...]`). Default: `""`, every event.
    #[serde(default)]
    pub filter_pattern: Option<String>,
}

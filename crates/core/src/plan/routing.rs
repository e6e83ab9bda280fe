//! Events routed to functions and queues: topics' function and queue
//! subscriptions, event buses and rules, log subscriptions, and the one
//! policy of each queue that topics or rules send to.
//!
//! Each route carries its own permission: a function gets an
//! `AWS::Lambda::Permission` for exactly the topic, rule or log group that
//! invokes it; a queue gets a statement in its `AWS::SQS::QueuePolicy`
//! for exactly the topic or rule that sends to it. A queue has one policy
//! (SQS keeps one per queue), so every sender's statement is gathered in
//! [`Planner::queue_senders`].

use super::refs::{get_att, reference, sub};
use super::{entity, iam, Planner};
use crate::kinds::{API, EVENT_BUS, FUNCTION, QUEUE, RULE, TOPIC};
use crate::model::{FilterPolicyScope, RuleTarget};
use serde_json::{json, Map, Value};

/// What sends messages to a queue.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum QueueSender {
    /// A topic, through a subscription or a subscription's redrive policy.
    Topic(String),
    /// A topic of `external:`, the same ways.
    ExternalTopic(String),
    /// A rule, through a target or a target's dead-letter queue.
    Rule(String),
}

/// EventBridge's limit on a target's `Id`.
const TARGET_ID_MAX: usize = 64;

impl Planner<'_> {
    /// Everything that sends to `queue`, each once, topics first.
    pub(crate) fn queue_senders(&self, queue: &str) -> Vec<QueueSender> {
        let mut out = Vec::new();
        for (name, t) in &self.def.topics {
            let sends = t.subscriptions.iter().any(|s| {
                s.queue.as_deref() == Some(queue) || s.dead_letter.as_deref() == Some(queue)
            });
            if sends {
                out.push(QueueSender::Topic(name.clone()));
            }
        }
        for (name, e) in &self.def.external {
            let sends = e.subscriptions.iter().any(|s| {
                s.queue.as_deref() == Some(queue) || s.dead_letter.as_deref() == Some(queue)
            });
            if sends {
                out.push(QueueSender::ExternalTopic(name.clone()));
            }
        }
        for (name, r) in &self.def.rules {
            let sends = r.targets.iter().any(|t| {
                t.queue.as_deref() == Some(queue) || t.dead_letter.as_deref() == Some(queue)
            });
            if sends {
                out.push(QueueSender::Rule(name.clone()));
            }
        }
        out
    }

    /// The statements of `queue`'s policy: each sender may send to it, and
    /// only when the message comes from that sender.
    pub(crate) fn queue_policy_statements(&self, queue: &str) -> Vec<Value> {
        let arn = get_att(&QUEUE.logical_id(queue), "Arn");
        self.queue_senders(queue)
            .into_iter()
            .map(|sender| {
                let (sid, service, source) = match &sender {
                    QueueSender::Topic(t) => {
                        let id = TOPIC.logical_id(t);
                        (
                            format!("{id}SendsMessages"),
                            "sns.amazonaws.com",
                            reference(&id),
                        )
                    }
                    QueueSender::ExternalTopic(t) => (
                        format!("External{}SendsMessages", crate::naming::pascal(t)),
                        "sns.amazonaws.com",
                        sub(self.external_arn_sub(t)),
                    ),
                    QueueSender::Rule(r) => {
                        let id = RULE.logical_id(r);
                        (
                            format!("{id}SendsEvents"),
                            "events.amazonaws.com",
                            get_att(&id, "Arn"),
                        )
                    }
                };
                json!({
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": source}},
                })
            })
            .collect()
    }

    /// Statements the stack key's policy needs for services that send to
    /// queues encrypted with it: SNS for topics delivering to queues, and
    /// EventBridge for rules targeting them. Scoped to this account (the
    /// topic and rule ARNs cannot be named: they depend on the key).
    pub(super) fn routing_key_statements(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let topics_send = self.def.topics.values().any(|t| {
            t.subscriptions
                .iter()
                .any(|s| s.queue.is_some() || s.dead_letter.is_some())
        });
        let rules_send = self.def.rules.values().any(|r| {
            r.targets
                .iter()
                .any(|t| t.queue.is_some() || t.dead_letter.is_some())
        });
        for (sends, sid, service) in [
            (
                topics_send,
                "SnsSendsToEncryptedQueues",
                "sns.amazonaws.com",
            ),
            (
                rules_send,
                "EventBridgeSendsToEncryptedQueues",
                "events.amazonaws.com",
            ),
        ] {
            if sends {
                out.push(json!({
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": { "Service": service },
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": { "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } }
                }));
            }
        }
        // An external topic may be in another account: SNS may use the key
        // for exactly that topic.
        for (name, e) in &self.def.external {
            if e.subscriptions
                .iter()
                .any(|s| s.queue.is_some() || s.dead_letter.is_some())
            {
                out.push(json!({
                    "Sid": format!("SnsSendsFromExternal{}", crate::naming::pascal(name)),
                    "Effect": "Allow",
                    "Principal": { "Service": "sns.amazonaws.com" },
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": { "ArnEquals": { "aws:SourceArn": sub(self.external_arn_sub(name)) } }
                }));
            }
        }
        out
    }

    /// One `AWS::SQS::QueuePolicy` per queue that something sends to.
    pub(super) fn queue_policies(&mut self) {
        let queues: Vec<String> = self.def.queues.keys().cloned().collect();
        for queue in queues {
            let statements = self.queue_policy_statements(&queue);
            if statements.is_empty() {
                continue;
            }
            let id = QUEUE.logical_id(&queue);
            let view = json!({
                "id": format!("{id}Policy"),
                "queue_url": reference(&id),
                "policy": iam::policy(statements),
            });
            self.push("sqs_queue_policy", entity(QUEUE.section, &queue), view);
        }
    }

    /// Each function or queue subscription of each topic, the stack's
    /// and `external:` ones.
    pub(super) fn topic_subscriptions(&mut self) {
        let def = self.def;
        for (topic, t) in &def.topics {
            let id = TOPIC.logical_id(topic);
            let at = entity(TOPIC.section, topic);
            self.subscriptions_of(&id, reference(&id), at, &t.subscriptions);
        }
        for (name, e) in &def.external {
            let id = format!("External{}", crate::naming::pascal(name));
            let at = entity("external", name);
            self.subscriptions_of(&id, sub(self.external_arn_sub(name)), at, &e.subscriptions);
        }
    }

    fn subscriptions_of(
        &mut self,
        topic_id: &str,
        topic_arn: Value,
        at: super::Path,
        subscriptions: &[crate::model::TopicSubscription],
    ) {
        for (i, s) in subscriptions.iter().enumerate() {
            let (protocol, endpoint, target_id, permission) =
                match (s.function.as_deref(), s.queue.as_deref()) {
                    (Some(f), _) => {
                        let fid = FUNCTION.logical_id(f);
                        let arn = get_att(&fid, "Arn");
                        let permission =
                            json!({"id": format!("{topic_id}Invokes{fid}"), "function": arn});
                        ("lambda", arn, fid, permission)
                    }
                    (None, Some(q)) => {
                        let qid = QUEUE.logical_id(q);
                        ("sqs", get_att(&qid, "Arn"), qid, Value::Null)
                    }
                    // Validation proved each names one.
                    (None, None) => continue,
                };
            let scope = s
                .filter_policy_scope
                .unwrap_or(FilterPolicyScope::MessageAttributes);
            let view = json!({
                "id": format!("{topic_id}{target_id}Subscription"),
                "topic_arn": topic_arn,
                "protocol": protocol,
                "endpoint": endpoint,
                "filter_policy": s.filter_policy,
                "filter_policy_scope": scope.cloudformation(),
                "raw_message_delivery": s.raw_message_delivery == Some(true),
                "redrive_policy": s.dead_letter.as_deref().map(|d| json!({"deadLetterTargetArn": get_att(&QUEUE.logical_id(d), "Arn")})),
                "permission": permission,
            });
            self.push("topic_subscription", at.key("subscriptions").index(i), view);
        }
    }

    pub(super) fn event_buses(&mut self) {
        for (name, b) in &self.def.event_buses {
            let id = EVENT_BUS.logical_id(name);
            let view = json!({
                "id": id,
                "bus_name": sub(self.physical_name_sub(&EVENT_BUS, name)),
                "description": b.description,
            });
            self.push(EVENT_BUS.template.0, entity(EVENT_BUS.section, name), view);
            self.output(
                format!("{id}Name"),
                format!("Name of event bus {name}"),
                reference(&id),
            );
        }
    }

    pub(super) fn rules(&mut self) {
        for (name, r) in &self.def.rules {
            let id = RULE.logical_id(name);
            let targets: Vec<Value> = r.targets.iter().map(target).collect();
            let mut invoked: Vec<&str> = r
                .targets
                .iter()
                .filter_map(|t| t.function.as_deref())
                .collect();
            invoked.sort_unstable();
            invoked.dedup();
            let permissions: Vec<Value> = invoked
                .into_iter()
                .map(|f| {
                    let fid = FUNCTION.logical_id(f);
                    json!({"id": format!("{id}Invokes{fid}"), "function": get_att(&fid, "Arn")})
                })
                .collect();
            let view = json!({
                "id": id,
                "rule_name": sub(self.physical_name_sub(&RULE, name)),
                "description": r.description,
                // `Ref` of a bus is its name.
                "bus": r.bus.as_deref().map(|b| reference(&EVENT_BUS.logical_id(b))),
                "pattern": r.pattern,
                "state": if r.enabled.unwrap_or(true) { "ENABLED" } else { "DISABLED" },
                "targets": targets,
                "rule_arn": get_att(&id, "Arn"),
                "permissions": permissions,
            });
            self.push(RULE.template.0, entity(RULE.section, name), view);
        }
    }

    /// Each function's subscriptions to log groups of the stack.
    pub(super) fn log_subscriptions(&mut self) {
        for (name, f) in &self.def.functions {
            let fid = FUNCTION.logical_id(name);
            for (i, s) in f.log_subscriptions.iter().enumerate() {
                let (group_id, source_id) = match (s.function.as_deref(), s.api.as_deref()) {
                    (Some(source), _) => {
                        let sid = FUNCTION.logical_id(source);
                        (format!("{sid}LogGroup"), sid)
                    }
                    (None, Some(api)) => {
                        let aid = API.logical_id(api);
                        (format!("{aid}AccessLogs"), aid)
                    }
                    (None, None) => continue,
                };
                let view = json!({
                    "id": format!("{source_id}LogsTo{fid}"),
                    "permission_id": format!("{source_id}LogsInvoke{fid}"),
                    "function": get_att(&fid, "Arn"),
                    // `Ref` of a log group is its name.
                    "log_group_name": reference(&group_id),
                    "log_group_arn": get_att(&group_id, "Arn"),
                    "filter_pattern": s.filter_pattern.clone().unwrap_or_default(),
                });
                let at = entity(FUNCTION.section, name)
                    .key("log_subscriptions")
                    .index(i);
                self.push("log_subscription", at, view);
            }
        }
    }
}

/// A rule target as CloudFormation writes it.
fn target(t: &RuleTarget) -> Value {
    let (arn, id) = match (t.function.as_deref(), t.queue.as_deref()) {
        (Some(f), _) => {
            let fid = FUNCTION.logical_id(f);
            (get_att(&fid, "Arn"), fid)
        }
        (None, Some(q)) => {
            let qid = QUEUE.logical_id(q);
            (get_att(&qid, "Arn"), qid)
        }
        (None, None) => (Value::Null, String::new()),
    };
    let mut out = Map::new();
    out.insert("Id".into(), json!(target_id(&id)));
    out.insert("Arn".into(), arn);
    if let Some(input) = &t.input {
        out.insert("Input".into(), json!(input.to_string()));
    }
    if let Some(path) = &t.input_path {
        out.insert("InputPath".into(), json!(path));
    }
    if let Some(tr) = &t.input_transformer {
        let mut x = Map::new();
        if !tr.paths.is_empty() {
            x.insert("InputPathsMap".into(), json!(tr.paths));
        }
        x.insert("InputTemplate".into(), json!(tr.template));
        out.insert("InputTransformer".into(), Value::Object(x));
    }
    if let Some(r) = &t.retry {
        let mut p = Map::new();
        if let Some(n) = r.max_attempts {
            p.insert("MaximumRetryAttempts".into(), json!(n));
        }
        if let Some(n) = r.max_event_age_seconds {
            p.insert("MaximumEventAgeInSeconds".into(), json!(n));
        }
        out.insert("RetryPolicy".into(), Value::Object(p));
    }
    if let Some(d) = &t.dead_letter {
        out.insert(
            "DeadLetterConfig".into(),
            json!({"Arn": get_att(&QUEUE.logical_id(d), "Arn")}),
        );
    }
    if let Some(g) = &t.message_group_id {
        out.insert("SqsParameters".into(), json!({"MessageGroupId": g}));
    }
    Value::Object(out)
}

/// A target's `Id`: its logical id, shortened with a stable hash past 64
/// characters. Validation refuses the same target twice in one rule.
fn target_id(logical_id: &str) -> String {
    if logical_id.len() <= TARGET_ID_MAX {
        return logical_id.to_string();
    }
    let hash = crate::naming::stable_hash(logical_id);
    let keep = TARGET_ID_MAX - hash.len() - 1;
    format!("{}-{hash}", &logical_id[..keep])
}

#[cfg(test)]
mod tests;

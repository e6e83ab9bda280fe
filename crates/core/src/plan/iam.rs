//! Least-privilege IAM derived from declared access.
//!
//! Every statement names its actions one by one (no `*` in actions) and the
//! exact resources declared. `*` resources appear only where IAM offers no
//! resource-level permission (EC2 Describe*, CloudWatch metric reads, X-Ray
//! writes); each such statement says so in its Sid. Use of the stack key is
//! allowed only through the service that needs it (`kms:ViaService`), or,
//! for a function that declares `stack_key`, directly under the encryption
//! context it declares.

use super::refs::{get_att, sub};
use super::Planner;
use crate::kinds::{BUCKET, FUNCTION, SCHEDULE_GROUP, SECRET, TABLE, TOPIC};
use crate::model::{Function, ScheduleGroup, StackKeyAccess, TableAccess, Tracing};
use serde_json::{json, Value};

// The actions each declared access grants. `stackctl local` names a denied
// call's missing grant from these same lists, so they are public.

/// `tables: {NAME: read}` (and the reading half of `read_write` and `read_append`).
pub const TABLE_READ: [&str; 6] = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
/// `tables: {NAME: write}` (and the writing half of `read_write`).
pub const TABLE_WRITE: [&str; 5] = [
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];
/// `tables: {NAME: append}` (and the appending half of `read_append`): on
/// the table's ARN only, with [`APPEND_CONDITION`].
pub const TABLE_APPEND: [&str; 1] = ["dynamodb:PutItem"];
/// The condition key [`TABLE_APPEND`] is granted under, and the one value
/// it allows when the request has the key.
pub const APPEND_RETURN_VALUES: (&str, &str) = ("dynamodb:ReturnValues", "NONE");
/// `buckets: {NAME: read}`: objects, and listing the bucket (on the bucket's ARN).
pub const BUCKET_READ: [&str; 1] = ["s3:GetObject"];
pub const BUCKET_LIST: [&str; 1] = ["s3:ListBucket"];
/// `buckets: {NAME: write}`: writing includes deleting.
pub const BUCKET_WRITE: [&str; 2] = ["s3:DeleteObject", "s3:PutObject"];
/// `secrets: [NAME]`.
pub const SECRET_READ: [&str; 2] = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
];
/// `invoke: [FUNCTION]`.
pub const INVOKE: [&str; 1] = ["lambda:InvokeFunction"];
/// `publish: [TOPIC]`.
pub const PUBLISH: [&str; 1] = ["sns:Publish"];
/// `event_buses: [BUS]`.
pub const PUT_EVENTS: [&str; 1] = ["events:PutEvents"];
/// `schedule_groups: [GROUP]`: schedules in the group, and handing them the group's role.
pub const SCHEDULES_MANAGE: [&str; 4] = [
    "scheduler:CreateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
    "scheduler:UpdateSchedule",
];
pub const PASS_ROLE: [&str; 1] = ["iam:PassRole"];
/// A schedule group's role, for its `dead_letter` queue.
pub const DEAD_LETTER_SEND: [&str; 1] = ["sqs:SendMessage"];
/// What sending to a queue encrypted with the stack key takes of the key.
pub const DEAD_LETTER_KEY: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];
/// The condition key that carries encryption context pair `KEY` as
/// `kms:EncryptionContext:KEY`.
pub const ENCRYPTION_CONTEXT_PREFIX: &str = "kms:EncryptionContext:";
/// The Sid of a function's `stack_key` grant.
pub const STACK_KEY_SID: &str = "UseStackKeyUnderEncryptionContext";
/// `queues: {NAME: send}`; the key: SQS encrypts with a data key.
pub const QUEUE_SEND: [&str; 1] = ["sqs:SendMessage"];
pub const QUEUE_SEND_KEY: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];
/// `queues: {NAME: consume}`, and what an event source mapping on a queue
/// needs of the function's role ("sqs:ReceiveMessage, sqs:DeleteMessage,
/// sqs:GetQueueAttributes", AWS Lambda Developer Guide, with-sqs.html),
/// with ChangeMessageVisibility for a function that hands a message back
/// early.
pub const QUEUE_CONSUME: [&str; 4] = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
];
/// `streams: {NAME: read}` and a mapping on a Kinesis stream (AWS Lambda
/// Developer Guide, "Lambda execution role permissions" for Kinesis;
/// SubscribeToShard only serves enhanced fan-out consumers, not declared).
pub const STREAM_READ: [&str; 5] = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
];
/// `streams: {NAME: write}`.
pub const STREAM_WRITE: [&str; 2] = ["kinesis:PutRecord", "kinesis:PutRecords"];
/// A mapping on a table's stream, on `TABLE_ARN/stream/*` (Amazon DynamoDB
/// Developer Guide, iam-policy-example-lamda-process-dynamodb-streams.html).
pub const TABLE_STREAM_READ: [&str; 4] = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
];
/// `read_metrics: true`.
pub const METRICS_READ: [&str; 3] = [
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
];

pub(super) fn statement(sid: &str, actions: &[&str], resources: Vec<Value>) -> Value {
    let mut actions: Vec<&str> = actions.to_vec();
    actions.sort_unstable();
    actions.dedup();
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources })
}

fn with_condition(mut statement: Value, condition: Value) -> Value {
    statement["Condition"] = condition;
    statement
}

impl Planner<'_> {
    pub(super) fn key_via(&self, sid: &str, actions: &[&str], service: &str) -> Value {
        with_condition(
            statement(sid, actions, vec![get_att("StackKey", "Arn")]),
            json!({ "StringEquals": { "kms:ViaService": sub(format!("{service}.${{AWS::Region}}.${{AWS::URLSuffix}}")) } }),
        )
    }

    /// The statements of function `name`'s execution role.
    pub(super) fn function_statements(&self, name: &str, f: &Function) -> Vec<Value> {
        let fid = FUNCTION.logical_id(name);
        let a = &f.access;
        let mut out = vec![statement(
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![get_att(&format!("{fid}LogGroup"), "Arn")],
        )];
        // The function's environment is encrypted with the stack key.
        out.push(self.key_via("DecryptOwnEnvironment", &["kms:Decrypt"], "lambda"));
        if self.tracing(f) == Tracing::Active {
            out.push(statement(
                "XRayWritesHaveNoResourceLevelPermissions",
                &["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                vec![json!("*")],
            ));
        }
        for (table, level) in &a.tables {
            out.extend(table_statements(&TABLE.logical_id(table), *level));
        }
        if !a.tables.is_empty() {
            out.push(self.key_via("UseStackKeyForTables", &["kms:Decrypt"], "dynamodb"));
        }
        let mut kms_s3: Vec<&str> = Vec::new();
        for (bucket, grant) in &a.buckets {
            let bid = BUCKET.logical_id(bucket);
            let arn = self.bucket_arn_sub(bucket);
            let prefix = grant.prefix.clone().unwrap_or_default();
            let mut objects: Vec<&str> = Vec::new();
            if grant.level.reads() {
                objects.extend(BUCKET_READ);
                let list = statement(&format!("List{bid}"), &BUCKET_LIST, vec![sub(arn.clone())]);
                out.push(match &grant.prefix {
                    Some(p) => with_condition(
                        list,
                        json!({ "StringLike": { "s3:prefix": [format!("{p}*")] } }),
                    ),
                    None => list,
                });
                kms_s3.push("kms:Decrypt");
            }
            if grant.level.writes() {
                objects.extend(BUCKET_WRITE);
                kms_s3.extend(["kms:Decrypt", "kms:GenerateDataKey"]);
            }
            let sid = format!(
                "{}{bid}Objects",
                level_word(grant.level.reads(), grant.level.writes())
            );
            out.push(statement(
                &sid,
                &objects,
                vec![sub(format!("{arn}/{}*", prefix.replace("${", "${!")))],
            ));
        }
        if !kms_s3.is_empty() && a.buckets.keys().any(|b| self.bucket_uses_kms(b)) {
            out.push(self.key_via("UseStackKeyForBuckets", &kms_s3, "s3"));
        }
        if !a.secrets.is_empty() {
            let secrets = a
                .secrets
                .iter()
                .map(|s| json!({ "Ref": SECRET.logical_id(s) }))
                .collect();
            out.push(statement("ReadSecrets", &SECRET_READ, secrets));
            out.push(self.key_via("UseStackKeyForSecrets", &["kms:Decrypt"], "secretsmanager"));
        }
        if !a.invoke.is_empty() {
            let functions = a
                .invoke
                .iter()
                .map(|f| sub(self.function_arn_sub(f)))
                .collect();
            out.push(statement("InvokeFunctions", &INVOKE, functions));
        }
        if !a.publish.is_empty() {
            let topics = a
                .publish
                .iter()
                .map(|t| json!({ "Ref": TOPIC.logical_id(t) }))
                .collect();
            out.push(statement("PublishToTopics", &PUBLISH, topics));
            out.push(self.key_via(
                "UseStackKeyForTopics",
                &["kms:Decrypt", "kms:GenerateDataKey"],
                "sns",
            ));
        }
        if !a.event_buses.is_empty() {
            let buses = a
                .event_buses
                .iter()
                .map(|b| sub(self.attribute_sub(&crate::kinds::EVENT_BUS, b, "arn")))
                .collect();
            out.push(statement("PutEventsOnBuses", &PUT_EVENTS, buses));
        }
        for group in &a.schedule_groups {
            let gid = SCHEDULE_GROUP.logical_id(group);
            let schedules = sub(format!("arn:${{AWS::Partition}}:scheduler:${{AWS::Region}}:${{AWS::AccountId}}:schedule/{}/*", self.schedule_group_name_sub(group)));
            out.push(statement(
                &format!("ManageSchedulesIn{gid}"),
                &SCHEDULES_MANAGE,
                vec![schedules],
            ));
            out.push(with_condition(
                statement(
                    &format!("PassRoleOf{gid}"),
                    &PASS_ROLE,
                    vec![get_att(&format!("{gid}Role"), "Arn")],
                ),
                json!({ "StringEquals": { "iam:PassedToService": "scheduler.amazonaws.com" } }),
            ));
        }
        if !a.user_pool.is_empty() {
            let actions: Vec<&str> = a.user_pool.iter().map(|x| x.iam_action()).collect();
            out.push(statement(
                "ManageUserPool",
                &actions,
                vec![get_att("UserPool", "Arn")],
            ));
        }
        if let Some(ec2) = &a.ec2 {
            let describe: Vec<&str> = ec2
                .actions
                .iter()
                .filter(|x| x.is_describe())
                .map(|x| x.iam_action())
                .collect();
            let act: Vec<&str> = ec2
                .actions
                .iter()
                .filter(|x| !x.is_describe())
                .map(|x| x.iam_action())
                .collect();
            if !describe.is_empty() {
                out.push(statement(
                    "Ec2DescribeHasNoResourceLevelPermissions",
                    &describe,
                    vec![json!("*")],
                ));
            }
            if !act.is_empty() {
                let instances = sub(
                    "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*".into(),
                );
                let s = statement("ActOnInstances", &act, vec![instances]);
                out.push(if ec2.instances_tagged.is_empty() {
                    s
                } else {
                    let tags: serde_json::Map<String, Value> = ec2
                        .instances_tagged
                        .iter()
                        .map(|(k, v)| (format!("aws:ResourceTag/{k}"), json!(v)))
                        .collect();
                    with_condition(s, json!({ "StringEquals": tags }))
                });
            }
        }
        if a.read_metrics == Some(true) {
            out.push(statement(
                "MetricReadsHaveNoResourceLevelPermissions",
                &METRICS_READ,
                vec![json!("*")],
            ));
        }
        out.extend(self.async_destination_statements(f));
        out.extend(self.declared_statements(a));
        if let Some(key) = &a.stack_key {
            out.push(stack_key_statement(key));
        }
        out.extend(self.queue_and_stream_statements(f));
        out.extend(self.external_statements(f));
        out
    }

    /// The statements of the role schedules in group `name` run as: invoking
    /// the targets and, with a dead-letter queue, sending to it.
    pub(super) fn schedule_group_statements(&self, name: &str, g: &ScheduleGroup) -> Vec<Value> {
        let targets = g
            .targets
            .iter()
            .map(|f| sub(self.function_arn_sub(f)))
            .collect();
        let mut out = vec![statement("InvokeTargets", &INVOKE, targets)];
        if g.dead_letter.is_some() {
            let queue = format!("{}DeadLetterQueue", SCHEDULE_GROUP.logical_id(name));
            // Scheduler sends the dead-letter event with the schedule's
            // execution role: "your schedule execution role needs the
            // following permission policy … sqs:SendMessage" (EventBridge
            // Scheduler User Guide, "Configuring a dead-letter queue for
            // EventBridge Scheduler", configuring-schedule-dlq.html).
            out.push(statement(
                "SendToDeadLetterQueue",
                &DEAD_LETTER_SEND,
                vec![get_att(&queue, "Arn")],
            ));
            // The queue is encrypted with the stack key, and "the producer
            // must have the kms:GenerateDataKey and kms:Decrypt permissions"
            // (Amazon SQS Developer Guide, "Key management", Configure KMS
            // permissions for producers, sqs-key-management.html); SQS makes
            // those calls on the sender's behalf, hence through `sqs`.
            out.push(self.key_via("UseStackKeyForDeadLetterQueue", &DEAD_LETTER_KEY, "sqs"));
        }
        out
    }
}

/// A function's own use of the stack key (`access.stack_key`): on the key's
/// ARN, only when the request's encryption context has every declared pair.
///
/// `kms:EncryptionContext:context-key` is the key for one pair: "replace
/// the context-key placeholder with the encryption context key … The key
/// name is not case sensitive. The case sensitivity of the value is
/// determined by the condition operator, such as StringEquals" (AWS KMS
/// Developer Guide, "AWS KMS condition keys", conditions-kms.html). Pairs
/// listed under one `StringEquals` must all be present; other pairs the call
/// sends are allowed. No `kms:ViaService`: the function calls KMS itself.
fn stack_key_statement(key: &StackKeyAccess) -> Value {
    let actions: Vec<&str> = key.actions.iter().map(|x| x.iam_action()).collect();
    let pairs: serde_json::Map<String, Value> = key
        .encryption_context
        .iter()
        .map(|(k, v)| (format!("{ENCRYPTION_CONTEXT_PREFIX}{k}"), json!(v)))
        .collect();
    with_condition(
        statement(STACK_KEY_SID, &actions, vec![get_att("StackKey", "Arn")]),
        json!({ "StringEquals": pairs }),
    )
}

/// The statements of one table grant: reading and writing on the table and
/// its indexes; appending on the table alone, under a condition.
fn table_statements(tid: &str, level: TableAccess) -> Vec<Value> {
    let mut out = Vec::new();
    let mut actions: Vec<&str> = Vec::new();
    if level.reads() {
        actions.extend(TABLE_READ);
    }
    if level.writes() {
        actions.extend(TABLE_WRITE);
    }
    if !actions.is_empty() {
        let resources = vec![get_att(tid, "Arn"), sub(format!("${{{tid}.Arn}}/index/*"))];
        out.push(statement(
            &format!("{}{tid}", level_word(level.reads(), level.writes())),
            &actions,
            resources,
        ));
    }
    if level.appends() {
        // Add items, never read one back: PutItem returns the item it
        // replaces only when asked to (`ReturnValues: ALL_OLD`). The Service
        // Authorization Reference (list_amazondynamodb.html) lists
        // `dynamodb:ReturnValues` among PutItem's condition keys: "Filters
        // access by the ReturnValues parameter of request. Contains one of
        // the following: ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW, or
        // NONE"; a request without the parameter has no such key, hence
        // `…IfExists`. IAM has no condition key that requires a
        // ConditionExpression, so this grant cannot stop a put from replacing
        // an item with the same key: refusing to overwrite is the writer's
        // `attribute_not_exists(<partition key>)` condition. Nor has it one
        // for `ReturnValuesOnConditionCheckFailure`: a put whose condition
        // fails with that set to ALL_OLD gets the existing item back.
        let (key, value) = APPEND_RETURN_VALUES;
        out.push(with_condition(
            statement(
                &format!("AppendTo{tid}"),
                &TABLE_APPEND,
                vec![get_att(tid, "Arn")],
            ),
            json!({ "StringEqualsIfExists": { key: value } }),
        ));
    }
    out
}

fn level_word(reads: bool, writes: bool) -> &'static str {
    match (reads, writes) {
        (true, true) => "ReadWrite",
        (true, false) => "Read",
        _ => "Write",
    }
}

/// A role's trust policy for one service.
pub fn trust(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Principal": { "Service": service }, "Action": "sts:AssumeRole" }]
    })
}

/// A function role's trust: Lambda, and the `local_principals` for the
/// sessions `stackctl local` opens (named `stackctl-local-*`), so a
/// developer can run the function with its own role and never with theirs.
pub fn function_trust(local_principals: &[String]) -> Value {
    let mut statements = vec![
        json!({ "Effect": "Allow", "Principal": { "Service": "lambda.amazonaws.com" }, "Action": "sts:AssumeRole" }),
    ];
    if !local_principals.is_empty() {
        statements.push(json!({
            "Sid": "StackctlLocal",
            "Effect": "Allow",
            "Principal": { "AWS": local_principals },
            "Action": "sts:AssumeRole",
            "Condition": { "StringLike": { "sts:RoleSessionName": "stackctl-local-*" } }
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// A trust policy that only this account's resources may use (confused-deputy guard).
pub fn trust_from_account(service: &str) -> Value {
    let mut t = trust(service);
    t["Statement"][0]["Condition"] =
        json!({ "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } });
    t
}

pub fn policy(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

mod invocation;

mod declared;

pub mod external;

#[cfg(test)]
mod tests;

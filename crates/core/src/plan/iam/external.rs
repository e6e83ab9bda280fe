//! Resources of `external:` as CloudFormation values, and the grants
//! `access.external` derives on them: the same action lists as the stack's
//! own resources, on exactly the external resource's ARN (and its parts).

use super::super::refs::sub;
use super::super::Planner;
use super::{
    statement, with_condition, BUCKET_LIST, BUCKET_READ, BUCKET_WRITE, INVOKE, PUBLISH, PUT_EVENTS,
    QUEUE_CONSUME, QUEUE_SEND, SECRET_READ, STREAM_READ, STREAM_WRITE, TABLE_READ, TABLE_WRITE,
};
use crate::model::{
    AsyncTarget, External, ExternalAccess, ExternalKind, ExternalSource, Function, SourceOf,
    StackDef,
};
use crate::naming::pascal;
use serde_json::{json, Value};

/// The template variable (a parameter, or an `Fn::Sub` variable bound to
/// `Fn::ImportValue`) that holds external `name`'s ARN when another stack
/// or SSM provides it.
pub fn arn_variable(name: &str) -> String {
    format!("External{}Arn", pascal(name))
}

/// The template parameters the SSM-provided externals need.
pub fn ssm_parameters(def: &StackDef) -> Vec<(String, Value)> {
    def.external
        .iter()
        .filter_map(|(name, e)| match e.source() {
            Some(ExternalSource::SsmParameter(path)) => Some((
                arn_variable(name),
                json!({
                    "Type": "AWS::SSM::Parameter::Value<String>",
                    "Default": path,
                    "Description": format!("The ARN of external {} `{name}`, read from SSM at each deploy", e.kind.word()),
                }),
            )),
            _ => None,
        })
        .collect()
}

/// The `Fn::Sub` variables bound to another stack's export, by variable.
pub fn imports(def: &StackDef) -> Vec<(String, String)> {
    def.external
        .iter()
        .filter_map(|(name, e)| match e.source() {
            Some(ExternalSource::Export(export)) => Some((arn_variable(name), export.to_string())),
            _ => None,
        })
        .collect()
}

impl Planner<'_> {
    fn external(&self, name: &str) -> Option<&External> {
        self.def.external.get(name)
    }

    /// External `name`'s ARN as `Fn::Sub` text (validation proved it
    /// exists and names one source; a secret known by name has no full ARN
    /// to give, and validation refuses a reference to it).
    pub(in crate::plan) fn external_arn_sub(&self, name: &str) -> String {
        let Some(e) = self.external(name) else {
            return String::new();
        };
        match e.source() {
            Some(ExternalSource::Arn(arn)) => arn.replace("${", "${!"),
            Some(ExternalSource::Name(n)) => e.kind.arn_of_name_sub(&n.replace("${", "${!")),
            _ => format!("${{{}}}", arn_variable(name)),
        }
    }

    /// External `name`'s name as `Fn::Sub` text (validation allows it only
    /// for externals given by ARN or name).
    pub(in crate::plan) fn external_name_sub(&self, name: &str) -> String {
        let Some(e) = self.external(name) else {
            return String::new();
        };
        let known = match e.source() {
            Some(ExternalSource::Name(n)) => Some(n),
            Some(ExternalSource::Arn(arn)) => e.kind.name_in_arn(arn).ok(),
            _ => None,
        };
        known.unwrap_or_default().replace("${", "${!")
    }

    /// What function `f` does with external resources: its declared
    /// `access.external`, and reading each external queue or stream it
    /// consumes as an event source (Lambda polls with the function's role).
    fn external_uses<'f>(&self, f: &'f Function) -> Vec<(&'f str, ExternalAccess)> {
        let mut uses: Vec<(&str, ExternalAccess)> = f
            .access
            .external
            .iter()
            .map(|(name, level)| (name.as_str(), *level))
            .collect();
        for source in &f.event_sources {
            let Some(SourceOf::External(name)) = source.source() else {
                continue;
            };
            let level = match self.external(name).map(|e| e.kind) {
                Some(ExternalKind::Stream) => ExternalAccess::Read,
                _ => ExternalAccess::Consume,
            };
            if !uses.contains(&(name, level)) {
                uses.push((name, level));
            }
        }
        // Lambda sends invocation records with the function's role.
        let destinations = f
            .async_invocation
            .iter()
            .flat_map(|a| [&a.on_success, &a.on_failure]);
        for destination in destinations.flatten() {
            let Some(AsyncTarget::External(name)) = destination.target() else {
                continue;
            };
            let level = match self.external(name).map(|e| e.kind) {
                Some(ExternalKind::Topic) => ExternalAccess::Publish,
                Some(ExternalKind::Function) => ExternalAccess::Invoke,
                Some(ExternalKind::EventBus) => ExternalAccess::PutEvents,
                _ => ExternalAccess::Send,
            };
            if !uses.contains(&(name, level)) {
                uses.push((name, level));
            }
        }
        uses
    }

    /// What function `f` may do with external resources: one statement per
    /// resource and part.
    pub(in crate::plan) fn external_statements(&self, f: &Function) -> Vec<Value> {
        let mut out = Vec::new();
        for (name, level) in self.external_uses(f) {
            let Some(e) = self.external(name) else {
                continue;
            };
            let id = format!("External{}", pascal(name));
            let arn = self.external_arn_sub(name);
            let on = |suffix: &str| sub(format!("{arn}{suffix}"));
            let mut grant = |what: &str, actions: &[&str], resources: Vec<Value>| {
                out.push(statement(&format!("{what}{id}"), actions, resources));
            };
            match (e.kind, level) {
                (ExternalKind::Table, level) => {
                    if level.reads() {
                        grant("Read", &TABLE_READ, vec![on(""), on("/index/*")]);
                    }
                    if level.writes() {
                        grant("Write", &TABLE_WRITE, vec![on("")]);
                    }
                }
                (ExternalKind::Bucket, level) => {
                    if level.reads() {
                        grant("List", &BUCKET_LIST, vec![on("")]);
                        grant("ReadObjectsOf", &BUCKET_READ, vec![on("/*")]);
                    }
                    if level.writes() {
                        grant("WriteObjectsOf", &BUCKET_WRITE, vec![on("/*")]);
                    }
                }
                (ExternalKind::Stream, ExternalAccess::Write) => {
                    grant("WriteTo", &STREAM_WRITE, vec![on("")])
                }
                (ExternalKind::Stream, _) => grant("ReadFrom", &STREAM_READ, vec![on("")]),
                (ExternalKind::Queue, ExternalAccess::Consume) => {
                    grant("Consume", &QUEUE_CONSUME, vec![on("")])
                }
                (ExternalKind::Queue, _) => grant("SendTo", &QUEUE_SEND, vec![on("")]),
                (ExternalKind::Secret, _) => grant("Read", &SECRET_READ, vec![on("")]),
                (ExternalKind::Topic, _) => grant("PublishTo", &PUBLISH, vec![on("")]),
                (ExternalKind::Function, _) => grant("Invoke", &INVOKE, vec![on(""), on(":*")]),
                (ExternalKind::EventBus, _) => grant("PutEventsOn", &PUT_EVENTS, vec![on("")]),
            }
            if let Some(key) = &e.key_arn {
                out.push(external_key_statement(&id, e.kind, level, key));
            }
        }
        out
    }
}

/// The external resource's own KMS key, used only through its service
/// (in whichever region the resource is: `kms:ViaService` as a pattern).
fn external_key_statement(id: &str, kind: ExternalKind, level: ExternalAccess, key: &str) -> Value {
    let encrypts = !matches!(level, ExternalAccess::Read | ExternalAccess::Consume);
    let actions: &[&str] = if encrypts {
        &["kms:Decrypt", "kms:GenerateDataKey"]
    } else {
        &["kms:Decrypt"]
    };
    with_condition(
        statement(&format!("UseKeyOf{id}"), actions, vec![json!(key)]),
        json!({"StringLike": {"kms:ViaService": format!("{}.*.amazonaws.com", kind.service())}}),
    )
}

#[cfg(test)]
mod tests {
    use crate::pipeline::Outcome;
    use crate::plan::test_stacks::{render, rendered};
    use serde_json::{json, Value};

    const STACK: &str = r#"name: shop
external:
  orders: {type: table, name: orders-prod}
  archive: {type: bucket, arn: "arn:aws:s3:::shop-archive"}
  billing: {type: queue, export: billing-prod-QueueArn, key_arn: "arn:aws:kms:eu-west-1:123456789012:key/0e1f2a3b-0000-4000-8000-000000000001"}
  stripe: {type: secret, ssm_parameter: /shared/stripe-secret-arn}
functions:
  api:
    crate: api
    environment:
      ORDERS_TABLE: ${external.orders.name}
      ARCHIVE_BUCKET: ${external.archive.name}
      BILLING_QUEUE_ARN: ${external.billing.arn}
      STRIPE_SECRET_ARN: ${external.stripe.arn}
    access:
      external: {orders: read, archive: write, billing: send, stripe: read}
"#;

    fn external_statements(template: &Value) -> Vec<Value> {
        template["Resources"]["ApiFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["Sid"]
                    .as_str()
                    .is_some_and(|sid| sid.contains("External"))
            })
            .cloned()
            .collect()
    }

    #[test]
    fn each_source_becomes_its_arn_and_each_level_its_grant() {
        let t = rendered("shop.yaml", STACK);
        let table =
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders-prod";
        let import = json!({"ExternalBillingArn": {"Fn::ImportValue": "billing-prod-QueueArn"}});
        assert_eq!(
            external_statements(&t),
            vec![
                json!({"Sid": "ReadExternalOrders", "Effect": "Allow",
                    "Action": ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
                    "Resource": [{"Fn::Sub": table}, {"Fn::Sub": format!("{table}/index/*")}]}),
                json!({"Sid": "WriteObjectsOfExternalArchive", "Effect": "Allow",
                    "Action": ["s3:DeleteObject", "s3:PutObject"],
                    "Resource": ["arn:aws:s3:::shop-archive/*"]}),
                json!({"Sid": "SendToExternalBilling", "Effect": "Allow",
                    "Action": ["sqs:SendMessage"],
                    "Resource": [{"Fn::Sub": ["${ExternalBillingArn}", import]}]}),
                json!({"Sid": "UseKeyOfExternalBilling", "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": ["arn:aws:kms:eu-west-1:123456789012:key/0e1f2a3b-0000-4000-8000-000000000001"],
                    "Condition": {"StringLike": {"kms:ViaService": "sqs.*.amazonaws.com"}}}),
                json!({"Sid": "ReadExternalStripe", "Effect": "Allow",
                    "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                    "Resource": [{"Fn::Sub": "${ExternalStripeArn}"}]}),
            ]
        );
        assert_eq!(
            t["Parameters"],
            json!({"ExternalStripeArn": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/shared/stripe-secret-arn",
                "Description": "The ARN of external secret `stripe`, read from SSM at each deploy"
            }})
        );
        let env = &t["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"];
        assert_eq!(env["ORDERS_TABLE"], json!("orders-prod"));
        assert_eq!(env["ARCHIVE_BUCKET"], json!("shop-archive"));
        assert_eq!(
            env["BILLING_QUEUE_ARN"],
            json!({"Fn::Sub": ["${ExternalBillingArn}", import]})
        );
        assert_eq!(
            env["STRIPE_SECRET_ARN"],
            json!({"Fn::Sub": "${ExternalStripeArn}"})
        );
    }

    #[test]
    fn an_external_queue_or_stream_is_read_as_an_event_source_with_its_grant() {
        let t = rendered(
            "shop.yaml",
            r#"name: shop
external:
  billing: {type: queue, arn: "arn:aws:sqs:eu-west-1:123456789012:billing"}
  clicks: {type: stream, export: web-prod-ClicksStreamArn}
functions:
  worker:
    crate: worker
    event_sources:
      - {external: billing, batch_size: 5}
      - {external: clicks, starting_position: trim_horizon}
    access:
      external: {billing: consume}
"#,
        );
        let mapping = &t["Resources"]["WorkerFunctionFromBillingExternal"]["Properties"];
        assert_eq!(
            mapping["EventSourceArn"],
            json!("arn:aws:sqs:eu-west-1:123456789012:billing")
        );
        assert_eq!(mapping["BatchSize"], json!(5));
        assert!(mapping.get("StartingPosition").is_none(), "{mapping:#}");
        let mapping = &t["Resources"]["WorkerFunctionFromClicksExternal"]["Properties"];
        let import = json!({"ExternalClicksArn": {"Fn::ImportValue": "web-prod-ClicksStreamArn"}});
        assert_eq!(
            mapping["EventSourceArn"],
            json!({"Fn::Sub": ["${ExternalClicksArn}", import]})
        );
        assert_eq!(mapping["BatchSize"], json!(100));
        assert_eq!(mapping["StartingPosition"], json!("TRIM_HORIZON"));
        let sids: Vec<&str> = t["Resources"]["WorkerFunctionRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .filter(|sid| sid.contains("External"))
            .collect();
        // The declared consume and the source's read of the same queue are one grant.
        assert_eq!(sids, ["ConsumeExternalBilling", "ReadFromExternalClicks"]);
    }

    #[test]
    fn an_external_destination_receives_records_with_the_grant_its_kind_takes() {
        let t = rendered(
            "shop.yaml",
            r#"name: shop
external:
  ops: {type: topic, name: ops-alerts}
buckets:
  uploads:
    notifications: [{function: worker}]
functions:
  worker:
    crate: worker
    async: {on_failure: {external: ops}}
"#,
        );
        let topic = "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:ops-alerts";
        assert_eq!(
            t["Resources"]["WorkerFunctionAsyncConfig"]["Properties"]["DestinationConfig"],
            json!({"OnFailure": {"Destination": {"Fn::Sub": topic}}})
        );
        let statements = t["Resources"]["WorkerFunctionRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            statements.contains(&json!({"Sid": "PublishToExternalOps", "Effect": "Allow",
                "Action": ["sns:Publish"], "Resource": [{"Fn::Sub": topic}]})),
            "{statements:#?}"
        );
    }

    #[test]
    fn an_external_topic_delivers_to_a_function_and_a_queue_of_the_stack() {
        let t = rendered(
            "shop.yaml",
            r#"name: shop
external:
  orders:
    type: topic
    arn: "arn:aws:sns:eu-west-1:444455556666:orders"
    subscriptions:
      - function: notify
        filter_policy: {kind: [placed]}
      - {queue: inbox, raw_message_delivery: true}
queues:
  inbox: {}
  failed: {}
functions:
  notify:
    crate: notify
    async: {on_failure: {queue: failed}}
"#,
        );
        let topic = json!("arn:aws:sns:eu-west-1:444455556666:orders");
        let r = &t["Resources"];
        let to_function = &r["ExternalOrdersNotifyFunctionSubscription"]["Properties"];
        assert_eq!(to_function["TopicArn"], topic);
        assert_eq!(to_function["Protocol"], json!("lambda"));
        assert_eq!(to_function["FilterPolicy"], json!({"kind": ["placed"]}));
        let permission = &r["ExternalOrdersInvokesNotifyFunction"]["Properties"];
        assert_eq!(permission["SourceArn"], topic);
        assert_eq!(permission["Principal"], json!("sns.amazonaws.com"));
        assert_eq!(
            r["ExternalOrdersInboxQueueSubscription"]["Properties"]["RawMessageDelivery"],
            json!(true)
        );
        let policy = &r["InboxQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(policy["Sid"], json!("ExternalOrdersSendsMessages"));
        assert_eq!(
            policy["Condition"],
            json!({"ArnEquals": {"aws:SourceArn": topic}})
        );
        let key = r["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "SnsSendsFromExternalOrders")
            .cloned();
        assert_eq!(
            key.map(|k| k["Condition"].clone()),
            Some(json!({"ArnEquals": {"aws:SourceArn": topic}}))
        );
    }

    #[test]
    fn an_external_topic_is_no_event_source() {
        let text = r#"name: shop
external:
  alerts: {type: topic, arn: "arn:aws:sns:eu-west-1:123456789012:alerts"}
functions:
  worker:
    crate: worker
    event_sources: [{external: alerts}]
"#;
        assert_eq!(
            errors(text),
            vec!["external `alerts` is a topic; Lambda reads batches from a queue or a Kinesis stream"]
        );
    }

    #[test]
    fn a_stack_without_externals_has_no_parameters() {
        let t = rendered("shop.yaml", "name: shop\nfunctions:\n  api: {crate: api}\n");
        assert!(t.get("Parameters").is_none(), "{t:#}");
    }

    fn errors(text: &str) -> Vec<String> {
        match render("shop.yaml", text) {
            Outcome::Invalid(d) => d
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.message.clone())
                .collect(),
            Outcome::Rendered { .. } => Vec::new(),
        }
    }

    #[test]
    fn what_an_external_cannot_give_or_take_is_refused() {
        let wrong = STACK
            .replace("archive: write", "archive: publish")
            .replace("${external.billing.arn}", "${external.billing.name}")
            .replace(
                "name: orders-prod",
                "arn: \"arn:aws:dynamodb:eu-west-1:123456789012:orders\"",
            );
        assert_eq!(
            errors(&wrong),
            vec![
                "`arn:aws:dynamodb:eu-west-1:123456789012:orders` is not the ARN of a DynamoDB table",
                "`${external.billing.name}`: the name of `billing` is not known, only its ARN (another stack's export)",
                "`publish` is not a level of an external bucket (`archive`)",
            ]
        );
    }
}

//! Event routing end to end on the emulator (tier `tier-emulator`), where
//! moto models the service: `examples/event-rule-consumer.yaml` (an event
//! bus and a rule with an input transformer, retries and a dead-letter
//! queue; a topic with a function and a queue subscription, each with a
//! filter policy) and `examples/stream-consumer.yaml` (a Kinesis stream and
//! event source mappings) deployed with stand-in packages (their crates do
//! not exist), then read back and exercised through each service's own API:
//! SNS and SQS through the SDK, EventBridge, Kinesis and Lambda (no SDK
//! crate in the workspace) through the emulator's boto3.
//!
//! The emulator runs no functions (moto would need Docker): what reaches a
//! function is shown by its subscription, target, mapping and permission;
//! what reaches a queue is received.
#![cfg(feature = "tier-emulator")]

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::local::{output, Project};
use support::moto::{Moto, MOTO};
use support::{ensure, with_stand_in_package};

/// Calls of boto3 from the emulator's venv: a JSON list of
/// `[service, operation, parameters]` on standard input, a JSON list of
/// answers (without ResponseMetadata; `{"error": …}` for a failed call) on
/// standard output. Blobs come back as text.
const BOTO3: &str = r#"
import json, sys
import boto3
from botocore.config import Config

kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing",
          aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))
clients, answers = {}, []
for service, operation, parameters in json.load(sys.stdin):
    if service not in clients:
        clients[service] = boto3.client(service, **kw)
    try:
        answer = getattr(clients[service], operation)(**parameters)
        answer.pop("ResponseMetadata", None)
    except Exception as e:  # noqa: BLE001 - reported to the test
        answer = {"error": f"{type(e).__name__}: {e}"}
    answers.append(answer)
print(json.dumps(answers, default=lambda v: v.decode() if isinstance(v, bytes) else str(v)))
"#;

/// Each call's answer, in order; a failed call fails the test.
fn boto3(moto: &Moto, calls: &[(&str, &str, Value)]) -> Vec<Value> {
    let python = ensure(&MOTO).with_file_name("python");
    let mut child = Command::new(python)
        .args(["-c", BOTO3, &moto.endpoint()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the emulator's python");
    let calls: Vec<Value> = calls.iter().map(|(s, o, p)| json!([s, o, p])).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(calls.clone()).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for (call, answer) in calls.iter().zip(&answers) {
        assert!(answer.get("error").is_none(), "{call}: {answer}");
    }
    answers
}

/// One call's answer.
fn call(moto: &Moto, service: &str, operation: &str, parameters: Value) -> Value {
    boto3(moto, &[(service, operation, parameters)]).remove(0)
}

/// A JSON document held as text (policies, patterns), parsed.
fn parsed(text: &Value) -> Value {
    serde_json::from_str(
        text.as_str()
            .unwrap_or_else(|| panic!("{text} is not text")),
    )
    .unwrap_or_else(|e| panic!("{text} is not JSON: {e}"))
}

/// An example copied into a project, its functions shipping a stand-in
/// package, deployed; with its rendered template and what was created.
struct Deployed {
    /// The project folder, kept until the test ends.
    _project: Project,
    template: Value,
    outputs: Value,
    /// logical id → physical id, as ListStackResources names them
    physical: BTreeMap<String, String>,
    /// the CloudFormation stack's name
    stack: String,
}

impl Deployed {
    fn new(moto: &Moto, example: &str, edit: impl FnOnce(String) -> String) -> Deployed {
        let project = Project::of_example(example);
        let stand_in = project.dir.path().join("stand-in.zip");
        std::fs::write(
            &stand_in,
            stackctl::artifact::zip::bootstrap_zip(b"#!/bin/sh\necho stand-in\n"),
        )
        .unwrap();
        let file = project.dir.path().join(format!("stacks/{example}.yaml"));
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, with_stand_in_package(&edit(text), &stand_in)).unwrap();
        project.deploy(moto);
        let outputs = project.outputs(moto);
        let render = project
            .command(
                moto,
                &["render", "--env", "dev", "--format", "json", example],
            )
            .output()
            .unwrap();
        assert!(
            render.status.success(),
            "{}",
            String::from_utf8_lossy(&render.stderr)
        );
        let template: Value = serde_json::from_slice(&render.stdout).unwrap();
        let app = template["Metadata"]["stackctl"]["app"].as_str().unwrap();
        let stack = format!("{app}-dev");
        let listed = call(
            moto,
            "cloudformation",
            "list_stack_resources",
            json!({"StackName": stack}),
        );
        let physical = listed["StackResourceSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["LogicalResourceId"].as_str().unwrap().to_string(),
                    r["PhysicalResourceId"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        Deployed {
            _project: project,
            template,
            outputs,
            physical,
            stack,
        }
    }

    fn physical(&self, logical: &str) -> &str {
        self.physical
            .get(logical)
            .unwrap_or_else(|| panic!("{}: {logical} was not created", self.stack))
    }

    fn properties(&self, logical: &str) -> &Value {
        let properties = &self.template["Resources"][logical]["Properties"];
        assert!(
            properties.is_object(),
            "{}: no {logical} in the template",
            self.stack
        );
        properties
    }

    /// Logical ids of the template's resources of one type.
    fn of_type(&self, ty: &str) -> Vec<String> {
        self.template["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == ty)
            .map(|(l, _)| l.clone())
            .collect()
    }

    /// `arn:aws:SERVICE:REGION:ACCOUNT:` of this deployment.
    fn arn_prefix(&self, service: &str) -> String {
        let key = output(&self.outputs, "StackKeyArn");
        let parts: Vec<&str> = key.split(':').collect();
        format!("arn:aws:{service}:{}:{}:", parts[3], parts[4])
    }

    /// The ARN of a created resource (a queue, function, rule or topic).
    fn arn(&self, logical: &str) -> String {
        let physical = self.physical(logical);
        match self.template["Resources"][logical]["Type"]
            .as_str()
            .unwrap()
        {
            "AWS::SQS::Queue" => format!(
                "{}{}",
                self.arn_prefix("sqs"),
                physical.rsplit('/').next().unwrap()
            ),
            "AWS::Lambda::Function" => format!("{}function:{physical}", self.arn_prefix("lambda")),
            "AWS::SNS::Topic" => physical.to_string(),
            ty => panic!("no ARN for {logical} ({ty})"),
        }
    }

    /// A declared `Fn::GetAtt [X, Arn]` or `Ref X` as the ARN it resolves to.
    fn resolved_arn(&self, value: &Value) -> String {
        let target = value["Fn::GetAtt"][0]
            .as_str()
            .or_else(|| value["Ref"].as_str())
            .unwrap_or_else(|| panic!("{value} names no resource"));
        self.arn(target)
    }

    fn queue_url(&self, logical: &str) -> String {
        self.physical(logical).to_string()
    }
}

/// The statements of a function's resource policy (GetPolicy).
fn function_policy(moto: &Moto, function: &str) -> Vec<Value> {
    let answer = call(
        moto,
        "lambda",
        "get_policy",
        json!({"FunctionName": function}),
    );
    parsed(&answer["Policy"])["Statement"]
        .as_array()
        .unwrap()
        .clone()
}

/// Whether a statement lets `service` invoke the function from `source`.
fn allows_invoke(statement: &Value, service: &str, source: &str) -> bool {
    let condition = &statement["Condition"];
    let source_arn = ["ArnLike", "ArnEquals"]
        .iter()
        .find_map(|op| condition[op]["AWS:SourceArn"].as_str());
    statement["Effect"] == "Allow"
        && statement["Action"] == "lambda:InvokeFunction"
        && statement["Principal"]["Service"] == service
        && source_arn == Some(source)
}

/// Every message on a queue within `seconds` (received, not deleted:
/// the test only counts what arrived).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, seconds: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut bodies = Vec::new();
    while Instant::now() < deadline {
        let answer = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        bodies.extend(
            answer
                .messages()
                .iter()
                .map(|m| m.body().unwrap_or_default().to_string()),
        );
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_rules_streams_and_mappings_route_as_declared() {
    let started = Instant::now();
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let sns = aws_sdk_sns::Client::new(&config);

    // The rule's target is a function, which the emulator cannot run: a
    // queue target `audit` with the same input transformer is added to the
    // copy, so what the deployed pattern and transformer let through can be
    // received.
    let routing = Deployed::new(&moto, "event-rule-consumer", audit_target);
    // Both examples are the app `orders`: the stream consumer is deployed
    // as `clicks` beside it.
    let streams = Deployed::new(&moto, "stream-consumer", |text| {
        text.replacen("\nname: orders\n", "\nname: clicks\n", 1)
    });
    assert_ne!(routing.stack, streams.stack);
    eprintln!("deployed both in {:?}", started.elapsed());

    topic_delivers_to_the_queue_by_its_body_filter_raw(&routing, &sqs, &sns).await;
    eprintln!("topic to queue checked at {:?}", started.elapsed());
    topic_subscriptions_and_permissions_as_declared(&moto, &routing, &sqs, &sns).await;
    rule_on_its_bus_with_targets_as_declared(&moto, &routing);
    rule_lets_through_what_its_pattern_matches(&moto, &routing, &sqs).await;
    eprintln!("event bus checked at {:?}", started.elapsed());
    asynchronous_invocation_settings_as_declared(&moto, &routing);
    stream_exists_encrypted_and_reads_back_a_record(&moto, &streams);
    mappings_as_declared(&moto, &streams).await;
    eprintln!("all checked in {:?}", started.elapsed());
}

/// The example with a queue `audit` that the rule also targets, through a
/// copy of the function target's input transformer.
fn audit_target(text: String) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let function = lines
        .iter()
        .position(|l| *l == "      - function: fulfil")
        .expect("the rule targets fulfil");
    let transformer = lines[function + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with("input_transformer:"))
        .map(|i| function + 1 + i)
        .expect("fulfil's target has an input transformer");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let end = lines[transformer + 1..]
        .iter()
        .position(|l| indent(l) <= indent(lines[transformer]))
        .map_or(lines.len(), |i| transformer + 1 + i);
    let mut target = "      - queue: audit\n".to_string();
    for line in &lines[transformer..end] {
        target.push_str(line);
        target.push('\n');
    }
    let text = text.replacen("\nqueues:\n", "\nqueues:\n  audit: {}\n", 1);
    text.replacen(
        "      - function: fulfil\n",
        &format!("{target}      - function: fulfil\n"),
        1,
    )
}

/// SNS → SQS: a message whose body matches the queue subscription's filter
/// policy (`order.total >= 100`, scope MessageBody) arrives exactly as
/// published (raw delivery: no SNS envelope); one that does not (50) never
/// arrives. Without the filter policy the 50 would arrive; with the
/// policy on message attributes (the default scope) moto's matcher finds no
/// attributes and nothing would; without raw delivery the body would be
/// SNS's JSON envelope.
async fn topic_delivers_to_the_queue_by_its_body_filter_raw(
    routing: &Deployed,
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
) {
    let topic = routing.physical("ShippedTopic");
    let warehouse = routing.queue_url("WarehouseQueue");
    let published: Vec<String> = [150, 50, 100]
        .iter()
        .map(|total| {
            json!({"order": {"id": format!("o-{total}"), "total": total}, "carrier": "ups"})
                .to_string()
        })
        .collect();
    for message in &published {
        sns.publish()
            .topic_arn(topic)
            .message(message)
            .send()
            .await
            .unwrap();
    }
    let mut arrived = drain(sqs, &warehouse, 3).await;
    arrived.sort();
    let mut wanted = vec![published[0].clone(), published[2].clone()];
    wanted.sort();
    assert_eq!(
        arrived, wanted,
        "the warehouse queue gets the orders of 100 or more, as published"
    );
    let undelivered = drain(sqs, &routing.queue_url("UndeliveredQueue"), 1).await;
    assert!(undelivered.is_empty(), "{undelivered:?}");
}

/// Both subscriptions of the topic with their attributes; the function's
/// permission for the topic; the queue's policy for the topic.
async fn topic_subscriptions_and_permissions_as_declared(
    moto: &Moto,
    routing: &Deployed,
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
) {
    let topic = routing.physical("ShippedTopic");
    let listed = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .unwrap();
    let declared = routing.of_type("AWS::SNS::Subscription");
    assert_eq!(
        listed.subscriptions().len(),
        declared.len(),
        "{:?}",
        listed.subscriptions()
    );
    for logical in &declared {
        let properties = routing.properties(logical);
        let endpoint = routing.resolved_arn(&properties["Endpoint"]);
        let subscription = listed
            .subscriptions()
            .iter()
            .find(|s| s.endpoint() == Some(endpoint.as_str()))
            .unwrap_or_else(|| panic!("{logical}: no subscription of {endpoint}"));
        assert_eq!(
            subscription.protocol(),
            properties["Protocol"].as_str(),
            "{logical}"
        );
        let attributes = sns
            .get_subscription_attributes()
            .subscription_arn(subscription.subscription_arn().unwrap())
            .send()
            .await
            .unwrap();
        let attributes = attributes.attributes().unwrap();
        let attribute = |name: &str| attributes.get(name).map(String::as_str);
        assert_eq!(
            serde_json::from_str::<Value>(attribute("FilterPolicy").unwrap()).unwrap(),
            properties["FilterPolicy"],
            "{logical}: filter policy"
        );
        assert_eq!(
            attribute("FilterPolicyScope"),
            Some(
                properties["FilterPolicyScope"]
                    .as_str()
                    .unwrap_or("MessageAttributes")
            ),
            "{logical}: filter policy scope"
        );
        let raw = properties["RawMessageDelivery"].as_bool().unwrap_or(false);
        assert_eq!(
            attribute("RawMessageDelivery"),
            Some(if raw { "true" } else { "false" }),
            "{logical}: raw delivery"
        );
        match properties["RedrivePolicy"]["deadLetterTargetArn"] {
            Value::Null => assert_eq!(attribute("RedrivePolicy"), None, "{logical}"),
            ref dead_letter => assert_eq!(
                serde_json::from_str::<Value>(attribute("RedrivePolicy").unwrap()).unwrap()
                    ["deadLetterTargetArn"],
                json!(routing.resolved_arn(dead_letter)),
                "{logical}: dead-letter queue"
            ),
        }
        match subscription.protocol() {
            Some("lambda") => {
                let statements = function_policy(moto, &endpoint);
                assert!(
                    statements
                        .iter()
                        .any(|s| allows_invoke(s, "sns.amazonaws.com", topic)),
                    "{logical}: the function lets the topic invoke it: {statements:#?}"
                );
            }
            Some("sqs") => {
                let url = routing.physical
                    [properties["Endpoint"]["Fn::GetAtt"][0].as_str().unwrap()]
                .clone();
                let policy = sqs
                    .get_queue_attributes()
                    .queue_url(&url)
                    .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
                    .send()
                    .await
                    .unwrap();
                let policy = policy
                    .attributes()
                    .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy))
                    .unwrap_or_else(|| panic!("{logical}: the queue has no policy"));
                let policy: Value = serde_json::from_str(policy).unwrap();
                assert!(
                    policy["Statement"].as_array().unwrap().iter().any(|s| {
                        s["Effect"] == "Allow"
                            && s["Principal"]["Service"] == "sns.amazonaws.com"
                            && s["Action"] == "sqs:SendMessage"
                            && s["Resource"] == json!(endpoint)
                            && s["Condition"]["ArnEquals"]["aws:SourceArn"] == json!(topic)
                    }),
                    "{logical}: the queue lets the topic send to it: {policy:#}"
                );
            }
            other => panic!("{logical}: unexpected protocol {other:?}"),
        }
    }
}

/// The bus, the rule on it with its pattern and state, each target with its
/// transformer, retries and dead-letter queue, and the function's
/// permission for the rule.
fn rule_on_its_bus_with_targets_as_declared(moto: &Moto, routing: &Deployed) {
    let bus_properties = routing.properties("OrdersEventBus");
    let bus_name = routing.physical("OrdersEventBus");
    let rule_properties = routing.properties("OrderPlacedRule");
    let rule_name = routing.physical("OrderPlacedRule");
    let answers = boto3(
        moto,
        &[
            ("events", "describe_event_bus", json!({"Name": bus_name})),
            ("events", "list_rules", json!({"EventBusName": bus_name})),
            (
                "events",
                "list_targets_by_rule",
                json!({"Rule": rule_name, "EventBusName": bus_name}),
            ),
        ],
    );
    let (bus, rules, targets) = (&answers[0], &answers[1], &answers[2]);
    assert_eq!(bus["Name"], json!(bus_name));
    assert_eq!(
        bus["Description"], bus_properties["Description"],
        "the bus's description"
    );
    let rules = rules["Rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "one rule on the bus: {rules:#?}");
    let rule = &rules[0];
    assert_eq!(rule["Name"], json!(rule_name));
    assert_eq!(rule["EventBusName"], json!(bus_name));
    assert_eq!(rule["State"], "ENABLED");
    assert_eq!(rule["State"], rule_properties["State"]);
    assert_eq!(rule["Description"], rule_properties["Description"]);
    assert_eq!(
        parsed(&rule["EventPattern"]),
        rule_properties["EventPattern"],
        "the rule's pattern is the declared one"
    );
    let rule_arn = rule["Arn"].as_str().unwrap();
    assert!(
        rule_arn.ends_with(&format!(":rule/{bus_name}/{rule_name}")),
        "{rule_arn}"
    );

    let declared = rule_properties["Targets"].as_array().unwrap();
    let live = targets["Targets"].as_array().unwrap();
    assert_eq!(live.len(), declared.len(), "{live:#?}");
    let mut functions = 0;
    for target in declared {
        let id = target["Id"].as_str().unwrap();
        let found = live
            .iter()
            .find(|t| t["Id"] == id)
            .unwrap_or_else(|| panic!("no target {id}: {live:#?}"));
        let arn = routing.resolved_arn(&target["Arn"]);
        assert_eq!(found["Arn"], json!(arn), "target {id}");
        for member in ["InputTransformer", "RetryPolicy"] {
            assert_eq!(found[member], target[member], "target {id}: {member}");
        }
        match &target["DeadLetterConfig"]["Arn"] {
            Value::Null => assert!(found["DeadLetterConfig"].is_null(), "target {id}"),
            dead_letter => assert_eq!(
                found["DeadLetterConfig"]["Arn"],
                json!(routing.resolved_arn(dead_letter)),
                "target {id}: dead-letter queue"
            ),
        }
        if arn.contains(":function:") {
            functions += 1;
            let statements = function_policy(moto, &arn);
            assert!(
                statements
                    .iter()
                    .any(|s| allows_invoke(s, "events.amazonaws.com", rule_arn)),
                "target {id}: the function lets the rule invoke it: {statements:#?}"
            );
        }
    }
    assert_eq!(functions, 1, "the rule targets fulfil");
    let fulfil = routing.arn("FulfilFunction");
    let target = live.iter().find(|t| t["Arn"] == json!(fulfil)).unwrap();
    assert_eq!(target["RetryPolicy"]["MaximumRetryAttempts"], 8);
    assert_eq!(
        target["DeadLetterConfig"]["Arn"],
        json!(routing.arn("UndeliveredQueue"))
    );
}

/// Events put on the bus: those the declared pattern matches reach the
/// rule's queue target, transformed as its template says; the others
/// (a pending payment, a total of 0 or above 10000, another source) do not.
async fn rule_lets_through_what_its_pattern_matches(
    moto: &Moto,
    routing: &Deployed,
    sqs: &aws_sdk_sqs::Client,
) {
    let bus = routing.physical("OrdersEventBus");
    let rule = routing.physical("OrderPlacedRule");
    let events = [
        ("shop.checkout", "card", 12, true),
        ("shop.checkout", "pending", 12, false),
        ("shop.checkout", "failed", 300, false),
        ("shop.checkout", "card", 0, false),
        ("shop.checkout", "card", 20000, false),
        ("shop.returns", "card", 12, false),
        ("shop.checkout", "invoice", 10000, true),
    ];
    let entries: Vec<Value> = events
        .iter()
        .map(|(source, payment, total, _)| {
            json!({
                "Source": source,
                "DetailType": "OrderPlaced",
                "EventBusName": bus,
                "Detail": json!({
                    "order-id": format!("o-{payment}-{total}"),
                    "payment": payment,
                    "total": total,
                })
                .to_string(),
            })
        })
        .collect();
    let put = call(moto, "events", "put_events", json!({"Entries": entries}));
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
    let mut arrived: Vec<Value> = drain(sqs, &routing.queue_url("AuditQueue"), 3)
        .await
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    arrived.sort_by_key(|v| v["order"].as_str().unwrap_or_default().to_string());
    let wanted: Vec<Value> = events
        .iter()
        .filter(|(.., matches)| *matches)
        .map(|(_, payment, total, _)| {
            json!({"order": format!("o-{payment}-{total}"), "total": total, "rule": rule})
        })
        .collect();
    assert_eq!(
        arrived, wanted,
        "exactly the matching events, with the template filled in"
    );
    assert!(drain(sqs, &routing.queue_url("UndeliveredQueue"), 1)
        .await
        .is_empty());
}

/// GetFunctionEventInvokeConfig of each function with `async:` settings.
fn asynchronous_invocation_settings_as_declared(moto: &Moto, routing: &Deployed) {
    let declared = routing.of_type("AWS::Lambda::EventInvokeConfig");
    assert_eq!(declared.len(), 2, "fulfil and notify: {declared:?}");
    let calls: Vec<(&str, &str, Value)> = declared
        .iter()
        .map(|logical| {
            let properties = routing.properties(logical);
            let function = routing.physical(properties["FunctionName"]["Ref"].as_str().unwrap());
            (
                "lambda",
                "get_function_event_invoke_config",
                json!({"FunctionName": function, "Qualifier": properties["Qualifier"]}),
            )
        })
        .collect();
    for (logical, live) in declared.iter().zip(boto3(moto, &calls)) {
        let properties = routing.properties(logical);
        for member in ["MaximumRetryAttempts", "MaximumEventAgeInSeconds"] {
            assert_eq!(live[member], properties[member], "{logical}: {member}");
        }
        for member in ["OnFailure", "OnSuccess"] {
            match &properties["DestinationConfig"][member]["Destination"] {
                Value::Null => assert!(
                    live["DestinationConfig"][member].is_null(),
                    "{logical}: {member}: {live}"
                ),
                destination => assert_eq!(
                    live["DestinationConfig"][member]["Destination"],
                    json!(routing.resolved_arn(destination)),
                    "{logical}: {member}"
                ),
            }
        }
        assert_eq!(
            live["DestinationConfig"]["OnFailure"]["Destination"],
            json!(routing.arn("FailedQueue")),
            "{logical}: failures go to the queue `failed`"
        );
    }
}

/// The stream with its mode, retention and key; a record put is read back
/// from the start of its shard.
fn stream_exists_encrypted_and_reads_back_a_record(moto: &Moto, streams: &Deployed) {
    let properties = streams.properties("ClicksStream");
    let name = streams.physical("ClicksStream");
    let summary = &call(
        moto,
        "kinesis",
        "describe_stream_summary",
        json!({"StreamName": name}),
    )["StreamDescriptionSummary"];
    assert_eq!(
        summary["StreamARN"],
        json!(output(&streams.outputs, "ClicksStreamArn"))
    );
    assert_eq!(summary["StreamStatus"], "ACTIVE");
    assert_eq!(
        summary["StreamModeDetails"], properties["StreamModeDetails"],
        "stream mode"
    );
    assert_eq!(summary["StreamModeDetails"]["StreamMode"], "ON_DEMAND");
    assert_eq!(
        summary["RetentionPeriodHours"], properties["RetentionPeriodHours"],
        "retention"
    );
    assert_eq!(summary["EncryptionType"], "KMS");
    assert_eq!(
        summary["EncryptionType"],
        properties["StreamEncryption"]["EncryptionType"]
    );
    assert_eq!(
        summary["KeyId"],
        json!(output(&streams.outputs, "StackKeyArn")),
        "encrypted with the stack's key"
    );

    let put = call(
        moto,
        "kinesis",
        "put_record",
        json!({"StreamName": name, "Data": "{\"page\": \"/cart\"}", "PartitionKey": "visitor-1"}),
    );
    let iterator = call(
        moto,
        "kinesis",
        "get_shard_iterator",
        json!({"StreamName": name, "ShardId": put["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
    );
    let records = call(
        moto,
        "kinesis",
        "get_records",
        json!({"ShardIterator": iterator["ShardIterator"]}),
    );
    let records = records["Records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["Data"], "{\"page\": \"/cart\"}");
    assert_eq!(records[0]["PartitionKey"], "visitor-1");
    assert_eq!(records[0]["SequenceNumber"], put["SequenceNumber"]);
}

/// The mapping settings ListEventSourceMappings reports, compared with the
/// template. moto keeps every setting stackctl declares (measured with
/// moto 5.2.5): batch size, starting position, batching window,
/// parallelization, record age, retries, bisect, function response types,
/// filter criteria and the on-failure destination; `Enabled` comes back as
/// State. Only Tags are not compared (ListEventSourceMappings does not
/// return them).
const MAPPING_SETTINGS: [&str; 9] = [
    "BatchSize",
    "StartingPosition",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",
    "BisectBatchOnFunctionError",
    "FunctionResponseTypes",
    "FilterCriteria",
];

/// Each event source mapping, listed for its function (by name), as declared.
async fn mappings_as_declared(moto: &Moto, streams: &Deployed) {
    let declared = streams.of_type("AWS::Lambda::EventSourceMapping");
    assert_eq!(declared.len(), 2, "{declared:?}");
    let table_stream = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await)
        .describe_table()
        .table_name(streams.physical("OrdersTable"))
        .send()
        .await
        .unwrap()
        .table()
        .and_then(|t| t.latest_stream_arn())
        .expect("the table has a stream")
        .to_string();
    let calls: Vec<(&str, &str, Value)> = declared
        .iter()
        .map(|logical| {
            let function = streams.properties(logical)["FunctionName"]["Fn::GetAtt"][0]
                .as_str()
                .unwrap();
            (
                "lambda",
                "list_event_source_mappings",
                json!({"FunctionName": streams.physical(function)}),
            )
        })
        .collect();
    for (logical, listed) in declared.iter().zip(boto3(moto, &calls)) {
        let properties = streams.properties(logical);
        let listed = listed["EventSourceMappings"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "{logical}: {listed:#?}");
        let live = &listed[0];
        assert_eq!(
            live["FunctionArn"],
            json!(streams.resolved_arn(&properties["FunctionName"])),
            "{logical}"
        );
        let source = match properties["EventSourceArn"]["Fn::GetAtt"][0].as_str() {
            Some("OrdersTable") => table_stream.clone(),
            Some("ClicksStream") => output(&streams.outputs, "ClicksStreamArn"),
            other => panic!("{logical}: unexpected source {other:?}"),
        };
        assert_eq!(live["EventSourceArn"], json!(source), "{logical}: source");
        for member in MAPPING_SETTINGS {
            assert_eq!(live[member], properties[member], "{logical}: {member}");
        }
        assert_eq!(
            live["State"],
            if properties["Enabled"] == false {
                "Disabled"
            } else {
                "Enabled"
            },
            "{logical}: state"
        );
        assert_eq!(
            live["DestinationConfig"]["OnFailure"]["Destination"],
            json!(
                streams.resolved_arn(&properties["DestinationConfig"]["OnFailure"]["Destination"])
            ),
            "{logical}: on-failure destination"
        );
    }
    // What the example declares, in its words.
    let shipped = streams.properties("ShippedFunctionFromOrdersTableStream");
    assert_eq!(shipped["BatchSize"], 100);
    assert_eq!(shipped["BisectBatchOnFunctionError"], true);
    assert_eq!(shipped["MaximumRetryAttempts"], 3);
    let clicks = streams.properties("ClicksFunctionFromClicksStream");
    assert_eq!(clicks["BatchSize"], 500);
    assert_eq!(clicks["ParallelizationFactor"], 2);
}

use crate::pipeline::Outcome;
use serde_json::{json, Value};

fn render(text: &str) -> Outcome {
    super::super::test_stacks::render("routing.yaml", text)
}

fn template(text: &str) -> Value {
    super::super::test_stacks::rendered("routing.yaml", text)
}

/// Each error as `line:column message`.
fn errors(text: &str) -> Vec<String> {
    match render(text) {
        Outcome::Rendered { .. } => Vec::new(),
        Outcome::Invalid(d) => d
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| d.message)
            .collect(),
    }
}

const STACK: &str = r#"
name: routing
queues:
  jobs: {}
  failed: {}
event_buses:
  orders: {}
topics:
  alerts:
    subscriptions:
      - function: handler
        filter_policy: {severity: [critical, high]}
      - queue: jobs
        raw_message_delivery: true
        filter_policy: {detail: {kind: [{prefix: "order-"}]}}
        filter_policy_scope: message_body
        dead_letter: failed
rules:
  placed:
    bus: orders
    pattern: {source: [shop], detail-type: [OrderPlaced], detail: {total: [{numeric: [">", 100]}]}}
    targets:
      - function: handler
        input_transformer:
          paths: {order: $.detail.id}
          template: '{"order": <order>, "rule": <aws.events.rule-name>}'
        retry: {max_attempts: 3, max_event_age_seconds: 3600}
        dead_letter: failed
      - queue: jobs
        input_path: $.detail
functions:
  handler:
    crate: handler
  analyzer:
    crate: analyzer
    log_subscriptions:
      - function: handler
        filter_pattern: '{ $.level = "ERROR" }'
  producer:
    crate: producer
    environment:
      BUS: ${event_buses.orders.name}
      RULE_ARN: ${rules.placed.arn}
    access:
      event_buses: [orders]
"#;

#[test]
fn a_topic_invokes_a_function_through_a_permission_scoped_to_it() {
    let t = template(STACK);
    let r = &t["Resources"];
    assert_eq!(
        r["AlertsTopicHandlerFunctionSubscription"],
        json!({
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": {"Ref": "AlertsTopic"},
                "Protocol": "lambda",
                "Endpoint": {"Fn::GetAtt": ["HandlerFunction", "Arn"]},
                "FilterPolicy": {"severity": ["critical", "high"]},
                "FilterPolicyScope": "MessageAttributes"
            }
        })
    );
    assert_eq!(
        r["AlertsTopicInvokesHandlerFunction"],
        json!({
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["HandlerFunction", "Arn"]},
                "Principal": "sns.amazonaws.com",
                "SourceArn": {"Ref": "AlertsTopic"}
            }
        })
    );
    assert_eq!(
        r["AlertsTopicJobsQueueSubscription"]["Properties"],
        json!({
            "TopicArn": {"Ref": "AlertsTopic"},
            "Protocol": "sqs",
            "Endpoint": {"Fn::GetAtt": ["JobsQueue", "Arn"]},
            "FilterPolicy": {"detail": {"kind": [{"prefix": "order-"}]}},
            "FilterPolicyScope": "MessageBody",
            "RawMessageDelivery": true,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["FailedQueue", "Arn"]}}
        })
    );
}

#[test]
fn each_queue_has_one_policy_with_a_statement_per_sender() {
    let t = template(STACK);
    let r = &t["Resources"];
    let statement = |sid: &str, service: &str, queue: &str, source: Value| {
        json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": source}}
        })
    };
    assert_eq!(
        r["JobsQueuePolicy"],
        json!({
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "JobsQueue"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    statement("AlertsTopicSendsMessages", "sns.amazonaws.com", "JobsQueue", json!({"Ref": "AlertsTopic"})),
                    statement("PlacedRuleSendsEvents", "events.amazonaws.com", "JobsQueue", json!({"Fn::GetAtt": ["PlacedRule", "Arn"]})),
                ]}
            }
        })
    );
    // The dead-letter queue of both the subscription and the rule target.
    assert_eq!(
        r["FailedQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"],
        json!([
            statement(
                "AlertsTopicSendsMessages",
                "sns.amazonaws.com",
                "FailedQueue",
                json!({"Ref": "AlertsTopic"})
            ),
            statement(
                "PlacedRuleSendsEvents",
                "events.amazonaws.com",
                "FailedQueue",
                json!({"Fn::GetAtt": ["PlacedRule", "Arn"]})
            ),
        ])
    );
    let policies: Vec<&String> = r
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["Type"] == "AWS::SQS::QueuePolicy")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(policies, ["JobsQueuePolicy", "FailedQueuePolicy"]);
}

#[test]
fn the_stack_key_lets_sns_and_eventbridge_encrypt_for_the_queues_they_send_to() {
    let t = template(STACK);
    let statements = t["Resources"]["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    let for_service = |service: &str| {
        statements
            .iter()
            .filter(|s| s["Principal"]["Service"] == service)
            .cloned()
            .collect::<Vec<_>>()
    };
    let expected = |sid: &str, service: &str| {
        json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        })
    };
    assert_eq!(
        for_service("sns.amazonaws.com"),
        [expected("SnsSendsToEncryptedQueues", "sns.amazonaws.com")]
    );
    assert_eq!(
        for_service("events.amazonaws.com"),
        [expected(
            "EventBridgeSendsToEncryptedQueues",
            "events.amazonaws.com"
        )]
    );
    // Only functions as targets: neither service gets the key.
    let functions_only = template(
        r#"
name: routing
topics:
  alerts:
    subscriptions: [{function: handler}]
rules:
  placed:
    pattern: {source: [shop]}
    targets: [{function: handler}]
functions:
  handler: {crate: handler}
"#,
    );
    let key =
        functions_only["Resources"]["StackKey"]["Properties"]["KeyPolicy"]["Statement"].to_string();
    assert!(
        !key.contains("sns.amazonaws.com") && !key.contains("events.amazonaws.com"),
        "{key}"
    );
    assert!(functions_only["Resources"]
        .as_object()
        .unwrap()
        .values()
        .all(|v| v["Type"] != "AWS::SQS::QueuePolicy"));
}

#[test]
fn a_rule_on_a_custom_bus_targets_a_function_and_a_queue() {
    let t = template(STACK);
    let r = &t["Resources"];
    assert_eq!(
        r["OrdersEventBus"],
        json!({
            "Type": "AWS::Events::EventBus",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-orders"},
                "Tags": [{"Key": "app", "Value": "routing"}, {"Key": "env", "Value": "dev"}]
            }
        })
    );
    assert_eq!(
        r["PlacedRule"],
        json!({
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-placed"},
                "EventBusName": {"Ref": "OrdersEventBus"},
                "EventPattern": {"source": ["shop"], "detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 100]}]}},
                "State": "ENABLED",
                "Targets": [
                    {
                        "Id": "HandlerFunction",
                        "Arn": {"Fn::GetAtt": ["HandlerFunction", "Arn"]},
                        "InputTransformer": {
                            "InputPathsMap": {"order": "$.detail.id"},
                            "InputTemplate": "{\"order\": <order>, \"rule\": <aws.events.rule-name>}"
                        },
                        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["FailedQueue", "Arn"]}}
                    },
                    {
                        "Id": "JobsQueue",
                        "Arn": {"Fn::GetAtt": ["JobsQueue", "Arn"]},
                        "InputPath": "$.detail"
                    }
                ]
            }
        })
    );
    assert_eq!(
        r["PlacedRuleInvokesHandlerFunction"],
        json!({
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["HandlerFunction", "Arn"]},
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": ["PlacedRule", "Arn"]}
            }
        })
    );
}

#[test]
fn a_function_puts_events_only_on_the_buses_it_names() {
    let t = template(STACK);
    let statements = t["Resources"]["ProducerFunctionRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let put: Vec<&Value> = statements
        .iter()
        .filter(|s| s.to_string().contains("events:"))
        .collect();
    assert_eq!(
        put,
        [&json!({
            "Sid": "PutEventsOnBuses",
            "Effect": "Allow",
            "Action": ["events:PutEvents"],
            "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${AWS::StackName}-orders"}]
        })]
    );
}

#[test]
fn references_to_buses_and_rules_are_built_from_their_names() {
    let t = template(STACK);
    let variables = &t["Resources"]["ProducerFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        variables["BUS"],
        json!({"Fn::Sub": "${AWS::StackName}-orders"})
    );
    assert_eq!(
        variables["RULE_ARN"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${AWS::StackName}-orders/${AWS::StackName}-placed"})
    );
}

#[test]
fn a_log_subscription_reads_a_log_group_through_a_permission_scoped_to_it() {
    let t = template(STACK);
    let r = &t["Resources"];
    assert_eq!(
        r["HandlerFunctionLogsToAnalyzerFunction"],
        json!({
            "Type": "AWS::Logs::SubscriptionFilter",
            "DependsOn": "HandlerFunctionLogsInvokeAnalyzerFunction",
            "Properties": {
                "LogGroupName": {"Ref": "HandlerFunctionLogGroup"},
                "FilterPattern": "{ $.level = \"ERROR\" }",
                "DestinationArn": {"Fn::GetAtt": ["AnalyzerFunction", "Arn"]}
            }
        })
    );
    assert_eq!(
        r["HandlerFunctionLogsInvokeAnalyzerFunction"],
        json!({
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["AnalyzerFunction", "Arn"]},
                "Principal": "logs.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": {"Fn::GetAtt": ["HandlerFunctionLogGroup", "Arn"]}
            }
        })
    );
}

#[test]
fn routes_are_refused_where_aws_would_refuse_them() {
    let stack = |body: &str| {
        format!(
            "name: routing\nqueues:\n  jobs: {{}}\n  ordered: {{fifo: true}}\nfunctions:\n  handler: {{crate: handler}}\n  other: {{crate: other}}\napis:\n  public: {{type: http, access_logs: false, routes: {{GET /: {{function: handler, public: true}}}}}}\n{body}"
        )
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            stack("topics:\n  t:\n    subscriptions: [{queue: ordered}]\n"),
            vec!["topic `t` is a standard topic; it cannot deliver to FIFO queue `ordered`"],
        ),
        (
            stack("topics:\n  t:\n    subscriptions: [{}]\n"),
            vec!["a subscription names neither a function nor a queue"],
        ),
        (
            stack("topics:\n  t:\n    subscriptions: [{function: handler, raw_message_delivery: true}]\n"),
            vec!["raw message delivery is for queue subscriptions"],
        ),
        (
            stack("topics:\n  t:\n    subscriptions: [{function: handler, filter_policy: {a: b}}]\n"),
            vec!["`a` is a string; a field's values are an array of values to match"],
        ),
        (
            stack("topics:\n  t:\n    subscriptions: [{function: handler, filter_policy: {a: {b: [c]}}}]\n"),
            vec!["`a` nests an object, but a filter policy on message attributes is flat"],
        ),
        (
            stack("topics:\n  t:\n    subscriptions: [{function: handler, dead_letter: ordered}]\n"),
            vec!["queue `ordered` is a FIFO queue; an SNS subscription's dead-letter queue must be a standard queue"],
        ),
        (
            stack("rules:\n  r:\n    pattern: {source: []}\n    targets: [{function: handler}]\n"),
            vec!["`source` is an empty array, which matches nothing"],
        ),
        (
            stack("rules:\n  r:\n    pattern: {source: [x]}\n    targets: []\n"),
            vec!["rule `r` has no targets"],
        ),
        (
            stack("rules:\n  r:\n    pattern: {source: [x]}\n    targets: [{function: handler}, {function: other}, {queue: jobs}, {function: handler}, {function: other}, {queue: jobs}]\n"),
            vec![
                "rule `r` targets function `handler` twice",
                "rule `r` targets function `other` twice",
                "rule `r` has 6 targets; EventBridge allows at most 5 per rule",
                "rule `r` targets queue `jobs` twice",
            ],
        ),
        (
            stack("rules:\n  r:\n    pattern: {source: [x]}\n    targets: [{queue: ordered}]\n"),
            vec!["queue `ordered` is a FIFO queue; a rule sending to it needs `message_group_id`"],
        ),
        (
            stack("rules:\n  r:\n    pattern: {source: [x]}\n    targets: [{function: handler, input: {a: 1}, input_path: $.detail}]\n"),
            vec!["a target takes one of `input`, `input_path` and `input_transformer`; this one has `input` and `input_path`"],
        ),
        (
            stack("rules:\n  r:\n    pattern: {source: [x]}\n    targets: [{function: handler, input_transformer: {paths: {id: $.id}, template: '<ids>'}}]\n"),
            vec!["the template uses `<ids>`, which `paths` does not define"],
        ),
        (
            stack("rules:\n  r:\n    pattern: {source: [x]}\n    targets: [{function: handler, retry: {max_attempts: 186, max_event_age_seconds: 59}}]\n"),
            vec![
                "`rules.r.targets[0].retry.max_attempts`: retries 186 is out of range",
                "`rules.r.targets[0].retry.max_event_age_seconds`: seconds 59 is out of range",
            ],
        ),
        (
            stack("rules:\n  r:\n    bus: nope\n    pattern: {source: [x]}\n    targets: [{function: handler, dead_letter: ordered}]\n"),
            vec![
                "there is no event bus `nope` in this stack",
                "queue `ordered` is a FIFO queue; a rule target's dead-letter queue must be a standard queue",
            ],
        ),
        (
            stack("event_buses:\n  b: {bus_name: default}\n"),
            vec!["`default` is the account's own event bus"],
        ),
        (
            stack("functions:\n  handler: {crate: handler, access: {event_buses: [nope]}}\n").replace("functions:\n  handler: {crate: handler}\n  other: {crate: other}\n", ""),
            vec!["there is no event bus `nope` in this stack"],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(errors(&text), expected, "{text}");
    }
}

#[test]
fn log_subscriptions_are_refused_where_they_would_loop_or_exceed_the_limit() {
    let stack = |functions: &str| {
        format!("name: routing\napis:\n  public: {{type: http, access_logs: false, routes: {{GET /: {{function: a, public: true}}}}}}\nfunctions:\n{functions}")
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            stack("  a: {crate: a, log_subscriptions: [{function: a}]}\n"),
            vec!["function `a` subscribes to its own logs"],
        ),
        (
            stack("  a: {crate: a, log_subscriptions: [{function: b}]}\n  b: {crate: b, log_subscriptions: [{function: a}]}\n"),
            vec!["log subscriptions form a loop: the logs of a go to b go to a"],
        ),
        (
            stack("  a: {crate: a}\n  b: {crate: b, log_subscriptions: [{function: a}]}\n  c: {crate: c, log_subscriptions: [{function: a}]}\n  d: {crate: d, log_subscriptions: [{function: a}]}\n"),
            vec!["the log group of function `a` has 3 subscriptions; CloudWatch Logs allows at most 2"],
        ),
        (
            stack("  a: {crate: a, log_subscriptions: [{api: public}]}\n"),
            vec!["API `public` writes no access logs (`access_logs: false`)"],
        ),
        (
            stack("  a: {crate: a, log_subscriptions: [{function: b, api: public}]}\n  b: {crate: b}\n"),
            vec!["a log subscription names both a function and an API"],
        ),
        (
            stack("  a: {crate: a, log_subscriptions: [{function: b, filter_pattern: '{ $.x = 1'}]}\n  b: {crate: b}\n"),
            vec!["a JSON filter pattern starts with `{` and must end with `}`"],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(errors(&text), expected, "{text}");
    }
}

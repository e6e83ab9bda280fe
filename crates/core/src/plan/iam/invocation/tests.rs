use crate::load::StackSource;
use crate::pipeline::{render_environment, Outcome};
use crate::plan::CodeLocations;
use crate::render::{Renderer, TemplateSet};
use crate::source::SourceFile;
use serde_json::{json, Value};

/// The template of stack `text` in `env`; panics on diagnostics.
fn template(text: &str, env: &str) -> Value {
    let file = SourceFile {
        name: "invocation.yaml".into(),
        text: text.into(),
    };
    let source = StackSource::parse(file).map_err(|(_, d)| d).unwrap();
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    match render_environment(&source, env, &renderer, &CodeLocations::default()).unwrap() {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{d:#?}"),
    }
}

/// The statements of role `role` whose Sid starts with one of `prefixes`.
fn statements(template: &Value, role: &str, prefixes: &[&str]) -> Vec<Value> {
    template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["Sid"]
                .as_str()
                .is_some_and(|sid| prefixes.iter().any(|p| sid.starts_with(p)))
        })
        .cloned()
        .collect()
}

fn key_via(sid: &str, service: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": [{"Fn::GetAtt": ["StackKey", "Arn"]}],
        "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": format!("{service}.${{AWS::Region}}.${{AWS::URLSuffix}}")}}}
    })
}

const DESTINATIONS: &str = r#"
name: calls
queues:
  failed: {}
topics:
  done: {}
buckets:
  uploads:
    notifications:
      - function: worker
functions:
  worker:
    crate: worker
    async:
      max_retries: 0
      max_event_age_seconds: 3600
      on_success: {topic: done}
      on_failure: {queue: failed}
  audit:
    crate: audit
    provisioned_concurrency: 2
    async:
      on_failure: {function: worker}
  report:
    crate: report
    async:
      on_failure: {function: audit}
"#;

#[test]
fn destinations_are_granted_to_the_execution_role_on_exactly_their_arns() {
    let t = template(DESTINATIONS, "dev");
    assert_eq!(
        statements(&t, "WorkerFunctionRole", &["Async", "UseStackKeyForAsync"]),
        vec![
            json!({
                "Sid": "AsyncOnSuccessPublishToDoneTopic",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [{"Ref": "DoneTopic"}]
            }),
            key_via("UseStackKeyForAsyncOnSuccessTopic", "sns"),
            json!({
                "Sid": "AsyncOnFailureSendToFailedQueue",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [{"Fn::GetAtt": ["FailedQueue", "Arn"]}]
            }),
            key_via("UseStackKeyForAsyncOnFailureQueue", "sqs"),
        ]
    );
    // A function destination is invoked as its triggers invoke it: the
    // `live` alias of a function that keeps provisioned concurrency.
    assert_eq!(
        statements(&t, "ReportFunctionRole", &["Async", "UseStackKeyForAsync"]),
        vec![json!({
            "Sid": "AsyncOnFailureInvokeAuditFunction",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-audit:live"}]
        })]
    );
    assert_eq!(
        statements(&t, "AuditFunctionRole", &["Async", "UseStackKeyForAsync"]),
        vec![json!({
            "Sid": "AsyncOnFailureInvokeWorkerFunction",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-worker"}]
        })]
    );
    // Without `async`, no destination grant.
    let plain = template(
        "name: calls\nfunctions:\n  worker: {crate: worker}\n",
        "dev",
    );
    assert!(statements(
        &plain,
        "WorkerFunctionRole",
        &["Async", "UseStackKeyForAsync"]
    )
    .is_empty());
}

#[test]
fn the_event_invoke_config_names_the_qualifier_triggers_invoke() {
    let t = template(DESTINATIONS, "dev");
    assert_eq!(
        t["Resources"]["WorkerFunctionAsyncConfig"],
        json!({
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": "WorkerFunction"},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 0,
                "MaximumEventAgeInSeconds": 3600,
                "DestinationConfig": {
                    "OnSuccess": {"Destination": {"Ref": "DoneTopic"}},
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["FailedQueue", "Arn"]}}
                }
            }
        })
    );
    assert_eq!(
        t["Resources"]["AuditFunctionAsyncConfig"],
        json!({
            "Type": "AWS::Lambda::EventInvokeConfig",
            "DependsOn": ["AuditFunctionLiveAlias"],
            "Properties": {
                "FunctionName": {"Ref": "AuditFunction"},
                "Qualifier": "live",
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["WorkerFunction", "Arn"]}}
                }
            }
        })
    );
    assert_eq!(
        t["Resources"]["ReportFunctionAsyncConfig"]["Properties"]["DestinationConfig"],
        json!({"OnFailure": {"Destination": {"Ref": "AuditFunctionLiveAlias"}}})
    );
}

#[test]
fn a_schedule_role_invokes_its_target_and_sends_to_its_dead_letter_queue() {
    let text = r#"
name: calls
queues:
  missed: {}
functions:
  report:
    crate: report
    async: {on_failure: {queue: missed}}
schedules:
  nightly:
    function: report
    expression: cron(0 3 * * ? *)
    retry: {max_attempts: 3, max_event_age_seconds: 600}
    dead_letter: missed
"#;
    let t = template(text, "dev");
    let role = &t["Resources"]["NightlyScheduleRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"];
    assert_eq!(
        role,
        &json!([
            {
                "Sid": "InvokeTarget",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": [{"Fn::GetAtt": ["ReportFunction", "Arn"]}]
            },
            {
                "Sid": "SendToDeadLetterQueue",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [{"Fn::GetAtt": ["MissedQueue", "Arn"]}]
            },
            key_via("UseStackKeyForDeadLetterQueue", "sqs"),
        ])
    );
    let target = &t["Resources"]["NightlySchedule"]["Properties"]["Target"];
    assert_eq!(
        target["RetryPolicy"],
        json!({"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600})
    );
    assert_eq!(
        target["DeadLetterConfig"],
        json!({"Arn": {"Fn::GetAtt": ["MissedQueue", "Arn"]}})
    );
    // Without them, the role only invokes and the target has neither.
    let plain = template(
        "name: calls\nfunctions:\n  report: {crate: report, async: {on_failure: {function: other}}}\n  other: {crate: other}\nschedules:\n  nightly: {function: report, expression: rate(1 day)}\n",
        "dev",
    );
    let role = &plain["Resources"]["NightlyScheduleRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"];
    assert_eq!(role.as_array().unwrap().len(), 1);
    let target = &plain["Resources"]["NightlySchedule"]["Properties"]["Target"];
    assert!(target.get("RetryPolicy").is_none() && target.get("DeadLetterConfig").is_none());
}

#[test]
fn a_public_url_gets_both_permissions_aws_requires_and_a_private_one_none() {
    let text = r#"
name: calls
functions:
  hook:
    crate: hook
    url:
      auth: none
      allow_public: true
      invoke_mode: response_stream
      cors:
        allow_origins: ["https://example.com"]
        allow_methods: [GET, POST]
        max_age_seconds: 300
  admin:
    crate: admin
    provisioned_concurrency: 1
    url: {}
"#;
    let t = template(text, "dev");
    let r = &t["Resources"];
    assert_eq!(
        r["HookFunctionUrlConfig"]["Properties"],
        json!({
            "TargetFunctionArn": {"Fn::GetAtt": ["HookFunction", "Arn"]},
            "AuthType": "NONE",
            "InvokeMode": "RESPONSE_STREAM",
            "Cors": {
                "AllowOrigins": ["https://example.com"],
                "AllowMethods": ["GET", "POST"],
                "MaxAge": 300
            }
        })
    );
    assert_eq!(
        r["HookFunctionUrlPublicAccess"]["Properties"],
        json!({
            "Action": "lambda:InvokeFunctionUrl",
            "FunctionName": {"Fn::GetAtt": ["HookFunction", "Arn"]},
            "Principal": "*",
            "FunctionUrlAuthType": "NONE"
        })
    );
    assert_eq!(
        r["HookFunctionUrlPublicInvoke"]["Properties"],
        json!({
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": ["HookFunction", "Arn"]},
            "Principal": "*",
            "InvokedViaFunctionUrl": true
        })
    );
    // AWS_IAM: no resource policy (callers bring their own grants), and the
    // URL sits on the alias that keeps provisioned concurrency.
    assert_eq!(
        r["AdminFunctionUrlConfig"],
        json!({
            "Type": "AWS::Lambda::Url",
            "DependsOn": ["AdminFunctionLiveAlias"],
            "Properties": {
                "TargetFunctionArn": {"Fn::GetAtt": ["AdminFunction", "Arn"]},
                "Qualifier": "live",
                "AuthType": "AWS_IAM",
                "InvokeMode": "BUFFERED"
            }
        })
    );
    let permissions = r
        .as_object()
        .unwrap()
        .keys()
        .filter(|id| id.starts_with("AdminFunction") && id.contains("Public"))
        .count();
    assert_eq!(permissions, 0);
    assert_eq!(
        t["Outputs"]["HookFunctionUrl"]["Value"],
        json!({"Fn::GetAtt": ["HookFunctionUrlConfig", "FunctionUrl"]})
    );
}

#[test]
fn an_event_bus_destination_gets_put_events_on_that_bus_alone() {
    let t = template(
        r#"
name: calls
event_buses:
  results: {}
buckets:
  uploads:
    notifications:
      - function: worker
functions:
  worker:
    crate: worker
    async:
      on_failure: {event_bus: results}
"#,
        "dev",
    );
    assert_eq!(
        statements(&t, "WorkerFunctionRole", &["Async", "UseStackKeyForAsync"]),
        vec![json!({
            "Sid": "AsyncOnFailurePutEventsOnResultsEventBus",
            "Effect": "Allow",
            "Action": ["events:PutEvents"],
            "Resource": [{"Fn::GetAtt": ["ResultsEventBus", "Arn"]}]
        })]
    );
    assert_eq!(
        t["Resources"]["WorkerFunctionAsyncConfig"]["Properties"]["DestinationConfig"],
        json!({"OnFailure": {"Destination": {"Fn::GetAtt": ["ResultsEventBus", "Arn"]}}})
    );
}

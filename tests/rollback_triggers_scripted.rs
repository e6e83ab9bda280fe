//! Rollback triggers on deploy, with CloudFormation's answers scripted in
//! the API's documented shapes (aws-smithy-mocks; the SDK client and the
//! engine are real, only the HTTP layer is replaced): the CreateChangeSet
//! request carries the alarms the deployed stack already holds (asserted in
//! the request matcher, so a request without them finds no answer), an
//! update an alarm rolls back is reported by the alarm's name, and a dev
//! deploy sends no trigger (an empty list, which removes old ones).
//!
//! The guard comes from a real stack file through `plan::deployment`, as
//! `stackctl deploy` builds it.

use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetInput;
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeSetType, ChangeType, Replacement, ResourceChange,
    ResourceStatus, Stack, StackEvent, StackResourceSummary, StackStatus,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::{json, Value};
use stackctl::diff::guard::RequireApproval;
use stackctl::engine::deploy::{
    deploy_stack, Approval, DeployOutcome, DeployRequest, Observer, StackDiff,
};
use stackctl::engine::stacks::CloudFormation;
use stackctl::engine::triggers::blame;
use stackctl::engine::watch::Pacing;
use stackctl::kinds::ALARM;
use std::sync::Mutex;

#[path = "support/scripted_answers.rs"]
#[allow(dead_code)] // nothing here deletes
mod scripted_answers;
use scripted_answers::{event_pages, ok_execute};
#[path = "support/recording_store.rs"]
mod recording_store;
use recording_store::Store;

const STACK: &str = "shop-prod";
const STACK_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-prod/1c2d3e4f";
const FIVE_XX_ARN: &str = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-web-5xx-rate";
const ERRORS_ARN: &str = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-api-errors";

/// Three alarms the rule chooses (5xx rate, function errors, latency), a
/// 4xx alarm it never chooses, and a 20-minute window.
const SHOP: &str = r#"name: shop
functions:
  api: {crate: shop-api}
apis:
  web: {type: http, routes: {"GET /items": {function: api, public: true}}}
topics:
  ops: {}
rollback_triggers:
  monitoring_minutes: 20
alarms:
  slow: {type: api_latency, api: web, threshold: 900}
  web-4xx: {type: api_4xx_rate, api: web, threshold: 20}
  api-errors: {type: function_errors, function: api, threshold: 1}
  web-5xx-rate: {type: api_5xx_rate, api: web, threshold: 1}
"#;

/// Records what a deploy reports; approval is never needed here.
#[derive(Default)]
struct Recorder {
    notes: Mutex<Vec<String>>,
}

impl Observer for Recorder {
    fn note(&self, _: &str, text: &str) {
        self.notes.lock().unwrap().push(text.to_string());
    }
    fn plan(&self, _: &StackDiff) {}
    fn event(&self, _: &str, _: &stackctl::engine::stacks::StackEvent) {}
    fn approve(&self, _: &str, _: &str) -> Approval {
        Approval::CannotAsk
    }
    fn creating_change_set(&self, _: &str) {}
    fn executing(&self, _: &str) {}
}

fn function(memory: u32) -> Value {
    json!({"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": memory, "Code": {"S3Bucket": "artifacts", "S3Key": "artifacts/shop/api/abc.zip"}}})
}

fn template(memory: u32) -> Value {
    json!({"Resources": {"ApiFunction": function(memory)}})
}

/// The deploy request `stackctl deploy` makes for the shop stack in `env`.
fn request(env: &str) -> DeployRequest {
    let (_, resolved) = stackctl::load::resolve_text("shop.yaml", SHOP, env);
    let def = resolved.valid_def().expect("the stack file is valid");
    let deployment = stackctl::plan::deployment(def, env);
    DeployRequest {
        stack: deployment.stack_name,
        template: template(1024),
        tags: Vec::new(),
        shipments: Vec::new(),
        allow_replace: Vec::new(),
        require_approval: RequireApproval::Never,
        termination_protection: false,
        wait_busy: false,
        rollback: deployment.rollback,
        revert_drift: false,
        change_set_name: "stackctl-1".into(),
        pacing: Pacing::default(),
    }
}

// ---------- scripted answers, in the API's shapes ----------

fn described(name: &'static str, id: &'static str) -> Rule {
    mock!(Client::describe_stacks).then_output(move || {
        DescribeStacksOutput::builder()
            .stacks(
                Stack::builder()
                    .stack_name(name)
                    .stack_id(id)
                    .stack_status(StackStatus::UpdateComplete)
                    .creation_time(DateTime::from_secs(1_700_000_000))
                    .enable_termination_protection(false)
                    .build(),
            )
            .build()
    })
}

fn deployed() -> Rule {
    let body = template(512).to_string();
    mock!(Client::get_template).then_output(move || {
        GetTemplateOutput::builder()
            .template_body(body.clone())
            .build()
    })
}

/// The deployed stack's resources: two of the chosen alarms exist (the
/// latency alarm `slow` is new in this update), with their names as
/// physical ids, as CloudFormation lists an AWS::CloudWatch::Alarm.
fn resources() -> Rule {
    let summary = |logical: String, ty: &str, physical: &str| {
        StackResourceSummary::builder()
            .logical_resource_id(logical)
            .resource_type(ty)
            .physical_resource_id(physical)
            .resource_status(ResourceStatus::CreateComplete)
            .last_updated_timestamp(DateTime::from_secs(1_700_000_000))
            .build()
    };
    mock!(Client::list_stack_resources).then_output(move || {
        ListStackResourcesOutput::builder()
            .stack_resource_summaries(summary(
                "ApiFunction".into(),
                "AWS::Lambda::Function",
                "shop-prod-ApiFunction-1A2B",
            ))
            .stack_resource_summaries(summary(
                ALARM.logical_id("api-errors"),
                "AWS::CloudWatch::Alarm",
                "shop-prod-api-errors",
            ))
            .stack_resource_summaries(summary(
                ALARM.logical_id("web-5xx-rate"),
                "AWS::CloudWatch::Alarm",
                "shop-prod-web-5xx-rate",
            ))
            .stack_resource_summaries(summary(
                ALARM.logical_id("web-4xx"),
                "AWS::CloudWatch::Alarm",
                "shop-prod-web-4xx",
            ))
            .build()
    })
}

/// An update change set whose request passes `check`; any other request
/// finds no answer and the deploy fails.
fn change_set_where(check: fn(&CreateChangeSetInput) -> bool) -> Rule {
    mock!(Client::create_change_set)
        .match_requests(move |r| {
            r.change_set_type() == Some(&ChangeSetType::Update)
                && r.stack_name() == Some(STACK)
                && check(r)
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/stackctl-1/9f8e")
                .stack_id(STACK_ID)
                .build()
        })
}

/// The triggers, in the rule's order, with the file's window.
fn carries_the_deployed_alarms(r: &CreateChangeSetInput) -> bool {
    let Some(config) = r.rollback_configuration() else {
        return false;
    };
    let triggers: Vec<(Option<&str>, Option<&str>)> = config
        .rollback_triggers()
        .iter()
        .map(|t| (t.arn(), t.r#type()))
        .collect();
    let alarm = Some("AWS::CloudWatch::Alarm");
    triggers == [(Some(FIVE_XX_ARN), alarm), (Some(ERRORS_ARN), alarm)]
        && config.monitoring_time_in_minutes() == Some(20)
}

fn change_set_ready() -> Rule {
    mock!(Client::describe_change_set).then_output(|| {
        DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::CreateComplete)
            .change_set_name("stackctl-1")
            .stack_name(STACK)
            .changes(
                Change::builder()
                    .r#type(ChangeType::Resource)
                    .resource_change(
                        ResourceChange::builder()
                            .action(ChangeAction::Modify)
                            .logical_resource_id("ApiFunction")
                            .resource_type("AWS::Lambda::Function")
                            .replacement(Replacement::False)
                            .build(),
                    )
                    .build(),
            )
            .build()
    })
}

fn event(
    id: &str,
    logical: &str,
    ty: &str,
    status: ResourceStatus,
    reason: Option<&str>,
) -> StackEvent {
    StackEvent::builder()
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .event_id(id)
        .logical_resource_id(logical)
        .resource_type(ty)
        .resource_status(status)
        .set_resource_status_reason(reason.map(String::from))
        .timestamp(DateTime::from_secs(1_700_000_000))
        .build()
}

fn stack_event(id: &str, status: ResourceStatus, reason: Option<&str>) -> StackEvent {
    event(id, STACK, "AWS::CloudFormation::Stack", status, reason)
}

fn function_event(id: &str, status: ResourceStatus) -> StackEvent {
    event(id, "ApiFunction", "AWS::Lambda::Function", status, None)
}

fn baseline() -> Vec<StackEvent> {
    vec![stack_event("e0", ResourceStatus::UpdateComplete, None)]
}

fn engine(rules: &[&Rule]) -> CloudFormation {
    CloudFormation::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        rules
    ))
}

// ---------- the cases ----------

#[tokio::test(start_paused = true)]
async fn an_update_is_guarded_by_the_deployed_alarms_the_rule_chooses() {
    let history = event_pages(vec![
        baseline(),
        vec![
            stack_event(
                "u1",
                ResourceStatus::UpdateInProgress,
                Some("User Initiated"),
            ),
            function_event("u2", ResourceStatus::UpdateInProgress),
            function_event("u3", ResourceStatus::UpdateComplete),
            stack_event(
                "u4",
                ResourceStatus::from("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
                None,
            ),
            stack_event("u5", ResourceStatus::UpdateComplete, None),
        ],
    ]);
    let (d, g, list, create) = (
        described(STACK, STACK_ID),
        deployed(),
        resources(),
        change_set_where(carries_the_deployed_alarms),
    );
    let (ready, exec) = (change_set_ready(), ok_execute());
    let cfn = engine(&[&d, &g, &list, &create, &ready, &exec, &history]);
    let recorder = Recorder::default();
    let outcome = deploy_stack(&cfn, &Store::default(), &request("prod"), &recorder)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Deployed { .. }),
        "{outcome:?}"
    );
    assert_eq!(create.num_calls(), 1);
    assert_eq!(list.num_calls(), 1);
    let notes = recorder.notes.lock().unwrap().clone();
    assert_eq!(
        notes,
        ["rollback triggers: alarms web-5xx-rate, api-errors guard this update; CloudFormation rolls it back if one goes into ALARM during it or in the 20 minutes after (deploy waits for them); alarm slow is not deployed yet and guards the next update"]
    );
}

#[tokio::test(start_paused = true)]
async fn an_update_an_alarm_rolls_back_fails_naming_the_alarm() {
    // Why a stack rolls back is said on its own UPDATE_ROLLBACK_IN_PROGRESS
    // event. The API reference does not fix that reason's wording, so the
    // engine does not depend on it: it looks for the alarm's ARN or name.
    let reason =
        format!("Stack rollback triggered by CloudWatch alarm(s) in ALARM state: [{FIVE_XX_ARN}]");
    let history = event_pages(vec![
        baseline(),
        vec![
            stack_event(
                "u1",
                ResourceStatus::UpdateInProgress,
                Some("User Initiated"),
            ),
            function_event("u2", ResourceStatus::UpdateInProgress),
            function_event("u3", ResourceStatus::UpdateComplete),
            stack_event(
                "u4",
                ResourceStatus::UpdateRollbackInProgress,
                Some(&reason),
            ),
            function_event("u5", ResourceStatus::UpdateInProgress),
            function_event("u6", ResourceStatus::UpdateComplete),
            stack_event(
                "u7",
                ResourceStatus::from("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
                None,
            ),
            stack_event("u8", ResourceStatus::UpdateRollbackComplete, None),
        ],
    ]);
    let (d, g, list, create) = (
        described(STACK, STACK_ID),
        deployed(),
        resources(),
        change_set_where(carries_the_deployed_alarms),
    );
    let (ready, exec) = (change_set_ready(), ok_execute());
    let cfn = engine(&[&d, &g, &list, &create, &ready, &exec, &history]);
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &request("prod"),
        &Recorder::default(),
    )
    .await
    .unwrap();
    // Not a success, so `stackctl deploy` exits 1.
    assert!(!outcome.is_success());
    let DeployOutcome::AlarmRolledBack {
        status,
        alarms,
        monitoring_minutes,
        causes,
    } = outcome
    else {
        panic!("expected a rollback by an alarm, got {outcome:?}")
    };
    assert_eq!(status, "UPDATE_ROLLBACK_COMPLETE");
    assert_eq!(
        blame(&alarms, monitoring_minutes),
        ["alarm web-5xx-rate (shop-prod-web-5xx-rate) went into ALARM during the update or the 20 minutes after it"]
    );
    assert_eq!(
        causes
            .iter()
            .map(|c| c.reason.as_deref().unwrap_or_default())
            .collect::<Vec<_>>(),
        [reason.as_str()],
        "the stack's own rollback event is the cause: no resource failed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dev_deploy_sends_no_trigger_and_removes_old_ones() {
    const DEV: &str = "shop-dev";
    const DEV_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-dev/5e6f";
    let history = event_pages(vec![
        vec![event(
            "e0",
            DEV,
            "AWS::CloudFormation::Stack",
            ResourceStatus::UpdateComplete,
            None,
        )],
        vec![
            event(
                "u1",
                DEV,
                "AWS::CloudFormation::Stack",
                ResourceStatus::UpdateInProgress,
                Some("User Initiated"),
            ),
            event(
                "u2",
                DEV,
                "AWS::CloudFormation::Stack",
                ResourceStatus::UpdateComplete,
                None,
            ),
        ],
    ]);
    let create = mock!(Client::create_change_set)
        .match_requests(|r| {
            r.stack_name() == Some(DEV)
                && r.rollback_configuration().is_some_and(|c| {
                    c.rollback_triggers().is_empty() && c.monitoring_time_in_minutes() == Some(0)
                })
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/stackctl-1/1a2b")
                .stack_id(DEV_ID)
                .build()
        });
    let (d, g, list) = (described(DEV, DEV_ID), deployed(), resources());
    let (ready, exec) = (change_set_ready(), ok_execute());
    let cfn = engine(&[&d, &g, &list, &create, &ready, &exec, &history]);
    let recorder = Recorder::default();
    let outcome = deploy_stack(&cfn, &Store::default(), &request("dev"), &recorder)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Deployed { .. }),
        "{outcome:?}"
    );
    assert_eq!(create.num_calls(), 1);
    assert_eq!(
        list.num_calls(),
        0,
        "no alarm to look for, so nothing listed"
    );
    assert_eq!(
        recorder.notes.lock().unwrap().clone(),
        ["no rollback triggers: off in dev (turn them on with `rollback_triggers: {enabled: true}`)"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_deploy_sends_no_rollback_configuration_its_alarms_do_not_exist_yet() {
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .error(|| {
            aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError::generic(
                aws_sdk_cloudformation::error::ErrorMetadata::builder()
                    .code("ValidationError")
                    .message(format!("Stack with id {STACK} does not exist"))
                    .build(),
            )
        })
        .output(|| {
            DescribeStacksOutput::builder()
                .stacks(
                    Stack::builder()
                        .stack_name(STACK)
                        .stack_id(STACK_ID)
                        .stack_status(StackStatus::CreateComplete)
                        .creation_time(DateTime::from_secs(1_700_000_000))
                        .build(),
                )
                .build()
        })
        .build();
    let create = mock!(Client::create_change_set)
        .match_requests(|r| {
            r.change_set_type() == Some(&ChangeSetType::Create)
                && r.rollback_configuration().is_none()
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/stackctl-1/9f8e")
                .stack_id(STACK_ID)
                .build()
        });
    let history = event_pages(vec![
        vec![stack_event(
            "r0",
            ResourceStatus::from("REVIEW_IN_PROGRESS"),
            None,
        )],
        vec![
            stack_event(
                "c1",
                ResourceStatus::CreateInProgress,
                Some("User Initiated"),
            ),
            function_event("c2", ResourceStatus::CreateComplete),
            stack_event("c3", ResourceStatus::CreateComplete, None),
        ],
    ]);
    let (list, ready, exec) = (resources(), change_set_ready(), ok_execute());
    let cfn = engine(&[&describe, &list, &create, &ready, &exec, &history]);
    let recorder = Recorder::default();
    let outcome = deploy_stack(&cfn, &Store::default(), &request("prod"), &recorder)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Deployed { .. }),
        "{outcome:?}"
    );
    assert_eq!((create.num_calls(), list.num_calls()), (1, 0));
    assert_eq!(
        recorder.notes.lock().unwrap().clone(),
        ["no rollback triggers on a first deploy: its alarms do not exist until it is done, and guard the next update"]
    );
}

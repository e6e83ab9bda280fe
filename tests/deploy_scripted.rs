//! What the emulator cannot show, with CloudFormation's answers scripted in
//! the real API's documented shapes (aws-smithy-mocks): per-resource events,
//! failures and rollbacks, replacement flags with property details,
//! throttling, busy stacks, the no-changes answer, and the guards.
//!
//! The SDK client is real; only its HTTP layer is replaced, so these tests
//! run stackctl's `CloudFormation` engine, request building and response
//! parsing included.

use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_events::DescribeEventsOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::{
    DescribeStackEventsError, DescribeStackEventsOutput,
};
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::update_termination_protection::UpdateTerminationProtectionOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    BeaconStackOperationStatus, Change, ChangeAction, ChangeSetStatus, ChangeSetType, ChangeType,
    EventType, HookFailureMode, OperationEvent, OperationType, Replacement, RequiresRecreation,
    ResourceAttribute, ResourceChange, ResourceChangeDetail, ResourceStatus,
    ResourceTargetDefinition, Stack, StackEvent, StackStatus, Tag, ValidationStatus,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::{json, Value};
use stackctl::diff::guard::RequireApproval;
use stackctl::diff::Action;
use stackctl::engine::artifacts::Shipment;
use stackctl::engine::deploy::{
    deploy_stack, Approval, ChangeSetRejected, DeployOutcome, DeployRequest, Observer, StackDiff,
    StateRefusal,
};
use stackctl::engine::stacks::CloudFormation;
use stackctl::engine::validation::Severity;
use stackctl::engine::watch::Pacing;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const STACK: &str = "shop-prod";
const STACK_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-prod/1c2d3e4f";

// ---------- the world around CloudFormation ----------

/// Records what a deploy reports, and answers approval questions as told.
struct Recorder {
    approval: Approval,
    notes: Mutex<Vec<String>>,
    events: Mutex<Vec<String>>,
    plans: Mutex<Vec<StackDiff>>,
    questions: Mutex<Vec<String>>,
    /// "change set STACK" and "execute STACK", in order.
    steps: Mutex<Vec<String>>,
}

impl Recorder {
    fn answering(approval: Approval) -> Recorder {
        Recorder {
            approval,
            notes: Mutex::default(),
            events: Mutex::default(),
            plans: Mutex::default(),
            questions: Mutex::default(),
            steps: Mutex::default(),
        }
    }
}

impl Observer for Recorder {
    fn note(&self, _: &str, text: &str) {
        self.notes.lock().unwrap().push(text.to_string());
    }
    fn plan(&self, diff: &StackDiff) {
        self.plans.lock().unwrap().push(diff.clone());
    }
    fn event(&self, _: &str, e: &stackctl::engine::stacks::StackEvent) {
        self.events
            .lock()
            .unwrap()
            .push(format!("{} {}", e.logical_id, e.status));
    }
    fn approve(&self, _: &str, question: &str) -> Approval {
        self.questions.lock().unwrap().push(question.to_string());
        self.approval
    }
    fn creating_change_set(&self, stack: &str) {
        self.steps
            .lock()
            .unwrap()
            .push(format!("change set {stack}"));
    }
    fn executing(&self, stack: &str) {
        self.steps.lock().unwrap().push(format!("execute {stack}"));
    }
}

#[path = "support/scripted_answers.rs"]
mod scripted_answers;
use scripted_answers::{
    event_pages, event_pages_of, ok_delete_change_set, ok_delete_stack, ok_execute,
};
#[path = "support/recording_store.rs"]
mod recording_store;
use recording_store::Store;

fn role(actions: &[&str]) -> Value {
    json!({"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "access", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": {"Fn::GetAtt": ["OrdersTable", "Arn"]}}]}}]}})
}

fn table(key: &str) -> Value {
    json!({"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {"TableName": "shop-orders-prod", "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}})
}

fn function(memory: u32) -> Value {
    json!({"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": memory, "Role": {"Fn::GetAtt": ["OrdersFunctionRole", "Arn"]}, "Code": {"S3Bucket": "artifacts", "S3Key": "artifacts/shop/orders/abc.zip"}}})
}

fn template(key: &str, memory: u32, actions: &[&str]) -> Value {
    json!({"Resources": {"OrdersTable": table(key), "OrdersFunction": function(memory), "OrdersFunctionRole": role(actions)}})
}

fn tags() -> Vec<(String, String)> {
    vec![("app".into(), "shop".into()), ("env".into(), "prod".into())]
}

fn request(template: Value) -> DeployRequest {
    DeployRequest {
        stack: STACK.into(),
        template,
        tags: tags(),
        shipments: Vec::new(),
        allow_replace: Vec::new(),
        require_approval: RequireApproval::Broadening,
        termination_protection: true,
        wait_busy: false,
        rollback: stackctl::rollback::RollbackGuard::none(),
        revert_drift: false,
        change_set_name: "stackctl-1".into(),
        pacing: Pacing::default(),
    }
}

// ---------- scripted answers, in the API's shapes ----------

fn stack(status: StackStatus) -> Stack {
    Stack::builder()
        .stack_name(STACK)
        .stack_id(STACK_ID)
        .stack_status(status)
        .creation_time(DateTime::from_secs(1_700_000_000))
        .enable_termination_protection(true)
        .tags(Tag::builder().key("app").value("shop").build())
        .tags(Tag::builder().key("env").value("prod").build())
        .outputs(
            aws_sdk_cloudformation::types::Output::builder()
                .output_key("ApiUrl")
                .output_value("https://api.example.com")
                .build(),
        )
        .build()
}

fn describe(status: StackStatus) -> Rule {
    mock!(Client::describe_stacks).then_output(move || {
        DescribeStacksOutput::builder()
            .stacks(stack(status.clone()))
            .build()
    })
}

fn describing(statuses: Vec<StackStatus>) -> Rule {
    let mut seq = mock!(Client::describe_stacks).sequence();
    for s in statuses {
        seq = seq.output(move || {
            DescribeStacksOutput::builder()
                .stacks(stack(s.clone()))
                .build()
        });
    }
    seq.build()
}

fn missing_stack() -> Rule {
    mock!(Client::describe_stacks).then_error(|| {
        aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError::generic(
            aws_sdk_cloudformation::error::ErrorMetadata::builder()
                .code("ValidationError")
                .message(format!("Stack with id {STACK} does not exist"))
                .build(),
        )
    })
}

fn deployed(template: &Value) -> Rule {
    let body = template.to_string();
    mock!(Client::get_template).then_output(move || {
        GetTemplateOutput::builder()
            .template_body(body.clone())
            .build()
    })
}

fn creates_change_set(kind: ChangeSetType) -> Rule {
    mock!(Client::create_change_set)
        .match_requests(move |r| {
            r.change_set_type() == Some(&kind)
                && r.stack_name() == Some(STACK)
                && r.template_body().is_some()
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/stackctl-1/9f8e")
                .stack_id(STACK_ID)
                .build()
        })
}

fn change_set_ready(changes: Vec<ResourceChange>) -> Rule {
    mock!(Client::describe_change_set).then_output(move || {
        let mut out = DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::CreateComplete)
            .change_set_name("stackctl-1")
            .stack_name(STACK);
        for c in &changes {
            out = out.changes(
                Change::builder()
                    .r#type(ChangeType::Resource)
                    .resource_change(c.clone())
                    .build(),
            );
        }
        out.build()
    })
}

fn modify(
    id: &str,
    ty: &str,
    replacement: Replacement,
    property: &str,
    recreation: RequiresRecreation,
) -> ResourceChange {
    ResourceChange::builder()
        .action(ChangeAction::Modify)
        .logical_resource_id(id)
        .resource_type(ty)
        .replacement(replacement)
        .details(
            ResourceChangeDetail::builder()
                .target(
                    ResourceTargetDefinition::builder()
                        .attribute(ResourceAttribute::Properties)
                        .name(property)
                        .requires_recreation(recreation)
                        .build(),
                )
                .build(),
        )
        .build()
}

fn event(
    id: &str,
    logical: &str,
    ty: &str,
    status: ResourceStatus,
    reason: Option<&str>,
    at: i64,
) -> StackEvent {
    StackEvent::builder()
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .event_id(id)
        .logical_resource_id(logical)
        .resource_type(ty)
        .resource_status(status)
        .set_resource_status_reason(reason.map(String::from))
        .timestamp(DateTime::from_secs(1_700_000_000 + at))
        .build()
}

fn stack_event(id: &str, status: ResourceStatus, reason: Option<&str>, at: i64) -> StackEvent {
    event(id, STACK, "AWS::CloudFormation::Stack", status, reason, at)
}

fn ok_protection() -> Rule {
    mock!(Client::update_termination_protection)
        .then_output(|| UpdateTerminationProtectionOutput::builder().build())
}

fn engine(rules: &[&Rule]) -> CloudFormation {
    CloudFormation::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        rules
    ))
}

fn baseline() -> Vec<StackEvent> {
    vec![stack_event("e0", ResourceStatus::UpdateComplete, None, 0)]
}

// ---------- the cases ----------

#[tokio::test(start_paused = true)]
async fn a_no_op_deploy_is_two_reads_and_no_write_call() {
    let t = template("id", 512, &["dynamodb:GetItem"]);
    let (describe, get) = (describe(StackStatus::UpdateComplete), deployed(&t));
    let writes = [
        mock!(Client::create_change_set).then_output(|| CreateChangeSetOutput::builder().build()),
        ok_execute(),
        ok_delete_change_set(),
        ok_delete_stack(),
        ok_protection(),
    ];
    let mut rules = vec![&describe, &get];
    rules.extend(writes.iter());
    let cfn = engine(&rules);
    let store = Store::default();
    let mut r = request(t);
    r.shipments = vec![Shipment {
        key: "artifacts/shop/orders/abc.zip".into(),
        path: "/nonexistent.zip".into(),
        sha256_base64: "x".into(),
    }];
    let outcome = deploy_stack(&cfn, &store, &r, &Recorder::answering(Approval::CannotAsk))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        DeployOutcome::NoChanges {
            outputs: vec![("ApiUrl".into(), "https://api.example.com".into())]
        }
    );
    assert_eq!((describe.num_calls(), get.num_calls()), (1, 1));
    for w in &writes {
        assert_eq!(w.num_calls(), 0, "no write call");
    }
    assert!(
        store.calls.lock().unwrap().is_empty(),
        "nothing uploaded or even checked: {:?}",
        store.calls.lock().unwrap()
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_change_set_saying_no_changes_is_no_changes_and_is_cleaned_up() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let mut new = old.clone();
    new["Metadata"] = json!({"note": "not a change CloudFormation acts on"});
    let (d, g, c, del, ex) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        ok_delete_change_set(),
        ok_execute(),
    );
    let failed = mock!(Client::describe_change_set)
        .then_output(|| DescribeChangeSetOutput::builder().status(ChangeSetStatus::Failed).status_reason("The submitted information didn't contain changes. Submit different information to create a change set.").build());
    let cfn = engine(&[&d, &g, &c, &failed, &del, &ex]);
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &request(new),
        &Recorder::answering(Approval::CannotAsk),
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::NoChanges { .. }),
        "{outcome:?}"
    );
    assert_eq!((c.num_calls(), del.num_calls(), ex.num_calls()), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn the_data_loss_guard_refuses_a_table_replacement_unless_allowed() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("orderId", 512, &["dynamodb:GetItem"]);
    let replaced = modify(
        "OrdersTable",
        "AWS::DynamoDB::Table",
        Replacement::True,
        "KeySchema",
        RequiresRecreation::Always,
    );
    let (d, g, c, ready, del, ex) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![replaced.clone()]),
        ok_delete_change_set(),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &del, &ex]);
    let observer = Recorder::answering(Approval::CannotAsk);
    let outcome = deploy_stack(&cfn, &Store::default(), &request(new.clone()), &observer)
        .await
        .unwrap();
    let DeployOutcome::Refused(refusals) = outcome else {
        panic!("expected a refusal, got {outcome:?}")
    };
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].logical_id, "OrdersTable");
    assert!(
        refusals[0].reason.contains("KeySchema"),
        "{}",
        refusals[0].reason
    );
    assert_eq!(
        (ex.num_calls(), del.num_calls()),
        (0, 1),
        "not executed, change set removed"
    );

    // Allowed by name, and renamed (CloudFormation cannot replace a table
    // under the name it has): it goes ahead.
    let events = event_pages(vec![
        baseline(),
        vec![
            stack_event(
                "e1",
                ResourceStatus::UpdateInProgress,
                Some("User Initiated"),
                1,
            ),
            event(
                "e2",
                "OrdersTable",
                "AWS::DynamoDB::Table",
                ResourceStatus::UpdateComplete,
                None,
                5,
            ),
        ],
        vec![stack_event("e3", ResourceStatus::UpdateComplete, None, 6)],
    ]);
    let (d, g, c, ready, ex, p) = (
        describing(vec![
            StackStatus::UpdateComplete,
            StackStatus::UpdateComplete,
        ]),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![replaced]),
        ok_execute(),
        ok_protection(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &events, &ex, &p]);
    let mut renamed = new;
    renamed["Resources"]["OrdersTable"]["Properties"]["TableName"] = json!("shop-orders-v2-prod");
    let mut r = request(renamed);
    r.allow_replace = vec!["OrdersTable".into()];
    let outcome = deploy_stack(&cfn, &Store::default(), &r, &observer)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, DeployOutcome::Deployed { status, .. } if status == "UPDATE_COMPLETE"),
        "{outcome:?}"
    );
    assert_eq!(ex.num_calls(), 1);
    assert_eq!(
        observer.events.lock().unwrap().clone(),
        [
            format!("{STACK} UPDATE_IN_PROGRESS"),
            "OrdersTable UPDATE_COMPLETE".into(),
            format!("{STACK} UPDATE_COMPLETE")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn iam_broadening_needs_approval_and_never_waits_without_a_terminal() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("id", 512, &["dynamodb:GetItem", "dynamodb:DeleteItem"]);
    let role_change = modify(
        "OrdersFunctionRole",
        "AWS::IAM::Role",
        Replacement::False,
        "Policies",
        RequiresRecreation::Never,
    );
    let (d, g, c, ready, del, ex) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![role_change.clone()]),
        ok_delete_change_set(),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &del, &ex]);
    let observer = Recorder::answering(Approval::CannotAsk);
    let outcome = deploy_stack(&cfn, &Store::default(), &request(new.clone()), &observer)
        .await
        .unwrap();
    let DeployOutcome::NotApproved(why) = outcome else {
        panic!("expected no approval, got {outcome:?}")
    };
    assert!(why.contains("--require-approval never"), "{why}");
    assert_eq!((ex.num_calls(), del.num_calls()), (0, 1));
    let plan = observer.plans.lock().unwrap()[0].clone();
    assert_eq!(
        plan.broadening,
        vec![(
            "OrdersFunctionRole".to_string(),
            "policy: Allow dynamodb:DeleteItem on OrdersTable.Arn".to_string()
        )]
    );

    // Declined on a terminal: nothing executed either.
    let (d, g, c, ready, del, ex) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![role_change.clone()]),
        ok_delete_change_set(),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &del, &ex]);
    let declined = Recorder::answering(Approval::Declined);
    assert!(matches!(
        deploy_stack(&cfn, &Store::default(), &request(new.clone()), &declined)
            .await
            .unwrap(),
        DeployOutcome::NotApproved(_)
    ));
    assert_eq!(ex.num_calls(), 0);
    assert!(declined.questions.lock().unwrap()[0].contains("widen permissions"));

    // Narrowing needs nobody.
    let events = event_pages(vec![
        baseline(),
        vec![stack_event("e1", ResourceStatus::UpdateComplete, None, 3)],
    ]);
    let (d, g, c, ready, ex) = (
        describing(vec![
            StackStatus::UpdateComplete,
            StackStatus::UpdateComplete,
        ]),
        deployed(&new),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![role_change]),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &events, &ex]);
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &request(old),
        &Recorder::answering(Approval::CannotAsk),
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Deployed { .. }),
        "{outcome:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_update_reports_the_root_cause_not_the_cancellations() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("id", 20_000, &["dynamodb:GetItem"]);
    let events = event_pages(vec![
        baseline(),
        vec![stack_event("e1", ResourceStatus::UpdateInProgress, Some("User Initiated"), 1)],
        vec![
            event("e2", "OrdersTable", "AWS::DynamoDB::Table", ResourceStatus::UpdateInProgress, None, 2),
            event("e3", "OrdersFunction", "AWS::Lambda::Function", ResourceStatus::UpdateFailed, Some("Resource handler returned message: \"'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240\""), 3),
            event("e4", "OrdersTable", "AWS::DynamoDB::Table", ResourceStatus::UpdateFailed, Some("Resource update cancelled"), 4),
            stack_event("e5", ResourceStatus::UpdateRollbackInProgress, Some("The following resource(s) failed to update: [OrdersFunction, OrdersTable]."), 4),
        ],
        vec![stack_event("e6", ResourceStatus::UpdateRollbackComplete, None, 9)],
    ]);
    let memory = modify(
        "OrdersFunction",
        "AWS::Lambda::Function",
        Replacement::False,
        "MemorySize",
        RequiresRecreation::Never,
    );
    let (d, g, c, ready, ex) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![memory]),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &events, &ex]);
    let observer = Recorder::answering(Approval::CannotAsk);
    let outcome = deploy_stack(&cfn, &Store::default(), &request(new), &observer)
        .await
        .unwrap();
    let DeployOutcome::Failed { status, causes } = outcome else {
        panic!("expected a failure, got {outcome:?}")
    };
    assert_eq!(status, "UPDATE_ROLLBACK_COMPLETE");
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].logical_id, "OrdersFunction");
    assert!(causes[0].reason.as_deref().unwrap().contains("10240"));
    assert_eq!(
        observer.events.lock().unwrap().len(),
        6,
        "every event shown once, in order: {:?}",
        observer.events.lock().unwrap()
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_deploy_left_in_rollback_complete_is_deleted_and_created_again() {
    let new = template("id", 512, &["dynamodb:GetItem"]);
    let status = describing(vec![
        StackStatus::RollbackComplete,
        StackStatus::CreateComplete,
    ]);
    // The failed stack is followed by its id (once deleted, its name finds nothing) …
    let old_history = event_pages_of(
        STACK_ID,
        vec![
            vec![stack_event("r0", ResourceStatus::RollbackComplete, None, 0)],
            vec![
                stack_event(
                    "d1",
                    ResourceStatus::DeleteInProgress,
                    Some("User Initiated"),
                    10,
                ),
                stack_event("d2", ResourceStatus::DeleteComplete, None, 12),
            ],
        ],
    );
    // … and the new one by name.
    let new_history = event_pages_of(
        STACK,
        vec![
            vec![stack_event(
                "n0",
                ResourceStatus::from("REVIEW_IN_PROGRESS"),
                None,
                20,
            )],
            vec![
                stack_event(
                    "n1",
                    ResourceStatus::CreateInProgress,
                    Some("User Initiated"),
                    21,
                ),
                stack_event("n2", ResourceStatus::CreateComplete, None, 40),
            ],
        ],
    );
    let (del, c, ready, ex, p) = (
        ok_delete_stack(),
        creates_change_set(ChangeSetType::Create),
        ready_for_create(),
        ok_execute(),
        ok_protection(),
    );
    let cfn = engine(&[
        &status,
        &old_history,
        &new_history,
        &del,
        &c,
        &ready,
        &ex,
        &p,
    ]);
    let observer = Recorder::answering(Approval::Granted);
    let outcome = deploy_stack(&cfn, &Store::default(), &request(new), &observer)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, DeployOutcome::Deployed { status, .. } if status == "CREATE_COMPLETE"),
        "{outcome:?}"
    );
    assert_eq!((del.num_calls(), c.num_calls(), ex.num_calls()), (1, 1, 1));
    assert!(
        observer
            .notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("ROLLBACK_COMPLETE") && n.contains("deleting it")),
        "{:?}",
        observer.notes.lock().unwrap()
    );
    assert_eq!(
        observer.questions.lock().unwrap().len(),
        1,
        "a new stack's IAM roles are broadening"
    );
}

fn ready_for_create() -> Rule {
    change_set_ready(vec![ResourceChange::builder()
        .action(ChangeAction::Add)
        .logical_resource_id("OrdersTable")
        .resource_type("AWS::DynamoDB::Table")
        .build()])
}

#[tokio::test(start_paused = true)]
async fn diff_of_a_stack_that_does_not_exist_creates_nothing() {
    let (d, c, del) = (
        missing_stack(),
        creates_change_set(ChangeSetType::Create),
        ok_delete_stack(),
    );
    let cfn = engine(&[&d, &c, &del]);
    let diff = stackctl::engine::deploy::diff_stack(
        &cfn,
        &Store::default(),
        STACK,
        &template("id", 512, &[]),
        &[],
        "stackctl-diff-1",
    )
    .await
    .unwrap();
    assert!(!diff.exists);
    assert_eq!(
        diff.changes.len(),
        3,
        "everything is new: {:?}",
        diff.changes
    );
    assert_eq!(
        (c.num_calls(), del.num_calls()),
        (0, 0),
        "no change set, no stack"
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_set_that_never_gets_ready_is_given_up_at_the_deadline_and_removed() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let pending = mock!(Client::describe_change_set).then_output(|| {
        DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::CreateInProgress)
            .stack_name(STACK)
            .build()
    });
    let (d, g, c, del) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        ok_delete_change_set(),
    );
    let cfn = CloudFormation::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&d, &g, &c, &pending, &del]
    ))
    .with_change_set_deadline(Duration::from_secs(60));
    let started = tokio::time::Instant::now();
    let e = deploy_stack(
        &cfn,
        &Store::default(),
        &request(template("id", 1024, &["dynamodb:GetItem"])),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap_err();
    let error = e
        .downcast_ref::<stackctl::engine::error::AwsError>()
        .expect("a typed AWS error");
    assert_eq!(
        error.kind,
        stackctl::engine::error::ErrorKind::Timeout,
        "{e:#}"
    );
    assert!(
        error
            .to_string()
            .contains("still CREATE_IN_PROGRESS after 60 s"),
        "{e:#}"
    );
    assert!(
        started.elapsed() <= Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(pending.num_calls() > 3, "polled until the deadline");
    assert_eq!(
        del.num_calls(),
        1,
        "the pending change set is removed by name"
    );
}

#[tokio::test(start_paused = true)]
async fn a_busy_stack_is_refused_with_what_to_do() {
    let (d, c) = (
        describe(StackStatus::UpdateInProgress),
        creates_change_set(ChangeSetType::Update),
    );
    let cfn = engine(&[&d, &c]);
    let e = deploy_stack(
        &cfn,
        &Store::default(),
        &request(template("id", 512, &[])),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap_err();
    let text = format!("{e:#}");
    assert!(
        text.contains("busy (UPDATE_IN_PROGRESS)") && text.contains("--wait-busy"),
        "{text}"
    );
    assert_eq!(c.num_calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn throttled_event_polls_are_retried_and_polling_backs_off() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("id", 1024, &["dynamodb:GetItem"]);
    let throttles: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
    let polls: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
    let quiet = || {
        DescribeStackEventsOutput::builder()
            .stack_events(stack_event("e0", ResourceStatus::UpdateComplete, None, 0))
            .build()
    };
    let mut seq = mock!(Client::describe_stack_events)
        .sequence()
        .output(quiet);
    // More throttling in a row than the SDK's own three attempts absorb.
    for _ in 0..5 {
        let t = throttles.clone();
        seq = seq.error(move || {
            t.lock().unwrap().push(tokio::time::Instant::now());
            DescribeStackEventsError::generic(
                aws_sdk_cloudformation::error::ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        });
    }
    for _ in 0..4 {
        let p = polls.clone();
        seq = seq.output(move || {
            p.lock().unwrap().push(tokio::time::Instant::now());
            quiet()
        });
    }
    let done = seq
        .output(|| {
            DescribeStackEventsOutput::builder()
                .stack_events(stack_event("e1", ResourceStatus::UpdateComplete, None, 30))
                .stack_events(stack_event("e0", ResourceStatus::UpdateComplete, None, 0))
                .build()
        })
        .build();
    let memory = modify(
        "OrdersFunction",
        "AWS::Lambda::Function",
        Replacement::False,
        "MemorySize",
        RequiresRecreation::Never,
    );
    let (d, g, c, ready, ex) = (
        describing(vec![
            StackStatus::UpdateComplete,
            StackStatus::UpdateComplete,
        ]),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![memory]),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &done, &ex]);
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &request(new),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Deployed { .. }),
        "{outcome:?}"
    );
    assert!(done.is_exhausted(), "every scripted answer was asked for");
    assert_eq!(throttles.lock().unwrap().len(), 5);
    // While nothing happens, polls slow down from the fast pace to at most the slow one.
    let polls = polls.lock().unwrap().clone();
    let gaps: Vec<Duration> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= Pacing::default().fast, "{gaps:?}");
    assert!(gaps.windows(2).all(|g| g[0] <= g[1]), "backs off: {gaps:?}");
    assert!(
        gaps.iter().all(|g| *g <= Pacing::default().slow),
        "never slower than the slow pace: {gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn with_wait_busy_a_busy_stack_is_followed_until_it_settles_then_deployed() {
    let t = template("id", 512, &["dynamodb:GetItem"]);
    let status = describing(vec![
        StackStatus::UpdateInProgress,
        StackStatus::UpdateComplete,
    ]);
    let events = event_pages(vec![
        vec![stack_event(
            "o1",
            ResourceStatus::UpdateInProgress,
            Some("User Initiated"),
            0,
        )],
        vec![stack_event("o2", ResourceStatus::UpdateComplete, None, 40)],
    ]);
    let (g, c) = (deployed(&t), creates_change_set(ChangeSetType::Update));
    let cfn = engine(&[&status, &events, &g, &c]);
    let mut r = request(t);
    r.wait_busy = true;
    let observer = Recorder::answering(Approval::CannotAsk);
    let outcome = deploy_stack(&cfn, &Store::default(), &r, &observer)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::NoChanges { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        observer.events.lock().unwrap().clone(),
        [format!("{STACK} UPDATE_COMPLETE")],
        "the other operation's end is shown"
    );
    assert!(observer.notes.lock().unwrap()[0].contains("busy (UPDATE_IN_PROGRESS); waiting"));
    assert_eq!(c.num_calls(), 0);
}

fn resources_listed() -> Rule {
    use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
    use aws_sdk_cloudformation::types::StackResourceSummary;
    let summary = |logical: &str, ty: &str, physical: &str| {
        StackResourceSummary::builder()
            .logical_resource_id(logical)
            .resource_type(ty)
            .physical_resource_id(physical)
            .resource_status(ResourceStatus::UpdateComplete)
            .last_updated_timestamp(DateTime::from_secs(1_700_000_000))
            .build()
    };
    mock!(Client::list_stack_resources).then_output(move || {
        ListStackResourcesOutput::builder()
            .stack_resource_summaries(summary(
                "OrdersTable",
                "AWS::DynamoDB::Table",
                "shop-orders-prod",
            ))
            .stack_resource_summaries(summary(
                "OrdersFunction",
                "AWS::Lambda::Function",
                "shop-prod-OrdersFunction-1A2B",
            ))
            .stack_resource_summaries(summary(
                "OrdersFunctionRole",
                "AWS::IAM::Role",
                "shop-prod-OrdersFunctionRole-3C4D",
            ))
            .build()
    })
}

fn unprotected(status: StackStatus) -> Rule {
    mock!(Client::describe_stacks).then_output(move || {
        let mut s = stack(status.clone());
        s.enable_termination_protection = Some(false);
        DescribeStacksOutput::builder().stacks(s).build()
    })
}

#[tokio::test(start_paused = true)]
async fn destroy_refuses_a_protected_stack_and_lists_what_it_retains() {
    use stackctl::engine::deploy::{destroy_stack, DestroyOutcome, Retained};
    let (d, del) = (describe(StackStatus::UpdateComplete), ok_delete_stack());
    let cfn = engine(&[&d, &del]);
    let outcome = destroy_stack(
        &cfn,
        STACK,
        Pacing::default(),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap();
    assert_eq!(outcome, DestroyOutcome::Protected);
    assert_eq!(del.num_calls(), 0);

    let t = template("id", 512, &[]);
    let history = event_pages_of(
        STACK_ID,
        vec![
            baseline(),
            vec![
                stack_event(
                    "d1",
                    ResourceStatus::DeleteInProgress,
                    Some("User Initiated"),
                    1,
                ),
                event(
                    "d2",
                    "OrdersTable",
                    "AWS::DynamoDB::Table",
                    ResourceStatus::DeleteSkipped,
                    None,
                    2,
                ),
                event(
                    "d3",
                    "OrdersFunction",
                    "AWS::Lambda::Function",
                    ResourceStatus::DeleteComplete,
                    None,
                    3,
                ),
                stack_event("d4", ResourceStatus::DeleteComplete, None, 4),
            ],
        ],
    );
    let (d, g, list, del) = (
        unprotected(StackStatus::UpdateComplete),
        deployed(&t),
        resources_listed(),
        ok_delete_stack(),
    );
    let cfn = engine(&[&d, &g, &list, &history, &del]);
    let outcome = destroy_stack(
        &cfn,
        STACK,
        Pacing::default(),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        DestroyOutcome::Destroyed {
            retained: vec![Retained {
                logical_id: "OrdersTable".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                physical_id: "shop-orders-prod".into()
            }]
        }
    );
    assert_eq!(del.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_deletion_names_what_blocked_it() {
    use stackctl::engine::deploy::{destroy_stack, DestroyOutcome};
    let history = event_pages_of(
        STACK_ID,
        vec![
            baseline(),
            vec![
                stack_event(
                    "d1",
                    ResourceStatus::DeleteInProgress,
                    Some("User Initiated"),
                    1,
                ),
                event(
                    "d2",
                    "OrdersFunctionRole",
                    "AWS::IAM::Role",
                    ResourceStatus::DeleteFailed,
                    Some("Cannot delete entity, must detach all policies first."),
                    2,
                ),
                stack_event(
                    "d3",
                    ResourceStatus::DeleteFailed,
                    Some("The following resource(s) failed to delete: [OrdersFunctionRole]."),
                    3,
                ),
            ],
        ],
    );
    let (d, g, list, del) = (
        unprotected(StackStatus::UpdateComplete),
        deployed(&template("id", 512, &[])),
        resources_listed(),
        ok_delete_stack(),
    );
    let cfn = engine(&[&d, &g, &list, &history, &del]);
    let outcome = destroy_stack(
        &cfn,
        STACK,
        Pacing::default(),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap();
    let DestroyOutcome::Failed { status, causes } = outcome else {
        panic!("expected a failure, got {outcome:?}")
    };
    assert_eq!(status, "DELETE_FAILED");
    assert_eq!(
        causes
            .iter()
            .map(|c| c.logical_id.as_str())
            .collect::<Vec<_>>(),
        ["OrdersFunctionRole"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_template_over_the_inline_limit_goes_by_url_from_the_artifact_bucket() {
    let mut big = template("id", 512, &["dynamodb:GetItem"]);
    for i in 0..400 {
        big["Resources"][format!("Topic{i:03}")] = json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": format!("shop-prod-a-reasonably-long-topic-name-{i:03}"), "DisplayName": "padding to pass 51,200 bytes"}});
    }
    assert!(big.to_string().len() > 51_200);
    let by_url = mock!(Client::create_change_set)
        .match_requests(|r| {
            r.template_body().is_none()
                && r.template_url().is_some_and(|u| {
                    u.starts_with(
                        "https://artifacts.s3.eu-west-1.amazonaws.com/templates/shop-prod/",
                    ) && u.ends_with(".json")
                })
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/stackctl-1/9f8e")
                .build()
        });
    let (d, ready, del, del_set) = (
        missing_stack(),
        ready_for_create(),
        ok_delete_stack(),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&d, &by_url, &ready, &del, &del_set]);
    let store = Store::default();
    let outcome = deploy_stack(
        &cfn,
        &store,
        &request(big),
        &Recorder::answering(Approval::CannotAsk),
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::NotApproved(_)),
        "a new stack's role needs approval: {outcome:?}"
    );
    assert_eq!(
        by_url.num_calls(),
        1,
        "the change set was made from the uploaded template"
    );
    let calls = store.calls.lock().unwrap().clone();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("PUT templates/shop-prod/")),
        "{calls:?}"
    );
}

// ---------- CloudFormation's pre-deployment validation ----------

const CHANGE_SET_ID: &str =
    "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/stackctl-1/9f8e";
/// The status reason of a change set that failed early validation, as AWS words it.
const EARLY_VALIDATION: &str =
    "The following hook(s)/validation failed: [AWS::EarlyValidation::ResourceExistenceCheck, AWS::EarlyValidation::PropertyValidation]. To troubleshoot Early Validation errors, use the DescribeEvents API for detailed failure information.";

fn change_set_failed(reason: &'static str) -> Rule {
    mock!(Client::describe_change_set).then_output(move || {
        DescribeChangeSetOutput::builder()
            .change_set_id(CHANGE_SET_ID)
            .stack_name(STACK)
            .status(ChangeSetStatus::Failed)
            .status_reason(reason)
            .build()
    })
}

/// A DescribeEvents validation result, with every field AWS documents for one.
fn validation_event(
    logical: &str,
    ty: &str,
    check: &str,
    mode: HookFailureMode,
    path: &str,
    reason: &str,
) -> OperationEvent {
    OperationEvent::builder()
        .event_id(format!("{logical}-{check}"))
        .stack_id(STACK_ID)
        .operation_id("0d8e2a6f-op")
        .operation_type(OperationType::CreateChangeset)
        .operation_status(BeaconStackOperationStatus::Failed)
        .event_type(EventType::ValidationError)
        .logical_resource_id(logical)
        .resource_type(ty)
        .timestamp(DateTime::from_secs(1_700_000_100))
        .validation_failure_mode(mode)
        .validation_name(check)
        .validation_status(ValidationStatus::Failed)
        .validation_path(path)
        .validation_status_reason(reason)
        .build()
}

/// The operation's own progress event, which carries no validation.
fn progress_event() -> OperationEvent {
    OperationEvent::builder()
        .event_id("op-progress")
        .stack_id(STACK_ID)
        .operation_id("0d8e2a6f-op")
        .operation_type(OperationType::CreateChangeset)
        .operation_status(BeaconStackOperationStatus::Failed)
        .event_type(EventType::ProgressEvent)
        .logical_resource_id(STACK)
        .resource_type("AWS::CloudFormation::Stack")
        .timestamp(DateTime::from_secs(1_700_000_101))
        .build()
}

fn name_conflict() -> OperationEvent {
    validation_event(
        "OrdersTable",
        "AWS::DynamoDB::Table",
        "AWS::EarlyValidation::ResourceExistenceCheck",
        HookFailureMode::Fail,
        "/Resources/OrdersTable/Properties/TableName",
        "Resource of type 'AWS::DynamoDB::Table' with identifier 'shop-orders-prod' already exists.",
    )
}

fn memory_too_large() -> OperationEvent {
    validation_event(
        "OrdersFunction",
        "AWS::Lambda::Function",
        "AWS::EarlyValidation::PropertyValidation",
        HookFailureMode::Fail,
        "/Resources/OrdersFunction/Properties/MemorySize",
        "#/MemorySize: 20000 is greater than the maximum of 10240",
    )
}

/// DescribeEvents for the change set in two pages, the second behind a NextToken.
fn validation_pages(
    failed_only: bool,
    first: Vec<OperationEvent>,
    second: Vec<OperationEvent>,
) -> (Rule, Rule) {
    let asked =
        move |r: &aws_sdk_cloudformation::operation::describe_events::DescribeEventsInput| {
            r.stack_name() == Some(STACK)
                && r.change_set_name() == Some(CHANGE_SET_ID)
                && r.filters().and_then(|f| f.failed_events()).unwrap_or(false) == failed_only
        };
    let page1 = mock!(Client::describe_events)
        .match_requests(move |r| asked(r) && r.next_token().is_none())
        .then_output(move || {
            DescribeEventsOutput::builder()
                .set_operation_events(Some(first.clone()))
                .next_token("page-2")
                .build()
        });
    let page2 = mock!(Client::describe_events)
        .match_requests(move |r| asked(r) && r.next_token() == Some("page-2"))
        .then_output(move || {
            DescribeEventsOutput::builder()
                .set_operation_events(Some(second.clone()))
                .build()
        });
    (page1, page2)
}

#[tokio::test(start_paused = true)]
async fn a_change_set_failed_by_validation_is_reported_with_each_finding_and_removed() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("id", 20_000, &["dynamodb:GetItem"]);
    let (page1, page2) = validation_pages(
        true,
        vec![progress_event(), name_conflict()],
        vec![memory_too_large()],
    );
    let (d, g, c, failed, del, ex) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_failed(EARLY_VALIDATION),
        ok_delete_change_set(),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &failed, &page1, &page2, &del, &ex]);
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &request(new),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap();
    let DeployOutcome::Rejected(rejected) = outcome else {
        panic!("expected a rejected change set, got {outcome:?}")
    };
    assert_eq!(
        (page1.num_calls(), page2.num_calls()),
        (1, 1),
        "both pages read, with the FailedEvents filter"
    );
    assert_eq!(
        (ex.num_calls(), del.num_calls()),
        (0, 1),
        "not executed, change set removed"
    );
    let found: Vec<(Option<&str>, Option<String>, Severity)> = rejected
        .validation
        .findings
        .iter()
        .map(|f| (f.resource(), f.property_path(), f.severity(true)))
        .collect();
    assert_eq!(
        found,
        [
            (
                Some("OrdersFunction"),
                Some("MemorySize".to_string()),
                Severity::Fail
            ),
            (
                Some("OrdersTable"),
                Some("TableName".to_string()),
                Severity::Fail
            )
        ]
    );
    let text = rejected.to_string();
    assert!(text.contains("FAIL OrdersTable (AWS::DynamoDB::Table) TableName: Resource of type 'AWS::DynamoDB::Table' with identifier 'shop-orders-prod' already exists. [AWS::EarlyValidation::ResourceExistenceCheck]"), "{text}");
    assert!(text.contains("FAIL OrdersFunction (AWS::Lambda::Function) MemorySize: #/MemorySize: 20000 is greater than the maximum of 10240"), "{text}");
    assert!(
        !text.contains("To troubleshoot"),
        "the findings replace the status reason: {text}"
    );
}

#[tokio::test(start_paused = true)]
async fn diff_of_a_rejected_change_set_shows_the_reason_and_how_to_read_results_it_could_not() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let denied = mock!(Client::describe_events).then_error(|| {
        aws_sdk_cloudformation::operation::describe_events::DescribeEventsError::generic(
            aws_sdk_cloudformation::error::ErrorMetadata::builder()
                .code("AccessDenied")
                .message("User is not authorized to perform: cloudformation:DescribeEvents")
                .build(),
        )
    });
    let (d, g, c, failed, del) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_failed(EARLY_VALIDATION),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&d, &g, &c, &failed, &denied, &del]);
    let e = stackctl::engine::deploy::diff_stack(
        &cfn,
        &Store::default(),
        STACK,
        &template("id", 1024, &["dynamodb:GetItem"]),
        &[],
        "stackctl-diff-1",
    )
    .await
    .unwrap_err();
    let rejected = e
        .downcast_ref::<ChangeSetRejected>()
        .expect("a typed rejection");
    assert!(rejected.validation.findings.is_empty());
    assert!(
        rejected
            .validation
            .unread
            .as_deref()
            .is_some_and(|u| u.contains("AccessDenied")),
        "{:?}",
        rejected.validation
    );
    let text = format!("{e:#}");
    assert!(
        text.contains("AWS::EarlyValidation::ResourceExistenceCheck"),
        "the status reason is all there is: {text}"
    );
    assert!(text.contains(&format!("aws cloudformation describe-events --stack-name {STACK} --change-set-name {CHANGE_SET_ID}")), "{text}");
    assert_eq!(
        del.num_calls(),
        1,
        "the diff's change set is deleted after its results were asked for"
    );
}

#[tokio::test(start_paused = true)]
async fn diff_shows_the_validation_warnings_of_a_change_set_that_can_go_ahead() {
    let mut old = template("id", 512, &["dynamodb:GetItem"]);
    old["Resources"]["OrdersBucket"] =
        json!({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "shop-orders-prod"}});
    let new = template("id", 512, &["dynamodb:GetItem"]);
    let removed = ResourceChange::builder()
        .action(ChangeAction::Remove)
        .logical_resource_id("OrdersBucket")
        .resource_type("AWS::S3::Bucket")
        .physical_resource_id("shop-orders-prod")
        .build();
    let ready = mock!(Client::describe_change_set).then_output(move || {
        DescribeChangeSetOutput::builder()
            .change_set_id(CHANGE_SET_ID)
            .status(ChangeSetStatus::CreateComplete)
            .status_reason("The following hook(s)/validation failed: [AWS::EarlyValidation::S3BucketEmptinessCheck].")
            .changes(Change::builder().r#type(ChangeType::Resource).resource_change(removed.clone()).build())
            .build()
    });
    let not_empty = validation_event(
        "OrdersBucket",
        "AWS::S3::Bucket",
        "AWS::EarlyValidation::S3BucketEmptinessCheck",
        HookFailureMode::Warn,
        "/Resources/OrdersBucket",
        "Bucket shop-orders-prod is not empty; deleting it will fail.",
    );
    let (page1, page2) = validation_pages(false, vec![not_empty], vec![]);
    let (d, g, c, del) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &page1, &page2, &del]);
    let diff = stackctl::engine::deploy::diff_stack(
        &cfn,
        &Store::default(),
        STACK,
        &new,
        &[],
        "stackctl-diff-1",
    )
    .await
    .unwrap();
    assert_eq!(
        (page1.num_calls(), page2.num_calls()),
        (1, 1),
        "warnings are read without the FailedEvents filter"
    );
    assert_eq!(diff.validation.findings.len(), 1);
    let warning = &diff.validation.findings[0];
    assert_eq!(
        (
            warning.severity(diff.validation.failed),
            warning.resource(),
            warning.property_path()
        ),
        (Severity::Warn, Some("OrdersBucket"), None)
    );
    assert_eq!(diff.validation.lines(STACK), ["WARN OrdersBucket (AWS::S3::Bucket): Bucket shop-orders-prod is not empty; deleting it will fail. [AWS::EarlyValidation::S3BucketEmptinessCheck]"]);
    assert_eq!(
        diff.data_loss[0].logical_id, "OrdersBucket",
        "the guard sees the removal too"
    );
}

// ---------- answers in the shapes AWS sends ----------

fn stack_called(
    name: &str,
    status: StackStatus,
    protected: bool,
    outputs: &[(&str, &str)],
) -> Stack {
    let mut s = Stack::builder()
        .stack_name(name)
        .stack_id(format!(
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/{name}/1c2d3e4f"
        ))
        .stack_status(status)
        .creation_time(DateTime::from_secs(1_700_000_000))
        .enable_termination_protection(protected);
    for (k, v) in outputs {
        s = s.outputs(
            aws_sdk_cloudformation::types::Output::builder()
                .output_key(*k)
                .output_value(*v)
                .build(),
        );
    }
    s.build()
}

/// DescribeStacks for `name`, answer by answer: `None` is "does not exist".
fn describing_stack(name: &'static str, answers: Vec<Option<Stack>>) -> Rule {
    let mut seq = mock!(Client::describe_stacks)
        .match_requests(move |r| r.stack_name() == Some(name))
        .sequence();
    for a in answers {
        seq = match a {
            Some(s) => {
                seq.output(move || DescribeStacksOutput::builder().stacks(s.clone()).build())
            }
            None => seq.error(move || {
                aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError::generic(
                    aws_sdk_cloudformation::error::ErrorMetadata::builder()
                        .code("ValidationError")
                        .message(format!("Stack with id {name} does not exist"))
                        .build(),
                )
            }),
        };
    }
    seq.build()
}

fn add(id: &str, ty: &str) -> Change {
    Change::builder()
        .r#type(ChangeType::Resource)
        .resource_change(
            ResourceChange::builder()
                .action(ChangeAction::Add)
                .logical_resource_id(id)
                .resource_type(ty)
                .build(),
        )
        .build()
}

#[tokio::test(start_paused = true)]
async fn a_first_change_set_is_polled_until_ready_lists_every_resource_and_its_empty_stack_is_deleted_when_declined(
) {
    let new = template("id", 512, &["dynamodb:GetItem"]);
    // The CREATE change set makes a REVIEW_IN_PROGRESS stack at once.
    let status = describing_stack(
        STACK,
        vec![
            None,
            Some(stack_called(
                STACK,
                StackStatus::ReviewInProgress,
                false,
                &[],
            )),
        ],
    );
    let first = mock!(Client::describe_change_set)
        .match_requests(|r| r.next_token().is_none())
        .sequence()
        .output(|| {
            DescribeChangeSetOutput::builder()
                .change_set_id(CHANGE_SET_ID)
                .status(ChangeSetStatus::CreatePending)
                .build()
        })
        .output(|| {
            DescribeChangeSetOutput::builder()
                .change_set_id(CHANGE_SET_ID)
                .status(ChangeSetStatus::CreateInProgress)
                .build()
        })
        .output(|| {
            DescribeChangeSetOutput::builder()
                .change_set_id(CHANGE_SET_ID)
                .status(ChangeSetStatus::CreateComplete)
                .changes(add("OrdersTable", "AWS::DynamoDB::Table"))
                .changes(add("OrdersFunction", "AWS::Lambda::Function"))
                .next_token("changes-2")
                .build()
        })
        .build();
    let second = mock!(Client::describe_change_set)
        .match_requests(|r| r.next_token() == Some("changes-2"))
        .then_output(|| {
            DescribeChangeSetOutput::builder()
                .change_set_id(CHANGE_SET_ID)
                .status(ChangeSetStatus::CreateComplete)
                .changes(add("OrdersFunctionRole", "AWS::IAM::Role"))
                .build()
        });
    let never =
        mock!(Client::describe_events).then_output(|| DescribeEventsOutput::builder().build());
    let delete_stack = mock!(Client::delete_stack)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_output(|| DeleteStackOutput::builder().build());
    let (c, del_set, ex) = (
        creates_change_set(ChangeSetType::Create),
        ok_delete_change_set(),
        ok_execute(),
    );
    let cfn = engine(&[
        &status,
        &c,
        &first,
        &second,
        &never,
        &delete_stack,
        &del_set,
        &ex,
    ]);
    let observer = Recorder::answering(Approval::Declined);
    let outcome = deploy_stack(&cfn, &Store::default(), &request(new), &observer)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::NotApproved(_)),
        "{outcome:?}"
    );
    assert_eq!(
        (first.num_calls(), second.num_calls()),
        (3, 1),
        "pending and in progress polled through, both pages of changes read"
    );
    let plan = observer.plans.lock().unwrap()[0].clone();
    let listed: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.logical_id.as_str(), c.action))
        .collect();
    assert_eq!(
        listed,
        [
            ("OrdersFunction", Action::Add),
            ("OrdersFunctionRole", Action::Add),
            ("OrdersTable", Action::Add)
        ],
        "every resource once"
    );
    assert_eq!(
        never.num_calls(),
        0,
        "a ready change set with nothing to say costs no DescribeEvents call"
    );
    assert_eq!(
        (
            delete_stack.num_calls(),
            del_set.num_calls(),
            ex.num_calls()
        ),
        (1, 0, 0),
        "the empty stack goes, and its change set with it"
    );
}

#[tokio::test(start_paused = true)]
async fn events_paged_with_next_token_are_each_shown_once_in_order() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("id", 1024, &["dynamodb:GetItem"]);
    let newest_first = |events: Vec<StackEvent>| events.into_iter().rev().collect::<Vec<_>>();
    let first_pages = mock!(Client::describe_stack_events)
        .match_requests(|r| r.next_token().is_none())
        .sequence()
        .output(|| {
            DescribeStackEventsOutput::builder()
                .stack_events(stack_event("e0", ResourceStatus::UpdateComplete, None, 0))
                .build()
        })
        .output(move || {
            let page = newest_first(vec![
                event(
                    "e3",
                    "OrdersFunction",
                    "AWS::Lambda::Function",
                    ResourceStatus::UpdateComplete,
                    None,
                    3,
                ),
                stack_event(
                    "e4",
                    ResourceStatus::from("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
                    None,
                    4,
                ),
                stack_event("e5", ResourceStatus::UpdateComplete, None, 5),
            ]);
            DescribeStackEventsOutput::builder()
                .set_stack_events(Some(page))
                .next_token("older")
                .build()
        })
        .build();
    let older = mock!(Client::describe_stack_events)
        .match_requests(|r| r.next_token() == Some("older"))
        .then_output(move || {
            let page = newest_first(vec![
                stack_event("e0", ResourceStatus::UpdateComplete, None, 0),
                stack_event(
                    "e1",
                    ResourceStatus::UpdateInProgress,
                    Some("User Initiated"),
                    1,
                ),
                event(
                    "e2",
                    "OrdersFunction",
                    "AWS::Lambda::Function",
                    ResourceStatus::UpdateInProgress,
                    None,
                    2,
                ),
            ]);
            DescribeStackEventsOutput::builder()
                .set_stack_events(Some(page))
                .build()
        });
    let memory = modify(
        "OrdersFunction",
        "AWS::Lambda::Function",
        Replacement::False,
        "MemorySize",
        RequiresRecreation::Never,
    );
    let (d, g, c, ready, ex) = (
        describing(vec![
            StackStatus::UpdateComplete,
            StackStatus::UpdateComplete,
        ]),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![memory]),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &first_pages, &older, &ex]);
    let observer = Recorder::answering(Approval::Granted);
    let outcome = deploy_stack(&cfn, &Store::default(), &request(new), &observer)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, DeployOutcome::Deployed { status, .. } if status == "UPDATE_COMPLETE"),
        "{outcome:?}"
    );
    assert_eq!(
        older.num_calls(),
        1,
        "the older page was fetched to reach the last event seen"
    );
    assert_eq!(
        observer.events.lock().unwrap().clone(),
        [
            format!("{STACK} UPDATE_IN_PROGRESS"),
            "OrdersFunction UPDATE_IN_PROGRESS".into(),
            "OrdersFunction UPDATE_COMPLETE".into(),
            format!("{STACK} UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            format!("{STACK} UPDATE_COMPLETE")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_rollback_is_followed_through_its_cleanup_to_the_end() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("id", 1024, &["dynamodb:GetItem"]);
    let events = event_pages(vec![
        baseline(),
        vec![
            stack_event(
                "e1",
                ResourceStatus::UpdateInProgress,
                Some("User Initiated"),
                1,
            ),
            event(
                "e2",
                "OrdersFunction",
                "AWS::Lambda::Function",
                ResourceStatus::UpdateFailed,
                Some("Resource handler returned message: \"Code storage limit exceeded\""),
                2,
            ),
            stack_event(
                "e3",
                ResourceStatus::UpdateRollbackInProgress,
                Some("The following resource(s) failed to update: [OrdersFunction]."),
                3,
            ),
        ],
        // Still rolling back: not the end, however final "COMPLETE" reads.
        vec![stack_event(
            "e4",
            ResourceStatus::from("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
            None,
            6,
        )],
        vec![stack_event(
            "e5",
            ResourceStatus::UpdateRollbackComplete,
            None,
            8,
        )],
    ]);
    let memory = modify(
        "OrdersFunction",
        "AWS::Lambda::Function",
        Replacement::False,
        "MemorySize",
        RequiresRecreation::Never,
    );
    let (d, g, c, ready, ex) = (
        describe(StackStatus::UpdateComplete),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![memory]),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &events, &ex]);
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &request(new),
        &Recorder::answering(Approval::Granted),
    )
    .await
    .unwrap();
    let DeployOutcome::Failed { status, causes } = outcome else {
        panic!("expected a failure, got {outcome:?}")
    };
    assert_eq!(status, "UPDATE_ROLLBACK_COMPLETE");
    assert_eq!(
        causes
            .iter()
            .map(|c| c.logical_id.as_str())
            .collect::<Vec<_>>(),
        ["OrdersFunction"]
    );
    assert!(events.is_exhausted(), "followed to the last event");
}

#[tokio::test(start_paused = true)]
async fn an_unprotected_prod_stack_gets_termination_protection() {
    let old = template("id", 512, &["dynamodb:GetItem"]);
    let new = template("id", 1024, &["dynamodb:GetItem"]);
    let unprotected = || Some(stack_called(STACK, StackStatus::UpdateComplete, false, &[]));
    let events = event_pages(vec![
        baseline(),
        vec![stack_event("e1", ResourceStatus::UpdateComplete, None, 3)],
    ]);
    let protect = mock!(Client::update_termination_protection)
        .match_requests(|r| {
            r.stack_name() == Some(STACK) && r.enable_termination_protection() == Some(true)
        })
        .then_output(|| UpdateTerminationProtectionOutput::builder().build());
    let memory = modify(
        "OrdersFunction",
        "AWS::Lambda::Function",
        Replacement::False,
        "MemorySize",
        RequiresRecreation::Never,
    );
    let (d, g, c, ready, ex) = (
        describing_stack(STACK, vec![unprotected(), unprotected()]),
        deployed(&old),
        creates_change_set(ChangeSetType::Update),
        change_set_ready(vec![memory]),
        ok_execute(),
    );
    let cfn = engine(&[&d, &g, &c, &ready, &events, &ex, &protect]);
    let observer = Recorder::answering(Approval::Granted);
    let outcome = deploy_stack(&cfn, &Store::default(), &request(new), &observer)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Deployed { .. }),
        "{outcome:?}"
    );
    assert_eq!(protect.num_calls(), 1);
    assert!(
        observer
            .notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| n == "turned on termination protection"),
        "{:?}",
        observer.notes.lock().unwrap()
    );

    // Up to date but unprotected: protected without any other write.
    let (d, g, protect, c) = (
        describing_stack(STACK, vec![unprotected()]),
        deployed(&old),
        mock!(Client::update_termination_protection)
            .match_requests(|r| r.enable_termination_protection() == Some(true))
            .then_output(|| UpdateTerminationProtectionOutput::builder().build()),
        creates_change_set(ChangeSetType::Update),
    );
    let cfn = engine(&[&d, &g, &protect, &c]);
    let mut same = request(old.clone());
    same.tags = Vec::new();
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &same,
        &Recorder::answering(Approval::CannotAsk),
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::NoChanges { .. }),
        "{outcome:?}"
    );
    assert_eq!((protect.num_calls(), c.num_calls()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn stacks_stuck_in_a_failed_state_are_refused_with_the_command_that_resolves_them() {
    let cases = [
        (
            StackStatus::UpdateRollbackFailed,
            "aws cloudformation continue-update-rollback --stack-name shop-prod",
        ),
        (
            StackStatus::RollbackFailed,
            "aws cloudformation delete-stack --stack-name shop-prod",
        ),
        (
            StackStatus::DeleteFailed,
            "delete again with `stackctl destroy`, which lists what failed and offers to force-delete",
        ),
    ];
    for (status, command) in cases {
        let mut stuck = stack_called(STACK, status.clone(), false, &[]);
        stuck.stack_status_reason = Some(
            "Resource OrdersFunctionRole: Cannot delete entity, must detach all policies first."
                .into(),
        );
        let (d, c) = (
            describing_stack(STACK, vec![Some(stuck.clone()), Some(stuck)]),
            creates_change_set(ChangeSetType::Update),
        );
        let cfn = engine(&[&d, &c]);
        let e = deploy_stack(
            &cfn,
            &Store::default(),
            &request(template("id", 512, &[])),
            &Recorder::answering(Approval::Granted),
        )
        .await
        .unwrap_err();
        let refusal = e
            .downcast_ref::<StateRefusal>()
            .unwrap_or_else(|| panic!("a typed refusal for {status:?}: {e:#}"));
        let expected_variant = match status {
            StackStatus::UpdateRollbackFailed => {
                matches!(refusal, StateRefusal::UpdateRollbackFailed { .. })
            }
            StackStatus::RollbackFailed => matches!(refusal, StateRefusal::RollbackFailed { .. }),
            _ => matches!(refusal, StateRefusal::DeleteFailed { .. }),
        };
        assert!(expected_variant, "{status:?}: {refusal:?}");
        let text = refusal.to_string();
        assert!(
            text.contains(status.as_str())
                && text.contains(command)
                && text.contains("must detach all policies"),
            "{text}"
        );
        // diff refuses the same way, before any change set.
        let e = stackctl::engine::deploy::diff_stack(
            &cfn,
            &Store::default(),
            STACK,
            &template("id", 512, &[]),
            &[],
            "stackctl-diff-1",
        )
        .await
        .unwrap_err();
        assert!(e.downcast_ref::<StateRefusal>().is_some(), "{e:#}");
        assert_eq!(c.num_calls(), 0);
    }
}

// ---------- several stacks ----------

const NET: &str = "net-dev";
const WEB: &str = "web-dev";
const JOBS: &str = "jobs-dev";

fn dev_request(stack: &str, template: Value) -> DeployRequest {
    DeployRequest {
        stack: stack.into(),
        termination_protection: false,
        require_approval: RequireApproval::Never,
        tags: Vec::new(),
        ..request(template)
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_stack_blocks_what_depends_on_it_while_its_sibling_completes() {
    use stackctl::engine::waves::{completed_outputs, deploy_waves, Plan, Runs, StackRun};
    let t = template("id", 512, &["dynamodb:GetItem"]);
    // net-dev: its first change set fails validation; the empty stack is removed.
    let net_status = describing_stack(
        NET,
        vec![
            None,
            Some(stack_called(NET, StackStatus::ReviewInProgress, false, &[])),
        ],
    );
    let net_change_set = mock!(Client::create_change_set)
        .match_requests(|r| r.stack_name() == Some(NET))
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id(format!("{CHANGE_SET_ID}-net"))
                .build()
        });
    let net_failed = mock!(Client::describe_change_set)
        .match_requests(|r| r.stack_name() == Some(NET))
        .then_output(|| {
            DescribeChangeSetOutput::builder()
                .status(ChangeSetStatus::Failed)
                .status_reason(EARLY_VALIDATION)
                .build()
        });
    let net_findings = mock!(Client::describe_events)
        .match_requests(|r| r.stack_name() == Some(NET))
        .then_output(|| {
            DescribeEventsOutput::builder()
                .operation_events(name_conflict())
                .build()
        });
    let net_delete = mock!(Client::delete_stack)
        .match_requests(|r| r.stack_name() == Some(NET))
        .then_output(|| DeleteStackOutput::builder().build());
    // jobs-dev: created.
    let jobs_status = describing_stack(
        JOBS,
        vec![
            None,
            Some(stack_called(
                JOBS,
                StackStatus::CreateComplete,
                false,
                &[(
                    "QueueUrl",
                    "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
                )],
            )),
        ],
    );
    let jobs_change_set = mock!(Client::create_change_set)
        .match_requests(|r| r.stack_name() == Some(JOBS))
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id(format!("{CHANGE_SET_ID}-jobs"))
                .build()
        });
    let jobs_ready = mock!(Client::describe_change_set)
        .match_requests(|r| r.stack_name() == Some(JOBS))
        .then_output(|| {
            DescribeChangeSetOutput::builder()
                .status(ChangeSetStatus::CreateComplete)
                .changes(add("OrdersTable", "AWS::DynamoDB::Table"))
                .build()
        });
    let jobs_events = event_pages_of(
        JOBS,
        vec![
            vec![stack_event(
                "j0",
                ResourceStatus::from("REVIEW_IN_PROGRESS"),
                None,
                0,
            )],
            vec![
                stack_event(
                    "j1",
                    ResourceStatus::CreateInProgress,
                    Some("User Initiated"),
                    1,
                ),
                stack_event("j2", ResourceStatus::CreateComplete, None, 9),
            ],
        ],
    );
    let jobs_execute = mock!(Client::execute_change_set)
        .match_requests(|r| r.stack_name() == Some(JOBS))
        .then_output(|| ExecuteChangeSetOutput::builder().build());
    // web-dev depends on net-dev: CloudFormation never hears of it.
    let web_anything = mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(WEB))
        .then_output(|| DescribeStacksOutput::builder().build());
    let cfn = engine(&[
        &net_status,
        &net_change_set,
        &net_failed,
        &net_findings,
        &net_delete,
        &jobs_status,
        &jobs_change_set,
        &jobs_ready,
        &jobs_events,
        &jobs_execute,
        &web_anything,
    ]);

    let requests = vec![
        dev_request(NET, t.clone()),
        dev_request(WEB, t.clone()),
        dev_request(JOBS, t),
    ];
    let (depends_on, waves) = (vec![vec![], vec![0], vec![]], vec![vec![0, 2], vec![1]]);
    let runs: Runs = Mutex::default();
    let observer = Recorder::answering(Approval::CannotAsk);
    deploy_waves(
        &cfn,
        &Store::default(),
        Plan {
            requests: &requests,
            depends_on: &depends_on,
            waves: &waves,
            concurrency: 4,
        },
        &observer,
        &runs,
    )
    .await;
    let runs = runs.into_inner().unwrap();

    assert!(
        matches!(&runs[&0], StackRun::Finished(Ok(DeployOutcome::Rejected(r))) if r.validation.findings[0].resource() == Some("OrdersTable")),
        "{:?}",
        runs[&0]
    );
    assert_eq!(
        net_delete.num_calls(),
        1,
        "the failed first deploy leaves no empty stack"
    );
    assert!(
        matches!(&runs[&1], StackRun::Blocked { by } if by == &[NET.to_string()]),
        "{:?}",
        runs[&1]
    );
    assert_eq!(
        web_anything.num_calls(),
        0,
        "a blocked stack is not even looked at"
    );
    assert!(
        matches!(&runs[&2], StackRun::Finished(Ok(DeployOutcome::Deployed { status, .. })) if status == "CREATE_COMPLETE"),
        "{:?}",
        runs[&2]
    );
    assert_eq!(jobs_execute.num_calls(), 1);
    assert_eq!(runs.values().filter(|r| r.is_success()).count(), 1);
    let outputs = completed_outputs(&requests, &runs);
    assert_eq!(
        outputs.into_iter().collect::<Vec<_>>(),
        [(
            JOBS.to_string(),
            vec![(
                "QueueUrl".to_string(),
                "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs".to_string()
            )]
        )],
        "the outputs file holds what completed"
    );
}

//! The account-settings stack and the update rules AWS enforces while
//! applying a change, against CloudFormation answers scripted in the real
//! API's shapes (aws-smithy-mocks; the SDK client and stackctl's engine are
//! real, only the HTTP layer is replaced).

use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::update_termination_protection::UpdateTerminationProtectionOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeSetType, ChangeType, Replacement, ResourceChange,
    ResourceStatus, Stack, StackEvent, StackStatus, Tag,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::{json, Value};
use stackctl::diff::guard::RequireApproval;
use stackctl::diff::update_rules::UpdateRule;
use stackctl::engine::account::{account_settings_request, AccountSettings};
use stackctl::engine::deploy::{
    deploy_stack, diff_stack, Approval, DeployOutcome, DeployRequest, Observer, StackDiff,
};
use stackctl::engine::stacks::CloudFormation;
use stackctl::engine::watch::Pacing;
use stackctl::plan::account::{
    account_settings_tags, account_settings_template, ACCOUNT_SETTINGS_STACK,
};
use stackctl::render::{Renderer, TemplateSet};
use std::sync::Mutex;

const ACCOUNT_ID: &str =
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/stackctl-account-settings/5a6b7c8d";
const SHOP: &str = "shop-prod";
const SHOP_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-prod/1c2d3e4f";

/// Records what a deploy reports; never approves (nobody to ask).
#[derive(Default)]
struct Recorder {
    notes: Mutex<Vec<String>>,
    plans: Mutex<Vec<StackDiff>>,
    change_sets: Mutex<Vec<String>>,
}

impl Observer for Recorder {
    fn note(&self, _: &str, text: &str) {
        self.notes.lock().unwrap().push(text.to_string());
    }
    fn plan(&self, diff: &StackDiff) {
        self.plans.lock().unwrap().push(diff.clone());
    }
    fn event(&self, _: &str, _: &stackctl::engine::stacks::StackEvent) {}
    fn approve(&self, _: &str, _: &str) -> Approval {
        Approval::CannotAsk
    }
    fn creating_change_set(&self, stack: &str) {
        self.change_sets.lock().unwrap().push(stack.to_string());
    }
    fn executing(&self, _: &str) {}
}

#[path = "support/scripted_answers.rs"]
mod scripted_answers;
use scripted_answers::{event_pages, ok_delete_change_set, ok_delete_stack, ok_execute};
#[path = "support/recording_store.rs"]
mod recording_store;
use recording_store::Store;

fn engine(rules: &[&Rule]) -> CloudFormation {
    CloudFormation::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        rules
    ))
}

fn stack(
    name: &str,
    id: &str,
    status: StackStatus,
    protected: bool,
    tags: &[(String, String)],
) -> Stack {
    let mut s = Stack::builder()
        .stack_name(name)
        .stack_id(id)
        .stack_status(status)
        .creation_time(DateTime::from_secs(1_700_000_000))
        .enable_termination_protection(protected);
    for (k, v) in tags {
        s = s.tags(Tag::builder().key(k).value(v).build());
    }
    s.build()
}

fn account_stack(status: StackStatus, protected: bool) -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(stack(
            ACCOUNT_SETTINGS_STACK,
            ACCOUNT_ID,
            status,
            protected,
            &account_settings_tags(),
        ))
        .build()
}

fn missing(name: &'static str) -> DescribeStacksError {
    DescribeStacksError::generic(
        aws_sdk_cloudformation::error::ErrorMetadata::builder()
            .code("ValidationError")
            .message(format!("Stack with id {name} does not exist"))
            .build(),
    )
}

fn deployed(template: &Value) -> Rule {
    let body = template.to_string();
    mock!(Client::get_template).then_output(move || {
        GetTemplateOutput::builder()
            .template_body(body.clone())
            .build()
    })
}

fn creates_change_set(stack: &'static str, kind: ChangeSetType) -> Rule {
    mock!(Client::create_change_set)
        .match_requests(move |r| {
            r.change_set_type() == Some(&kind) && r.stack_name() == Some(stack)
        })
        .then_output(move || {
            CreateChangeSetOutput::builder()
                .id(format!(
                    "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/stackctl-1/{stack}"
                ))
                .build()
        })
}

fn ready(changes: Vec<ResourceChange>) -> Rule {
    mock!(Client::describe_change_set).then_output(move || {
        let mut out = DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::CreateComplete)
            .change_set_name("stackctl-1");
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

fn change(action: ChangeAction, id: &str, ty: &str) -> ResourceChange {
    let c = ResourceChange::builder()
        .action(action.clone())
        .logical_resource_id(id)
        .resource_type(ty);
    if action == ChangeAction::Modify {
        c.replacement(Replacement::False).build()
    } else {
        c.build()
    }
}

fn stack_event(id: &str, status: ResourceStatus, at: i64) -> StackEvent {
    StackEvent::builder()
        .stack_id(ACCOUNT_ID)
        .stack_name(ACCOUNT_SETTINGS_STACK)
        .event_id(id)
        .logical_resource_id(ACCOUNT_SETTINGS_STACK)
        .resource_type("AWS::CloudFormation::Stack")
        .resource_status(status)
        .timestamp(DateTime::from_secs(1_700_000_000 + at))
        .build()
}

fn protects_account_settings() -> Rule {
    mock!(Client::update_termination_protection)
        .match_requests(|r| {
            r.stack_name() == Some(ACCOUNT_SETTINGS_STACK)
                && r.enable_termination_protection() == Some(true)
        })
        .then_output(|| UpdateTerminationProtectionOutput::builder().build())
}

fn account_template() -> Value {
    account_settings_template(&Renderer::new(&TemplateSet::builtin()).unwrap()).unwrap()
}

fn account_request(template: Value) -> DeployRequest {
    account_settings_request(
        template,
        RequireApproval::Never,
        false,
        "stackctl-1".into(),
        Pacing::default(),
    )
}

#[tokio::test(start_paused = true)]
async fn account_settings_are_created_under_termination_protection() {
    let states = mock!(Client::describe_stacks)
        .sequence()
        .error(|| missing(ACCOUNT_SETTINGS_STACK))
        .output(|| account_stack(StackStatus::CreateComplete, false))
        .build();
    let events = event_pages(vec![
        vec![stack_event(
            "n0",
            ResourceStatus::from("REVIEW_IN_PROGRESS"),
            0,
        )],
        vec![
            stack_event("n1", ResourceStatus::CreateInProgress, 1),
            stack_event("n2", ResourceStatus::CreateComplete, 30),
        ],
    ]);
    let create = creates_change_set(ACCOUNT_SETTINGS_STACK, ChangeSetType::Create);
    let set = ready(vec![
        change(
            ChangeAction::Add,
            "ApiGatewayCloudWatchRole",
            "AWS::IAM::Role",
        ),
        change(
            ChangeAction::Add,
            "ApiGatewayAccount",
            "AWS::ApiGateway::Account",
        ),
    ]);
    let (execute, protect) = (ok_execute(), protects_account_settings());
    let cfn = engine(&[&states, &events, &create, &set, &execute, &protect]);
    let observer = Recorder::default();
    let outcome = deploy_stack(
        &cfn,
        &Store::default(),
        &account_request(account_template()),
        &observer,
    )
    .await
    .unwrap();
    assert_eq!(
        AccountSettings::from_outcome(&outcome),
        Some(AccountSettings::Created),
        "{outcome:?}"
    );
    assert_eq!(
        (create.num_calls(), execute.num_calls(), protect.num_calls()),
        (1, 1, 1)
    );
    let plan = observer.plans.lock().unwrap()[0].clone();
    assert_eq!(plan.stack, ACCOUNT_SETTINGS_STACK);
    assert!(
        plan.broadening
            .iter()
            .any(|(id, g)| id == "ApiGatewayCloudWatchRole"
                && g.contains("apigateway.amazonaws.com")),
        "the role is a grant: {:?}",
        plan.broadening
    );
}

#[tokio::test(start_paused = true)]
async fn unchanged_account_settings_are_two_reads_and_no_write() {
    let t = account_template();
    let (describe, get) = (
        mock!(Client::describe_stacks)
            .then_output(|| account_stack(StackStatus::CreateComplete, true)),
        deployed(&t),
    );
    let writes = [
        creates_change_set(ACCOUNT_SETTINGS_STACK, ChangeSetType::Update),
        ok_execute(),
        ok_delete_change_set(),
        ok_delete_stack(),
        protects_account_settings(),
    ];
    let mut rules = vec![&describe, &get];
    rules.extend(writes.iter());
    let store = Store::default();
    let outcome = deploy_stack(
        &engine(&rules),
        &store,
        &account_request(t),
        &Recorder::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        AccountSettings::from_outcome(&outcome),
        Some(AccountSettings::UpToDate),
        "{outcome:?}"
    );
    assert_eq!((describe.num_calls(), get.num_calls()), (1, 1));
    assert!(writes.iter().all(|w| w.num_calls() == 0), "no write call");
    assert!(store.calls.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn changed_account_settings_are_updated_and_reported_so() {
    let t = account_template();
    let mut before = t.clone();
    before["Resources"]["ApiGatewayCloudWatchRole"]["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("Description");
    let states = mock!(Client::describe_stacks)
        .sequence()
        .output(|| account_stack(StackStatus::CreateComplete, true))
        .output(|| account_stack(StackStatus::UpdateComplete, true))
        .build();
    let events = event_pages(vec![
        vec![stack_event("e0", ResourceStatus::CreateComplete, 0)],
        vec![
            stack_event("e1", ResourceStatus::UpdateInProgress, 1),
            stack_event("e2", ResourceStatus::UpdateComplete, 9),
        ],
    ]);
    let (get, update, set, execute) = (
        deployed(&before),
        creates_change_set(ACCOUNT_SETTINGS_STACK, ChangeSetType::Update),
        ready(vec![change(
            ChangeAction::Modify,
            "ApiGatewayCloudWatchRole",
            "AWS::IAM::Role",
        )]),
        ok_execute(),
    );
    let outcome = deploy_stack(
        &engine(&[&states, &events, &get, &update, &set, &execute]),
        &Store::default(),
        &account_request(t),
        &Recorder::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        AccountSettings::from_outcome(&outcome),
        Some(AccountSettings::Updated),
        "{outcome:?}"
    );
    assert_eq!((update.num_calls(), execute.num_calls()), (1, 1));
}

fn shop(indexes: &[&str]) -> Value {
    let gsis: Vec<Value> = indexes.iter().map(|n| json!({"IndexName": n, "KeySchema": [{"AttributeName": n, "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}})).collect();
    let mut table = json!({"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "shop-orders-prod", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}});
    if !gsis.is_empty() {
        table["Properties"]["GlobalSecondaryIndexes"] = json!(gsis);
    }
    json!({"Resources": {"OrdersTable": table, "OrdersFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Bucket": "artifacts", "S3Key": "artifacts/shop/orders/def.zip"}}}}})
}

fn shop_request(template: Value) -> DeployRequest {
    DeployRequest {
        stack: SHOP.into(),
        template,
        tags: vec![("app".into(), "shop".into())],
        shipments: vec![stackctl::engine::artifacts::Shipment {
            key: "artifacts/shop/orders/def.zip".into(),
            path: "/nonexistent.zip".into(),
            sha256_base64: "x".into(),
        }],
        allow_replace: Vec::new(),
        require_approval: RequireApproval::Never,
        termination_protection: false,
        wait_busy: false,
        rollback: stackctl::rollback::RollbackGuard::none(),
        revert_drift: false,
        change_set_name: "stackctl-1".into(),
        pacing: Pacing::default(),
    }
}

#[tokio::test(start_paused = true)]
async fn two_new_indexes_on_one_table_are_refused_before_any_change_set() {
    let (old, new) = (shop(&[]), shop(&["by-status", "by-date"]));
    let describe = mock!(Client::describe_stacks).then_output(|| {
        DescribeStacksOutput::builder()
            .stacks(stack(
                SHOP,
                SHOP_ID,
                StackStatus::UpdateComplete,
                false,
                &[("app".into(), "shop".into())],
            ))
            .build()
    });
    let get = deployed(&old);
    let (create, execute, delete) = (
        creates_change_set(SHOP, ChangeSetType::Update),
        ok_execute(),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&describe, &get, &create, &execute, &delete]);
    let (store, observer) = (Store::default(), Recorder::default());
    let outcome = deploy_stack(&cfn, &store, &shop_request(new.clone()), &observer)
        .await
        .unwrap();
    let DeployOutcome::UpdateRefused(refusals) = outcome else {
        panic!("expected a refusal, got {outcome:?}")
    };
    assert_eq!(refusals.len(), 1);
    assert_eq!(
        (refusals[0].logical_id.as_str(), refusals[0].rule),
        ("OrdersTable", UpdateRule::OneIndexPerTableUpdate)
    );
    assert_eq!(
        refusals[0].steps,
        [
            "deploy with only `by-status` added first",
            "then deploy with `by-date` added"
        ]
    );
    assert_eq!(
        (create.num_calls(), execute.num_calls(), delete.num_calls()),
        (0, 0, 0),
        "no change set was created, so none executed or left behind"
    );
    assert!(
        store.calls.lock().unwrap().is_empty(),
        "nothing uploaded: {:?}",
        store.calls.lock().unwrap()
    );
    assert!(
        observer.change_sets.lock().unwrap().is_empty(),
        "no change set was even announced"
    );
    assert_eq!(
        observer.plans.lock().unwrap()[0].update_refusals,
        refusals,
        "the plan shown says why"
    );

    // diff: CloudFormation's change set is read and deleted again, and the refusal is shown.
    let set = ready(vec![
        change(ChangeAction::Modify, "OrdersTable", "AWS::DynamoDB::Table"),
        change(
            ChangeAction::Modify,
            "OrdersFunction",
            "AWS::Lambda::Function",
        ),
    ]);
    let (create, execute, delete) = (
        creates_change_set(SHOP, ChangeSetType::Update),
        ok_execute(),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&describe, &get, &create, &set, &execute, &delete]);
    let diff = diff_stack(&cfn, &Store::default(), SHOP, &new, &[], "stackctl-diff-1")
        .await
        .unwrap();
    assert_eq!(diff.update_refusals, refusals);
    assert_eq!(
        (create.num_calls(), delete.num_calls(), execute.num_calls()),
        (1, 1, 0)
    );

    // One index at a time goes ahead to the change set.
    let step = shop(&["by-status"]);
    let (create, delete) = (
        creates_change_set(SHOP, ChangeSetType::Update),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&describe, &get, &create, &set, &delete]);
    let diff = diff_stack(&cfn, &Store::default(), SHOP, &step, &[], "stackctl-diff-2")
        .await
        .unwrap();
    assert!(
        diff.update_refusals.is_empty(),
        "{:?}",
        diff.update_refusals
    );
}

#[tokio::test(start_paused = true)]
async fn an_allowed_replacement_under_the_same_table_name_is_refused_and_its_change_set_removed() {
    use aws_sdk_cloudformation::types::{
        RequiresRecreation, ResourceAttribute, ResourceChangeDetail, ResourceTargetDefinition,
    };
    let old = shop(&[]);
    let mut new = old.clone();
    new["Resources"]["OrdersTable"]["Properties"]["KeySchema"] =
        json!([{"AttributeName": "orderId", "KeyType": "HASH"}]);
    let detail = ResourceChangeDetail::builder()
        .target(
            ResourceTargetDefinition::builder()
                .attribute(ResourceAttribute::Properties)
                .name("KeySchema")
                .requires_recreation(RequiresRecreation::Always)
                .build(),
        )
        .build();
    let replaced = ResourceChange::builder()
        .action(ChangeAction::Modify)
        .logical_resource_id("OrdersTable")
        .resource_type("AWS::DynamoDB::Table")
        .replacement(Replacement::True)
        .details(detail)
        .build();
    let describe = mock!(Client::describe_stacks).then_output(|| {
        DescribeStacksOutput::builder()
            .stacks(stack(
                SHOP,
                SHOP_ID,
                StackStatus::UpdateComplete,
                false,
                &[("app".into(), "shop".into())],
            ))
            .build()
    });
    let (get, create, set, execute, delete) = (
        deployed(&old),
        creates_change_set(SHOP, ChangeSetType::Update),
        ready(vec![replaced]),
        ok_execute(),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&describe, &get, &create, &set, &execute, &delete]);
    let mut r = shop_request(new);
    r.allow_replace = vec!["OrdersTable".into()];
    let outcome = deploy_stack(&cfn, &Store::default(), &r, &Recorder::default())
        .await
        .unwrap();
    let DeployOutcome::UpdateRefused(refusals) = outcome else {
        panic!("expected a refusal, got {outcome:?}")
    };
    assert_eq!(
        (refusals[0].logical_id.as_str(), refusals[0].rule),
        ("OrdersTable", UpdateRule::FixedNameReplacement)
    );
    assert!(
        refusals[0]
            .problem
            .contains("keeps its fixed name `shop-orders-prod` (TableName)"),
        "{}",
        refusals[0].problem
    );
    assert_eq!(
        (create.num_calls(), execute.num_calls(), delete.num_calls()),
        (1, 0, 1),
        "the change set is removed, never executed"
    );
}

//! Drift (issue 13) against CloudFormation answers scripted in the API's
//! documented shapes: the emulator does not implement drift detection.
//!
//! Two levels. The engine (`detect_drift`, `diff_stack`, `deploy_stack
//! --revert-drift`) runs against aws-smithy-mocks (the SDK client is real,
//! only its HTTP layer is replaced; the matchers assert what is sent). The
//! command line runs as the real binary against the CloudFormation stand-in
//! (`support/fake_cloudformation.rs`, which also answers STS), since the CLI
//! builds its own clients and takes none from a test.

mod support;

use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeType, DeploymentMode, DifferenceType,
    LiveResourceDrift, PropertyDifference, Replacement, ResourceChange, ResourceChangeDetail,
    ResourceTargetDefinition, Stack, StackDriftDetectionStatus, StackDriftInformation,
    StackDriftStatus, StackResourceDrift, StackResourceDriftStatus, StackStatus,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::{json, Value};
use stackctl::diff::guard::RequireApproval;
use stackctl::engine::deploy::{
    deploy_stack, diff_stack, Approval, DeployOutcome, DeployRequest, Observer, StackDiff,
};
use stackctl::engine::drift::{
    detect_drift, DetectionPacing, DriftOutcome, DriftSource, PropertyDrift,
};
use stackctl::engine::stacks::CloudFormation;
use stackctl::engine::watch::Pacing;
use std::path::Path;
use std::process::Command;
use std::sync::{mpsc, Mutex};
use std::time::Duration;
use support::fake_cloudformation::{self, error, missing_stack, ok, stack_arn, Call};

#[allow(dead_code)]
#[path = "support/scripted_answers.rs"]
mod scripted_answers;
use scripted_answers::ok_delete_change_set;
#[path = "support/recording_store.rs"]
mod recording_store;
use recording_store::Store;

const SHOP: &str = "shop-prod";
const SHOP_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-prod/1c2d3e4f";
const DETECTION: &str = "b78ac9b0-dec1-11e7-a451-503a3e7b9f12";
/// 2026-12-03T12:00:00Z
const CHECKED_AT: i64 = 1_796_299_200;

fn engine(rules: &[&Rule]) -> CloudFormation {
    CloudFormation::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        rules
    ))
}

fn fast() -> DetectionPacing {
    DetectionPacing {
        first: Duration::from_millis(10),
        longest: Duration::from_millis(40),
        deadline: Duration::from_secs(60),
    }
}

fn shop(drift: Option<StackDriftStatus>) -> Rule {
    mock!(Client::describe_stacks).then_output(move || {
        let mut s = Stack::builder()
            .stack_name(SHOP)
            .stack_id(SHOP_ID)
            .stack_status(StackStatus::UpdateComplete)
            .creation_time(DateTime::from_secs(1_700_000_000));
        if let Some(status) = &drift {
            let mut info = StackDriftInformation::builder().stack_drift_status(status.clone());
            if *status != StackDriftStatus::NotChecked {
                info = info.last_check_timestamp(DateTime::from_secs(CHECKED_AT));
            }
            s = s.drift_information(info.build());
        }
        DescribeStacksOutput::builder().stacks(s.build()).build()
    })
}

fn no_such_stack() -> Rule {
    mock!(Client::describe_stacks).then_error(|| {
        DescribeStacksError::generic(
            aws_sdk_cloudformation::error::ErrorMetadata::builder()
                .code("ValidationError")
                .message(format!("Stack with id {SHOP} does not exist"))
                .build(),
        )
    })
}

fn detects() -> Rule {
    mock!(Client::detect_stack_drift)
        .match_requests(|r| r.stack_name() == Some(SHOP))
        .then_output(|| {
            DetectStackDriftOutput::builder()
                .stack_drift_detection_id(DETECTION)
                .build()
        })
}

fn status(
    phase: StackDriftDetectionStatus,
    stack: Option<StackDriftStatus>,
    reason: Option<&str>,
) -> DescribeStackDriftDetectionStatusOutput {
    DescribeStackDriftDetectionStatusOutput::builder()
        .stack_id(SHOP_ID)
        .stack_drift_detection_id(DETECTION)
        .detection_status(phase)
        .set_stack_drift_status(stack)
        .set_detection_status_reason(reason.map(String::from))
        .timestamp(DateTime::from_secs(CHECKED_AT))
        .build()
}

/// Running twice, then finished as `last`.
fn detection_ends_as(last: DescribeStackDriftDetectionStatusOutput) -> Rule {
    let running = || {
        status(
            StackDriftDetectionStatus::DetectionInProgress,
            None,
            Some("Detection is in progress"),
        )
    };
    mock!(Client::describe_stack_drift_detection_status)
        .match_requests(|r| r.stack_drift_detection_id() == Some(DETECTION))
        .sequence()
        .output(running)
        .output(running)
        .output(move || last.clone())
        .build()
}

fn difference(
    path: &str,
    expected: Option<&str>,
    actual: Option<&str>,
    kind: DifferenceType,
) -> PropertyDifference {
    PropertyDifference::builder()
        .property_path(path)
        .set_expected_value(expected.map(String::from))
        .set_actual_value(actual.map(String::from))
        .difference_type(kind)
        .build()
}

fn resource(
    id: &str,
    physical: &str,
    kind: &str,
    status: StackResourceDriftStatus,
    differences: Vec<PropertyDifference>,
) -> StackResourceDrift {
    StackResourceDrift::builder()
        .stack_id(SHOP_ID)
        .logical_resource_id(id)
        .physical_resource_id(physical)
        .resource_type(kind)
        .stack_resource_drift_status(status)
        .set_property_differences(Some(differences))
        .timestamp(DateTime::from_secs(CHECKED_AT))
        .build()
}

/// The function modified three ways, the table deleted (first page); the
/// key in sync (second page). The log group is not among the results: the
/// API leaves out what it could not check.
fn drifted_resources() -> (Vec<StackResourceDrift>, Vec<StackResourceDrift>) {
    (
        vec![
            resource(
                "ApiFunction",
                "shop-prod-api",
                "AWS::Lambda::Function",
                StackResourceDriftStatus::Modified,
                vec![
                    difference("/Timeout", Some("10"), Some("30"), DifferenceType::NotEqual),
                    difference(
                        "/Tags/2",
                        None,
                        Some("{\"Key\":\"owner\",\"Value\":\"ops\"}"),
                        DifferenceType::Add,
                    ),
                    difference(
                        "/TracingConfig",
                        Some("{\"Mode\":\"PassThrough\"}"),
                        None,
                        DifferenceType::Remove,
                    ),
                ],
            ),
            resource(
                "OrdersTable",
                "shop-prod-orders",
                "AWS::DynamoDB::Table",
                StackResourceDriftStatus::Deleted,
                vec![],
            ),
        ],
        vec![resource(
            "StackKey",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "AWS::KMS::Key",
            StackResourceDriftStatus::InSync,
            vec![],
        )],
    )
}

/// ListStackResources: the stack's four resources, one of them (the log
/// group) of a kind the detection leaves out of its results.
fn listed() -> Rule {
    use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
    use aws_sdk_cloudformation::types::{ResourceStatus, StackResourceSummary};
    let summary = |logical: &str, ty: &str| {
        StackResourceSummary::builder()
            .logical_resource_id(logical)
            .resource_type(ty)
            .physical_resource_id(format!("{logical}-physical"))
            .resource_status(ResourceStatus::UpdateComplete)
            .last_updated_timestamp(DateTime::from_secs(CHECKED_AT))
            .build()
    };
    mock!(Client::list_stack_resources)
        .match_requests(|r| r.stack_name() == Some(SHOP))
        .then_output(move || {
            ListStackResourcesOutput::builder()
                .stack_resource_summaries(summary("ApiFunction", "AWS::Lambda::Function"))
                .stack_resource_summaries(summary("OrdersTable", "AWS::DynamoDB::Table"))
                .stack_resource_summaries(summary("StackKey", "AWS::KMS::Key"))
                .stack_resource_summaries(summary("ApiFunctionLogGroup", "AWS::Logs::LogGroup"))
                .build()
        })
}

/// Every result, in two pages, asked without filters.
fn all_results(pages: (Vec<StackResourceDrift>, Vec<StackResourceDrift>)) -> Rule {
    let (first, second) = pages;
    mock!(Client::describe_stack_resource_drifts)
        .match_requests(|r| {
            r.stack_name() == Some(SHOP) && r.stack_resource_drift_status_filters().is_empty()
        })
        .sequence()
        .output(move || {
            DescribeStackResourceDriftsOutput::builder()
                .set_stack_resource_drifts(Some(first.clone()))
                .next_token("page-2")
                .build()
        })
        .output(move || {
            DescribeStackResourceDriftsOutput::builder()
                .set_stack_resource_drifts(Some(second.clone()))
                .build()
        })
        .build()
}

#[tokio::test]
async fn a_detection_in_progress_is_waited_for_then_every_page_of_results_is_read() {
    let finished = detection_ends_as(status(
        StackDriftDetectionStatus::DetectionComplete,
        Some(StackDriftStatus::Drifted),
        None,
    ));
    let results = all_results(drifted_resources());
    let (described, started) = (shop(None), detects());
    let listing = listed();
    let cfn = engine(&[&described, &started, &finished, &results, &listing]);
    let DriftOutcome::Checked(report) = detect_drift(&cfn, SHOP, fast()).await.unwrap() else {
        panic!("the stack exists");
    };
    assert_eq!(finished.num_calls(), 3, "asked until it ended");
    assert_eq!(results.num_calls(), 2, "both pages");
    assert_eq!(report.detection_id, DETECTION);
    assert_eq!(report.stack_status, "DRIFTED");
    assert_eq!(report.failure, None);
    assert_eq!(report.checked_at.as_deref(), Some("2026-12-03T12:00:00Z"));
    assert!(report.is_drifted());
    let drifted: Vec<(&str, &str)> = report
        .drifted()
        .map(|r| (r.logical_id.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        drifted,
        [("ApiFunction", "MODIFIED"), ("OrdersTable", "DELETED")]
    );
    assert_eq!(
        (report.count("IN_SYNC"), report.count("NOT_CHECKED")),
        (1, 0)
    );
    assert_eq!(
        report.unsupported,
        ["ApiFunctionLogGroup"],
        "what ListStackResources lists and the results leave out"
    );
    assert_eq!(
        report.resources[0].properties,
        vec![
            PropertyDrift {
                path: "Timeout".into(),
                expected: Some("10".into()),
                actual: Some("30".into()),
                difference: "NOT_EQUAL".into(),
            },
            PropertyDrift {
                path: "Tags.2".into(),
                expected: None,
                actual: Some("{\"Key\":\"owner\",\"Value\":\"ops\"}".into()),
                difference: "ADD".into(),
            },
            PropertyDrift {
                path: "TracingConfig".into(),
                expected: Some("{\"Mode\":\"PassThrough\"}".into()),
                actual: None,
                difference: "REMOVE".into(),
            },
        ]
    );
}

#[tokio::test]
async fn a_stack_in_sync_reports_no_drift() {
    let finished = detection_ends_as(status(
        StackDriftDetectionStatus::DetectionComplete,
        Some(StackDriftStatus::InSync),
        None,
    ));
    let (_, in_sync) = drifted_resources();
    let results = all_results((in_sync, vec![]));
    let (described, started) = (shop(None), detects());
    let listing = listed();
    let cfn = engine(&[&described, &started, &finished, &results, &listing]);
    let DriftOutcome::Checked(report) = detect_drift(&cfn, SHOP, fast()).await.unwrap() else {
        panic!("the stack exists");
    };
    assert_eq!(report.stack_status, "IN_SYNC");
    assert!(!report.is_drifted());
    assert_eq!(report.drifted().count(), 0);
}

#[tokio::test]
async fn a_failed_detection_keeps_its_reason_and_the_results_it_did_finish() {
    let reason = "Failed to detect drift on resource [ApiFunctionLogGroup]: Rate exceeded";
    let finished = detection_ends_as(status(
        StackDriftDetectionStatus::DetectionFailed,
        Some(StackDriftStatus::Drifted),
        Some(reason),
    ));
    let results = all_results(drifted_resources());
    let (described, started) = (shop(None), detects());
    let listing = listed();
    let cfn = engine(&[&described, &started, &finished, &results, &listing]);
    let DriftOutcome::Checked(report) = detect_drift(&cfn, SHOP, fast()).await.unwrap() else {
        panic!("the stack exists");
    };
    assert_eq!(report.failure.as_deref(), Some(reason));
    assert_eq!(report.drifted().count(), 2, "partial results stand");
}

#[tokio::test]
async fn a_missing_stack_is_not_asked_to_detect_anything() {
    let (described, started) = (no_such_stack(), detects());
    let cfn = engine(&[&described, &started]);
    assert_eq!(
        detect_drift(&cfn, SHOP, fast()).await.unwrap(),
        DriftOutcome::Missing
    );
    assert_eq!(started.num_calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_detection_that_never_ends_stops_at_the_deadline_with_its_id() {
    let running = mock!(Client::describe_stack_drift_detection_status)
        .then_output(|| status(StackDriftDetectionStatus::DetectionInProgress, None, None));
    let (described, started) = (shop(None), detects());
    let cfn = engine(&[&described, &started, &running]);
    let e = detect_drift(&cfn, SHOP, DetectionPacing::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, stackctl::engine::error::ErrorKind::Timeout);
    assert!(e.hint().unwrap_or_default().contains(DETECTION), "{e:?}");
}

// The diff: the latest detection's findings, read and never started.

fn template() -> Value {
    json!({"Resources": {
        "ApiFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 10, "MemorySize": 512}},
        "OrdersTable": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}}
    }})
}

fn deployed() -> Rule {
    let body = template().to_string();
    mock!(Client::get_template).then_output(move || {
        GetTemplateOutput::builder()
            .template_body(body.clone())
            .build()
    })
}

#[tokio::test]
async fn a_diff_marks_what_the_latest_detection_found_drifted() {
    let (first, _) = drifted_resources();
    let filtered = mock!(Client::describe_stack_resource_drifts)
        .match_requests(|r| {
            r.stack_resource_drift_status_filters()
                == [
                    StackResourceDriftStatus::Modified,
                    StackResourceDriftStatus::Deleted,
                ]
        })
        .then_output(move || {
            DescribeStackResourceDriftsOutput::builder()
                .set_stack_resource_drifts(Some(first.clone()))
                .build()
        });
    let (described, template_read, started) =
        (shop(Some(StackDriftStatus::Drifted)), deployed(), detects());
    let cfn = engine(&[&described, &template_read, &filtered, &started]);
    let d = diff_stack(
        &cfn,
        &Store::default(),
        SHOP,
        &template(),
        &[],
        "stackctl-diff",
    )
    .await
    .unwrap();
    assert!(d.changes.is_empty(), "the template did not change");
    assert_eq!(started.num_calls(), 0, "a diff never starts a detection");
    assert_eq!(d.drift.source, DriftSource::LastDetection);
    let check = d.drift.check.as_ref().expect("DescribeStacks said");
    assert_eq!(
        (check.status.as_str(), check.checked_at.as_deref()),
        ("DRIFTED", Some("2026-12-03T12:00:00Z"))
    );
    assert_eq!(d.drift.of("ApiFunction").unwrap().status, "MODIFIED");
    assert_eq!(d.drift.of("OrdersTable").unwrap().status, "DELETED");
}

#[tokio::test]
async fn a_diff_of_a_stack_never_checked_reads_no_results() {
    let (described, template_read) = (shop(Some(StackDriftStatus::NotChecked)), deployed());
    // No DescribeStackResourceDrifts rule: asking would fail the diff.
    let cfn = engine(&[&described, &template_read]);
    let d = diff_stack(
        &cfn,
        &Store::default(),
        SHOP,
        &template(),
        &[],
        "stackctl-diff",
    )
    .await
    .unwrap();
    assert_eq!(d.drift.check.as_ref().unwrap().status, "NOT_CHECKED");
    assert!(d.drift.resources.is_empty() && d.drift.unreadable.is_none());
}

// deploy --revert-drift: a drift-aware change set.

#[derive(Default)]
struct Recorder {
    plans: Mutex<Vec<StackDiff>>,
}

impl Observer for Recorder {
    fn note(&self, _: &str, _: &str) {}
    fn plan(&self, diff: &StackDiff) {
        self.plans.lock().unwrap().push(diff.clone());
    }
    fn event(&self, _: &str, _: &stackctl::engine::stacks::StackEvent) {}
    fn approve(&self, _: &str, _: &str) -> Approval {
        Approval::Declined
    }
    fn creating_change_set(&self, _: &str) {}
    fn executing(&self, _: &str) {}
}

fn revert_request() -> DeployRequest {
    DeployRequest {
        stack: SHOP.into(),
        template: template(),
        tags: vec![],
        shipments: vec![],
        allow_replace: vec![],
        require_approval: RequireApproval::AnyChange,
        termination_protection: false,
        wait_busy: false,
        rollback: stackctl::rollback::RollbackGuard::none(),
        revert_drift: true,
        change_set_name: "stackctl-1".into(),
        pacing: Pacing::default(),
    }
}

/// The change set puts the function's timeout back (30 live, 10 in the
/// template, unchanged since the last deploy).
fn drift_aware_change_set() -> Rule {
    mock!(Client::describe_change_set).then_output(|| {
        let target = ResourceTargetDefinition::builder()
            .attribute(aws_sdk_cloudformation::types::ResourceAttribute::Properties)
            .name("Timeout")
            .path("/Properties/Timeout")
            .requires_recreation(aws_sdk_cloudformation::types::RequiresRecreation::Never)
            .before_value("30")
            .after_value("10")
            .drift(
                LiveResourceDrift::builder()
                    .previous_value("10")
                    .actual_value("30")
                    .drift_detection_timestamp(DateTime::from_secs(CHECKED_AT))
                    .build(),
            )
            .build();
        DescribeChangeSetOutput::builder()
            .change_set_id("arn:cs")
            .stack_name(SHOP)
            .status(ChangeSetStatus::CreateComplete)
            .changes(
                Change::builder()
                    .r#type(ChangeType::Resource)
                    .resource_change(
                        ResourceChange::builder()
                            .action(ChangeAction::Modify)
                            .logical_resource_id("ApiFunction")
                            .physical_resource_id("shop-prod-api")
                            .resource_type("AWS::Lambda::Function")
                            .replacement(Replacement::False)
                            .resource_drift_status(StackResourceDriftStatus::Modified)
                            .details(ResourceChangeDetail::builder().target(target).build())
                            .build(),
                    )
                    .build(),
            )
            .build()
    })
}

#[tokio::test]
async fn revert_drift_asks_for_a_drift_aware_change_set_and_shows_what_it_puts_back() {
    let creates = mock!(Client::create_change_set)
        .match_requests(|r| r.deployment_mode() == Some(&DeploymentMode::RevertDrift))
        .then_output(|| CreateChangeSetOutput::builder().id("arn:cs").build());
    let (described, template_read, read, removed) = (
        shop(None),
        deployed(),
        drift_aware_change_set(),
        ok_delete_change_set(),
    );
    let cfn = engine(&[&described, &template_read, &creates, &read, &removed]);
    let observer = Recorder::default();
    let outcome = deploy_stack(&cfn, &Store::default(), &revert_request(), &observer)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::NotApproved(_)),
        "{outcome:?}"
    );
    assert_eq!(
        creates.num_calls(),
        1,
        "the unchanged template still made a change set, with DeploymentMode REVERT_DRIFT"
    );
    let plans = observer.plans.lock().unwrap();
    let diff = &plans[0];
    assert_eq!(diff.drift.source, DriftSource::ChangeSet);
    let drift = diff.drift.of("ApiFunction").expect("its drift status");
    assert_eq!(drift.status, "MODIFIED");
    assert_eq!(drift.physical_id, "shop-prod-api");
    assert_eq!(
        drift.properties[0],
        PropertyDrift {
            path: "Timeout".into(),
            expected: Some("10".into()),
            actual: Some("30".into()),
            difference: "Modify".into(),
        }
    );
    let change = &diff.changes[0];
    assert_eq!(change.logical_id, "ApiFunction");
    assert_eq!(
        (
            change.properties[0].before.clone(),
            change.properties[0].after.clone()
        ),
        (Some(json!(30)), Some(json!(10))),
        "the live value and the one put back"
    );
}

#[tokio::test]
async fn revert_drift_refuses_a_stack_that_is_not_deployed_and_creates_nothing() {
    let creates = mock!(Client::create_change_set)
        .then_output(|| CreateChangeSetOutput::builder().id("arn:cs").build());
    let described = no_such_stack();
    let cfn = engine(&[&described, &creates]);
    let e = deploy_stack(
        &cfn,
        &Store::default(),
        &revert_request(),
        &Recorder::default(),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("shop-prod is not deployed yet, so nothing of it can have drifted"),
        "{e}"
    );
    assert_eq!(creates.num_calls(), 0);
}

// The command line, as the binary, against the stand-in.

/// What `stackctl drift --env prod` prints for [`drifted_members`] (the
/// README shows it).
const DRIFT_SHOWN: &str = "shop-prod: DRIFTED (2 of 3 checked: 1 modified, 1 deleted; 1 not checked), detected 2026-12-03T12:00:00Z
  ~ functions.api (stacks/shop.yaml:3:3)  ApiFunction  AWS::Lambda::Function  shop-prod-api
      Timeout: live 30, template 10  (stacks/shop.yaml:5:14)
      Tags.2: added outside CloudFormation: {\"Key\":\"owner\",\"Value\":\"ops\"}
      TracingConfig: removed outside CloudFormation (template: {\"Mode\":\"PassThrough\"})
  - tables.orders (stacks/shop.yaml:7:3)  OrdersTable  AWS::DynamoDB::Table  shop-prod-orders
      deleted outside CloudFormation
  = hint: put them back as the stack file says with `stackctl deploy --env prod --revert-drift shop`, or change the stack file to keep them
";

/// What `stackctl diff` prints for a stack whose latest detection found
/// two tables drifted (the README shows its first resource).
const DIFF_SHOWN: &str = "shop-prod: no changes
  drift: 2 resources changed outside CloudFormation at the latest detection (2026-12-03T12:00:00Z); `stackctl drift` refreshes it
  ≈ OrdersTable  AWS::DynamoDB::Table  (shop-prod-orders)
      drift: MODIFIED (changed outside CloudFormation)
        BillingMode: live \"PROVISIONED\", template \"PAY_PER_REQUEST\"
      a deploy leaves it as it is; `stackctl deploy --revert-drift` puts it back
  ≈ CartsTable  AWS::DynamoDB::Table  (shop-prod-carts)
      drift: DELETED (deleted outside CloudFormation)
      a deploy leaves it as it is; `stackctl deploy --revert-drift` puts it back
";

#[test]
fn the_readme_shows_what_drift_and_diff_print() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains(DRIFT_SHOWN),
        "the README's `drift` sample is stale"
    );
    let first_resource: String = DIFF_SHOWN
        .lines()
        .take(6)
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        readme.contains(&first_resource),
        "the README's `diff` drift sample is stale"
    );
}

const STACK_FILE: &str = "name: shop
functions:
  api:
    crate: api-handler
    timeout: 10
tables:
  orders:
    partition_key: {name: id, type: S}
";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(dir.path().join("stacks/shop.yaml"), STACK_FILE).unwrap();
    dir
}

/// The binary with only the stand-in to talk to (STS included).
fn stackctl(dir: &Path, port: u16, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn caller() -> Option<(u16, String)> {
    Some((200, "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>".into()))
}

fn described(drift: &str) -> Option<(u16, String)> {
    ok(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackName>{SHOP}</StackName><StackId>{}</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime>{drift}</member></Stacks>",
            stack_arn(SHOP)
        ),
    )
}

fn detection(status: &str, stack_status: &str, reason: &str) -> Option<(u16, String)> {
    ok(
        "DescribeStackDriftDetectionStatus",
        &format!(
            "<StackId>{}</StackId><StackDriftDetectionId>{DETECTION}</StackDriftDetectionId>{stack_status}<DetectionStatus>{status}</DetectionStatus>{reason}<Timestamp>2026-12-03T12:00:00Z</Timestamp>",
            stack_arn(SHOP)
        ),
    )
}

fn member(id: &str, physical: &str, kind: &str, status: &str, differences: &str) -> String {
    format!(
        "<member><StackId>{}</StackId><LogicalResourceId>{id}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{kind}</ResourceType><PropertyDifferences>{differences}</PropertyDifferences><StackResourceDriftStatus>{status}</StackResourceDriftStatus><Timestamp>2026-12-03T12:00:00Z</Timestamp></member>",
        stack_arn(SHOP)
    )
}

fn xml_difference(path: &str, expected: &str, actual: &str, kind: &str) -> String {
    format!(
        "<member><PropertyPath>{path}</PropertyPath><ExpectedValue>{expected}</ExpectedValue><ActualValue>{actual}</ActualValue><DifferenceType>{kind}</DifferenceType></member>"
    )
}

fn drifts(members: &[String]) -> Option<(u16, String)> {
    ok(
        "DescribeStackResourceDrifts",
        &format!(
            "<StackResourceDrifts>{}</StackResourceDrifts>",
            members.concat()
        ),
    )
}

fn drifted_members() -> Vec<String> {
    vec![
        member(
            "ApiFunction",
            "shop-prod-api",
            "AWS::Lambda::Function",
            "MODIFIED",
            &[
                xml_difference("/Timeout", "10", "30", "NOT_EQUAL"),
                xml_difference(
                    "/Tags/2",
                    "",
                    "{&quot;Key&quot;:&quot;owner&quot;,&quot;Value&quot;:&quot;ops&quot;}",
                    "ADD",
                ),
                xml_difference(
                    "/TracingConfig",
                    "{&quot;Mode&quot;:&quot;PassThrough&quot;}",
                    "",
                    "REMOVE",
                ),
            ]
            .concat(),
        ),
        member(
            "OrdersTable",
            "shop-prod-orders",
            "AWS::DynamoDB::Table",
            "DELETED",
            "",
        ),
        member("StackKey", "1234abcd", "AWS::KMS::Key", "IN_SYNC", ""),
    ]
}

/// ListStackResources of the stand-in's stack: the log group is listed but
/// not among the drift results (a type without drift detection).
fn listed_resources() -> Option<(u16, String)> {
    let members: String = [
        ("ApiFunction", "shop-prod-api", "AWS::Lambda::Function"),
        ("OrdersTable", "shop-prod-orders", "AWS::DynamoDB::Table"),
        ("StackKey", "1234abcd", "AWS::KMS::Key"),
        ("ApiFunctionLogGroup", "/aws/lambda/shop-prod-api", "AWS::Logs::LogGroup"),
    ]
    .iter()
    .map(|(logical, physical, ty)| {
        format!(
            "<member><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{ty}</ResourceType><ResourceStatus>UPDATE_COMPLETE</ResourceStatus><LastUpdatedTimestamp>2026-12-03T12:00:00Z</LastUpdatedTimestamp></member>"
        )
    })
    .collect();
    ok(
        "ListStackResources",
        &format!("<StackResourceSummaries>{members}</StackResourceSummaries>"),
    )
}

/// A stand-in whose detection is running once, then ends as `last`, with
/// `results` to read.
fn drift_stand_in(
    last: fn() -> Option<(u16, String)>,
    results: fn() -> Vec<String>,
) -> (u16, mpsc::Receiver<Call>) {
    let script = move |call: &Call| match (call.action.as_str(), call.n) {
        ("GetCallerIdentity", _) => caller(),
        ("DescribeStacks", _) => described(""),
        ("DetectStackDrift", _) => ok(
            "DetectStackDrift",
            &format!("<StackDriftDetectionId>{DETECTION}</StackDriftDetectionId>"),
        ),
        ("DescribeStackDriftDetectionStatus", 0) => detection("DETECTION_IN_PROGRESS", "", ""),
        ("DescribeStackDriftDetectionStatus", _) => last(),
        ("DescribeStackResourceDrifts", _) => drifts(&results()),
        ("ListStackResources", _) => listed_resources(),
        _ => error(
            400,
            "ValidationError",
            &format!("the stand-in has no answer for {}", call.action),
        ),
    };
    let (calls, called) = mpsc::channel();
    (fake_cloudformation::start(Box::new(script), calls), called)
}

fn complete_drifted() -> Option<(u16, String)> {
    detection(
        "DETECTION_COMPLETE",
        "<StackDriftStatus>DRIFTED</StackDriftStatus><DriftedStackResourceCount>2</DriftedStackResourceCount>",
        "",
    )
}

#[test]
fn drift_names_each_drifted_property_where_the_stack_file_sets_it() {
    let dir = project();
    let (port, _) = drift_stand_in(complete_drifted, drifted_members);
    let (code, out, err) = stackctl(dir.path(), port, &["drift", "--env", "prod"]);
    assert_eq!(code, 0, "drift without --exit-code is not a failure: {err}");
    assert_eq!(out, DRIFT_SHOWN, "{err}");
    let (code, _, err) = stackctl(
        dir.path(),
        port,
        &["drift", "--env", "prod", "--exit-code", "shop"],
    );
    assert_eq!(code, 4, "{err}");
}

#[test]
fn drift_as_json_has_one_object_per_stack_with_every_field() {
    let dir = project();
    let (port, _) = drift_stand_in(complete_drifted, drifted_members);
    let (code, out, err) = stackctl(
        dir.path(),
        port,
        &["drift", "--env", "prod", "--output", "json", "--exit-code"],
    );
    assert_eq!(code, 4, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    let stack = &lines[0];
    assert_eq!(stack["stack"], "shop-prod");
    assert_eq!(stack["status"], "DRIFTED");
    assert_eq!(stack["detection_id"], DETECTION);
    assert_eq!(stack["detected_at"], "2026-12-03T12:00:00Z");
    assert_eq!(
        stack["counts"],
        json!({"modified": 1, "deleted": 1, "in_sync": 1, "not_checked": 1, "checked": 3})
    );
    assert_eq!(stack["not_checked"], json!(["ApiFunctionLogGroup"]));
    let function = &stack["resources"][0];
    assert_eq!(function["logical_id"], "ApiFunction");
    assert_eq!(function["physical_id"], "shop-prod-api");
    assert_eq!(function["origin"], "functions.api");
    assert_eq!(function["place"], "stacks/shop.yaml:3:3");
    assert_eq!(
        function["properties"][0],
        json!({"path": "Timeout", "expected": "10", "actual": "30", "difference": "NOT_EQUAL", "place": "stacks/shop.yaml:5:14"})
    );
    assert_eq!(function["properties"][2]["difference"], "REMOVE");
    assert_eq!(stack["resources"][1]["status"], "DELETED");
}

#[test]
fn a_stack_in_sync_exits_0_even_with_exit_code() {
    let dir = project();
    let (port, _) = drift_stand_in(
        || {
            detection(
                "DETECTION_COMPLETE",
                "<StackDriftStatus>IN_SYNC</StackDriftStatus><DriftedStackResourceCount>0</DriftedStackResourceCount>",
                "",
            )
        },
        || {
            // Every resource the stack lists and the detection can check.
            [
                ("ApiFunction", "shop-prod-api", "AWS::Lambda::Function"),
                ("OrdersTable", "shop-prod-orders", "AWS::DynamoDB::Table"),
                ("StackKey", "1234abcd", "AWS::KMS::Key"),
            ]
            .iter()
            .map(|(id, physical, ty)| member(id, physical, ty, "IN_SYNC", ""))
            .collect()
        },
    );
    let (code, out, err) = stackctl(dir.path(), port, &["drift", "--env", "prod", "--exit-code"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "shop-prod: IN_SYNC (3 checked, none changed; 1 not checked), detected 2026-12-03T12:00:00Z\n"
    );
}

#[test]
fn a_failed_detection_says_why_and_exits_1() {
    let dir = project();
    let (port, _) = drift_stand_in(
        || {
            detection(
                "DETECTION_FAILED",
                "<StackDriftStatus>DRIFTED</StackDriftStatus>",
                "<DetectionStatusReason>Failed to detect drift on resource [ApiFunctionLogGroup]</DetectionStatusReason>",
            )
        },
        drifted_members,
    );
    let (code, out, err) = stackctl(dir.path(), port, &["drift", "--env", "prod"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: shop-prod: drift detection failed for some resources: Failed to detect drift on resource [ApiFunctionLogGroup]"),
        "{err}"
    );
    assert!(
        out.contains("~ functions.api"),
        "the partial results: {out}"
    );
}

#[test]
fn a_stack_that_does_not_exist_is_an_error_with_a_hint() {
    let dir = project();
    let script = |call: &Call| match call.action.as_str() {
        "GetCallerIdentity" => caller(),
        "DescribeStacks" => missing_stack(&call.stack),
        _ => error(400, "ValidationError", "not expected"),
    };
    let (calls, called) = mpsc::channel();
    let port = fake_cloudformation::start(Box::new(script), calls);
    let (code, out, err) = stackctl(dir.path(), port, &["drift", "--env", "prod", "--exit-code"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("error: stack shop-prod does not exist in eu-west-1\n  = hint: drift is detected on deployed stacks; deploy it with `stackctl deploy --env prod shop`"),
        "{err}"
    );
    assert!(
        !called.try_iter().any(|c| c.action == "DetectStackDrift"),
        "nothing to detect"
    );
}

#[test]
fn diff_marks_a_resource_the_latest_detection_found_drifted() {
    // No function: a diff would build its package first.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(
        dir.path().join("stacks/shop.yaml"),
        "name: shop\ntables:\n  orders:\n    partition_key: {name: id, type: S}\n  carts:\n    partition_key: {name: id, type: S}\n",
    )
    .unwrap();
    // Deployed as the stack file renders now: the template did not change.
    let rendered = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["render", "--env", "prod", "--format", "json", "shop"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let escaped = String::from_utf8(rendered.stdout)
        .unwrap()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let script = move |call: &Call| {
        match call.action.as_str() {
        "GetCallerIdentity" => caller(),
        "DescribeStacks" => described("<DriftInformation><StackDriftStatus>DRIFTED</StackDriftStatus><LastCheckTimestamp>2026-12-03T12:00:00Z</LastCheckTimestamp></DriftInformation>"),
        "GetTemplate" => ok("GetTemplate", &format!("<TemplateBody>{escaped}</TemplateBody>")),
        "DescribeStackResourceDrifts"
            if call.params.get("StackResourceDriftStatusFilters.member.1").map(String::as_str) == Some("MODIFIED")
                && call.params.get("StackResourceDriftStatusFilters.member.2").map(String::as_str) == Some("DELETED") =>
        {
            drifts(&[
                member(
                    "OrdersTable",
                    "shop-prod-orders",
                    "AWS::DynamoDB::Table",
                    "MODIFIED",
                    &xml_difference("/BillingMode", "PAY_PER_REQUEST", "PROVISIONED", "NOT_EQUAL"),
                ),
                member("CartsTable", "shop-prod-carts", "AWS::DynamoDB::Table", "DELETED", ""),
            ])
        }
        _ => error(400, "ValidationError", &format!("the stand-in has no answer for {}", call.action)),
    }
    };
    let (calls, called) = mpsc::channel();
    let port = fake_cloudformation::start(Box::new(script), calls);
    let (code, out, err) = stackctl(dir.path(), port, &["diff", "--env", "prod", "shop"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, DIFF_SHOWN, "{err}");
    let (_, json_out, err) = stackctl(
        dir.path(),
        port,
        &["diff", "--env", "prod", "--output", "json", "shop"],
    );
    let report: Value =
        serde_json::from_str(json_out.trim()).unwrap_or_else(|e| panic!("{e}: {json_out} {err}"));
    assert_eq!(report["drift"]["source"], "last_detection");
    assert_eq!(
        report["drift"]["check"],
        json!({"status": "DRIFTED", "checked_at": "2026-12-03T12:00:00Z"})
    );
    assert_eq!(report["drift"]["resources"][0]["logical_id"], "OrdersTable");
    assert_eq!(
        report["drift"]["resources"][0]["properties"][0]["actual"],
        "PROVISIONED"
    );
    assert!(
        !called.try_iter().any(|c| c.action == "DetectStackDrift"),
        "a diff never starts a detection"
    );
}

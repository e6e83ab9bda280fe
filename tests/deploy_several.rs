//! Several stacks in one `stackctl deploy`, through the real binary: waves
//! from `depends_on`, a stack that fails, what depends on it, a sibling that
//! completes, the exit code and the outputs file. CloudFormation is a
//! scripted stand-in answering in the API's shapes (the emulator cannot make
//! a stack fail); S3 and STS are the emulator.

mod support;

use serde_json::{json, Value};
use std::process::Command;
use std::sync::mpsc;
use support::fake_cloudformation::{
    self, change_set_arn, created_change_set, error, missing_stack, ok, stack, stack_arn,
    stack_events, Call,
};
use support::moto::Moto;

const NET: &str = "net-dev";
const WEB: &str = "web-dev";
const JOBS: &str = "jobs-dev";
const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:jobs-dev";
/// The status reason of a change set that failed early validation, as AWS words it.
const EARLY_VALIDATION: &str = "The following hook(s)/validation failed: [AWS::EarlyValidation::ResourceExistenceCheck]. To troubleshoot Early Validation errors, use the DescribeEvents API for detailed failure information.";

/// net-dev's change set fails validation (a table name taken); jobs-dev is
/// created; web-dev must never be asked about.
fn cloudformation(call: &Call) -> Option<(u16, String)> {
    match (call.action.as_str(), call.stack.as_str(), call.n) {
        ("DescribeStacks", s, 0) => missing_stack(s),
        ("DescribeStacks", NET, _) => stack(NET, "REVIEW_IN_PROGRESS", &[]),
        ("DescribeStacks", JOBS, _) => stack(JOBS, "CREATE_COMPLETE", &[("QueueArn", QUEUE)]),
        ("CreateChangeSet", s, _) => created_change_set(s),
        ("DescribeChangeSet", NET, _) => ok("DescribeChangeSet", &format!("<ChangeSetId>{}</ChangeSetId><StackName>{NET}</StackName><Status>FAILED</Status><StatusReason>{EARLY_VALIDATION}</StatusReason>", change_set_arn(NET))),
        ("DescribeEvents", NET, _) => ok("DescribeEvents", &format!(
            "<OperationEvents><member><EventId>v1</EventId><StackId>{}</StackId><OperationId>op-1</OperationId><OperationType>CREATE_CHANGESET</OperationType><OperationStatus>FAILED</OperationStatus><EventType>VALIDATION_ERROR</EventType><LogicalResourceId>HostsTable</LogicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType><Timestamp>2026-01-01T00:00:00Z</Timestamp><ValidationFailureMode>FAIL</ValidationFailureMode><ValidationName>AWS::EarlyValidation::ResourceExistenceCheck</ValidationName><ValidationStatus>FAILED</ValidationStatus><ValidationStatusReason>Resource of type 'AWS::DynamoDB::Table' with identifier 'net-hosts-dev' already exists.</ValidationStatusReason><ValidationPath>/Resources/HostsTable/Properties/TableName</ValidationPath></member></OperationEvents>",
            stack_arn(NET)
        )),
        ("DeleteStack", NET, _) => ok("DeleteStack", ""),
        ("DescribeChangeSet", JOBS, _) => ok("DescribeChangeSet", &format!("<ChangeSetId>{}</ChangeSetId><StackName>{JOBS}</StackName><Status>CREATE_COMPLETE</Status><Changes><member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>RunsTable</LogicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType></ResourceChange></member></Changes>", change_set_arn(JOBS))),
        ("ExecuteChangeSet", JOBS, _) => ok("ExecuteChangeSet", ""),
        ("DescribeStackEvents", JOBS, 0) => stack_events(JOBS, &[("j0", JOBS, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")]),
        ("DescribeStackEvents", JOBS, _) => stack_events(
            JOBS,
            &[
                ("j3", JOBS, "AWS::CloudFormation::Stack", "CREATE_COMPLETE"),
                ("j2", "RunsTable", "AWS::DynamoDB::Table", "CREATE_COMPLETE"),
                ("j1", JOBS, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
                ("j0", JOBS, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS"),
            ],
        ),
        _ => error(400, "ValidationError", &format!("the stand-in has no answer for {} on {}", call.action, call.stack)),
    }
}

#[test]
fn a_failed_stack_stops_what_depends_on_it_while_its_sibling_completes_and_is_written_out() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    let table =
        |name: &str| format!("tables:\n  {name}:\n    partition_key: {{name: id, type: S}}\n");
    std::fs::write(
        dir.path().join("stacks/net.yaml"),
        format!("name: net\n{}", table("hosts")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stacks/web.yaml"),
        format!("name: web\ndepends_on: [net]\n{}", table("pages")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stacks/jobs.yaml"),
        format!("name: jobs\n{}", table("runs")),
    )
    .unwrap();
    let (calls, called) = mpsc::channel();
    let port = fake_cloudformation::start(Box::new(cloudformation), calls);
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args([
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            "--outputs-file",
            "out/outputs.json",
        ])
        .current_dir(dir.path())
        .envs(moto.env())
        .env(
            "AWS_ENDPOINT_URL_CLOUDFORMATION",
            format!("http://127.0.0.1:{port}"),
        )
        .env("CI", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let calls: Vec<Call> = called.try_iter().collect();

    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("net-dev: CloudFormation rejected the change set for net-dev:\n  FAIL HostsTable (AWS::DynamoDB::Table) TableName: Resource of type 'AWS::DynamoDB::Table' with identifier 'net-hosts-dev' already exists. [AWS::EarlyValidation::ResourceExistenceCheck] (from stacks/net.yaml:3:3)"), "{stderr}");
    assert!(
        stderr.contains("web-dev: not deployed, because net-dev it depends on did not deploy"),
        "{stderr}"
    );
    assert!(stderr.contains("jobs-dev: CREATE_COMPLETE"), "{stderr}");
    let outputs: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/outputs.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        outputs,
        json!({JOBS: {"QueueArn": QUEUE}}),
        "the outputs file holds what completed"
    );

    assert!(
        !calls.iter().any(|c| c.stack == WEB),
        "web-dev never reached CloudFormation: {calls:?}"
    );
    let asked = calls
        .iter()
        .find(|c| c.action == "DescribeEvents")
        .expect("the validation results were read");
    assert_eq!(
        asked.params.get("ChangeSetName").map(String::as_str),
        Some(change_set_arn(NET).as_str())
    );
    assert_eq!(
        asked.params.get("Filters.FailedEvents").map(String::as_str),
        Some("true"),
        "{:?}",
        asked.params
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.action == "DeleteStack" && c.stack == NET)
            .count(),
        1,
        "the failed first deploy leaves no empty stack"
    );
    assert!(!calls
        .iter()
        .any(|c| c.action == "ExecuteChangeSet" && c.stack == NET));
}

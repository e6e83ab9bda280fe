//! `destroy` of a stack in DELETE_FAILED, with CloudFormation's answers
//! scripted in the API's documented shapes (aws-smithy-mocks; the SDK
//! client, the engine and the command's own flow and output are real): it
//! refuses without `--force-delete` where nobody can be asked, sends
//! DeleteStack with DeletionMode FORCE_DELETE_STACK (asserted in the
//! request matcher) once agreed, and lists both what was left behind and
//! what DeletionPolicy retained. A stack not in DELETE_FAILED is deleted
//! the usual way, `--force-delete` or not.

use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    DeletionMode, ResourceStatus, Stack, StackEvent, StackResourceSummary, StackStatus,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::json;
use stackctl::cli::destroy::{destroy, Consent};
use stackctl::cli::ui::Ui;
use stackctl::engine::stacks::CloudFormation;

#[path = "support/scripted_answers.rs"]
#[allow(dead_code)] // the shared answers delete without a mode; these match on it
mod scripted_answers;
use scripted_answers::event_pages_of;

const STACK: &str = "shop-dev";
const STACK_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-dev/7a8b9c0d";
const ROLE_REASON: &str = "Cannot delete entity, must detach all policies first. (Service: Iam, Status Code: 409, Request ID: 5d1c)";

fn described(status: StackStatus) -> Rule {
    mock!(Client::describe_stacks).then_output(move || {
        DescribeStacksOutput::builder()
            .stacks(
                Stack::builder()
                    .stack_name(STACK)
                    .stack_id(STACK_ID)
                    .stack_status(status.clone())
                    .creation_time(DateTime::from_secs(1_700_000_000))
                    .enable_termination_protection(false)
                    .build(),
            )
            .build()
    })
}

/// A table kept by DeletionPolicy, a role and a function.
fn deployed() -> Rule {
    let body = json!({"Resources": {
        "OrdersTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {}},
        "OrdersFunctionRole": {"Type": "AWS::IAM::Role", "Properties": {}},
        "OrdersFunction": {"Type": "AWS::Lambda::Function", "Properties": {}},
    }})
    .to_string();
    mock!(Client::get_template).then_output(move || {
        GetTemplateOutput::builder()
            .template_body(body.clone())
            .build()
    })
}

/// After a failed deletion: the function is gone, the table was skipped
/// (retained), the role failed to delete, with IAM's reason.
fn resources_after_failed_deletion() -> Rule {
    let summary =
        |logical: &str, ty: &str, physical: &str, status: ResourceStatus, why: Option<&str>| {
            StackResourceSummary::builder()
                .logical_resource_id(logical)
                .resource_type(ty)
                .physical_resource_id(physical)
                .resource_status(status)
                .set_resource_status_reason(why.map(String::from))
                .last_updated_timestamp(DateTime::from_secs(1_700_000_000))
                .build()
        };
    mock!(Client::list_stack_resources).then_output(move || {
        ListStackResourcesOutput::builder()
            .stack_resource_summaries(summary(
                "OrdersTable",
                "AWS::DynamoDB::Table",
                "shop-orders-dev",
                ResourceStatus::DeleteSkipped,
                None,
            ))
            .stack_resource_summaries(summary(
                "OrdersFunctionRole",
                "AWS::IAM::Role",
                "shop-dev-OrdersFunctionRole-1A2B",
                ResourceStatus::DeleteFailed,
                Some(ROLE_REASON),
            ))
            .stack_resource_summaries(summary(
                "OrdersFunction",
                "AWS::Lambda::Function",
                "shop-dev-OrdersFunction-3C4D",
                ResourceStatus::DeleteComplete,
                None,
            ))
            .build()
    })
}

/// Answers only a DeleteStack in force-delete mode.
fn force_delete() -> Rule {
    mock!(Client::delete_stack)
        .match_requests(|r| {
            r.stack_name() == Some(STACK)
                && r.deletion_mode() == Some(&DeletionMode::ForceDeleteStack)
        })
        .then_output(|| DeleteStackOutput::builder().build())
}

/// Answers only a DeleteStack without a deletion mode (STANDARD).
fn standard_delete() -> Rule {
    mock!(Client::delete_stack)
        .match_requests(|r| r.stack_name() == Some(STACK) && r.deletion_mode().is_none())
        .then_output(|| DeleteStackOutput::builder().build())
}

fn stack_event(id: &str, status: ResourceStatus, reason: Option<&str>, at: i64) -> StackEvent {
    StackEvent::builder()
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .event_id(id)
        .logical_resource_id(STACK)
        .resource_type("AWS::CloudFormation::Stack")
        .resource_status(status)
        .set_resource_status_reason(reason.map(String::from))
        .timestamp(DateTime::from_secs(1_700_000_000 + at))
        .build()
}

/// The stack's history by its id: the failed deletion, then this one.
fn deletion_history(before: ResourceStatus) -> Rule {
    event_pages_of(
        STACK_ID,
        vec![
            vec![stack_event("e0", before, None, 0)],
            vec![
                stack_event(
                    "d1",
                    ResourceStatus::DeleteInProgress,
                    Some("User Initiated"),
                    1,
                ),
                stack_event("d2", ResourceStatus::DeleteComplete, None, 2),
            ],
        ],
    )
}

fn engine(rules: &[&Rule]) -> CloudFormation {
    CloudFormation::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        rules
    ))
}

/// Runs the command's flow against `cfn`: its exit code and what it wrote
/// on stderr. `person` types `typed` when asked.
fn run(cfn: &CloudFormation, consent: Consent, person: Option<&'static [u8]>) -> (u8, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let ui = Ui::captured(&mut out, &mut err, person.unwrap_or_default());
        let ui = if person.is_some() {
            ui.with_person()
        } else {
            ui
        };
        destroy(&runtime, cfn, STACK, consent, &ui).unwrap()
    };
    assert!(out.is_empty(), "destroy writes messages only");
    (code, String::from_utf8(err).unwrap())
}

#[test]
fn a_delete_failed_stack_is_not_force_deleted_without_the_flag_where_nobody_can_be_asked() {
    let (d, list, g, force, standard) = (
        described(StackStatus::DeleteFailed),
        resources_after_failed_deletion(),
        deployed(),
        force_delete(),
        standard_delete(),
    );
    let cfn = engine(&[&d, &list, &g, &force, &standard]);
    let (code, err) = run(
        &cfn,
        Consent {
            yes: true,
            force_delete: false,
        },
        None,
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "OrdersFunctionRole (AWS::IAM::Role): shop-dev-OrdersFunctionRole-1A2B ({ROLE_REASON})"
        )),
        "what would be left behind is listed: {err}"
    );
    assert!(
        err.contains("needs its own consent")
            && err.contains("run destroy again with --force-delete --yes"),
        "{err}"
    );
    assert_eq!(
        force.num_calls() + standard.num_calls(),
        0,
        "nothing deleted"
    );
}

#[test]
fn with_yes_and_force_delete_the_stack_is_force_deleted_and_what_stays_is_listed() {
    let (d, list, g, history, force) = (
        described(StackStatus::DeleteFailed),
        resources_after_failed_deletion(),
        deployed(),
        deletion_history(ResourceStatus::DeleteFailed),
        force_delete(),
    );
    let cfn = engine(&[&d, &list, &g, &history, &force]);
    let (code, err) = run(
        &cfn,
        Consent {
            yes: true,
            force_delete: true,
        },
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        force.num_calls(),
        1,
        "DeleteStack in FORCE_DELETE_STACK mode"
    );
    let report = &err[err.find("shop-dev: deleted (force-delete)").expect(&err)..];
    assert_eq!(
        report,
        format!("shop-dev: deleted (force-delete)
left behind (their deletion failed; they still exist, outside any stack, and may still cost money):
  OrdersFunctionRole (AWS::IAM::Role): shop-dev-OrdersFunctionRole-1A2B ({ROLE_REASON})
  = hint: delete them yourself once what blocked them is gone, or import them into a stack
retained (DeletionPolicy Retain; they still exist and may still cost money):
  OrdersTable (AWS::DynamoDB::Table): shop-orders-dev
  = hint: a later deploy of shop-dev cannot create resources with these names until they are deleted or imported
")
    );
}

#[test]
fn a_person_at_a_terminal_is_offered_force_delete_and_types_the_name() {
    let (d, list, g, history, force) = (
        described(StackStatus::DeleteFailed),
        resources_after_failed_deletion(),
        deployed(),
        deletion_history(ResourceStatus::DeleteFailed),
        force_delete(),
    );
    let cfn = engine(&[&d, &list, &g, &history, &force]);
    let (code, err) = run(&cfn, Consent::default(), Some(b"shop-dev\n"));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Type the stack name to force-delete it, leaving those resources behind:"),
        "{err}"
    );
    assert_eq!(force.num_calls(), 1);
}

#[test]
fn force_delete_on_a_stack_not_in_delete_failed_deletes_it_the_usual_way() {
    let (d, list, g, history, force, standard) = (
        described(StackStatus::UpdateComplete),
        resources_after_failed_deletion(),
        deployed(),
        deletion_history(ResourceStatus::UpdateComplete),
        force_delete(),
        standard_delete(),
    );
    let cfn = engine(&[&d, &list, &g, &history, &force, &standard]);
    let (code, err) = run(
        &cfn,
        Consent {
            yes: true,
            force_delete: true,
        },
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.starts_with("--force-delete applies only to a stack in DELETE_FAILED; shop-dev is UPDATE_COMPLETE, so it is deleted the usual way\n"),
        "{err}"
    );
    assert_eq!((standard.num_calls(), force.num_calls()), (1, 0));
    assert!(err.contains("shop-dev: deleted\n"), "{err}");
}

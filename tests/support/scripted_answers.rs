//! CloudFormation answers shared by the scripted deploy tests (included by
//! path, so those tests need no emulator support).

use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::types::StackEvent;
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{mock, Rule};

/// DescribeStackEvents pages as CloudFormation returns them: newest first,
/// one page per call, each including everything older.
pub fn event_pages(history: Vec<Vec<StackEvent>>) -> Rule {
    event_pages_of("", history)
}

/// Like [`event_pages`], answering only requests for `name` (any when empty).
pub fn event_pages_of(name: &'static str, history: Vec<Vec<StackEvent>>) -> Rule {
    let mut seq = mock!(Client::describe_stack_events)
        .match_requests(move |r| name.is_empty() || r.stack_name() == Some(name))
        .sequence();
    let mut so_far: Vec<StackEvent> = Vec::new();
    for batch in history {
        so_far.extend(batch);
        let page: Vec<StackEvent> = so_far.iter().rev().cloned().collect();
        seq = seq.output(move || {
            DescribeStackEventsOutput::builder()
                .set_stack_events(Some(page.clone()))
                .build()
        });
    }
    seq.build()
}

pub fn ok_execute() -> Rule {
    mock!(Client::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build())
}

pub fn ok_delete_change_set() -> Rule {
    mock!(Client::delete_change_set).then_output(|| DeleteChangeSetOutput::builder().build())
}

pub fn ok_delete_stack() -> Rule {
    mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build())
}

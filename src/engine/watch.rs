//! Following a stack until it settles: events as they happen, polled fast
//! at first and slower while nothing moves, patient with throttling, and
//! the root cause of a failure picked out of the cascade that follows it.
//! Throttling is waited out by the CloudFormation adapter's retry policy.

use super::error::{AwsError, ErrorKind};
use super::stacks::{StackEvent, Stacks};
use std::time::Duration;

/// How often to ask for events.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// The first wait, and the wait right after something happened.
    pub fast: Duration,
    /// The longest wait while nothing happens.
    pub slow: Duration,
}

impl Default for Pacing {
    /// Sub-second at first so events show within about a second; never more
    /// often than twice a second, far below DescribeStackEvents' rate limit.
    fn default() -> Self {
        Pacing {
            fast: Duration::from_millis(500),
            slow: Duration::from_secs(2),
        }
    }
}

/// How a stack operation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub status: String,
    /// Every event seen while following, oldest first.
    pub events: Vec<StackEvent>,
}

impl Settled {
    /// The operation did what was asked (the stack is not rolled back or failed).
    pub fn succeeded(&self) -> bool {
        matches!(
            self.status.as_str(),
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"
        )
    }
}

/// A stack status that no operation is working on any more.
pub fn is_settled(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS") && !status.is_empty()
}

/// Follows `stack` (name, or its id when it is being deleted) from the event
/// after `baseline`, calling `each` for every new event, until a stack-level
/// event says the operation is over.
pub async fn follow<C: Stacks>(
    cfn: &C,
    stack: &str,
    baseline: Option<String>,
    pacing: Pacing,
    each: &(dyn Fn(&StackEvent) + Sync),
) -> Result<Settled, AwsError> {
    let mut last = baseline;
    let mut seen = Vec::new();
    let mut delay = pacing.fast;
    loop {
        match cfn.events_after(stack, last.as_deref()).await {
            Ok(events) => {
                let moved = !events.is_empty();
                for e in events {
                    each(&e);
                    last = Some(e.id.clone());
                    let done = e.is_stack() && is_settled(&e.status);
                    let status = e.status.clone();
                    seen.push(e);
                    if done {
                        return Ok(Settled {
                            status,
                            events: seen,
                        });
                    }
                }
                delay = if moved {
                    pacing.fast
                } else {
                    (delay * 3 / 2).min(pacing.slow)
                };
            }
            // A deleted stack is no longer found by name: it is gone.
            Err(e)
                if e.kind == ErrorKind::NotFound
                    && seen.iter().any(|e| e.status == "DELETE_IN_PROGRESS") =>
            {
                return Ok(Settled {
                    status: "DELETE_COMPLETE".into(),
                    events: seen,
                });
            }
            Err(e) => return Err(e),
        }
        tokio::time::sleep(delay).await;
    }
}

/// What failed first: the resource events whose failure started the
/// rollback, not the "cancelled" ones that follow from it. Falls back to
/// the stack's own failure reasons when no resource failed.
pub fn root_causes(events: &[StackEvent]) -> Vec<&StackEvent> {
    let failed = |e: &&StackEvent| e.status.ends_with("_FAILED");
    let cascade = |e: &&StackEvent| {
        e.reason
            .as_deref()
            .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
    };
    let resources: Vec<&StackEvent> = events
        .iter()
        .filter(|e| !e.is_stack())
        .filter(failed)
        .collect();
    let causes: Vec<&StackEvent> = resources.iter().copied().filter(|e| !cascade(e)).collect();
    if !causes.is_empty() {
        // The first failures (those within the same second as the earliest).
        let first = causes[0].timestamp;
        return causes
            .into_iter()
            .filter(|e| e.timestamp - first < 1.0)
            .collect();
    }
    if !resources.is_empty() {
        return resources;
    }
    events
        .iter()
        .filter(|e| {
            e.is_stack()
                && (failed(e) || e.status.contains("ROLLBACK_IN_PROGRESS"))
                && e.reason.is_some()
        })
        .take(1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t: f64, id: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            id: format!("{id}-{t}"),
            timestamp: t,
            logical_id: id.into(),
            resource_type: ty.into(),
            physical_id: String::new(),
            status: status.into(),
            reason: reason.map(String::from),
        }
    }

    #[test]
    fn the_root_cause_is_the_first_real_failure_not_the_cancellations() {
        let events = vec![
            event(
                1.0,
                "app-prod",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            event(
                2.0,
                "Table",
                "AWS::DynamoDB::Table",
                "UPDATE_IN_PROGRESS",
                None,
            ),
            event(
                3.0,
                "Fn",
                "AWS::Lambda::Function",
                "UPDATE_FAILED",
                Some("Resource handler returned message: \"Memory size 20000 is invalid\""),
            ),
            event(
                3.5,
                "Table",
                "AWS::DynamoDB::Table",
                "UPDATE_FAILED",
                Some("Resource update cancelled"),
            ),
            event(
                4.0,
                "app-prod",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update: [Fn, Table]."),
            ),
            event(
                9.0,
                "app-prod",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_COMPLETE",
                None,
            ),
        ];
        let causes = root_causes(&events);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].logical_id, "Fn");
        let only_stack = vec![event(
            1.0,
            "s",
            "AWS::CloudFormation::Stack",
            "ROLLBACK_IN_PROGRESS",
            Some("Role arn:… is invalid"),
        )];
        assert_eq!(
            root_causes(&only_stack)[0].reason.as_deref(),
            Some("Role arn:… is invalid")
        );
    }

    #[test]
    fn settled_states() {
        assert!(is_settled("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!is_settled("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert!(Settled {
            status: "UPDATE_COMPLETE".into(),
            events: vec![]
        }
        .succeeded());
        assert!(!Settled {
            status: "UPDATE_ROLLBACK_COMPLETE".into(),
            events: vec![]
        }
        .succeeded());
    }
}

//! CloudFormation, behind the few calls stackctl makes, so scripted answers
//! can drive every path (no changes, failed change sets, missing stacks).

use super::drift::{DetectionStatus, DriftCheck, ResourceDrift};
use super::error::{AwsError, ErrorKind};
use super::retry::RetryPolicy;
use super::validation::{Severity, Status, ValidationFinding};
use crate::diff::{Action, Replacement};
// The change-set merge is pure; it lives with the template diff in the core.
pub use crate::diff::change_set::{merge_change_set, CfnChange};
use aws_sdk_cloudformation::error::SdkError;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

/// A deployed stack as far as a diff or deploy needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackState {
    /// The stack's ARN: the only name that still finds it once deleted.
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub termination_protection: bool,
    pub outputs: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    /// The latest drift check (`DriftInformation`), when CloudFormation sent one.
    pub drift: Option<DriftCheck>,
    /// When the stack was created, seconds since the Unix epoch.
    pub created_at: Option<i64>,
    /// When its last update began (none before the first update).
    pub last_updated_at: Option<i64>,
}

impl StackState {
    /// Busy with an operation (other than waiting for a first change set).
    pub fn is_busy(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && self.status != "REVIEW_IN_PROGRESS"
    }

    /// Holds deployed resources that an update change set can work on.
    pub fn is_deployed(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "REVIEW_IN_PROGRESS" | "ROLLBACK_COMPLETE" | "DELETE_COMPLETE"
        )
    }
}

/// One line of a stack's history.
#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub id: String,
    /// Seconds since the Unix epoch, as CloudFormation stamped it.
    pub timestamp: f64,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: String,
    pub status: String,
    pub reason: Option<String>,
}

impl StackEvent {
    /// An event of the stack itself rather than one of its resources.
    pub fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }
}

/// A resource the stack holds, as ListStackResources reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
    /// `CREATE_COMPLETE`, `DELETE_FAILED`…
    pub status: String,
    /// Why it is in that status (a failure's message), when CloudFormation says.
    pub status_reason: Option<String>,
}

/// What CloudFormation watches during an update and after it, rolling the
/// update back when one of the alarms goes into ALARM.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RollbackSettings {
    /// ARNs of CloudWatch alarms (empty: remove the stack's triggers).
    pub alarm_arns: Vec<String>,
    pub monitoring_minutes: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeSetOutcome {
    /// Ready to execute. `note` is the change set's status reason, which
    /// CloudFormation sets on a ready change set only when it has something
    /// to say (validation warnings).
    Ready {
        changes: Vec<CfnChange>,
        note: Option<String>,
    },
    /// Nothing would change (real AWS: a FAILED change set saying so; the
    /// emulator: a ValidationError at creation).
    NoChanges,
    Failed(String),
}

/// Where the template body comes from.
#[derive(Debug, Clone)]
pub enum TemplateSource {
    Body(String),
    Url(String),
}

#[derive(Debug, Clone)]
pub struct ChangeSetRequest {
    pub stack: String,
    pub name: String,
    pub create: bool,
    pub template: TemplateSource,
    pub tags: Vec<(String, String)>,
    /// Sent as the change set's RollbackConfiguration; `None` sends none,
    /// and CloudFormation keeps the triggers the stack had.
    pub rollback: Option<RollbackSettings>,
    /// A drift-aware change set (deployment mode REVERT_DRIFT): resources
    /// changed outside CloudFormation are put back as the template says.
    pub revert_drift: bool,
}

/// The calls stackctl makes to CloudFormation.
pub trait Stacks {
    /// The stack, or `None` when there is no such stack.
    fn describe(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Option<StackState>, AwsError>> + Send;
    fn deployed_template(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Value, AwsError>> + Send;
    /// Creates a change set and waits until it is ready (or known empty, or
    /// failed), at most until the change-set deadline.
    fn change_set(
        &self,
        request: &ChangeSetRequest,
    ) -> impl Future<Output = Result<(String, ChangeSetOutcome), AwsError>> + Send;
    /// Deletes a change set by id or name; `Ok(false)` when there is no such
    /// change set.
    fn delete_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool, AwsError>> + Send;
    fn execute_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Events newer than the one with id `after` (all when `None`), oldest first.
    fn events_after(
        &self,
        stack: &str,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Vec<StackEvent>, AwsError>> + Send;
    fn resources(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Vec<StackResource>, AwsError>> + Send;
    fn delete_stack(&self, stack: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Deletes a stack in DELETE_FAILED in force-delete mode
    /// (FORCE_DELETE_STACK): the resources that failed to delete are left
    /// in the account, outside any stack.
    fn force_delete_stack(&self, stack: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn set_termination_protection(
        &self,
        stack: &str,
        on: bool,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The pre-deployment validation results of a change set (DescribeEvents),
    /// every page; with `failed_only`, only the failed events CloudFormation
    /// lists (the `FailedEvents` filter).
    fn validation_results(
        &self,
        stack: &str,
        change_set: &str,
        failed_only: bool,
    ) -> impl Future<Output = Result<Vec<ValidationFinding>, AwsError>> + Send;
    /// Starts drift detection on every resource of the stack that supports
    /// it (DetectStackDrift); the detection's id.
    fn start_drift_detection(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// One look at a drift detection (DescribeStackDriftDetectionStatus).
    fn drift_detection(
        &self,
        detection_id: &str,
    ) -> impl Future<Output = Result<DetectionStatus, AwsError>> + Send;
    /// The latest detection's results, every page
    /// (DescribeStackResourceDrifts); with `drifted_only`, only the
    /// MODIFIED and DELETED resources.
    fn resource_drifts(
        &self,
        stack: &str,
        drifted_only: bool,
    ) -> impl Future<Output = Result<Vec<ResourceDrift>, AwsError>> + Send;
}

/// Whether a CloudFormation message says there is nothing to change.
pub fn means_no_changes(message: &str) -> bool {
    message.contains("didn't contain changes")
        || message.contains("No updates are to be performed")
        || message.contains("no changes")
}

/// A template as CloudFormation returns it: JSON, or YAML in long form.
pub fn parse_template(body: &str) -> anyhow::Result<Value> {
    if let Ok(v) = serde_json::from_str(body) {
        return Ok(v);
    }
    let node = crate::source::parse_yaml(body).map_err(|d| {
        anyhow::anyhow!(
            "the deployed template is neither JSON nor YAML stackctl can read: {}",
            d.first().map(|d| d.message.clone()).unwrap_or_default()
        )
    })?;
    Ok(crate::render::node_to_json(&node))
}

/// How long a change set may take to become ready before stackctl stops
/// waiting (and removes it): large stacks take a minute or two.
pub const CHANGE_SET_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// CloudFormation through the SDK.
pub struct CloudFormation {
    client: aws_sdk_cloudformation::Client,
    retry: RetryPolicy,
    change_set_deadline: Duration,
}

impl CloudFormation {
    pub fn new(client: aws_sdk_cloudformation::Client) -> Self {
        CloudFormation {
            client,
            retry: RetryPolicy::default(),
            change_set_deadline: CHANGE_SET_DEADLINE,
        }
    }

    /// The same, waiting at most `deadline` for a change set.
    pub fn with_change_set_deadline(mut self, deadline: Duration) -> Self {
        self.change_set_deadline = deadline;
        self
    }
}

/// The typed error of a CloudFormation call. CloudFormation says "no such
/// stack" and "nothing to update" only as a `ValidationError` with a
/// message; this is the one place that reads those two messages, so the
/// rest of stackctl matches on [`ErrorKind::NotFound`] and
/// [`ErrorKind::NoChanges`].
fn cfn_error<E>(
    operation: impl Into<String>,
    e: SdkError<E, aws_sdk_cloudformation::config::http::HttpResponse>,
) -> AwsError
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    let e = AwsError::from_sdk(operation, e);
    if e.kind != ErrorKind::ValidationFailed {
        e
    } else if e.message.contains("does not exist") {
        e.with_kind(ErrorKind::NotFound)
    } else if means_no_changes(&e.message) {
        e.with_kind(ErrorKind::NoChanges)
    } else {
        e
    }
}

fn unreadable(operation: &str, what: &str) -> AwsError {
    AwsError::new(ErrorKind::UnexpectedAnswer, operation, what)
}

fn stack_state(s: &aws_sdk_cloudformation::types::Stack) -> StackState {
    let pairs = |items: Vec<(Option<&str>, Option<&str>)>| -> Vec<(String, String)> {
        items
            .into_iter()
            .map(|(k, v)| {
                (
                    k.unwrap_or_default().to_string(),
                    v.unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    StackState {
        id: s.stack_id().unwrap_or_default().to_string(),
        status: s
            .stack_status()
            .map(|st| st.as_str().to_string())
            .unwrap_or_default(),
        status_reason: s.stack_status_reason().map(String::from),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
        outputs: pairs(
            s.outputs()
                .iter()
                .map(|o| (o.output_key(), o.output_value()))
                .collect(),
        ),
        tags: pairs(s.tags().iter().map(|t| (t.key(), t.value())).collect()),
        drift: s.drift_information().map(super::drift::drift_check),
        created_at: s.creation_time().map(|t| t.secs()),
        last_updated_at: s.last_updated_time().map(|t| t.secs()),
    }
}

fn stack_event(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEvent {
    StackEvent {
        id: e.event_id().unwrap_or_default().to_string(),
        timestamp: e.timestamp().map(|t| t.as_secs_f64()).unwrap_or(0.0),
        logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
        resource_type: e.resource_type().unwrap_or_default().to_string(),
        physical_id: e.physical_resource_id().unwrap_or_default().to_string(),
        status: e
            .resource_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        reason: e.resource_status_reason().map(String::from),
    }
}

impl CloudFormation {
    /// Creates the change set; `None` when CloudFormation answers at once
    /// that there is nothing to change (the emulator does).
    async fn create_change_set(&self, r: &ChangeSetRequest) -> Result<Option<String>, AwsError> {
        use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Tag};
        let operation = format!("create a change set for {}", r.stack);
        let mut call = self
            .client
            .create_change_set()
            .stack_name(&r.stack)
            .change_set_name(&r.name)
            .change_set_type(if r.create {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam);
        for (k, v) in &r.tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        if let Some(rollback) = &r.rollback {
            call = call.rollback_configuration(rollback_configuration(rollback));
        }
        if r.revert_drift {
            call = call.deployment_mode(aws_sdk_cloudformation::types::DeploymentMode::RevertDrift);
        }
        call = match &r.template {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        };
        // Repeated only when throttled: a create whose answer was lost may
        // have been made, and a second one with the same name is refused.
        let sent = self
            .retry
            .run_when(AwsError::is_throttling, || async {
                call.clone()
                    .send()
                    .await
                    .map_err(|e| cfn_error(&operation, e))
            })
            .await;
        match sent {
            Ok(out) => Ok(Some(
                out.id()
                    .ok_or_else(|| {
                        unreadable(&operation, "CloudFormation returned no change set id")
                    })?
                    .to_string(),
            )),
            Err(e) if e.kind == ErrorKind::NoChanges => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One look at the change set, every page: its status, status reason
    /// and changes.
    async fn read_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> Result<(String, String, Vec<CfnChange>), AwsError> {
        let mut changes = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .retry
                .run(|| async {
                    self.client
                        .describe_change_set()
                        .change_set_name(id)
                        .stack_name(stack)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| cfn_error(format!("describe the change set of {stack}"), e))
                })
                .await?;
            changes.extend(
                page.changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(cfn_change),
            );
            token = page.next_token().map(String::from);
            if token.is_none() {
                return Ok((
                    page.status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    page.status_reason().unwrap_or_default().to_string(),
                    changes,
                ));
            }
        }
    }
}

impl Stacks for CloudFormation {
    async fn start_drift_detection(&self, stack: &str) -> Result<String, AwsError> {
        let operation = format!("start drift detection on {stack}");
        // Starting twice only makes a second detection, so a lost answer may be asked again.
        let out = self
            .retry
            .run(|| async {
                self.client
                    .detect_stack_drift()
                    .stack_name(stack)
                    .send()
                    .await
                    .map_err(|e| cfn_error(&operation, e))
            })
            .await?;
        out.stack_drift_detection_id()
            .map(String::from)
            .ok_or_else(|| unreadable(&operation, "CloudFormation returned no detection id"))
    }

    async fn drift_detection(&self, detection_id: &str) -> Result<DetectionStatus, AwsError> {
        let out = self
            .retry
            .run(|| async {
                self.client
                    .describe_stack_drift_detection_status()
                    .stack_drift_detection_id(detection_id)
                    .send()
                    .await
                    .map_err(|e| cfn_error("read the drift detection's status", e))
            })
            .await?;
        Ok(super::drift::detection_status(
            out.detection_status(),
            out.stack_drift_status(),
            out.detection_status_reason(),
            out.timestamp(),
        ))
    }

    async fn resource_drifts(
        &self,
        stack: &str,
        drifted_only: bool,
    ) -> Result<Vec<ResourceDrift>, AwsError> {
        use aws_sdk_cloudformation::types::StackResourceDriftStatus as S;
        let filters = drifted_only.then(|| vec![S::Modified, S::Deleted]);
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .retry
                .run(|| async {
                    self.client
                        .describe_stack_resource_drifts()
                        .stack_name(stack)
                        .set_stack_resource_drift_status_filters(filters.clone())
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| cfn_error(format!("read the drift results of {stack}"), e))
                })
                .await?;
            found.extend(
                page.stack_resource_drifts()
                    .iter()
                    .map(super::drift::resource_drift),
            );
            token = page.next_token().map(String::from);
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    async fn describe(&self, stack: &str) -> Result<Option<StackState>, AwsError> {
        let answer = self
            .retry
            .run(|| async {
                self.client
                    .describe_stacks()
                    .stack_name(stack)
                    .send()
                    .await
                    .map_err(|e| cfn_error(format!("describe stack {stack}"), e))
            })
            .await;
        match answer {
            Ok(out) => Ok(out.stacks().first().map(stack_state)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn deployed_template(&self, stack: &str) -> Result<Value, AwsError> {
        let operation = format!("read the template of {stack}");
        let out = self
            .retry
            .run(|| async {
                self.client
                    .get_template()
                    .stack_name(stack)
                    .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
                    .send()
                    .await
                    .map_err(|e| cfn_error(&operation, e))
            })
            .await?;
        let body = out
            .template_body()
            .ok_or_else(|| unreadable(&operation, "CloudFormation returned no template body"))?;
        parse_template(body).map_err(|e| unreadable(&operation, &e.to_string()))
    }

    async fn change_set(
        &self,
        r: &ChangeSetRequest,
    ) -> Result<(String, ChangeSetOutcome), AwsError> {
        let Some(id) = self.create_change_set(r).await? else {
            return Ok((String::new(), ChangeSetOutcome::NoChanges));
        };
        let deadline = tokio::time::Instant::now() + self.change_set_deadline;
        // Fast at first, then backing off: change sets are usually ready in seconds.
        let mut delay = Duration::from_millis(250);
        loop {
            let (status, reason, changes) = self.read_change_set(&r.stack, &id).await?;
            match status.as_str() {
                "CREATE_COMPLETE" => {
                    let note = Some(reason).filter(|r| !r.trim().is_empty());
                    return Ok((id, ChangeSetOutcome::Ready { changes, note }));
                }
                "FAILED" if means_no_changes(&reason) => {
                    return Ok((id, ChangeSetOutcome::NoChanges))
                }
                "FAILED" => return Ok((id, ChangeSetOutcome::Failed(reason))),
                _ if tokio::time::Instant::now() + delay > deadline => {
                    return Err(AwsError::new(
                        ErrorKind::Timeout,
                        format!("create a change set for {}", r.stack),
                        format!(
                            "the change set was still {status} after {} s",
                            self.change_set_deadline.as_secs()
                        ),
                    )
                    .with_hint("CloudFormation may be slow or stuck; run the command again, and look at the change set in the console if it happens again"))
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn delete_change_set(&self, stack: &str, id: &str) -> Result<bool, AwsError> {
        let answer = self
            .retry
            .run(|| async {
                self.client
                    .delete_change_set()
                    .change_set_name(id)
                    .stack_name(stack)
                    .send()
                    .await
                    .map_err(|e| cfn_error(format!("delete the change set of {stack}"), e))
            })
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn execute_change_set(&self, stack: &str, id: &str) -> Result<(), AwsError> {
        self.retry
            .run_when(AwsError::is_throttling, || async {
                self.client
                    .execute_change_set()
                    .change_set_name(id)
                    .stack_name(stack)
                    .send()
                    .await
                    .map_err(|e| cfn_error(format!("execute the change set of {stack}"), e))
            })
            .await?;
        Ok(())
    }

    async fn events_after(
        &self,
        stack: &str,
        after: Option<&str>,
    ) -> Result<Vec<StackEvent>, AwsError> {
        // Newest first, page by page, until the last event already seen.
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        'pages: loop {
            let page = self
                .retry
                .run(|| async {
                    self.client
                        .describe_stack_events()
                        .stack_name(stack)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| cfn_error(format!("read the events of {stack}"), e))
                })
                .await?;
            for e in page.stack_events() {
                if e.event_id() == after {
                    break 'pages;
                }
                found.push(stack_event(e));
            }
            token = page.next_token().map(String::from);
            // Without a last-seen event, the first page is the present.
            if token.is_none() || after.is_none() {
                break;
            }
        }
        found.reverse();
        Ok(found)
    }

    async fn resources(&self, stack: &str) -> Result<Vec<StackResource>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .retry
                .run(|| async {
                    self.client
                        .list_stack_resources()
                        .stack_name(stack)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| cfn_error(format!("list the resources of {stack}"), e))
                })
                .await?;
            out.extend(page.stack_resource_summaries().iter().map(|r| {
                StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
                    resource_type: r.resource_type().unwrap_or_default().to_string(),
                    status: r
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    status_reason: r.resource_status_reason().map(String::from),
                }
            }));
            token = page.next_token().map(String::from);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn delete_stack(&self, stack: &str) -> Result<(), AwsError> {
        // Deleting twice is harmless, so a lost answer may be asked again.
        self.retry
            .run(|| async {
                self.client
                    .delete_stack()
                    .stack_name(stack)
                    .send()
                    .await
                    .map_err(|e| cfn_error(format!("delete {stack}"), e))
            })
            .await?;
        Ok(())
    }

    async fn force_delete_stack(&self, stack: &str) -> Result<(), AwsError> {
        use aws_sdk_cloudformation::types::DeletionMode;
        self.retry
            .run(|| async {
                self.client
                    .delete_stack()
                    .stack_name(stack)
                    .deletion_mode(DeletionMode::ForceDeleteStack)
                    .send()
                    .await
                    .map_err(|e| cfn_error(format!("force-delete {stack}"), e))
            })
            .await?;
        Ok(())
    }

    async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), AwsError> {
        self.retry
            .run(|| async {
                self.client
                    .update_termination_protection()
                    .stack_name(stack)
                    .enable_termination_protection(on)
                    .send()
                    .await
                    .map_err(|e| {
                        cfn_error(format!("change the termination protection of {stack}"), e)
                    })
            })
            .await?;
        Ok(())
    }

    async fn validation_results(
        &self,
        stack: &str,
        change_set: &str,
        failed_only: bool,
    ) -> Result<Vec<ValidationFinding>, AwsError> {
        use aws_sdk_cloudformation::types::EventFilter;
        let filter = failed_only.then(|| EventFilter::builder().failed_events(true).build());
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .retry
                .run(|| async {
                    self.client
                        .describe_events()
                        .stack_name(stack)
                        .change_set_name(change_set)
                        .set_filters(filter.clone())
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| {
                            cfn_error(
                                format!(
                                    "read the validation results of the change set for {stack}"
                                ),
                                e,
                            )
                        })
                })
                .await?;
            found.extend(
                page.operation_events()
                    .iter()
                    .filter_map(validation_finding),
            );
            token = page.next_token().map(String::from);
            if token.is_none() {
                return Ok(found);
            }
        }
    }
}

/// A DescribeEvents event as a validation result; events of other kinds
/// (progress, provisioning, hooks without a validation) are not.
fn validation_finding(
    e: &aws_sdk_cloudformation::types::OperationEvent,
) -> Option<ValidationFinding> {
    use aws_sdk_cloudformation::types::{EventType, HookFailureMode, ValidationStatus};
    if e.validation_name().is_none() && e.event_type() != Some(&EventType::ValidationError) {
        return None;
    }
    let text = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(String::from);
    Some(ValidationFinding {
        name: e.validation_name().unwrap_or_default().to_string(),
        status: e.validation_status().map(|s| match s {
            ValidationStatus::Failed => Status::Failed,
            ValidationStatus::Skipped => Status::Skipped,
            other => Status::Other(other.as_str().to_string()),
        }),
        mode: e.validation_failure_mode().and_then(|m| match m {
            HookFailureMode::Fail => Some(Severity::Fail),
            HookFailureMode::Warn => Some(Severity::Warn),
            _ => None,
        }),
        logical_id: text(e.logical_resource_id()),
        resource_type: text(e.resource_type()),
        physical_id: text(e.physical_resource_id()),
        path: text(e.validation_path()),
        reason: e
            .validation_status_reason()
            .or(e.resource_status_reason())
            .unwrap_or_default()
            .to_string(),
        place: None,
    })
}

/// The change set's RollbackConfiguration: every trigger an alarm.
fn rollback_configuration(
    r: &RollbackSettings,
) -> aws_sdk_cloudformation::types::RollbackConfiguration {
    use aws_sdk_cloudformation::types::{RollbackConfiguration, RollbackTrigger};
    let triggers = r
        .alarm_arns
        .iter()
        .map(|arn| {
            RollbackTrigger::builder()
                .arn(arn)
                .r#type("AWS::CloudWatch::Alarm")
                .build()
        })
        .collect();
    RollbackConfiguration::builder()
        .set_rollback_triggers(Some(triggers))
        .monitoring_time_in_minutes(i32::try_from(r.monitoring_minutes).unwrap_or(i32::MAX))
        .build()
}

fn cfn_change(c: &aws_sdk_cloudformation::types::ResourceChange) -> CfnChange {
    use aws_sdk_cloudformation::types::{ChangeAction, Replacement as R};
    CfnChange {
        logical_id: c.logical_resource_id().unwrap_or_default().to_string(),
        resource_type: c.resource_type().unwrap_or_default().to_string(),
        action: match c.action() {
            Some(ChangeAction::Add) => Action::Add,
            Some(ChangeAction::Remove) => Action::Remove,
            _ => Action::Modify,
        },
        replacement: c.replacement().map(|r| match r {
            R::True => Replacement::True,
            R::Conditional => Replacement::Conditional,
            _ => Replacement::False,
        }),
        causes: c
            .details()
            .iter()
            .filter_map(|d| d.target())
            .map(|t| {
                (
                    t.name()
                        .or(t.attribute().map(|a| a.as_str()))
                        .unwrap_or_default()
                        .to_string(),
                    t.requires_recreation().map(|r| r.as_str().to_string()),
                )
            })
            .collect(),
        drift: super::drift::change_drift(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_change_messages_are_recognised_in_both_forms() {
        assert!(means_no_changes("The submitted information didn't contain changes. Submit different information to create a change set."));
        assert!(means_no_changes(
            "ValidationError: No updates are to be performed."
        ));
        assert!(!means_no_changes(
            "Template format error: Unresolved resource dependencies"
        ));
    }

    #[test]
    fn templates_read_back_from_json_or_yaml() {
        assert_eq!(
            parse_template("{\"Resources\": {}}").unwrap(),
            serde_json::json!({"Resources": {}})
        );
        assert_eq!(
            parse_template("Resources:\n  A:\n    Type: AWS::SNS::Topic\n").unwrap()["Resources"]
                ["A"]["Type"],
            "AWS::SNS::Topic"
        );
    }
}

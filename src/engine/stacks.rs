//! CloudFormation, behind the few calls stackctl makes, so scripted answers
//! can drive every path (no changes, failed change sets, missing stacks).

use super::validation::{Severity, Status, ValidationFinding};
use crate::diff::{Action, Replacement};
// The change-set merge is pure; it lives with the template diff in the core.
pub use crate::diff::change_set::{merge_change_set, CfnChange};
use anyhow::Context as _;
use serde_json::Value;

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
}

/// The calls stackctl makes to CloudFormation.
pub trait Stacks {
    fn describe(
        &self,
        stack: &str,
    ) -> impl std::future::Future<Output = anyhow::Result<Option<StackState>>> + Send;
    fn deployed_template(
        &self,
        stack: &str,
    ) -> impl std::future::Future<Output = anyhow::Result<Value>> + Send;
    /// Creates a change set and waits until it is ready (or known empty, or failed).
    fn change_set(
        &self,
        request: &ChangeSetRequest,
    ) -> impl std::future::Future<Output = anyhow::Result<(String, ChangeSetOutcome)>> + Send;
    /// Deletes a change set by id or name; `Ok(false)` when there is no such
    /// change set.
    fn delete_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> impl std::future::Future<Output = anyhow::Result<bool>> + Send;
    fn execute_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send;
    /// Events newer than the one with id `after` (all when `None`), oldest first.
    fn events_after(
        &self,
        stack: &str,
        after: Option<&str>,
    ) -> impl std::future::Future<Output = anyhow::Result<Vec<StackEvent>>> + Send;
    fn resources(
        &self,
        stack: &str,
    ) -> impl std::future::Future<Output = anyhow::Result<Vec<StackResource>>> + Send;
    fn delete_stack(
        &self,
        stack: &str,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send;
    fn set_termination_protection(
        &self,
        stack: &str,
        on: bool,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send;
    /// The pre-deployment validation results of a change set (DescribeEvents),
    /// every page; with `failed_only`, only the failed events CloudFormation
    /// lists (the `FailedEvents` filter).
    fn validation_results(
        &self,
        stack: &str,
        change_set: &str,
        failed_only: bool,
    ) -> impl std::future::Future<Output = anyhow::Result<Vec<ValidationFinding>>> + Send;
}

/// Whether an error is AWS asking us to slow down (worth a pause and a retry).
pub fn is_throttling(error: &anyhow::Error) -> bool {
    let text = format!("{error:#}");
    [
        "Throttling",
        "Rate exceeded",
        "TooManyRequests",
        "RequestLimitExceeded",
    ]
    .iter()
    .any(|t| text.contains(t))
}

/// Whether an error says the stack is not there (any more).
pub fn is_missing_stack(error: &anyhow::Error) -> bool {
    format!("{error:#}").contains("does not exist")
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

/// CloudFormation through the SDK.
pub struct CloudFormation {
    pub client: aws_sdk_cloudformation::Client,
}

/// The error with its AWS code up front (`Throttling`, `ValidationError`),
/// which the retry and "does not exist" checks read.
/// An answer that is not CloudFormation's error format (a proxy, an outage)
/// is shown as its HTTP status and the start of its body.
fn sdk_error<
    E: std::error::Error + aws_sdk_cloudformation::error::ProvideErrorMetadata + Send + Sync + 'static,
>(
    what: &str,
    e: aws_sdk_cloudformation::error::SdkError<
        E,
        aws_sdk_cloudformation::config::http::HttpResponse,
    >,
) -> anyhow::Error {
    match e.as_service_error().and_then(|s| s.code()) {
        Some(code) => anyhow::anyhow!(
            "{what}: {code}: {}",
            e.as_service_error()
                .and_then(|s| s.message())
                .unwrap_or_default()
        ),
        None => match e.raw_response() {
            Some(raw) => {
                let body = raw
                    .body()
                    .bytes()
                    .map(|b| String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned())
                    .unwrap_or_default();
                anyhow::anyhow!(
                    "{what}: CloudFormation answered HTTP {} with an unreadable body: {}",
                    raw.status().as_u16(),
                    body.trim()
                )
            }
            None => anyhow::anyhow!(
                "{what}: {}",
                aws_sdk_cloudformation::error::DisplayErrorContext(e)
            ),
        },
    }
}

impl Stacks for CloudFormation {
    async fn describe(&self, stack: &str) -> anyhow::Result<Option<StackState>> {
        match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(out) => Ok(out.stacks().first().map(|s| StackState {
                id: s.stack_id().unwrap_or_default().to_string(),
                status: s
                    .stack_status()
                    .map(|st| st.as_str().to_string())
                    .unwrap_or_default(),
                status_reason: s.stack_status_reason().map(String::from),
                termination_protection: s.enable_termination_protection().unwrap_or(false),
                outputs: s
                    .outputs()
                    .iter()
                    .map(|o| {
                        (
                            o.output_key().unwrap_or_default().to_string(),
                            o.output_value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                tags: s
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            })),
            Err(e) => {
                let text = format!("{}", aws_sdk_cloudformation::error::DisplayErrorContext(&e));
                if text.contains("does not exist") {
                    Ok(None)
                } else {
                    Err(anyhow::anyhow!("cannot describe stack {stack}: {text}"))
                }
            }
        }
    }

    async fn deployed_template(&self, stack: &str) -> anyhow::Result<Value> {
        let out = self
            .client
            .get_template()
            .stack_name(stack)
            .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("cannot read the template of {stack}"), e))?;
        parse_template(
            out.template_body()
                .context("CloudFormation returned no template body")?,
        )
    }

    async fn change_set(&self, r: &ChangeSetRequest) -> anyhow::Result<(String, ChangeSetOutcome)> {
        use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Tag};
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
        call = match &r.template {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        };
        let id = match call.send().await {
            Ok(out) => out
                .id()
                .context("CloudFormation returned no change set id")?
                .to_string(),
            Err(e) => {
                let text = format!("{}", aws_sdk_cloudformation::error::DisplayErrorContext(&e));
                if means_no_changes(&text) {
                    return Ok((String::new(), ChangeSetOutcome::NoChanges));
                }
                return Err(anyhow::anyhow!(
                    "cannot create a change set for {}: {text}",
                    r.stack
                ));
            }
        };
        // Fast at first, then backing off: change sets are usually ready in seconds.
        let mut delay = std::time::Duration::from_millis(250);
        loop {
            let mut changes = Vec::new();
            let mut token = None;
            let (status, reason) = loop {
                let page = self
                    .client
                    .describe_change_set()
                    .change_set_name(&id)
                    .stack_name(&r.stack)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| sdk_error("cannot describe the change set", e))?;
                changes.extend(
                    page.changes()
                        .iter()
                        .filter_map(|c| c.resource_change())
                        .map(cfn_change),
                );
                token = page.next_token().map(String::from);
                if token.is_none() {
                    break (
                        page.status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        page.status_reason().unwrap_or_default().to_string(),
                    );
                }
            };
            match status.as_str() {
                "CREATE_COMPLETE" => {
                    return Ok((
                        id,
                        ChangeSetOutcome::Ready {
                            changes,
                            note: Some(reason).filter(|r| !r.trim().is_empty()),
                        },
                    ))
                }
                "FAILED" if means_no_changes(&reason) => {
                    return Ok((id, ChangeSetOutcome::NoChanges))
                }
                "FAILED" => return Ok((id, ChangeSetOutcome::Failed(reason))),
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
            }
        }
    }

    async fn delete_change_set(&self, stack: &str, id: &str) -> anyhow::Result<bool> {
        match self
            .client
            .delete_change_set()
            .change_set_name(id)
            .stack_name(stack)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .and_then(aws_sdk_cloudformation::error::ProvideErrorMetadata::code)
                    == Some("ChangeSetNotFound") =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error("cannot delete the change set", e)),
        }
    }

    async fn execute_change_set(&self, stack: &str, id: &str) -> anyhow::Result<()> {
        self.client
            .execute_change_set()
            .change_set_name(id)
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("cannot execute the change set of {stack}"), e))?;
        Ok(())
    }

    async fn events_after(
        &self,
        stack: &str,
        after: Option<&str>,
    ) -> anyhow::Result<Vec<StackEvent>> {
        // Newest first, page by page, until the last event already seen.
        let mut found = Vec::new();
        let mut token = None;
        'pages: loop {
            let page = self
                .client
                .describe_stack_events()
                .stack_name(stack)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("cannot read the events of {stack}"), e))?;
            for e in page.stack_events() {
                let id = e.event_id().unwrap_or_default();
                if Some(id) == after {
                    break 'pages;
                }
                found.push(StackEvent {
                    id: id.to_string(),
                    timestamp: e.timestamp().map(|t| t.as_secs_f64()).unwrap_or(0.0),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    physical_id: e.physical_resource_id().unwrap_or_default().to_string(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().map(String::from),
                });
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

    async fn resources(&self, stack: &str) -> anyhow::Result<Vec<StackResource>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("cannot list the resources of {stack}"), e))?;
            out.extend(
                page.stack_resource_summaries()
                    .iter()
                    .map(|r| StackResource {
                        logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                        physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
                        resource_type: r.resource_type().unwrap_or_default().to_string(),
                    }),
            );
            token = page.next_token().map(String::from);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn delete_stack(&self, stack: &str) -> anyhow::Result<()> {
        self.client
            .delete_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("cannot delete {stack}"), e))?;
        Ok(())
    }

    async fn set_termination_protection(&self, stack: &str, on: bool) -> anyhow::Result<()> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    &format!("cannot change the termination protection of {stack}"),
                    e,
                )
            })?;
        Ok(())
    }

    async fn validation_results(
        &self,
        stack: &str,
        change_set: &str,
        failed_only: bool,
    ) -> anyhow::Result<Vec<ValidationFinding>> {
        use aws_sdk_cloudformation::types::EventFilter;
        let filter = failed_only.then(|| EventFilter::builder().failed_events(true).build());
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_events()
                .stack_name(stack)
                .change_set_name(change_set)
                .set_filters(filter.clone())
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(
                        &format!(
                            "cannot read the validation results of the change set for {stack}"
                        ),
                        e,
                    )
                })?;
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

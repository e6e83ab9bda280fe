//! Diff, deploy and destroy one stack through CloudFormation change sets.
//!
//! Generic over [`Stacks`] and [`ArtifactStore`], so every path (no
//! changes, refused data loss, declined approval, failures and rollbacks,
//! a stack left in ROLLBACK_COMPLETE, a busy stack) runs against scripted
//! answers as well as against AWS. What a person sees goes through
//! [`Observer`]; nothing here prints or reads a terminal.

use super::artifacts::{upload_reporting, ArtifactStore, Shipment};
use super::stacks::{
    merge_change_set, ChangeSetOutcome, ChangeSetRequest, StackEvent, StackState, Stacks,
    TemplateSource,
};
use super::watch::{follow, root_causes, Pacing, Settled};
use crate::diff::guard::{broadening, data_loss, Refusal, RequireApproval};
use crate::diff::{diff_templates, ResourceChange};
use anyhow::bail;
use serde_json::{json, Value};

/// What stackctl knows about one stack's pending changes.
#[derive(Debug, Clone, PartialEq)]
pub struct StackDiff {
    pub stack: String,
    pub exists: bool,
    pub changes: Vec<ResourceChange>,
    pub data_loss: Vec<Refusal>,
    pub broadening: Vec<(String, String)>,
}

/// The answer to "go ahead?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Granted,
    Declined,
    /// Nobody can be asked (no terminal): never wait on a prompt.
    CannotAsk,
}

/// Where a deploy reports, and whom it asks.
pub trait Observer: Sync {
    fn note(&self, stack: &str, text: &str);
    fn plan(&self, diff: &StackDiff);
    fn event(&self, stack: &str, event: &StackEvent);
    fn approve(&self, stack: &str, question: &str) -> Approval;
    /// The change set is about to be executed: from here on CloudFormation
    /// carries on even if stackctl stops.
    fn executing(&self, stack: &str);
}

/// Everything a deploy of one stack needs to know.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub stack: String,
    pub template: Value,
    pub tags: Vec<(String, String)>,
    pub shipments: Vec<Shipment>,
    pub allow_replace: Vec<String>,
    pub require_approval: RequireApproval,
    pub termination_protection: bool,
    /// Wait for a stack busy with another operation instead of refusing.
    pub wait_busy: bool,
    /// Unique per run, so an interrupted run can clean up by name.
    pub change_set_name: String,
    pub pacing: Pacing,
}

/// How a deploy of one stack ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeployOutcome {
    NoChanges {
        outputs: Vec<(String, String)>,
    },
    Deployed {
        status: String,
        outputs: Vec<(String, String)>,
        uploaded: usize,
    },
    /// The data-loss guard refused; nothing was executed.
    Refused(Vec<Refusal>),
    /// Approval was needed and not given; nothing was executed.
    NotApproved(String),
    /// CloudFormation failed and rolled back (or could not).
    Failed {
        status: String,
        causes: Vec<StackEvent>,
    },
}

impl DeployOutcome {
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            DeployOutcome::NoChanges { .. } | DeployOutcome::Deployed { .. }
        )
    }
}

/// The template inline when CloudFormation takes it so (51,200 bytes),
/// else uploaded to the artifact store by its hash and passed by URL.
pub async fn template_source<S: ArtifactStore>(
    store: &S,
    stack: &str,
    template: &Value,
) -> anyhow::Result<TemplateSource> {
    let body = serde_json::to_string(template)?;
    if body.len() <= crate::check::INLINE_TEMPLATE_LIMIT {
        return Ok(TemplateSource::Body(body));
    }
    let digests = crate::artifact::sha256(body.as_bytes());
    let key = format!("templates/{stack}/{}.json", digests.hex);
    store.ensure().await?;
    if !store.exists(&key).await? {
        store.put(&key, body.into_bytes(), &digests.base64).await?;
    }
    Ok(TemplateSource::Url(store.url(&key)))
}

/// Refuses a stack another operation is changing, or one stuck in a state
/// only a person can resolve, with what to do about it.
fn check_state(stack: &str, state: &StackState) -> anyhow::Result<()> {
    if state.is_busy() {
        bail!("{stack} is busy ({}); wait for it to settle (`stackctl deploy --wait-busy` waits), or follow it with `aws cloudformation describe-stack-events --stack-name {stack}`", state.status);
    }
    match state.status.as_str() {
        "UPDATE_ROLLBACK_FAILED" => bail!(
            "{stack} is in UPDATE_ROLLBACK_FAILED: a rollback could not finish ({}). Fix the cause, then `aws cloudformation continue-update-rollback --stack-name {stack}`",
            state.status_reason.as_deref().unwrap_or("no reason given")
        ),
        "ROLLBACK_FAILED" | "DELETE_FAILED" => bail!(
            "{stack} is in {}: {}. Remove what blocks it and delete the stack (`stackctl destroy`), then deploy again",
            state.status,
            state.status_reason.as_deref().unwrap_or("no reason given")
        ),
        _ => Ok(()),
    }
}

/// The diff of one rendered template against its deployed stack, from a
/// change set that is created, read, and deleted again. A stack that does
/// not exist is shown as all new without creating anything.
pub async fn diff_stack<C: Stacks, S: ArtifactStore>(
    cfn: &C,
    store: &S,
    stack: &str,
    template: &Value,
    allowed: &[String],
    change_set_name: &str,
) -> anyhow::Result<StackDiff> {
    let state = cfn.describe(stack).await?;
    if let Some(s) = &state {
        check_state(stack, s)?;
    }
    let exists = state.as_ref().is_some_and(StackState::is_deployed);
    let old = if exists {
        cfn.deployed_template(stack).await?
    } else {
        json!({})
    };
    let mut changes = diff_templates(&old, template);
    if exists && old != *template {
        let source = template_source(store, stack, template).await?;
        let request = ChangeSetRequest {
            stack: stack.to_string(),
            name: change_set_name.to_string(),
            create: false,
            template: source,
            tags: state.map(|s| s.tags).unwrap_or_default(),
        };
        let (id, outcome) = cfn.change_set(&request).await?;
        let cleanup = cfn.delete_change_set(stack, &id).await;
        match outcome {
            ChangeSetOutcome::Ready(cfn_changes) => {
                changes = merge_change_set(changes, &cfn_changes)
            }
            ChangeSetOutcome::NoChanges => changes.clear(),
            ChangeSetOutcome::Failed(reason) => {
                bail!("CloudFormation cannot make a change set for {stack}: {reason}")
            }
        }
        cleanup?;
    }
    Ok(StackDiff {
        stack: stack.to_string(),
        exists,
        data_loss: data_loss(&changes, allowed),
        broadening: broadening(&old, template),
        changes,
    })
}

fn same_tags(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

/// The newest event of a stack, so following starts after it.
async fn newest_event<C: Stacks>(cfn: &C, stack: &str) -> anyhow::Result<Option<StackEvent>> {
    Ok(cfn.events_after(stack, None).await?.pop())
}

/// Deploys one stack: the state checks, the no-change shortcut, artifacts,
/// the change set and its guards, execution, and following it to the end.
pub async fn deploy_stack<C: Stacks, S: ArtifactStore>(
    cfn: &C,
    store: &S,
    r: &DeployRequest,
    observer: &dyn Observer,
) -> anyhow::Result<DeployOutcome> {
    let stack = r.stack.as_str();
    let mut state = cfn.describe(stack).await?;
    if let Some(s) = state.as_ref().filter(|s| s.is_busy() && r.wait_busy) {
        observer.note(
            stack,
            &format!("busy ({}); waiting for it to settle", s.status),
        );
        let newest = newest_event(cfn, stack).await?;
        // It may have settled between the two calls.
        if !newest
            .as_ref()
            .is_some_and(|e| e.is_stack() && super::watch::is_settled(&e.status))
        {
            follow(cfn, stack, newest.map(|e| e.id), r.pacing, &|e| {
                observer.event(stack, e)
            })
            .await?;
        }
        state = cfn.describe(stack).await?;
    }
    if let Some(s) = &state {
        check_state(stack, s)?;
        if s.status == "ROLLBACK_COMPLETE" {
            observer.note(stack, "the first deploy failed and left the stack in ROLLBACK_COMPLETE, which cannot be updated; deleting it and creating it again");
            let baseline = newest_event(cfn, &s.id).await?.map(|e| e.id);
            cfn.delete_stack(stack).await?;
            let settled = follow(cfn, &s.id, baseline, r.pacing, &|e| {
                observer.event(stack, e)
            })
            .await?;
            if settled.status != "DELETE_COMPLETE" {
                return Ok(DeployOutcome::Failed {
                    causes: root_causes(&settled.events).into_iter().cloned().collect(),
                    status: settled.status,
                });
            }
            state = None;
        }
    }
    let exists = state.as_ref().is_some_and(StackState::is_deployed);
    let old = if exists {
        cfn.deployed_template(stack).await?
    } else {
        json!({})
    };

    // Nothing to change: known from two reads, with no change set and no upload.
    if let Some(s) = state.as_ref().filter(|_| exists && old == r.template) {
        if same_tags(&s.tags, &r.tags) {
            if r.termination_protection && !s.termination_protection {
                cfn.set_termination_protection(stack, true).await?;
                observer.note(stack, "turned on termination protection");
            }
            return Ok(DeployOutcome::NoChanges {
                outputs: s.outputs.clone(),
            });
        }
    }

    // Packages the deployed template already runs are in the bucket (keys
    // are content hashes): only the others are checked and sent.
    let deployed_text = old.to_string();
    let pending: Vec<Shipment> = r
        .shipments
        .iter()
        .filter(|s| !deployed_text.contains(&s.key))
        .cloned()
        .collect();
    let mut uploaded = 0;
    if !pending.is_empty() {
        store.ensure().await?;
        let shipped = upload_reporting(store, &pending, |key, sent| {
            if sent {
                observer.note(stack, &format!("uploaded {key}"));
            }
        })
        .await?;
        uploaded = shipped.uploaded.len();
    }
    let source = template_source(store, stack, &r.template).await?;
    let request = ChangeSetRequest {
        stack: stack.to_string(),
        name: r.change_set_name.clone(),
        create: !exists,
        template: source,
        tags: r.tags.clone(),
    };
    let (id, outcome) = match cfn.change_set(&request).await {
        Ok(answer) => answer,
        Err(e) => {
            discard(cfn, stack, &r.change_set_name, !exists).await;
            return Err(e);
        }
    };
    let cfn_changes = match outcome {
        ChangeSetOutcome::Ready(c) => c,
        ChangeSetOutcome::NoChanges => {
            discard(cfn, stack, &id, !exists).await;
            return Ok(DeployOutcome::NoChanges {
                outputs: state.map(|s| s.outputs).unwrap_or_default(),
            });
        }
        ChangeSetOutcome::Failed(reason) => {
            discard(cfn, stack, &id, !exists).await;
            bail!("CloudFormation refused the change set for {stack}: {reason}");
        }
    };
    let changes = merge_change_set(diff_templates(&old, &r.template), &cfn_changes);
    let diff = StackDiff {
        stack: stack.to_string(),
        exists,
        data_loss: data_loss(&changes, &r.allow_replace),
        broadening: broadening(&old, &r.template),
        changes,
    };
    observer.plan(&diff);
    if !diff.data_loss.is_empty() {
        discard(cfn, stack, &id, !exists).await;
        return Ok(DeployOutcome::Refused(diff.data_loss));
    }
    if r.require_approval
        .needs_approval(&diff.changes, &diff.broadening)
    {
        let question = match r.require_approval {
            RequireApproval::AnyChange => format!("deploy these changes to {stack}?"),
            _ => format!(
                "{stack}: these changes widen permissions ({} grants). Deploy them?",
                diff.broadening.len()
            ),
        };
        let refusal = match observer.approve(stack, &question) {
            Approval::Granted => None,
            Approval::Declined => Some("not approved; nothing was deployed".to_string()),
            Approval::CannotAsk => Some(format!(
                "these changes need approval (--require-approval {}), and there is no terminal to ask on; review them with `stackctl diff`, then pass `--require-approval never` to deploy them unattended",
                match r.require_approval {
                    RequireApproval::AnyChange => "any-change",
                    _ => "broadening",
                }
            )),
        };
        if let Some(why) = refusal {
            discard(cfn, stack, &id, !exists).await;
            return Ok(DeployOutcome::NotApproved(why));
        }
    }

    let baseline = newest_event(cfn, stack).await?.map(|e| e.id);
    observer.executing(stack);
    cfn.execute_change_set(stack, &id).await?;
    let settled: Settled = follow(cfn, stack, baseline, r.pacing, &|e| {
        observer.event(stack, e)
    })
    .await?;
    if !settled.succeeded() {
        return Ok(DeployOutcome::Failed {
            causes: root_causes(&settled.events).into_iter().cloned().collect(),
            status: settled.status,
        });
    }
    let after = cfn.describe(stack).await?.unwrap_or_default();
    if r.termination_protection && !after.termination_protection {
        // The deploy itself succeeded; a failure here is reported, not fatal.
        match cfn.set_termination_protection(stack, true).await {
            Ok(()) => observer.note(stack, "turned on termination protection"),
            Err(e) => observer.note(stack, &format!("warning: could not turn on termination protection ({e:#}); run `aws cloudformation update-termination-protection --enable-termination-protection --stack-name {stack}`")),
        }
    }
    Ok(DeployOutcome::Deployed {
        status: settled.status,
        outputs: after.outputs,
        uploaded,
    })
}

/// Removes what a deploy that does not go ahead created: its change set,
/// or, when the stack may be new (`maybe_new`) and is still the empty
/// REVIEW_IN_PROGRESS shell a first change set makes, the stack itself
/// (which takes its change sets with it). Best effort: it runs on paths
/// that are already reporting a problem.
pub async fn discard<C: Stacks>(cfn: &C, stack: &str, change_set: &str, maybe_new: bool) {
    if maybe_new
        && matches!(cfn.describe(stack).await, Ok(Some(s)) if s.status == "REVIEW_IN_PROGRESS")
    {
        let _ = cfn.delete_stack(stack).await;
        return;
    }
    let _ = cfn.delete_change_set(stack, change_set).await;
}

/// What a destroy did.
#[derive(Debug, Clone, PartialEq)]
pub enum DestroyOutcome {
    Missing,
    Protected,
    Destroyed {
        retained: Vec<Retained>,
    },
    Failed {
        status: String,
        causes: Vec<StackEvent>,
    },
}

/// A resource that outlives its stack (DeletionPolicy Retain).
#[derive(Debug, Clone, PartialEq)]
pub struct Retained {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: String,
}

/// Deletes a stack and follows the deletion; lists what was kept.
pub async fn destroy_stack<C: Stacks>(
    cfn: &C,
    stack: &str,
    pacing: Pacing,
    observer: &dyn Observer,
) -> anyhow::Result<DestroyOutcome> {
    let Some(state) = cfn.describe(stack).await? else {
        return Ok(DestroyOutcome::Missing);
    };
    if state.termination_protection {
        return Ok(DestroyOutcome::Protected);
    }
    if state.is_busy() {
        bail!(
            "{stack} is busy ({}); wait for it to settle before destroying it",
            state.status
        );
    }
    let template = if state.is_deployed() {
        cfn.deployed_template(stack).await?
    } else {
        json!({})
    };
    let kept_by_policy = |id: &str| {
        matches!(
            template["Resources"][id]["DeletionPolicy"].as_str(),
            Some("Retain" | "RetainExceptOnCreate" | "Snapshot")
        )
    };
    let retained: Vec<Retained> = cfn
        .resources(stack)
        .await?
        .into_iter()
        .filter(|r| kept_by_policy(&r.logical_id))
        .map(|r| Retained {
            logical_id: r.logical_id,
            resource_type: r.resource_type,
            physical_id: r.physical_id,
        })
        .collect();
    let baseline = newest_event(cfn, &state.id).await?.map(|e| e.id);
    cfn.delete_stack(stack).await?;
    let settled = follow(cfn, &state.id, baseline, pacing, &|e| {
        observer.event(stack, e)
    })
    .await?;
    if settled.status != "DELETE_COMPLETE" {
        return Ok(DestroyOutcome::Failed {
            causes: root_causes(&settled.events).into_iter().cloned().collect(),
            status: settled.status,
        });
    }
    Ok(DestroyOutcome::Destroyed { retained })
}

//! Diff, deploy and destroy one stack through CloudFormation change sets.
//!
//! Generic over [`Stacks`] and [`ArtifactStore`], so every path (no
//! changes, refused data loss, declined approval, failures and rollbacks,
//! a stack left in ROLLBACK_COMPLETE, a busy stack) runs against scripted
//! answers as well as against AWS. What a person sees goes through
//! [`Observer`]; nothing here prints or reads a terminal.

use super::artifacts::{upload_reporting, ArtifactStore, Shipment};
use super::drift::{last_drift, KnownDrift};
use super::stacks::{
    merge_change_set, CfnChange, ChangeSetOutcome, ChangeSetRequest, StackEvent, StackResource,
    StackState, Stacks, TemplateSource,
};
use super::triggers::{first_deploy_note, guarding, tripped, Guarding, Trigger};
use super::validation::Validation;
use super::watch::{follow, root_causes, Pacing, Settled};
use crate::diff::guard::{broadening, data_loss, Refusal, RequireApproval};
use crate::diff::update_rules::{update_refusals, UpdateRefusal};
use crate::diff::{diff_templates, ResourceChange};
use crate::rollback::RollbackGuard;
use serde_json::{json, Value};

/// What stackctl knows about one stack's pending changes.
#[derive(Debug, Clone, PartialEq)]
pub struct StackDiff {
    pub stack: String,
    pub exists: bool,
    pub changes: Vec<ResourceChange>,
    pub data_loss: Vec<Refusal>,
    pub broadening: Vec<(String, String)>,
    /// Updates AWS would fail while applying them (a deploy refuses these).
    pub update_refusals: Vec<UpdateRefusal>,
    /// What CloudFormation's pre-deployment validation said about the
    /// change set (warnings: a failing one stops before a diff is shown).
    pub validation: Validation,
    /// Resources changed outside CloudFormation: the latest detection's
    /// findings (a diff), or the drift-aware change set's (`--revert-drift`).
    pub drift: KnownDrift,
}

/// The answer to "go ahead?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Granted,
    Declined,
    /// Nobody can be asked (no terminal): never wait on a prompt.
    CannotAsk,
    /// Ctrl-C at the question: nothing goes ahead.
    Interrupted,
}

/// Where a deploy reports, and whom it asks.
pub trait Observer: Sync {
    fn note(&self, stack: &str, text: &str);
    /// Something went wrong that does not stop the deploy, with what to do.
    fn warning(&self, stack: &str, text: &str, hint: &str) {
        self.note(stack, &format!("warning: {text}; {hint}"));
    }
    fn plan(&self, diff: &StackDiff);
    fn event(&self, stack: &str, event: &StackEvent);
    fn approve(&self, stack: &str, question: &str) -> Approval;
    /// A change set is about to be requested: from here on an interrupted
    /// deploy may have something in CloudFormation to remove.
    fn creating_change_set(&self, stack: &str);
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
    /// The alarms that guard an update (rollback triggers).
    pub rollback: RollbackGuard,
    /// Put resources changed outside CloudFormation back as the template
    /// says (a drift-aware change set); an existing stack only.
    pub revert_drift: bool,
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
    /// AWS would fail the update part-way; refused before execution (before
    /// any change set, where the templates alone tell).
    UpdateRefused(Vec<UpdateRefusal>),
    /// Approval was needed and not given; nothing was executed.
    NotApproved(String),
    /// CloudFormation would not make the change set (its validation failed,
    /// or the template is wrong); nothing was executed.
    Rejected(ChangeSetRejected),
    /// CloudFormation failed and rolled back (or could not).
    Failed {
        status: String,
        causes: Vec<StackEvent>,
    },
    /// An alarm guarding the update (a rollback trigger) went into ALARM
    /// during it or its monitoring window, and CloudFormation rolled it back.
    AlarmRolledBack {
        status: String,
        /// The alarms the stack's events blame.
        alarms: Vec<Trigger>,
        monitoring_minutes: u32,
        causes: Vec<StackEvent>,
    },
}

/// A change set CloudFormation failed for a reason other than "no changes",
/// with the validation results that say why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("CloudFormation rejected the change set for {stack}:{}", self.validation.lines(&self.stack).iter().map(|l| format!("\n  {l}")).collect::<String>())]
pub struct ChangeSetRejected {
    pub stack: String,
    pub validation: Validation,
}

/// A stack in a state no deploy can start from, with what resolves it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateRefusal {
    #[error("{stack} is busy ({status}); wait for it to settle (`stackctl deploy --wait-busy` waits), or follow it with `aws cloudformation describe-stack-events --stack-name {stack}`")]
    Busy { stack: String, status: String },
    #[error("{stack} is in UPDATE_ROLLBACK_FAILED: a rollback could not finish ({reason}). Fix the cause, then finish the rollback with `aws cloudformation continue-update-rollback --stack-name {stack}` (add `--resources-to-skip LOGICAL_ID` for a resource that cannot roll back), and deploy again")]
    UpdateRollbackFailed { stack: String, reason: String },
    #[error("{stack} is in ROLLBACK_FAILED: its first deploy failed and could not be undone ({reason}). Remove what blocks the rollback, delete the stack with `aws cloudformation delete-stack --stack-name {stack}`, then deploy again")]
    RollbackFailed { stack: String, reason: String },
    #[error("{stack} is in DELETE_FAILED: a deletion could not finish ({reason}). Remove what blocks it and delete again with `stackctl destroy`, which lists what failed and offers to force-delete the stack leaving those resources behind (`--force-delete`), then deploy again")]
    DeleteFailed { stack: String, reason: String },
    #[error("{stack} is not deployed yet, so nothing of it can have drifted: `--revert-drift` works on a deployed stack only. Deploy it without `--revert-drift`; nothing was created")]
    NothingToRevert { stack: String },
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
fn check_state(stack: &str, state: &StackState) -> Result<(), StateRefusal> {
    let (stack, reason) = (
        stack.to_string(),
        state
            .status_reason
            .clone()
            .unwrap_or_else(|| "no reason given".into()),
    );
    if state.is_busy() {
        return Err(StateRefusal::Busy {
            stack,
            status: state.status.clone(),
        });
    }
    match state.status.as_str() {
        "UPDATE_ROLLBACK_FAILED" => Err(StateRefusal::UpdateRollbackFailed { stack, reason }),
        "ROLLBACK_FAILED" => Err(StateRefusal::RollbackFailed { stack, reason }),
        "DELETE_FAILED" => Err(StateRefusal::DeleteFailed { stack, reason }),
        _ => Ok(()),
    }
}

/// What CloudFormation's validation said about a change set: read only when
/// there is something to read (a failed change set, or a ready one with a
/// status reason), so an ordinary deploy makes no extra call. A failure to
/// read is kept and shown, never fatal: the change set's own verdict stands.
async fn validation_of<C: Stacks>(
    cfn: &C,
    stack: &str,
    change_set: &str,
    failed: bool,
    reason: Option<String>,
) -> Validation {
    if reason.is_none() && !failed {
        return Validation {
            change_set: change_set.to_string(),
            ..Validation::default()
        };
    }
    Validation::new(
        change_set,
        failed,
        reason,
        cfn.validation_results(stack, change_set, failed).await,
    )
}

/// The change set's changes and warnings, or why CloudFormation rejected it
/// (`None` for no changes).
async fn read_outcome<C: Stacks>(
    cfn: &C,
    stack: &str,
    id: &str,
    outcome: ChangeSetOutcome,
) -> Result<Option<(Vec<CfnChange>, Validation)>, ChangeSetRejected> {
    match outcome {
        ChangeSetOutcome::Ready { changes, note } => Ok(Some((
            changes,
            validation_of(cfn, stack, id, false, note).await,
        ))),
        ChangeSetOutcome::NoChanges => Ok(None),
        ChangeSetOutcome::Failed(reason) => Err(ChangeSetRejected {
            stack: stack.to_string(),
            validation: validation_of(cfn, stack, id, true, Some(reason)).await,
        }),
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
    let mut validation = Validation::default();
    if exists && old != *template {
        let source = template_source(store, stack, template).await?;
        let request = ChangeSetRequest {
            stack: stack.to_string(),
            name: change_set_name.to_string(),
            create: false,
            template: source,
            tags: state.as_ref().map(|s| s.tags.clone()).unwrap_or_default(),
            // The change set is read and deleted, never run.
            rollback: None,
            revert_drift: false,
        };
        let (id, outcome) = cfn.change_set(&request).await?;
        // Read before deleting: the results belong to the change set.
        let read = read_outcome(cfn, stack, &id, outcome).await;
        let cleanup = if id.is_empty() {
            Ok(true)
        } else {
            cfn.delete_change_set(stack, &id).await
        };
        match read? {
            Some((cfn_changes, warnings)) => {
                changes = merge_change_set(changes, &cfn_changes);
                validation = warnings;
            }
            None => changes.clear(),
        }
        cleanup?;
    }
    // Read, never detected: a detection takes minutes (`stackctl drift`).
    let drift = match state.as_ref().filter(|_| exists) {
        Some(s) => last_drift(cfn, stack, s).await,
        None => KnownDrift::default(),
    };
    Ok(StackDiff {
        stack: stack.to_string(),
        exists,
        data_loss: data_loss(&changes, allowed),
        broadening: broadening(&old, template),
        update_refusals: update_refusals(&old, template, &changes),
        changes,
        validation,
        drift,
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
    // Before anything is changed (a ROLLBACK_COMPLETE stack is recreated below).
    if r.revert_drift && !state.as_ref().is_some_and(StackState::is_deployed) {
        return Err(StateRefusal::NothingToRevert {
            stack: stack.to_string(),
        }
        .into());
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
    // A drift-aware change set finds changes the templates do not show.
    if let Some(s) = state
        .as_ref()
        .filter(|_| exists && old == r.template && !r.revert_drift)
    {
        if same_tags(&s.tags, &r.tags) {
            if r.termination_protection && !s.termination_protection {
                protect(cfn, stack, observer).await;
            }
            return Ok(DeployOutcome::NoChanges {
                outputs: s.outputs.clone(),
            });
        }
    }

    // An update AWS would start and then fail (and roll back): refused
    // from the templates alone, before anything is uploaded or created.
    let local = diff_templates(&old, &r.template);
    let refused = update_refusals(&old, &r.template, &local);
    if !refused.is_empty() {
        observer.plan(&StackDiff {
            stack: stack.to_string(),
            exists,
            data_loss: data_loss(&local, &r.allow_replace),
            broadening: broadening(&old, &r.template),
            update_refusals: refused.clone(),
            changes: local,
            validation: Validation::default(),
            drift: KnownDrift::default(),
        });
        return Ok(DeployOutcome::UpdateRefused(refused));
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
    let guarding = match state.as_ref().filter(|_| exists) {
        Some(s) => Some(guarding_of(cfn, stack, s, &r.rollback).await?),
        None => None,
    };
    let request = ChangeSetRequest {
        stack: stack.to_string(),
        name: r.change_set_name.clone(),
        create: !exists,
        template: source,
        tags: r.tags.clone(),
        rollback: guarding.as_ref().map(Guarding::settings),
        revert_drift: r.revert_drift,
    };
    observer.creating_change_set(stack);
    let (id, outcome) = match cfn.change_set(&request).await {
        Ok(answer) => answer,
        Err(e) => {
            discard_reporting(cfn, stack, &r.change_set_name, !exists, observer).await;
            return Err(e.into());
        }
    };
    let (cfn_changes, validation) = match read_outcome(cfn, stack, &id, outcome).await {
        Ok(Some(ready)) => ready,
        Ok(None) => {
            discard_reporting(cfn, stack, &id, !exists, observer).await;
            return Ok(DeployOutcome::NoChanges {
                outputs: state.map(|s| s.outputs).unwrap_or_default(),
            });
        }
        Err(rejected) => {
            discard_reporting(cfn, stack, &id, !exists, observer).await;
            return Ok(DeployOutcome::Rejected(rejected));
        }
    };
    let drift = if r.revert_drift {
        KnownDrift::from_change_set(&cfn_changes)
    } else {
        KnownDrift::default()
    };
    let changes = merge_change_set(local, &cfn_changes);
    // Again with CloudFormation's replacement verdicts, which some rules need.
    let diff = StackDiff {
        stack: stack.to_string(),
        exists,
        data_loss: data_loss(&changes, &r.allow_replace),
        broadening: broadening(&old, &r.template),
        update_refusals: update_refusals(&old, &r.template, &changes),
        changes,
        validation,
        drift,
    };
    observer.plan(&diff);
    if !diff.data_loss.is_empty() {
        discard_reporting(cfn, stack, &id, !exists, observer).await;
        return Ok(DeployOutcome::Refused(diff.data_loss));
    }
    if !diff.update_refusals.is_empty() {
        discard_reporting(cfn, stack, &id, !exists, observer).await;
        return Ok(DeployOutcome::UpdateRefused(diff.update_refusals));
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
            Approval::Interrupted => {
                Some("interrupted at the question; nothing was deployed".to_string())
            }
            Approval::CannotAsk => Some(format!(
                "these changes need approval (--require-approval {}), and there is no terminal to ask on; review them with `stackctl diff`, then pass `--require-approval never` to deploy them unattended",
                match r.require_approval {
                    RequireApproval::AnyChange => "any-change",
                    _ => "broadening",
                }
            )),
        };
        if let Some(why) = refusal {
            discard_reporting(cfn, stack, &id, !exists, observer).await;
            return Ok(DeployOutcome::NotApproved(why));
        }
    }

    let guard_note = match &guarding {
        Some(g) => g.describe(),
        None => first_deploy_note(&r.rollback),
    };
    if let Some(note) = guard_note {
        observer.note(stack, &note);
    }
    let baseline = newest_event(cfn, stack).await?.map(|e| e.id);
    observer.executing(stack);
    cfn.execute_change_set(stack, &id).await?;
    let settled: Settled = follow(cfn, stack, baseline, r.pacing, &|e| {
        observer.event(stack, e)
    })
    .await?;
    let triggers = guarding.map(|g| g.triggers).unwrap_or_default();
    let blamed: Vec<Trigger> = tripped(&settled.events, &triggers)
        .into_iter()
        .cloned()
        .collect();
    if !settled.succeeded() && !blamed.is_empty() {
        return Ok(DeployOutcome::AlarmRolledBack {
            alarms: blamed,
            monitoring_minutes: r.rollback.monitoring_minutes,
            causes: root_causes(&settled.events).into_iter().cloned().collect(),
            status: settled.status,
        });
    }
    if !settled.succeeded() {
        return Ok(DeployOutcome::Failed {
            causes: root_causes(&settled.events).into_iter().cloned().collect(),
            status: settled.status,
        });
    }
    let after = cfn.describe(stack).await?.unwrap_or_default();
    if r.termination_protection && !after.termination_protection {
        protect(cfn, stack, observer).await;
    }
    Ok(DeployOutcome::Deployed {
        status: settled.status,
        outputs: after.outputs,
        uploaded,
    })
}

/// What guards an update of the deployed stack `state`: the deployed
/// resources are listed only when there are alarms to look for.
async fn guarding_of<C: Stacks>(
    cfn: &C,
    stack: &str,
    state: &StackState,
    guard: &RollbackGuard,
) -> anyhow::Result<Guarding> {
    let deployed = if guard.off.is_none() && !guard.alarms.is_empty() {
        cfn.resources(stack).await?
    } else {
        Vec::new()
    };
    Ok(guarding(guard, &state.id, &deployed))
}

/// Turns on termination protection. The stack itself is deployed (or was
/// already), so a failure here is reported with the command, not fatal.
async fn protect<C: Stacks>(cfn: &C, stack: &str, observer: &dyn Observer) {
    match cfn.set_termination_protection(stack, true).await {
        Ok(()) => observer.note(stack, "turned on termination protection"),
        Err(e) => observer.warning(
            stack,
            &format!("could not turn on termination protection ({e})"),
            &format!("run `aws cloudformation update-termination-protection --enable-termination-protection --stack-name {stack}`"),
        ),
    }
}

/// What removing a deploy's pending change set did.
#[derive(Debug, Clone, PartialEq)]
pub enum Cleanup {
    /// The stack was the empty REVIEW_IN_PROGRESS shell a first change set
    /// makes; it was deleted, and its change sets with it.
    RemovedStack,
    RemovedChangeSet,
    /// There was no such change set (or stack) to remove.
    NothingToRemove,
    /// CloudFormation could not be asked or refused; the change set may remain.
    Failed(String),
}

/// Removes what a deploy that does not go ahead created: its change set,
/// or, when the stack may be new (`maybe_new`) and is still the empty
/// REVIEW_IN_PROGRESS shell a first change set makes, the stack itself.
/// Says what it did, so nobody is told of a removal that did not happen.
pub async fn discard<C: Stacks>(
    cfn: &C,
    stack: &str,
    change_set: &str,
    maybe_new: bool,
) -> Cleanup {
    if maybe_new {
        match cfn.describe(stack).await {
            Err(e) => return Cleanup::Failed(e.to_string()),
            Ok(None) => return Cleanup::NothingToRemove,
            Ok(Some(s)) if s.status == "REVIEW_IN_PROGRESS" => {
                return match cfn.delete_stack(stack).await {
                    Ok(()) => Cleanup::RemovedStack,
                    Err(e) => Cleanup::Failed(e.to_string()),
                };
            }
            Ok(Some(_)) => {}
        }
    }
    // The emulator's immediate "no changes" answer makes no change set.
    if change_set.is_empty() {
        return Cleanup::NothingToRemove;
    }
    match cfn.delete_change_set(stack, change_set).await {
        Ok(true) => Cleanup::RemovedChangeSet,
        Ok(false) => Cleanup::NothingToRemove,
        Err(e) => Cleanup::Failed(e.to_string()),
    }
}

/// [`discard`] on a path that is already reporting something else: only a
/// failure is worth a note, with the command that finishes the job.
async fn discard_reporting<C: Stacks>(
    cfn: &C,
    stack: &str,
    change_set: &str,
    maybe_new: bool,
    observer: &dyn Observer,
) {
    if let Cleanup::Failed(why) = discard(cfn, stack, change_set, maybe_new).await {
        observer.warning(
            stack,
            &format!("the change set was not removed ({why})"),
            &format!("remove it with `aws cloudformation delete-change-set --stack-name {stack} --change-set-name {change_set}`"),
        );
    }
}

/// What a destroy did.
#[derive(Debug, Clone, PartialEq)]
pub enum DestroyOutcome {
    Missing,
    Protected,
    Destroyed {
        retained: Vec<Retained>,
    },
    /// Deleted in force-delete mode: the resources whose deletion had
    /// failed are left in the account, outside any stack.
    ForceDeleted {
        retained: Vec<Retained>,
        left_behind: Vec<StackResource>,
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

/// How a stack is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Every resource but those a DeletionPolicy keeps.
    Standard,
    /// A stack in DELETE_FAILED: CloudFormation's FORCE_DELETE_STACK, which
    /// leaves the resources whose deletion failed in the account.
    Force,
}

/// The resources of a stack in DELETE_FAILED whose deletion failed, with
/// CloudFormation's reason: what a force-delete leaves behind.
pub async fn delete_failures<C: Stacks>(
    cfn: &C,
    stack: &str,
) -> anyhow::Result<Vec<StackResource>> {
    Ok(cfn
        .resources(stack)
        .await?
        .into_iter()
        .filter(|r| r.status == "DELETE_FAILED")
        .collect())
}

/// Deletes a stack and follows the deletion; lists what was kept.
pub async fn destroy_stack<C: Stacks>(
    cfn: &C,
    stack: &str,
    pacing: Pacing,
    observer: &dyn Observer,
) -> anyhow::Result<DestroyOutcome> {
    destroy_stack_by(cfn, stack, Deletion::Standard, pacing, observer).await
}

/// [`destroy_stack`] in the given mode; [`Deletion::Force`] only for a
/// stack in DELETE_FAILED, and it also lists what it left behind.
pub async fn destroy_stack_by<C: Stacks>(
    cfn: &C,
    stack: &str,
    mode: Deletion,
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
        anyhow::bail!(
            "{stack} is busy ({}); wait for it to settle before destroying it",
            state.status
        );
    }
    if mode == Deletion::Force && state.status != "DELETE_FAILED" {
        anyhow::bail!(
            "{stack} is {}, not DELETE_FAILED: force-delete applies only to a stack whose deletion failed",
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
    let (left_behind, others): (Vec<StackResource>, Vec<StackResource>) = cfn
        .resources(stack)
        .await?
        .into_iter()
        .partition(|r| mode == Deletion::Force && r.status == "DELETE_FAILED");
    let retained: Vec<Retained> = others
        .into_iter()
        .filter(|r| kept_by_policy(&r.logical_id))
        .map(|r| Retained {
            logical_id: r.logical_id,
            resource_type: r.resource_type,
            physical_id: r.physical_id,
        })
        .collect();
    let baseline = newest_event(cfn, &state.id).await?.map(|e| e.id);
    match mode {
        Deletion::Standard => cfn.delete_stack(stack).await?,
        Deletion::Force => cfn.force_delete_stack(stack).await?,
    }
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
    Ok(match mode {
        Deletion::Standard => DestroyOutcome::Destroyed { retained },
        Deletion::Force => DestroyOutcome::ForceDeleted {
            retained,
            left_behind,
        },
    })
}

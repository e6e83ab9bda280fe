//! `stackctl destroy`: delete a deployed stack after the person types its
//! name (or `--yes`), follow the deletion, list what was retained. A stack
//! in DELETE_FAILED is offered CloudFormation's force-delete mode, which
//! leaves the resources that failed to delete behind: that needs its own
//! consent (typed, or `--force-delete`), and they are listed before and after.

use super::args::DestroyArgs;
use super::console::Console;
use super::exit;
use super::settings::{connect, DeclaredRegion, Settings};
use super::stacks::deployment_of;
use super::ui::{Answer, Ui};
use crate::engine::deploy::{
    delete_failures, destroy_stack_by, Deletion, DestroyOutcome, Retained,
};
use crate::engine::stacks::{StackResource, Stacks};
use crate::engine::watch::Pacing;

pub fn run(settings: &Settings, args: &DestroyArgs, ui: &Ui) -> anyhow::Result<u8> {
    let Some(target) = deployment_of(&settings.stacks_dir, &args.stack, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
    let name = target.stack_name;
    if !args.yes && !ui.can_ask() {
        ui.error(
            &format!("destroying {name} needs a confirmation, and there is no terminal to ask on"),
            Some("pass --yes to destroy it unattended (and --force-delete for a stack in DELETE_FAILED)"),
        );
        return Ok(exit::FAILURE);
    }
    let declared = DeclaredRegion {
        stack: name.clone(),
        region: target.region,
    };
    // Which account and region, before the question and before any write.
    let aws = connect(settings, std::slice::from_ref(&declared), true, ui)?;
    ui.interrupts().listen_to_ctrl_c();
    let consent = Consent {
        yes: args.yes,
        force_delete: args.force_delete,
    };
    destroy(
        &aws.runtime,
        aws.context.cloudformation(),
        &name,
        consent,
        ui,
    )
}

/// What the command line already agreed to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Consent {
    /// `--yes`: delete without asking.
    pub yes: bool,
    /// `--force-delete`: a stack in DELETE_FAILED may be force-deleted,
    /// leaving behind what failed to delete.
    pub force_delete: bool,
}

/// Asks as needed, deletes `name` and reports; the exit code. Any
/// CloudFormation will do (the tests script its answers).
pub fn destroy<C: Stacks>(
    runtime: &tokio::runtime::Runtime,
    cfn: &C,
    name: &str,
    consent: Consent,
    ui: &Ui,
) -> anyhow::Result<u8> {
    let state = runtime.block_on(cfn.describe(name))?;
    let status = state.as_ref().map(|s| s.status.as_str());
    // A protected stack is refused whatever its state: nothing to offer.
    let protected = state.as_ref().is_some_and(|s| s.termination_protection);
    let mode = if status == Some("DELETE_FAILED") && !protected {
        let failed = runtime.block_on(delete_failures(cfn, name))?;
        if let Err(code) = agree_to_force(name, &failed, consent, ui) {
            return Ok(code);
        }
        Deletion::Force
    } else {
        if let (true, Some(status)) = (consent.force_delete, status) {
            ui.line(&format!("--force-delete applies only to a stack in DELETE_FAILED; {name} is {status}, so it is deleted the usual way"));
        }
        if !consent.yes {
            if let Err(code) = confirmed(name, &confirmation(name, ui), ui) {
                return Ok(code);
            }
        }
        Deletion::Standard
    };
    let console = Console::new(ui);
    let seen = ui.interrupts().count();
    let outcome = runtime.block_on(async {
        tokio::select! {
            biased;
            () = ui.interrupts().after(seen) => Ok(None),
            outcome = destroy_stack_by(cfn, name, mode, Pacing::default(), &console) => outcome.map(Some),
        }
    })?;
    console.finish();
    let Some(outcome) = outcome else {
        ui.line(&format!("stopped watching; if the deletion started, CloudFormation carries on: aws cloudformation describe-stack-events --stack-name {name}"));
        return Ok(exit::INTERRUPTED);
    };
    report(name, outcome, ui)
}

/// Whether the typed answer is the stack's name; the exit code when not.
fn confirmed(name: &str, answer: &Answer, ui: &Ui) -> Result<(), u8> {
    match answer {
        Answer::Line(typed) if typed == name => Ok(()),
        Answer::Interrupted => {
            ui.line("interrupted; nothing was deleted");
            Err(exit::INTERRUPTED)
        }
        _ => {
            ui.line("not confirmed; nothing was deleted");
            Err(exit::FAILURE)
        }
    }
}

/// What the person typed when asked for the stack's name.
fn confirmation(name: &str, ui: &Ui) -> Answer {
    ui.line(&format!(
        "This deletes the stack {name} and every resource it does not retain."
    ));
    ui.ask("Type the stack name to confirm:")
}

/// A stack in DELETE_FAILED: says what force-delete would leave behind,
/// then takes `--force-delete` (with `--yes`) or a typed name as consent;
/// the exit code when there is none.
fn agree_to_force(
    name: &str,
    failed: &[StackResource],
    consent: Consent,
    ui: &Ui,
) -> Result<(), u8> {
    ui.line(&format!(
        "{name} is in DELETE_FAILED: an earlier deletion could not delete {}",
        if failed.is_empty() {
            "it (no resource reports why)".to_string()
        } else {
            format!("these resources:\n{}", resource_lines(failed))
        }
    ));
    ui.line("CloudFormation's force-delete mode deletes the stack and leaves those resources in the account, outside any stack (they still exist and may still cost money); resources kept by DeletionPolicy Retain are kept as usual.");
    if consent.force_delete && consent.yes {
        return Ok(());
    }
    if !ui.can_ask() || consent.yes {
        ui.error(
            &format!("{name} is in DELETE_FAILED, and deleting it now leaves the resources above behind, which needs its own consent"),
            Some(&format!("to delete the stack and leave them behind, run destroy again with --force-delete{}; or remove what blocks their deletion (the reasons above) and retry a full deletion with `aws cloudformation delete-stack --stack-name {name}`", if ui.can_ask() { "" } else { " --yes" })),
        );
        return Err(exit::FAILURE);
    }
    confirmed(
        name,
        &ui.ask("Type the stack name to force-delete it, leaving those resources behind:"),
        ui,
    )
}

/// One indented line per resource: what it is, and why it is still there.
fn resource_lines(resources: &[StackResource]) -> String {
    resources
        .iter()
        .map(|r| {
            format!(
                "  {} ({}): {}{}",
                r.logical_id,
                r.resource_type,
                if r.physical_id.is_empty() {
                    "no physical id"
                } else {
                    &r.physical_id
                },
                r.status_reason
                    .as_deref()
                    .map(|why| format!(" ({why})"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn report(name: &str, outcome: DestroyOutcome, ui: &Ui) -> anyhow::Result<u8> {
    match outcome {
        DestroyOutcome::Missing => {
            ui.line(&format!("{name} does not exist; nothing to destroy"));
            Ok(exit::OK)
        }
        DestroyOutcome::Protected => {
            ui.error(
                &format!("{name} has termination protection (on for prod stacks, or where `termination_protection: true`), so it cannot be deleted"),
                Some(&format!("if deleting it is intended, lift the protection first:\n      aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {name}\n    then run this destroy again (and set `termination_protection: false` in the stack, or the next deploy turns it back on)")),
            );
            Ok(exit::FAILURE)
        }
        DestroyOutcome::ForceDeleted {
            retained,
            left_behind,
        } => {
            let _ = writeln!(ui.err(), "{name}: deleted (force-delete)");
            if !left_behind.is_empty() {
                let _ = writeln!(
                    ui.err(),
                    "left behind (their deletion failed; they still exist, outside any stack, and may still cost money):\n{}",
                    resource_lines(&left_behind)
                );
                let _ = writeln!(ui.err(), "  = hint: delete them yourself once what blocked them is gone, or import them into a stack");
            }
            report_retained(name, &retained, ui);
            Ok(exit::OK)
        }
        DestroyOutcome::Destroyed { retained } => {
            let _ = writeln!(ui.err(), "{name}: deleted");
            report_retained(name, &retained, ui);
            Ok(exit::OK)
        }
        DestroyOutcome::Failed { status, causes } => {
            let _ = writeln!(
                ui.err(),
                "{name}: deletion failed, the stack is now {status}"
            );
            for c in causes {
                let _ = writeln!(
                    ui.err(),
                    "  caused by {} ({}): {} {}",
                    c.logical_id,
                    c.resource_type,
                    c.status,
                    c.reason.as_deref().unwrap_or("")
                );
            }
            Ok(exit::FAILURE)
        }
    }
}

/// What DeletionPolicy kept: it outlives the stack.
fn report_retained(name: &str, retained: &[Retained], ui: &Ui) {
    if retained.is_empty() {
        return;
    }
    let _ = writeln!(
        ui.err(),
        "retained (DeletionPolicy Retain; they still exist and may still cost money):"
    );
    for r in retained {
        let _ = writeln!(
            ui.err(),
            "  {} ({}): {}",
            r.logical_id,
            r.resource_type,
            r.physical_id
        );
    }
    let _ = writeln!(ui.err(), "  = hint: a later deploy of {name} cannot create resources with these names until they are deleted or imported");
}

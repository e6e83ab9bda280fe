//! `stackctl destroy`: delete a deployed stack after the person types its
//! name (or `--yes`), follow the deletion, list what was retained.

use super::args::DestroyArgs;
use super::console::Console;
use super::exit;
use super::settings::{connect, DeclaredRegion, Settings};
use super::stacks::deployment_of;
use super::ui::{Answer, Ui};
use crate::engine::deploy::{destroy_stack, DestroyOutcome};
use crate::engine::watch::Pacing;

pub fn run(settings: &Settings, args: &DestroyArgs, ui: &Ui) -> anyhow::Result<u8> {
    let Some(target) = deployment_of(&settings.stacks_dir, &args.stack, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
    let name = target.stack_name;
    if !args.yes && !ui.can_ask() {
        ui.error(
            &format!("destroying {name} needs a confirmation, and there is no terminal to ask on"),
            Some("pass --yes to destroy it unattended"),
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
    if !args.yes {
        match confirmation(&name, ui) {
            Answer::Line(typed) if typed == name => {}
            Answer::Interrupted => {
                ui.line("interrupted; nothing was deleted");
                return Ok(exit::INTERRUPTED);
            }
            _ => {
                ui.line("not confirmed; nothing was deleted");
                return Ok(exit::FAILURE);
            }
        }
    }
    let console = Console::new(ui);
    let seen = ui.interrupts().count();
    let outcome = aws.runtime.block_on(async {
        tokio::select! {
            biased;
            () = ui.interrupts().after(seen) => Ok(None),
            outcome = destroy_stack(aws.context.cloudformation(), &name, Pacing::default(), &console) => outcome.map(Some),
        }
    })?;
    console.finish();
    let Some(outcome) = outcome else {
        ui.line(&format!("stopped watching; if the deletion started, CloudFormation carries on: aws cloudformation describe-stack-events --stack-name {name}"));
        return Ok(exit::INTERRUPTED);
    };
    report(&name, outcome, ui)
}

/// What the person typed when asked for the stack's name.
fn confirmation(name: &str, ui: &Ui) -> Answer {
    ui.line(&format!(
        "This deletes the stack {name} and every resource it does not retain."
    ));
    ui.ask("Type the stack name to confirm:")
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
        DestroyOutcome::Destroyed { retained } => {
            let _ = writeln!(ui.err(), "{name}: deleted");
            if !retained.is_empty() {
                let _ = writeln!(
                    ui.err(),
                    "retained (DeletionPolicy Retain; they still exist and may still cost money):"
                );
                for r in &retained {
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

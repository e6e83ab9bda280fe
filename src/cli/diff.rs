//! `stackctl diff`: what a deploy would change, from CloudFormation's own
//! change set (created, read, and deleted again) merged with the template
//! diff, with the data-loss and security findings a deploy would act on.

use super::args::{Cli, DiffArgs, OutputMode};
use super::exit;
use super::stacks::load_stacks;
use crate::diff::{Action, Replacement};
use crate::engine::artifacts::S3Store;
use crate::engine::deploy::{diff_stack, StackDiff};
use crate::engine::session::{Session, SessionOptions};
use crate::engine::stacks::CloudFormation;
use serde_json::{json, Value};
use std::io::Write;

pub fn run(
    cli: &Cli,
    args: &DiffArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&cli.stacks_dir, &args.stacks, err)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let session = runtime.block_on(Session::load(&SessionOptions {
        profile: args.aws.profile.clone(),
        region: args.aws.region.clone(),
    }))?;
    // Built first, so code changes show as the new package keys they are.
    let Some(targets) = super::deploy::prepare(cli, &stacks, &args.env, err)? else {
        return Ok(exit::FAILURE);
    };
    let allowed: Vec<Vec<String>> = targets
        .iter()
        .map(|t| super::args::allowed_in(&args.allow_replace, &t.app, &t.deployment.stack_name))
        .collect();
    let account_settings = targets
        .iter()
        .find(|t| t.account_settings)
        .map(|t| t.deployment.stack_name.clone());
    let needed_by: Vec<String> = targets
        .iter()
        .filter(|t| {
            t.depends_on
                .iter()
                .any(|d| Some(d) == account_settings.as_ref())
        })
        .map(|t| t.deployment.stack_name.clone())
        .collect();
    let diffs = runtime.block_on(async {
        let cfn = CloudFormation {
            client: aws_sdk_cloudformation::Client::new(&session.sdk),
        };
        let store = S3Store::for_session(&session);
        let change_set = format!(
            "stackctl-diff-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        );
        let mut diffs = Vec::new();
        for (t, allowed) in targets.iter().zip(&allowed) {
            let mut d = diff_stack(
                &cfn,
                &store,
                &t.deployment.stack_name,
                &t.template,
                allowed,
                &change_set,
            )
            .await?;
            t.locate(&mut d.validation);
            diffs.push(d);
        }
        anyhow::Ok(diffs)
    })?;
    let any_change = diffs.iter().any(|d| !d.changes.is_empty());
    for d in &diffs {
        match args.output {
            OutputMode::Json => {
                let _ = writeln!(out, "{}", to_json(d));
            }
            OutputMode::Human => {
                if account_settings.as_ref() == Some(&d.stack) {
                    let state = account_settings_state(d, &needed_by);
                    let _ = writeln!(out, "account settings ({}): {state}", d.stack);
                }
                print_human(d, out);
            }
        }
    }
    Ok(if args.exit_code && any_change {
        2
    } else {
        exit::OK
    })
}

/// What a deploy would do to the account-settings stack, and why it is there.
fn account_settings_state(d: &StackDiff, needed_by: &[String]) -> String {
    let what = match (d.exists, d.changes.is_empty()) {
        (false, _) => "would be created",
        (true, true) => "up to date",
        (true, false) => "would be updated",
    };
    format!(
        "{what} (the API Gateway CloudWatch role of this account and region, which the REST API logs of {} need)",
        needed_by.join(", ")
    )
}

fn short(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => {
            let t = v.to_string();
            if t.chars().count() > 70 {
                format!("{}…", t.chars().take(69).collect::<String>())
            } else {
                t
            }
        }
    }
}

pub(super) fn print_human(d: &StackDiff, out: &mut dyn Write) {
    let count = |a: Action| d.changes.iter().filter(|c| c.action == a).count();
    let state = if d.exists { "" } else { " (new stack)" };
    if d.changes.is_empty() {
        let _ = writeln!(out, "{}{state}: no changes", d.stack);
        return;
    }
    let _ = writeln!(
        out,
        "{}{state}: {} to add, {} to modify, {} to remove",
        d.stack,
        count(Action::Add),
        count(Action::Modify),
        count(Action::Remove)
    );
    for c in &d.changes {
        let sign = match c.action {
            Action::Add => "+",
            Action::Modify => "~",
            Action::Remove => "-",
        };
        let replacement = match c.replacement {
            Some(Replacement::True) => "  [replaced]",
            Some(Replacement::Conditional) => "  [may be replaced]",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  {sign} {}  {}{replacement}",
            c.logical_id, c.resource_type
        );
        for p in &c.properties {
            let forces = if p.replacement != Replacement::False {
                "  (forces replacement)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "      {}: {} → {}{forces}",
                p.path,
                short(&p.before),
                short(&p.after)
            );
        }
    }
    for r in &d.update_refusals {
        let _ = writeln!(
            out,
            "  ! refused: {} ({}): {}; a deploy refuses this",
            r.logical_id, r.resource_type, r.problem
        );
        let _ = writeln!(out, "      instead: {}", r.steps.join("; "));
    }
    for r in &d.data_loss {
        let _ = writeln!(out, "  ! data loss: {} ({}) would be {}; a deploy refuses this unless you pass --allow-replace {}", r.logical_id, r.resource_type, r.reason, r.logical_id);
    }
    // CloudFormation's own validation warnings (a non-empty bucket to delete…).
    for line in d.validation.lines(&d.stack) {
        let _ = writeln!(out, "  ! cloudformation: {line}");
    }
    // Grouped by resource, a few each: a new stack grants dozens.
    let mut by_resource: Vec<(&str, Vec<&str>)> = Vec::new();
    for (id, grant) in &d.broadening {
        match by_resource.iter_mut().find(|(r, _)| *r == id) {
            Some((_, grants)) => grants.push(grant),
            None => by_resource.push((id, vec![grant])),
        }
    }
    const SHOWN: usize = 3;
    for (id, grants) in &by_resource {
        let _ = writeln!(
            out,
            "  ! security: {id} gains {} grant{}",
            grants.len(),
            if grants.len() == 1 { "" } else { "s" }
        );
        for g in grants.iter().take(SHOWN) {
            let _ = writeln!(out, "      {g}");
        }
        if grants.len() > SHOWN {
            let _ = writeln!(
                out,
                "      … and {} more (`stackctl diff --output json` lists every one)",
                grants.len() - SHOWN
            );
        }
    }
}

fn to_json(d: &StackDiff) -> Value {
    json!({
        "stack": d.stack,
        "exists": d.exists,
        "changes": d.changes,
        "data_loss": d.data_loss,
        "update_refusals": d.update_refusals,
        "broadening": d.broadening.iter().map(|(id, g)| json!({"logical_id": id, "grant": g})).collect::<Vec<_>>(),
        "validation": d.validation.findings.iter().map(|f| json!({
            "severity": f.severity(d.validation.failed),
            "validation": f.name,
            "logical_id": f.resource(),
            "resource_type": f.resource_type,
            "path": f.path,
            "property": f.property_path(),
            "reason": f.reason,
            "place": f.place,
        })).collect::<Vec<_>>(),
    })
}

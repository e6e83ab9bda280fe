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
    let templates: Vec<(String, Value, Vec<String>)> = targets
        .into_iter()
        .map(|t| {
            (
                super::args::allowed_in(&args.allow_replace, &t.app, &t.deployment.stack_name),
                t,
            )
        })
        .map(|(allowed, t)| (t.deployment.stack_name, t.template, allowed))
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
        for (stack, template, allowed) in &templates {
            diffs.push(diff_stack(&cfn, &store, stack, template, allowed, &change_set).await?);
        }
        anyhow::Ok(diffs)
    })?;
    let any_change = diffs.iter().any(|d| !d.changes.is_empty());
    for d in &diffs {
        match args.output {
            OutputMode::Json => {
                let _ = writeln!(out, "{}", to_json(d));
            }
            OutputMode::Human => print_human(d, out),
        }
    }
    Ok(if args.exit_code && any_change {
        2
    } else {
        exit::OK
    })
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
    for r in &d.data_loss {
        let _ = writeln!(out, "  ! data loss: {} ({}) would be {}; a deploy refuses this unless you pass --allow-replace {}", r.logical_id, r.resource_type, r.reason, r.logical_id);
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
        "broadening": d.broadening.iter().map(|(id, g)| json!({"logical_id": id, "grant": g})).collect::<Vec<_>>(),
    })
}

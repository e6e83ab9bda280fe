//! `stackctl diff`: what a deploy would change, from CloudFormation's own
//! change set (created, read, and deleted again) merged with the template
//! diff, with the data-loss and security findings a deploy would act on.

use super::args::{allowed_in, DiffArgs, OutputMode};
use super::diff_view::print_human;
use super::exit;
use super::settings::{connect, Settings};
use super::stacks::{declared_regions, load_stacks};
use super::targets::prepare;
use super::ui::Ui;
use crate::engine::deploy::{diff_stack, StackDiff};
use crate::engine::names::change_set_name;
use serde_json::{json, Value};

pub fn run(settings: &Settings, args: &DiffArgs, ui: &Ui) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    // Credentials and region first: a build can take minutes.
    let aws = connect(settings, &declared_regions(&stacks, &args.env), true, ui)?;
    // Built first, so code changes show as the new package keys they are.
    let Some(targets) = prepare(settings, &stacks, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
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
    let (cfn, store) = (aws.context.cloudformation(), aws.context.artifacts());
    let change_set = change_set_name(Some("diff"));
    let diffs = aws.runtime.block_on(async {
        let mut diffs = Vec::new();
        for t in &targets {
            let allowed = allowed_in(&args.allow_replace, &t.app, &t.deployment.stack_name);
            let mut d = diff_stack(
                cfn,
                store,
                &t.deployment.stack_name,
                &t.template,
                &allowed,
                &change_set,
            )
            .await?;
            t.locate(&mut d.validation);
            diffs.push(d);
        }
        anyhow::Ok(diffs)
    })?;
    let any_change = diffs.iter().any(|d| !d.changes.is_empty());
    let mut out = ui.out();
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
                print_human(d, &mut **out);
            }
        }
    }
    Ok(if args.exit_code && any_change {
        exit::CHANGES
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
        "drift": d.drift,
    })
}

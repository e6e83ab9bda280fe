//! `stackctl deploy`: build, render, and deploy stacks in dependency order,
//! several at a time, following each live; Ctrl-C removes what is pending.

use super::args::{allowed_in, DeployArgs, OutputsFormat};
use super::console::Console;
use super::exit;
use super::output_formats::format_outputs;
use super::settings::{connect, Settings};
use super::stacks::{declared_regions, load_stacks};
use super::targets::{prepare, Target};
use super::ui::Ui;
use crate::atomic_file::write_atomically;
use crate::engine::account::{account_settings_request, AccountSettings};
use crate::engine::deploy::{discard, Cleanup, DeployOutcome, DeployRequest};
use crate::engine::names::change_set_name;
use crate::engine::stacks::CloudFormation;
use crate::engine::triggers::blame;
use crate::engine::watch::Pacing;
use crate::engine::waves::{completed_outputs, deploy_waves, Plan, Runs, StackRun};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn run(settings: &Settings, args: &DeployArgs, ui: &Ui) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    if args.outputs_file.as_ref().is_some_and(|p| !is_json(p)) && stacks.len() > 1 {
        ui.error(
            &format!(
                "a dotenv outputs file holds one stack's outputs, and {} stacks are being deployed",
                stacks.len()
            ),
            Some("name one stack, or write JSON with `--outputs-file outputs.json`"),
        );
        return Ok(exit::USAGE);
    }
    // Credentials and region first: a build can take minutes, a missing
    // credential or a wrong region is known now.
    let aws = connect(settings, &declared_regions(&stacks, &args.env), true, ui)?;
    let Some(targets) = prepare(settings, &stacks, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
    for (stack, dependency) in outside_dependencies(&targets) {
        ui.warning(
            &format!("{stack} depends on {dependency}, which is not part of this deploy; it is taken as deployed"),
            None,
        );
    }
    let waves = match deploy_order(&targets) {
        Ok(w) => w,
        Err(e) => {
            ui.error(&e.to_string(), None);
            return Ok(exit::FAILURE);
        }
    };
    let requests = requests(&targets, args, &change_set_name(None));
    let started = Instant::now();
    let console = Console::locating(ui, &targets);
    let runs: Runs = Mutex::new(BTreeMap::new());
    let depends_on = dependency_indices(&targets);
    let plan = Plan {
        requests: &requests,
        depends_on: &depends_on,
        waves: &waves,
        concurrency: usize::from(args.concurrency),
    };
    let (cfn, store) = (aws.context.cloudformation(), aws.context.artifacts());
    ui.interrupts().listen_to_ctrl_c();
    let seen = ui.interrupts().count();
    let interrupted = aws.runtime.block_on(async {
        tokio::select! {
            biased;
            () = ui.interrupts().after(seen) => true,
            () = deploy_waves(cfn, store, plan, &console, &runs) => false,
        }
    });
    console.finish();
    if interrupted {
        return Ok(stop(&aws.runtime, cfn, &requests, &runs, &console, ui));
    }
    let runs = runs.into_inner().expect("runs");
    let code = report_runs(&targets, &runs, ui);
    let mut outputs_of = completed_outputs(&requests, &runs);
    // The outputs are the applications'; the account settings are stackctl's.
    for t in targets.iter().filter(|t| t.account_settings) {
        outputs_of.remove(&t.deployment.stack_name);
    }
    for (stack, outputs) in &outputs_of {
        if !outputs.is_empty() {
            let _ = writeln!(
                ui.out(),
                "Outputs of {stack}:\n{}",
                indent(&format_outputs(outputs, OutputsFormat::Table))
            );
        }
    }
    if let Some(path) = &args.outputs_file {
        write_outputs_file(path, &outputs_of)?;
        ui.line(&format!("wrote the outputs to {}", path.display()));
    }
    ui.line(&format!("done in {:.1?}", started.elapsed()));
    Ok(code)
}

/// One deploy request per target, all under this run's change-set name.
fn requests(targets: &[Target], args: &DeployArgs, change_set_name: &str) -> Vec<DeployRequest> {
    targets
        .iter()
        .map(|t| {
            if t.account_settings {
                return account_settings_request(
                    t.template.clone(),
                    args.require_approval,
                    args.wait_busy,
                    change_set_name.to_string(),
                    Pacing::default(),
                );
            }
            DeployRequest {
                stack: t.deployment.stack_name.clone(),
                template: t.template.clone(),
                tags: t.deployment.tags.clone(),
                shipments: t.shipments.clone(),
                allow_replace: allowed_in(&args.allow_replace, &t.app, &t.deployment.stack_name),
                require_approval: args.require_approval,
                termination_protection: t.deployment.termination_protection,
                wait_busy: args.wait_busy,
                rollback: t.deployment.rollback.clone(),
                revert_drift: args.revert_drift,
                change_set_name: change_set_name.to_string(),
                pacing: Pacing::default(),
            }
        })
        .collect()
}

/// After Ctrl-C: cleans up (bounded, and a second Ctrl-C wins) and says
/// what is left to do.
fn stop(
    runtime: &tokio::runtime::Runtime,
    cfn: &CloudFormation,
    requests: &[DeployRequest],
    runs: &Runs,
    console: &Console<'_, '_>,
    ui: &Ui<'_>,
) -> u8 {
    ui.line("interrupted; cleaning up (Ctrl-C again to stop at once)");
    let seen = ui.interrupts().count();
    let cleaned = runtime.block_on(async {
        tokio::select! {
            biased;
            () = ui.interrupts().after(seen) => false,
            () = tokio::time::sleep(Duration::from_secs(20)) => false,
            () = stop_cleanly(cfn, requests, runs, console, ui) => true,
        }
    });
    if !cleaned {
        for r in pending_change_sets(requests, runs, console) {
            ui.line(&format!("stopped before cleaning up {}; if a change set named {} is pending, remove it: aws cloudformation delete-change-set --stack-name {} --change-set-name {}", r.stack, r.change_set_name, r.stack, r.change_set_name));
        }
    }
    exit::INTERRUPTED
}

/// One line (or a few) per stack on how it ended; the exit code.
fn report_runs(targets: &[Target], runs: &BTreeMap<usize, StackRun>, ui: &Ui) -> u8 {
    let mut code = exit::OK;
    // The account settings first: the stacks after them depend on them.
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by_key(|&i| !targets[i].account_settings);
    for i in order {
        let t = &targets[i];
        let stack = &t.deployment.stack_name;
        match runs.get(&i) {
            // One line for the account settings when they are in place; a
            // failure is reported as any stack's.
            Some(StackRun::Finished(Ok(outcome))) => {
                match AccountSettings::from_outcome(outcome).filter(|_| t.account_settings) {
                    Some(s) => ui.line(&format!("account settings ({stack}): {}", s.as_str())),
                    None => report(stack, t, outcome, ui),
                }
            }
            Some(StackRun::Finished(Err(e))) => ui.report_about(Some(stack), e),
            Some(StackRun::Blocked { by }) => ui.line(&format!(
                "{stack}: not deployed, because {} it depends on did not deploy",
                by.join(", ")
            )),
            None => ui.line(&format!("{stack}: not deployed")),
        }
        if !runs.get(&i).is_some_and(StackRun::is_success) {
            code = exit::FAILURE;
        }
    }
    code
}

/// `--outputs-file`: JSON keyed by stack for `.json`, dotenv otherwise.
fn write_outputs_file(
    path: &std::path::Path,
    outputs_of: &BTreeMap<String, Vec<(String, String)>>,
) -> anyhow::Result<()> {
    let text = if is_json(path) {
        let map: serde_json::Map<String, Value> = outputs_of
            .iter()
            .map(|(s, o)| {
                (
                    s.clone(),
                    o.iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect::<serde_json::Map<_, _>>()
                        .into(),
                )
            })
            .collect();
        format!("{}\n", serde_json::to_string_pretty(&map)?)
    } else {
        outputs_of
            .values()
            .next()
            .map(|o| format_outputs(o, OutputsFormat::Dotenv))
            .unwrap_or_default()
    };
    write_atomically(path, text.as_bytes())
}

fn is_json(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Waves of stacks: each wave depends only on earlier ones. Dependencies on
/// stacks not being deployed now are taken as already deployed.
fn deploy_order(targets: &[Target]) -> anyhow::Result<Vec<Vec<usize>>> {
    let index: BTreeMap<&str, usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.app.as_str(), i))
        .collect();
    let mut placed: BTreeSet<usize> = BTreeSet::new();
    let mut waves = Vec::new();
    while placed.len() < targets.len() {
        let wave: Vec<usize> = (0..targets.len())
            .filter(|i| !placed.contains(i))
            .filter(|&i| {
                targets[i]
                    .depends_on
                    .iter()
                    .filter_map(|d| index.get(d.as_str()))
                    .all(|d| placed.contains(d))
            })
            .collect();
        if wave.is_empty() {
            let stuck: Vec<&str> = (0..targets.len())
                .filter(|i| !placed.contains(i))
                .map(|i| targets[i].app.as_str())
                .collect();
            anyhow::bail!(
                "the `depends_on` of {} form a cycle; no order deploys them",
                stuck.join(", ")
            );
        }
        placed.extend(&wave);
        waves.push(wave);
    }
    Ok(waves)
}

/// Each stack's dependencies among the stacks being deployed, by index.
fn dependency_indices(targets: &[Target]) -> Vec<Vec<usize>> {
    targets
        .iter()
        .map(|t| {
            t.depends_on
                .iter()
                .filter_map(|d| targets.iter().position(|o| &o.app == d))
                .collect()
        })
        .collect()
}

/// Dependencies that are not part of this deploy, as (stack, dependency).
fn outside_dependencies(targets: &[Target]) -> Vec<(&str, &str)> {
    targets
        .iter()
        .flat_map(|t| {
            t.depends_on
                .iter()
                .filter(|d| !targets.iter().any(|o| &o.app == *d))
                .map(move |d| (t.app.as_str(), d.as_str()))
        })
        .collect()
}

fn report(stack: &str, target: &Target, outcome: &DeployOutcome, ui: &Ui) {
    let mut err = ui.err();
    let _ = match outcome {
        DeployOutcome::NoChanges { .. } => writeln!(err, "{stack}: no changes; nothing deployed"),
        DeployOutcome::Deployed {
            status, uploaded, ..
        } => writeln!(err, "{stack}: {status} ({uploaded} packages uploaded)"),
        DeployOutcome::Refused(refusals) => {
            let _ = writeln!(
                err,
                "{stack}: refused, nothing deployed: the change set would lose data"
            );
            for r in refusals {
                let _ = writeln!(
                    err,
                    "  {} ({}) would be {}",
                    r.logical_id, r.resource_type, r.reason
                );
            }
            let ids: Vec<String> = refusals
                .iter()
                .map(|r| format!("--allow-replace {stack}:{}", r.logical_id))
                .collect();
            writeln!(
                err,
                "  = hint: if losing that data is intended, deploy again with {}",
                ids.join(" ")
            )
        }
        DeployOutcome::UpdateRefused(refusals) => {
            let _ = writeln!(err, "{stack}: refused, nothing deployed: AWS would fail this update part-way and roll it back");
            for r in refusals {
                let _ = writeln!(
                    err,
                    "  {} ({}): {}",
                    r.logical_id, r.resource_type, r.problem
                );
                let _ = writeln!(err, "  = hint: {}", r.steps.join("; "));
            }
            Ok(())
        }
        DeployOutcome::NotApproved(why) => writeln!(err, "{stack}: {why}"),
        DeployOutcome::Rejected(rejected) => {
            let mut rejected = rejected.clone();
            target.locate(&mut rejected.validation);
            let _ = writeln!(err, "{stack}: {rejected}");
            writeln!(err, "  = hint: nothing was deployed; fix what CloudFormation names above and deploy again")
        }
        DeployOutcome::Failed { status, causes } => {
            let _ = writeln!(err, "{stack}: failed, the stack is now {status}");
            for c in causes {
                let _ = writeln!(
                    err,
                    "  caused by {} ({}): {} {}",
                    c.logical_id,
                    c.resource_type,
                    c.status,
                    c.reason.as_deref().unwrap_or("")
                );
            }
            writeln!(err, "  = hint: fix the cause above and deploy again; `aws cloudformation describe-stack-events --stack-name {stack}` has the full history")
        }
        DeployOutcome::AlarmRolledBack {
            status,
            alarms,
            monitoring_minutes,
            causes,
        } => {
            let _ = writeln!(
                err,
                "{stack}: rolled back by a rollback trigger, the stack is now {status}"
            );
            for line in blame(alarms, *monitoring_minutes) {
                let _ = writeln!(err, "  {line}");
            }
            for c in causes.iter().filter(|c| c.is_stack()) {
                let _ = writeln!(
                    err,
                    "  CloudFormation: {} {}",
                    c.status,
                    c.reason.as_deref().unwrap_or("")
                );
            }
            writeln!(err, "  = hint: the new version made what the alarm watches worse; find out why (`stackctl status --env …`, `stackctl logs`), fix it and deploy again")
        }
    };
}

/// Stacks with a change set requested that neither ended nor was executed:
/// what an interrupted deploy may leave pending.
fn pending_change_sets<'r>(
    requests: &'r [DeployRequest],
    runs: &Runs,
    console: &Console<'_, '_>,
) -> Vec<&'r DeployRequest> {
    let runs = runs.lock().expect("runs");
    let (requested, executing) = (
        console.change_sets.lock().expect("change sets"),
        console.executing.lock().expect("executing"),
    );
    requests
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            !runs.contains_key(i) && requested.contains(&r.stack) && !executing.contains(&r.stack)
        })
        .map(|(_, r)| r)
        .collect()
}

/// After Ctrl-C: change sets not yet executed are removed (and a new
/// stack's empty shell); executing ones carry on in CloudFormation. Each
/// stack is told what was actually done, including a clean-up that failed.
async fn stop_cleanly(
    cfn: &CloudFormation,
    requests: &[DeployRequest],
    runs: &Runs,
    console: &Console<'_, '_>,
    ui: &Ui<'_>,
) {
    let done: BTreeSet<usize> = runs.lock().expect("runs").keys().copied().collect();
    let executing = console.executing.lock().expect("executing").clone();
    let requested = console.change_sets.lock().expect("change sets").clone();
    for (_, r) in requests
        .iter()
        .enumerate()
        .filter(|(i, _)| !done.contains(i))
    {
        let stack = &r.stack;
        if executing.contains(stack) {
            let _ = writeln!(
                ui.err(),
                "stopped watching {stack}; CloudFormation carries on with the deploy.\n  follow it: aws cloudformation describe-stack-events --stack-name {stack}\n  cancel it: aws cloudformation cancel-update-stack --stack-name {stack} (an update), or wait and `stackctl destroy` (a first deploy)"
            );
            continue;
        }
        if !requested.contains(stack) {
            let _ = writeln!(ui.err(), "interrupted before {stack} was changed; no change set had been requested, so there was nothing to remove");
            continue;
        }
        let _ = match discard(cfn, stack, &r.change_set_name, true).await {
            Cleanup::RemovedStack => writeln!(ui.err(), "interrupted before {stack} was changed; the new stack's empty shell (REVIEW_IN_PROGRESS) was deleted, and its change set with it"),
            Cleanup::RemovedChangeSet => writeln!(ui.err(), "interrupted before {stack} was changed; its pending change set {} was removed", r.change_set_name),
            Cleanup::NothingToRemove => writeln!(ui.err(), "interrupted before {stack} was changed; CloudFormation holds no change set {} for it, so there was nothing to remove", r.change_set_name),
            Cleanup::Failed(why) => writeln!(
                ui.err(),
                "interrupted before {stack} was changed, but its change set could not be removed ({why}).\n  remove it: aws cloudformation delete-change-set --stack-name {stack} --change-set-name {}\n  (a new stack left in REVIEW_IN_PROGRESS: aws cloudformation delete-stack --stack-name {stack})",
                r.change_set_name
            ),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::targets::account_settings_target;
    use super::*;
    use crate::pipeline::Places;
    use crate::plan::Deployment;
    use crate::render::{Renderer, TemplateSet};

    fn target(app: &str, depends_on: &[&str]) -> Target {
        Target {
            deployment: Deployment {
                stack_name: format!("{app}-dev"),
                tags: vec![],
                termination_protection: false,
                region: None,
                rollback: crate::rollback::RollbackGuard::none(),
            },
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            app: app.into(),
            template: Value::Null,
            shipments: vec![],
            places: Places::default(),
            account_settings: false,
        }
    }

    #[test]
    fn stacks_deploy_in_waves_after_what_they_depend_on() {
        let targets = vec![
            target("web", &["api", "cdn"]),
            target("api", &["network"]),
            target("network", &[]),
            target("cdn", &[]),
            target("jobs", &["elsewhere"]),
        ];
        assert_eq!(
            deploy_order(&targets).unwrap(),
            vec![vec![2, 3, 4], vec![1], vec![0]]
        );
        assert_eq!(outside_dependencies(&targets), vec![("jobs", "elsewhere")]);
        assert_eq!(
            dependency_indices(&targets),
            vec![vec![1, 3], vec![2], vec![], vec![], vec![]]
        );
    }

    #[test]
    fn the_account_settings_deploy_in_a_wave_before_the_stacks_whose_rest_apis_log() {
        let logging = serde_json::json!({"Resources": {"ApiStage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"AccessLogSetting": {"DestinationArn": "arn:l"}}}}});
        let mut targets = vec![
            target("web", &[]),
            target("api", &["web"]),
            target("ops", &[]),
        ];
        targets[1].template = logging.clone();
        targets[2].template = logging;
        let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
        let settings = account_settings_target(&mut targets, &renderer)
            .unwrap()
            .expect("two stacks need it");
        assert!(settings.account_settings && settings.deployment.termination_protection);
        targets.push(settings);
        assert_eq!(
            deploy_order(&targets).unwrap(),
            vec![vec![0, 3], vec![1, 2]]
        );
        assert_eq!(
            dependency_indices(&targets),
            vec![vec![], vec![0, 3], vec![3], vec![]],
            "a failure to set them blocks only the stacks that need them"
        );
        let mut quiet = vec![target("web", &[])];
        assert!(
            account_settings_target(&mut quiet, &renderer)
                .unwrap()
                .is_none(),
            "no stack needs it"
        );
        assert!(quiet[0].depends_on.is_empty());
    }

    #[test]
    fn a_dependency_cycle_is_refused_by_name() {
        let targets = vec![target("a", &["b"]), target("b", &["a"]), target("c", &[])];
        let e = deploy_order(&targets).unwrap_err().to_string();
        assert!(e.contains("a, b form a cycle"), "{e}");
    }
}

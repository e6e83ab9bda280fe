//! `stackctl deploy`: build, render, and deploy stacks in dependency order,
//! several at a time, following each live; `stackctl destroy`.

use super::args::{Cli, DeployArgs, DestroyArgs, OutputsFormat};
use super::build::{build_packages, functions_of_stacks, Reporter};
use super::exit;
use super::outputs::format_outputs;
use super::stacks::{deployment_of, load_stacks, write_atomically, LoadedStack};
use crate::build::{Layout, Packaged};
use crate::engine::account::{account_settings_request, AccountSettings};
use crate::engine::artifacts::{S3Store, Shipment};
use crate::engine::deploy::{
    destroy_stack, discard, Approval, Cleanup, DeployOutcome, DeployRequest, DestroyOutcome,
    Observer, StackDiff,
};
use crate::engine::session::{Session, SessionOptions};
use crate::engine::stacks::{CloudFormation, StackEvent};
use crate::engine::validation::Validation;
use crate::engine::watch::{is_settled, Pacing};
use crate::engine::waves::{completed_outputs, deploy_waves, Plan, Runs, StackRun};
use crate::pipeline::{render_environment, Outcome, Places};
use crate::plan::account::{
    account_settings_tags, account_settings_template, needs_account_settings,
    ACCOUNT_SETTINGS_STACK,
};
use crate::plan::{deployment, Deployment};
use crate::render::{Renderer, TemplateSet};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Exit code after Ctrl-C, as shells expect (128 + SIGINT).
const INTERRUPTED: u8 = 130;

/// One stack ready to deploy.
pub(super) struct Target {
    pub deployment: Deployment,
    pub depends_on: Vec<String>,
    pub app: String,
    pub template: Value,
    pub shipments: Vec<Shipment>,
    /// Where each resource of the template comes from in the stack file.
    pub places: Places,
    /// The account-settings stack rather than an application's.
    pub account_settings: bool,
}

impl Target {
    /// Points CloudFormation's validation findings at the stack file.
    pub fn locate(&self, validation: &mut Validation) {
        validation.locate(|id, property| self.places.of(&self.template, id, property));
    }
}

pub fn run(
    cli: &Cli,
    args: &DeployArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&cli.stacks_dir, &args.stacks, err)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    if args.outputs_file.as_ref().is_some_and(|p| !is_json(p)) && stacks.len() > 1 {
        let _ = writeln!(err, "error: a dotenv outputs file holds one stack's outputs, and {} stacks are being deployed\n  = hint: name one stack, or write JSON with `--outputs-file outputs.json`", stacks.len());
        return Ok(exit::USAGE);
    }
    // Credentials first: a build can take minutes, a missing credential is known now.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let session = runtime.block_on(Session::load(&SessionOptions {
        profile: args.aws.profile.clone(),
        region: args.aws.region.clone(),
    }))?;
    let Some(targets) = prepare(cli, &stacks, &args.env, err)? else {
        return Ok(exit::FAILURE);
    };
    for (stack, dependency) in outside_dependencies(&targets) {
        let _ = writeln!(err, "note: {stack} depends on {dependency}, which is not part of this deploy; it is taken as deployed");
    }
    let waves = match deploy_order(&targets) {
        Ok(w) => w,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Ok(exit::FAILURE);
        }
    };
    let console = Console::locating(&targets);
    for t in &targets {
        if let Some(region) = t
            .deployment
            .region
            .as_deref()
            .filter(|r| *r != session.region)
        {
            let _ = writeln!(err, "error: {} must be deployed in {region} (its `region`), but the session is in {}\n  = hint: pass `--region {region}`", t.deployment.stack_name, session.region);
            return Ok(exit::FAILURE);
        }
    }
    let cfn = CloudFormation {
        client: aws_sdk_cloudformation::Client::new(&session.sdk),
    };
    let store = S3Store::for_session(&session);
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let change_set_name = format!("stackctl-{run_id}");
    let requests: Vec<DeployRequest> = targets
        .iter()
        .map(|t| {
            if t.account_settings {
                return account_settings_request(
                    t.template.clone(),
                    args.require_approval,
                    args.wait_busy,
                    change_set_name.clone(),
                    Pacing::default(),
                );
            }
            DeployRequest {
                stack: t.deployment.stack_name.clone(),
                template: t.template.clone(),
                tags: t.deployment.tags.clone(),
                shipments: t.shipments.clone(),
                allow_replace: super::args::allowed_in(
                    &args.allow_replace,
                    &t.app,
                    &t.deployment.stack_name,
                ),
                require_approval: args.require_approval,
                termination_protection: t.deployment.termination_protection,
                wait_busy: args.wait_busy,
                change_set_name: change_set_name.clone(),
                pacing: Pacing::default(),
            }
        })
        .collect();
    let started = Instant::now();
    let runs: Runs = Mutex::new(BTreeMap::new());
    let depends_on = dependency_indices(&targets);
    let plan = Plan {
        requests: &requests,
        depends_on: &depends_on,
        waves: &waves,
        concurrency: usize::from(args.concurrency),
    };
    let all = deploy_waves(&cfn, &store, plan, &console, &runs);
    let interrupted = runtime.block_on(async {
        tokio::select! {
            () = all => false,
            _ = tokio::signal::ctrl_c() => true,
        }
    });
    console.finish();
    if interrupted {
        let _ = writeln!(
            err,
            "interrupted; cleaning up (Ctrl-C again to stop at once)"
        );
        // Cleaning up talks to AWS too: bounded, and a second Ctrl-C wins.
        let cleaned = runtime.block_on(async {
            tokio::select! {
                () = stop_cleanly(&cfn, &requests, &runs, &console, err) => true,
                _ = tokio::signal::ctrl_c() => false,
                () = tokio::time::sleep(Duration::from_secs(20)) => false,
            }
        });
        if !cleaned {
            for r in pending_change_sets(&requests, &runs, &console) {
                let _ = writeln!(err, "stopped before cleaning up {}; if a change set named {} is pending, remove it: aws cloudformation delete-change-set --stack-name {} --change-set-name {}", r.stack, r.change_set_name, r.stack, r.change_set_name);
            }
        }
        return Ok(INTERRUPTED);
    }
    let runs = runs.into_inner().expect("runs");
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
                    Some(s) => {
                        let _ = writeln!(err, "account settings ({stack}): {}", s.as_str());
                    }
                    None => report(stack, t, outcome, err),
                }
            }
            Some(StackRun::Finished(Err(e))) => {
                let _ = writeln!(err, "{stack}: error: {e:#}");
            }
            Some(StackRun::Blocked { by }) => {
                let _ = writeln!(
                    err,
                    "{stack}: not deployed, because {} it depends on did not deploy",
                    by.join(", ")
                );
            }
            None => {
                let _ = writeln!(err, "{stack}: not deployed");
            }
        }
        if !runs.get(&i).is_some_and(StackRun::is_success) {
            code = exit::FAILURE;
        }
    }
    let mut outputs_of = completed_outputs(&requests, &runs);
    // The outputs are the applications'; the account settings are stackctl's.
    for t in targets.iter().filter(|t| t.account_settings) {
        outputs_of.remove(&t.deployment.stack_name);
    }
    for (stack, outputs) in &outputs_of {
        if !outputs.is_empty() {
            let _ = writeln!(
                out,
                "Outputs of {stack}:\n{}",
                indent(&format_outputs(outputs, OutputsFormat::Table))
            );
        }
    }
    if let Some(path) = &args.outputs_file {
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
        write_atomically(path, text.as_bytes())?;
        let _ = writeln!(err, "wrote the outputs to {}", path.display());
    }
    let _ = writeln!(err, "done in {:.1?}", started.elapsed());
    Ok(code)
}

fn is_json(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Resolves, builds and renders each stack for `env`; `None` after
/// reporting what is wrong with the definitions.
pub(super) fn prepare(
    cli: &Cli,
    stacks: &[LoadedStack],
    env: &str,
    err: &mut dyn Write,
) -> anyhow::Result<Option<Vec<Target>>> {
    let Some(functions) = functions_of_stacks(stacks, Some(env), err) else {
        return Ok(None);
    };
    let mut packaged: Vec<Packaged> = Vec::new();
    if !functions.is_empty() {
        let reporter = Reporter::new(functions.len());
        packaged = build_packages(cli, &functions, &reporter)?;
        reporter.finish();
    }
    let renderer = Renderer::new(&TemplateSet::builtin())?;
    let layout = Layout::new(&cli.build_dir);
    let mut targets = Vec::new();
    for stack in stacks {
        let code = layout
            .read_manifest(&stack.name, env)?
            .map(|m| m.code_locations())
            .unwrap_or_default();
        let (template, places) = match render_environment(&stack.source, env, &renderer, &code)? {
            Outcome::Rendered {
                template, places, ..
            } => (template, places),
            Outcome::Invalid(d) => {
                for d in d {
                    let _ = write!(err, "{}", d.render(&stack.source.file));
                }
                return Ok(None);
            }
        };
        let resolved = stack.source.resolve(env);
        let def = resolved.valid_def().expect("rendered, so valid");
        let shipments = packaged
            .iter()
            .filter(|p| p.code.stack == stack.name)
            .map(|p| Shipment {
                key: p.record.key.clone(),
                path: p.record.path.clone().into(),
                sha256_base64: p.record.code_sha256.clone(),
            })
            .collect();
        targets.push(Target {
            deployment: deployment(def, env),
            depends_on: def.depends_on.clone(),
            app: def.name.clone(),
            template,
            shipments,
            places: *places,
            account_settings: false,
        });
    }
    if let Some(clash) = targets
        .iter()
        .find(|t| t.deployment.stack_name == ACCOUNT_SETTINGS_STACK)
    {
        let _ = writeln!(err, "error: stack {} has the name stackctl keeps for its account-settings stack\n  = hint: rename the stack file (its name is the stack's)", clash.deployment.stack_name);
        return Ok(None);
    }
    if let Some(settings) = account_settings_target(&mut targets, &renderer)? {
        targets.push(settings);
    }
    Ok(Some(targets))
}

/// The account-settings stack, when a stack needs it, with every stack that
/// needs it made to depend on it (so it deploys in an earlier wave, and a
/// failure to set it blocks only them).
fn account_settings_target(
    targets: &mut [Target],
    renderer: &Renderer,
) -> anyhow::Result<Option<Target>> {
    let mut needed = false;
    for t in targets
        .iter_mut()
        .filter(|t| needs_account_settings(&t.template))
    {
        t.depends_on.push(ACCOUNT_SETTINGS_STACK.into());
        needed = true;
    }
    if !needed {
        return Ok(None);
    }
    Ok(Some(Target {
        deployment: Deployment {
            stack_name: ACCOUNT_SETTINGS_STACK.into(),
            tags: account_settings_tags(),
            termination_protection: true,
            region: None,
        },
        depends_on: Vec::new(),
        app: ACCOUNT_SETTINGS_STACK.into(),
        template: account_settings_template(renderer)?,
        shipments: Vec::new(),
        places: Places::default(),
        account_settings: true,
    }))
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

fn report(stack: &str, target: &Target, outcome: &DeployOutcome, err: &mut dyn Write) {
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
    };
}

/// Stacks with a change set requested that neither ended nor was executed:
/// what an interrupted deploy may leave pending.
fn pending_change_sets<'r>(
    requests: &'r [DeployRequest],
    runs: &Runs,
    console: &Console,
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
    console: &Console,
    err: &mut dyn Write,
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
                err,
                "stopped watching {stack}; CloudFormation carries on with the deploy.\n  follow it: aws cloudformation describe-stack-events --stack-name {stack}\n  cancel it: aws cloudformation cancel-update-stack --stack-name {stack} (an update), or wait and `stackctl destroy` (a first deploy)"
            );
            continue;
        }
        if !requested.contains(stack) {
            let _ = writeln!(err, "interrupted before {stack} was changed; no change set had been requested, so there was nothing to remove");
            continue;
        }
        let _ = match discard(cfn, stack, &r.change_set_name, true).await {
            Cleanup::RemovedStack => writeln!(err, "interrupted before {stack} was changed; the new stack's empty shell (REVIEW_IN_PROGRESS) was deleted, and its change set with it"),
            Cleanup::RemovedChangeSet => writeln!(err, "interrupted before {stack} was changed; its pending change set {} was removed", r.change_set_name),
            Cleanup::NothingToRemove => writeln!(err, "interrupted before {stack} was changed; CloudFormation holds no change set {} for it, so there was nothing to remove", r.change_set_name),
            Cleanup::Failed(why) => writeln!(
                err,
                "interrupted before {stack} was changed, but its change set could not be removed ({why}).\n  remove it: aws cloudformation delete-change-set --stack-name {stack} --change-set-name {}\n  (a new stack left in REVIEW_IN_PROGRESS: aws cloudformation delete-stack --stack-name {stack})",
                r.change_set_name
            ),
        };
    }
}

/// Progress on stderr: one live line per resource on a terminal, plain
/// timestamped event lines otherwise (CI logs); prompts only on a terminal.
struct Console {
    multi: Option<MultiProgress>,
    bars: Mutex<BTreeMap<(String, String), ProgressBar>>,
    started: Instant,
    /// Stacks whose change set has been sent for execution.
    executing: Mutex<BTreeSet<String>>,
    /// Stacks for which a change set has been requested.
    change_sets: Mutex<BTreeSet<String>>,
    prompt: Mutex<()>,
    /// Template and stack-file places by stack name, to point
    /// CloudFormation's findings at the stack files.
    places: BTreeMap<String, (Value, Places)>,
}

impl Console {
    fn new() -> Console {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let multi =
            interactive.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Console {
            multi,
            bars: Mutex::new(BTreeMap::new()),
            started: Instant::now(),
            executing: Mutex::new(BTreeSet::new()),
            change_sets: Mutex::new(BTreeSet::new()),
            prompt: Mutex::new(()),
            places: BTreeMap::new(),
        }
    }

    /// A console that points findings about `targets` at their stack files.
    fn locating(targets: &[Target]) -> Console {
        let places = targets
            .iter()
            .map(|t| {
                (
                    t.deployment.stack_name.clone(),
                    (t.template.clone(), t.places.clone()),
                )
            })
            .collect();
        Console {
            places,
            ..Console::new()
        }
    }

    fn line(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("[{:>6.1}s] {text}", self.started.elapsed().as_secs_f64()),
        }
    }

    fn finish(&self) {
        for bar in self.bars.lock().expect("bars").values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

impl Observer for Console {
    fn note(&self, stack: &str, text: &str) {
        self.line(&format!("{stack}: {text}"));
    }

    fn plan(&self, diff: &StackDiff) {
        let mut diff = diff.clone();
        if let Some((template, places)) = self.places.get(&diff.stack) {
            diff.validation
                .locate(|id, property| places.of(template, id, property));
        }
        let mut text = Vec::new();
        super::diff::print_human(&diff, &mut text);
        for l in String::from_utf8_lossy(&text).lines() {
            self.line(l);
        }
    }

    fn event(&self, stack: &str, e: &StackEvent) {
        let reason = e
            .reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| format!("  {r}"))
            .unwrap_or_default();
        let Some(multi) = &self.multi else {
            self.line(&format!(
                "{stack}  {:<32} {:<36} {}{reason}",
                e.logical_id, e.resource_type, e.status
            ));
            return;
        };
        let mut bars = self.bars.lock().expect("bars");
        let bar = bars
            .entry((stack.to_string(), e.logical_id.clone()))
            .or_insert_with(|| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                        .expect("valid template"),
                );
                bar.enable_steady_tick(Duration::from_millis(150));
                bar
            });
        let message = format!(
            "{stack}  {:<32} {:<36} {}{reason}",
            e.logical_id, e.resource_type, e.status
        );
        if is_settled(&e.status) {
            bar.finish_with_message(message);
        } else {
            bar.set_message(message);
        }
    }

    fn creating_change_set(&self, stack: &str) {
        self.change_sets
            .lock()
            .expect("change sets")
            .insert(stack.to_string());
    }

    fn executing(&self, stack: &str) {
        self.executing
            .lock()
            .expect("executing")
            .insert(stack.to_string());
    }

    fn approve(&self, _stack: &str, question: &str) -> Approval {
        let Some(multi) = &self.multi else {
            return Approval::CannotAsk;
        };
        if !std::io::stdin().is_terminal() {
            return Approval::CannotAsk;
        }
        let _one_at_a_time = self.prompt.lock().expect("prompt");
        multi.suspend(|| {
            eprint!("{question} [y/N] ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().lock().read_line(&mut answer);
            if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                Approval::Granted
            } else {
                Approval::Declined
            }
        })
    }
}

pub fn destroy(cli: &Cli, args: &DestroyArgs, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(target) = deployment_of(&cli.stacks_dir, &args.stack, &args.env, err)? else {
        return Ok(exit::FAILURE);
    };
    let name = target.stack_name;
    if !args.yes {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !interactive {
            let _ = writeln!(err, "error: destroying {name} needs a confirmation, and there is no terminal to ask on\n  = hint: pass --yes to destroy it unattended");
            return Ok(exit::FAILURE);
        }
        let _ = write!(err, "This deletes the stack {name} and every resource it does not retain.\nType the stack name to confirm: ");
        let _ = err.flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != name {
            let _ = writeln!(err, "not confirmed; nothing was deleted");
            return Ok(exit::FAILURE);
        }
    }
    let console = Console::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        let session = Session::load(&SessionOptions {
            profile: args.aws.profile.clone(),
            region: args.aws.region.clone(),
        })
        .await?;
        let cfn = CloudFormation {
            client: aws_sdk_cloudformation::Client::new(&session.sdk),
        };
        tokio::select! {
            outcome = destroy_stack(&cfn, &name, Pacing::default(), &console) => outcome.map(Some),
            _ = tokio::signal::ctrl_c() => Ok(None),
        }
    })?;
    console.finish();
    let Some(outcome) = outcome else {
        let _ = writeln!(err, "stopped watching; if the deletion started, CloudFormation carries on: aws cloudformation describe-stack-events --stack-name {name}");
        return Ok(INTERRUPTED);
    };
    match outcome {
        DestroyOutcome::Missing => {
            let _ = writeln!(err, "{name} does not exist; nothing to destroy");
            Ok(exit::OK)
        }
        DestroyOutcome::Protected => {
            let _ = writeln!(
                err,
                "error: {name} has termination protection (on for prod stacks, or where `termination_protection: true`), so it cannot be deleted\n  = hint: if deleting it is intended, lift the protection first:\n      aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {name}\n    then run this destroy again (and set `termination_protection: false` in the stack, or the next deploy turns it back on)"
            );
            Ok(exit::FAILURE)
        }
        DestroyOutcome::Destroyed { retained } => {
            let _ = writeln!(err, "{name}: deleted");
            if !retained.is_empty() {
                let _ = writeln!(
                    err,
                    "retained (DeletionPolicy Retain; they still exist and may still cost money):"
                );
                for r in &retained {
                    let _ = writeln!(
                        err,
                        "  {} ({}): {}",
                        r.logical_id, r.resource_type, r.physical_id
                    );
                }
                let _ = writeln!(err, "  = hint: a later deploy of {name} cannot create resources with these names until they are deleted or imported");
            }
            Ok(exit::OK)
        }
        DestroyOutcome::Failed { status, causes } => {
            let _ = writeln!(err, "{name}: deletion failed, the stack is now {status}");
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
            Ok(exit::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(app: &str, depends_on: &[&str]) -> Target {
        Target {
            deployment: Deployment {
                stack_name: format!("{app}-dev"),
                tags: vec![],
                termination_protection: false,
                region: None,
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

//! `stackctl verify`: live posture checks derived from each stack's
//! definition (web ACLs attached, keys enabled and rotating with their
//! policy, roles holding exactly their derived policies, alarms as
//! declared, subscriptions confirmed, tables with PITR and the stack key,
//! buckets blocking public access and encrypted), each PASS or FAIL with
//! what was expected and what was found. Stacks are checked concurrently.

use super::args::{OutputMode, VerifyArgs};
use super::deployed::{read_deployed, render_for_reading, RenderedStack};
use super::exit;
use super::settings::{connect, Settings};
use super::stacks::{declared_regions, load_stacks};
use super::ui::Ui;
use crate::engine::cloudwatch::{AlarmDefinition, CloudWatch, Monitoring};
use crate::engine::context::AwsContext;
use crate::engine::error::AwsError;
use crate::engine::posture::{LivePosture, PostureReader};
use crate::local::template::Resolver;
use crate::posture::judge::{judge, Check, Observed};
use crate::posture::{expectations, Expectation, Expected};
use futures_util::future::join_all;
use serde_json::json;
use std::collections::BTreeMap;

/// One stack's verdicts, or why there are none.
enum StackVerdict {
    Checked(Vec<Check>),
    NotDeployed,
    Unreadable(AwsError),
}

pub fn run(settings: &Settings, args: &VerifyArgs, ui: &Ui) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    let Some(rendered) = render_for_reading(&settings.build_dir, &stacks, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
    let aws = connect(settings, &declared_regions(&stacks, &args.env), false, ui)?;
    let reader = LivePosture::new(aws.context.clients().clone(), aws.context.s3());
    let cloudwatch = CloudWatch::new(aws.context.clients().cloudwatch.clone());
    let verdicts = aws.runtime.block_on(join_all(
        rendered
            .iter()
            .map(|stack| verify_stack(&aws.context, &reader, &cloudwatch, stack)),
    ));
    let mut failed = false;
    for (stack, verdict) in rendered.iter().zip(&verdicts) {
        failed |= !matches!(verdict, StackVerdict::Checked(c) if c.iter().all(|c| c.passed));
        match args.output {
            OutputMode::Human => print_human(stack, verdict, &args.env, ui),
            OutputMode::Json => print_json(stack, verdict, ui)?,
        }
    }
    Ok(if failed { exit::FAILURE } else { exit::OK })
}

async fn verify_stack(
    context: &AwsContext,
    reader: &LivePosture,
    cloudwatch: &CloudWatch,
    stack: &RenderedStack,
) -> StackVerdict {
    match checks_of(context, reader, cloudwatch, stack).await {
        Ok(Some(checks)) => StackVerdict::Checked(checks),
        Ok(None) => StackVerdict::NotDeployed,
        Err(e) => StackVerdict::Unreadable(e),
    }
}

async fn checks_of(
    context: &AwsContext,
    reader: &LivePosture,
    cloudwatch: &CloudWatch,
    stack: &RenderedStack,
) -> Result<Option<Vec<Check>>, AwsError> {
    let Some((_, deployed)) = read_deployed(context, &stack.stack_name).await? else {
        return Ok(None);
    };
    let resolver = Resolver::new(&stack.template, &deployed);
    let expected = expectations(&stack.template, &resolver);
    let alarm_names: Vec<String> = expected
        .iter()
        .filter_map(|e| match &e.expected {
            Expected::Alarm(spec) if e.unresolved.is_empty() => Some(spec.name.clone()),
            _ => None,
        })
        .collect();
    let alarms: BTreeMap<String, AlarmDefinition> = if alarm_names.is_empty() {
        BTreeMap::new()
    } else {
        cloudwatch
            .alarms(&alarm_names)
            .await?
            .into_iter()
            .map(|a| (a.name.clone(), a))
            .collect()
    };
    let observed = join_all(expected.iter().map(|e| observe(reader, &alarms, e))).await;
    let mut checks = Vec::new();
    for (e, observed) in expected.iter().zip(observed) {
        match observed {
            Ok(observed) => checks.extend(judge(e, &observed)),
            // One unreadable resource (a permission missing for one key,
            // say) fails its own check, not the stack's others.
            Err(error) => checks.push(Check {
                logical_id: e.logical_id.clone(),
                check: "readable".into(),
                passed: false,
                expected: format!("an answer to: {}", error.operation),
                found: match error.hint() {
                    Some(hint) => format!("{error} ({hint})"),
                    None => error.to_string(),
                },
            }),
        }
    }
    Ok(Some(checks))
}

/// What AWS reports about the resource of `e`.
async fn observe(
    reader: &LivePosture,
    alarms: &BTreeMap<String, AlarmDefinition>,
    e: &Expectation,
) -> Result<Observed, AwsError> {
    if !e.unresolved.is_empty() {
        // Judged as unresolvable; nothing to read.
        return Ok(Observed::WebAcl(None));
    }
    Ok(match &e.expected {
        Expected::WebAclAttached { resource_arn, .. } => {
            Observed::WebAcl(reader.web_acl_of(resource_arn).await?)
        }
        Expected::Key { key_id, .. } => Observed::Key(reader.key(key_id).await?),
        Expected::Role { role_name, .. } => Observed::Role(reader.role(role_name).await?),
        Expected::Alarm(spec) => Observed::Alarm(alarms.get(&spec.name).cloned().map(Box::new)),
        Expected::Subscription { topic_arn, .. } => {
            Observed::Subscriptions(reader.subscriptions(topic_arn).await?)
        }
        Expected::Table { name, .. } => Observed::Table(reader.table(name).await?),
        Expected::Bucket { name, .. } => Observed::Bucket(reader.bucket(name).await?),
    })
}

/// `web_acls.api-acl (ApiAclWebAclProtectsMainApi)`: the stack-file entry
/// first, the logical id beside it.
fn subject(stack: &RenderedStack, logical_id: &str) -> String {
    match stack.places.origin(logical_id) {
        Some(origin) => format!("{origin} ({logical_id})"),
        None => logical_id.to_string(),
    }
}

/// The checks for people, on stdout (they are the command's answer):
/// failures first, aligned.
fn print_human(stack: &RenderedStack, verdict: &StackVerdict, env: &str, ui: &Ui) {
    let name = &stack.stack_name;
    let checks = match verdict {
        StackVerdict::NotDeployed => {
            ui.error(
                &format!("{name} is not deployed, so nothing of it can be verified"),
                Some(&format!(
                    "deploy it with `stackctl deploy --env {env} {}`",
                    stack.app
                )),
            );
            return;
        }
        StackVerdict::Unreadable(e) => {
            ui.error(
                &format!("{name}: cannot {}: {e}", e.operation),
                e.hint().as_deref(),
            );
            return;
        }
        StackVerdict::Checked(checks) => checks,
    };
    let _ = write!(ui.out(), "{}", human_report(stack, checks));
}

fn human_report(stack: &RenderedStack, checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    let mut sorted: Vec<&Check> = checks.iter().collect();
    // Failures first: they are what the reader came for.
    sorted.sort_by_key(|c| c.passed);
    let mut text = format!("{}\n", stack.stack_name);
    for c in sorted {
        let verdict = if c.passed { "PASS" } else { "FAIL" };
        let what = if c.passed {
            c.found.clone()
        } else {
            format!("expected {}; found {}", c.expected, c.found)
        };
        let subject = subject(stack, &c.logical_id);
        text.push_str(&format!(
            "  {verdict}  {:width$}  {subject}: {what}\n",
            c.check
        ));
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    text.push_str(&format!(
        "{}: {} passed, {failed} failed\n",
        stack.stack_name,
        checks.len() - failed
    ));
    text
}

fn print_json(stack: &RenderedStack, verdict: &StackVerdict, ui: &Ui) -> anyhow::Result<()> {
    let lines: Vec<serde_json::Value> = match verdict {
        StackVerdict::NotDeployed => vec![json!({
            "stack": stack.stack_name, "check": "deployed", "status": "FAIL",
            "expected": "the stack exists", "found": "no such stack",
        })],
        StackVerdict::Unreadable(e) => vec![json!({
            "stack": stack.stack_name, "check": "readable", "status": "ERROR",
            "expected": e.operation, "found": e.to_string(),
        })],
        StackVerdict::Checked(checks) => checks
            .iter()
            .map(|c| {
                json!({
                    "stack": stack.stack_name,
                    "check": c.check,
                    "subject": stack.places.origin(&c.logical_id),
                    "logical_id": c.logical_id,
                    "location": stack.places.of(&stack.template, &c.logical_id, None),
                    "status": if c.passed { "PASS" } else { "FAIL" },
                    "expected": c.expected,
                    "found": c.found,
                })
            })
            .collect(),
    };
    let mut out = ui.out();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

//! `stackctl diff`: what a deploy would change, from CloudFormation's own
//! change set (created, read, and deleted again) merged with the template
//! diff, with the data-loss and security findings a deploy would act on.

use super::args::{Cli, DiffArgs, OutputMode};
use super::exit;
use super::stacks::load_stacks;
use crate::build::Layout;
use crate::diff::guard::{broadening, data_loss, Refusal};
use crate::diff::{diff_templates, Action, Replacement, ResourceChange};
use crate::engine::artifacts::{ArtifactStore, S3Store};
use crate::engine::session::{Session, SessionOptions};
use crate::engine::stacks::{merge_change_set, ChangeSetOutcome, ChangeSetRequest, CloudFormation, Stacks, TemplateSource};
use crate::pipeline::{render_environment, Outcome};
use crate::render::{Renderer, TemplateSet};
use serde_json::{json, Value};
use std::io::Write;

/// What stackctl knows about one stack's pending changes.
pub struct StackDiff {
    pub stack: String,
    pub exists: bool,
    pub changes: Vec<ResourceChange>,
    pub data_loss: Vec<Refusal>,
    pub broadening: Vec<(String, String)>,
}

pub fn run(cli: &Cli, args: &DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&cli.stacks_dir, &args.stacks, err)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    let renderer = Renderer::new(&TemplateSet::builtin())?;
    let layout = Layout::new(&cli.build_dir);
    let mut templates = Vec::new();
    for stack in &stacks {
        let code = layout.read_manifest(&stack.name, &args.env)?.map(|m| m.code_locations()).unwrap_or_default();
        match render_environment(&stack.source, &args.env, &renderer, &code)? {
            Outcome::Rendered { template, .. } => templates.push(template),
            Outcome::Invalid(d) => {
                for d in d {
                    let _ = write!(err, "{}", d.render(&stack.source.file));
                }
                return Ok(exit::FAILURE);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let diffs = runtime.block_on(async {
        let session = Session::load(&SessionOptions { profile: args.aws.profile.clone(), region: args.aws.region.clone() }).await?;
        let cfn = CloudFormation { client: aws_sdk_cloudformation::Client::new(&session.sdk) };
        let store = S3Store { client: session.s3(), bucket: session.artifact_bucket(), tls_only: !session.plain_http() };
        let mut diffs = Vec::new();
        for template in &templates {
            diffs.push(diff_stack(&cfn, &store, &session, template, &args.allow_replace).await?);
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
    Ok(if args.exit_code && any_change { 2 } else { exit::OK })
}

/// Diffs one rendered template against its deployed stack. Cleans up after
/// itself: the change set is deleted, and no stack is created for a diff.
pub async fn diff_stack<C: Stacks, S: ArtifactStore>(cfn: &C, store: &S, session: &Session, template: &Value, allowed: &[String]) -> anyhow::Result<StackDiff> {
    let stack = format!("{}-{}", template["Metadata"]["stackctl"]["app"].as_str().unwrap_or("stack"), template["Metadata"]["stackctl"]["env"].as_str().unwrap_or("env"));
    let state = cfn.describe(&stack).await?;
    let exists = state.as_ref().is_some_and(|s| s.status != "REVIEW_IN_PROGRESS" && s.status != "ROLLBACK_COMPLETE");
    if let Some(s) = &state {
        if s.status.ends_with("_IN_PROGRESS") && s.status != "REVIEW_IN_PROGRESS" {
            anyhow::bail!("{stack} is busy ({}); wait for it to settle, or follow it with `aws cloudformation describe-stack-events --stack-name {stack}`", s.status);
        }
    }
    let old = if exists { cfn.deployed_template(&stack).await? } else { json!({}) };
    let mut changes = diff_templates(&old, template);
    if exists {
        let body = serde_json::to_string(template)?;
        let source = template_source(store, session, &stack, body).await?;
        let name = format!("stackctl-diff-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
        let request = ChangeSetRequest { stack: stack.clone(), name, create: false, template: source, tags: Vec::new() };
        let (id, outcome) = cfn.change_set(&request).await?;
        let cleanup = cfn.delete_change_set(&stack, &id).await;
        match outcome {
            ChangeSetOutcome::Ready(cfn_changes) => changes = merge_change_set(changes, &cfn_changes),
            ChangeSetOutcome::NoChanges => changes.clear(),
            ChangeSetOutcome::Failed(reason) => anyhow::bail!("CloudFormation cannot make a change set for {stack}: {reason}"),
        }
        cleanup?;
    }
    let data_loss = data_loss(&changes, allowed);
    let broadening = broadening(&old, template);
    Ok(StackDiff { stack, exists, changes, data_loss, broadening })
}

/// The template inline when CloudFormation takes it so (51,200 bytes),
/// else uploaded to the artifact bucket by its hash and passed by URL.
async fn template_source<S: ArtifactStore>(store: &S, session: &Session, stack: &str, body: String) -> anyhow::Result<TemplateSource> {
    if body.len() <= crate::check::INLINE_TEMPLATE_LIMIT {
        return Ok(TemplateSource::Body(body));
    }
    let digests = crate::artifact::sha256(body.as_bytes());
    let key = format!("templates/{stack}/{}.json", digests.hex);
    if !store.exists(&key).await? {
        store.put(&key, body.into_bytes(), &digests.base64).await?;
    }
    Ok(TemplateSource::Url(format!("https://{}.s3.{}.amazonaws.com/{key}", session.artifact_bucket(), session.region)))
}

fn short(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => {
            let t = v.to_string();
            if t.chars().count() > 70 { format!("{}…", t.chars().take(69).collect::<String>()) } else { t }
        }
    }
}

fn print_human(d: &StackDiff, out: &mut dyn Write) {
    let count = |a: Action| d.changes.iter().filter(|c| c.action == a).count();
    let state = if d.exists { "" } else { " (new stack)" };
    if d.changes.is_empty() {
        let _ = writeln!(out, "{}{state}: no changes", d.stack);
        return;
    }
    let _ = writeln!(out, "{}{state}: {} to add, {} to modify, {} to remove", d.stack, count(Action::Add), count(Action::Modify), count(Action::Remove));
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
        let _ = writeln!(out, "  {sign} {}  {}{replacement}", c.logical_id, c.resource_type);
        for p in &c.properties {
            let forces = if p.replacement != Replacement::False { "  (forces replacement)" } else { "" };
            let _ = writeln!(out, "      {}: {} → {}{forces}", p.path, short(&p.before), short(&p.after));
        }
    }
    for r in &d.data_loss {
        let _ = writeln!(out, "  ! data loss: {} ({}) would be {}; a deploy refuses this unless you pass --allow-replace {}", r.logical_id, r.resource_type, r.reason, r.logical_id);
    }
    for (id, grant) in &d.broadening {
        let _ = writeln!(out, "  ! security: {id} grants {grant}");
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

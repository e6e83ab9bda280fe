//! `stackctl drift`: CloudFormation's drift detection on deployed stacks,
//! all at once, each drifted property shown where the stack file sets it
//! (section, entry, `file:line:col`) beside the logical and physical ids.

use super::args::{DriftArgs, OutputMode};
use super::deployed::render_for_reading;
use super::diff_view::drifted_property;
use super::exit;
use super::settings::{connect, Settings};
use super::stacks::{declared_regions, load_stacks, LoadedStack};
use super::ui::Ui;
use crate::engine::drift::{
    detect_drift, DetectionPacing, DriftOutcome, DriftSource, ResourceDrift, StackDriftReport,
};
use crate::engine::error::AwsError;
use crate::pipeline::Places;
use serde_json::{json, Value};
use std::io::Write;

/// A stack to check, with what maps its resources to the stack file.
pub struct Located {
    /// The stack's name in the stacks folder (`shop`).
    pub app: String,
    /// The deployed stack's name (`shop-prod`).
    pub stack: String,
    pub template: Value,
    pub places: Places,
}

impl Located {
    /// `functions.api (stacks/shop.yaml:12:3)`: where a resource comes from.
    fn origin(&self, logical_id: &str) -> (Option<String>, Option<String>) {
        (
            self.places.origin(logical_id),
            self.places.of(&self.template, logical_id, None),
        )
    }

    /// Where the stack file sets a property, when that is more precise
    /// than the resource's entry.
    fn property_place(&self, logical_id: &str, path: &str) -> Option<String> {
        let place = self.places.of(&self.template, logical_id, Some(path))?;
        (Some(&place) != self.places.of(&self.template, logical_id, None).as_ref()).then_some(place)
    }
}

pub fn run(settings: &Settings, args: &DriftArgs, ui: &Ui) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    let announce = args.output == OutputMode::Human;
    let aws = connect(
        settings,
        &declared_regions(&stacks, &args.env),
        announce,
        ui,
    )?;
    let Some(located) = locate(settings, &stacks, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
    if announce {
        ui.line(&format!(
            "detecting drift on {} (this takes from seconds to minutes)",
            located
                .iter()
                .map(|l| l.stack.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let cfn = aws.context.cloudformation();
    let outcomes = aws.runtime.block_on(futures_util::future::join_all(
        located
            .iter()
            .map(|l| detect_drift(cfn, &l.stack, DetectionPacing::default())),
    ));
    let region = aws.context.region().to_string();
    let checked: Vec<_> = located.iter().zip(outcomes).collect();
    Ok(report(&checked, args, &region, ui))
}

/// Renders each stack for `env` (without building: only where resources
/// come from matters here); `None` after reporting an invalid definition.
fn locate(
    settings: &Settings,
    stacks: &[LoadedStack],
    env: &str,
    ui: &Ui,
) -> anyhow::Result<Option<Vec<Located>>> {
    let Some(rendered) = render_for_reading(&settings.build_dir, stacks, env, ui)? else {
        return Ok(None);
    };
    Ok(Some(
        rendered
            .into_iter()
            .map(|r| Located {
                app: r.app,
                stack: r.stack_name,
                template: r.template,
                places: r.places,
            })
            .collect(),
    ))
}

/// Prints every stack's result; the exit code.
pub fn report(
    checked: &[(&Located, Result<DriftOutcome, AwsError>)],
    args: &DriftArgs,
    region: &str,
    ui: &Ui,
) -> u8 {
    let (mut failed, mut drifted) = (false, false);
    for (l, outcome) in checked {
        match outcome {
            Ok(DriftOutcome::Checked(r)) => {
                failed |= r.failure.is_some();
                drifted |= r.is_drifted();
            }
            _ => failed = true,
        }
        match args.output {
            OutputMode::Json => {
                let _ = writeln!(ui.out(), "{}", to_json(l, outcome, region));
            }
            OutputMode::Human => print_human(l, outcome, &args.env, region, ui),
        }
    }
    if failed {
        exit::FAILURE
    } else if drifted && args.exit_code {
        exit::DRIFTED
    } else {
        exit::OK
    }
}

fn missing_message(l: &Located, env: &str, region: &str) -> (String, String) {
    (
        format!("stack {} does not exist in {region}", l.stack),
        format!(
            "drift is detected on deployed stacks; deploy it with `stackctl deploy --env {env} {}`, or check `--region`/`--profile`",
            l.app
        ),
    )
}

fn print_human(
    l: &Located,
    outcome: &Result<DriftOutcome, AwsError>,
    env: &str,
    region: &str,
    ui: &Ui,
) {
    let r = match outcome {
        Err(e) => {
            ui.error(&format!("{}: {e}", l.stack), e.hint().as_deref());
            return;
        }
        Ok(DriftOutcome::Missing) => {
            let (text, hint) = missing_message(l, env, region);
            ui.error(&text, Some(&hint));
            return;
        }
        Ok(DriftOutcome::Checked(r)) => r,
    };
    if let Some(reason) = &r.failure {
        ui.error(
            &format!(
                "{}: drift detection failed for some resources: {reason}",
                l.stack
            ),
            Some("the results below are those CloudFormation could check; run `stackctl drift` again, and look at the resources it names"),
        );
    }
    let mut out = ui.out();
    let _ = writeln!(out, "{}", summary(r));
    for resource in r.drifted() {
        print_resource(l, resource, &mut **out);
    }
    if r.drifted().next().is_some() {
        let _ = writeln!(out, "  = hint: put them back as the stack file says with `stackctl deploy --env {env} --revert-drift {}`, or change the stack file to keep them", l.app);
    }
}

/// `shop-prod: DRIFTED (2 of 9 checked: 1 modified, 1 deleted; 3 not checked), detected …`
pub fn summary(r: &StackDriftReport) -> String {
    let (modified, deleted) = (r.count("MODIFIED"), r.count("DELETED"));
    let marked_not_checked = r.count("NOT_CHECKED");
    let checked = r.resources.len() - marked_not_checked;
    let not_checked = marked_not_checked + r.unsupported.len();
    let status = if r.is_drifted() {
        "DRIFTED"
    } else {
        r.stack_status.as_str()
    };
    let mut counts = if modified + deleted > 0 {
        format!(
            "{} of {checked} checked: {modified} modified, {deleted} deleted",
            modified + deleted
        )
    } else {
        format!("{checked} checked, none changed")
    };
    if not_checked > 0 {
        counts.push_str(&format!("; {not_checked} not checked"));
    }
    let when = r
        .checked_at
        .as_deref()
        .map(|t| format!(", detected {t}"))
        .unwrap_or_default();
    format!("{}: {status} ({counts}){when}", r.stack)
}

/// One drifted resource: where it comes from, its ids, each property.
pub fn print_resource(l: &Located, r: &ResourceDrift, out: &mut dyn Write) {
    let sign = if r.status == "DELETED" { "-" } else { "~" };
    let (origin, place) = l.origin(&r.logical_id);
    let from = match (origin, place) {
        (Some(o), Some(p)) => format!("{o} ({p})"),
        (Some(o), None) => o,
        (None, Some(p)) => format!("({p})"),
        (None, None) => "(not from the stack file)".into(),
    };
    let _ = writeln!(
        out,
        "  {sign} {from}  {}  {}  {}",
        r.logical_id, r.resource_type, r.physical_id
    );
    if r.status == "DELETED" {
        let _ = writeln!(out, "      deleted outside CloudFormation");
    }
    for p in &r.properties {
        let place = l
            .property_place(&r.logical_id, &p.path)
            .map(|p| format!("  ({p})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "      {}{place}",
            drifted_property(p, DriftSource::LastDetection)
        );
    }
}

fn to_json(l: &Located, outcome: &Result<DriftOutcome, AwsError>, region: &str) -> Value {
    let base = json!({"stack": l.stack, "app": l.app});
    let extra = match outcome {
        Err(e) => json!({"status": "ERROR", "error": e.to_string(), "hint": e.hint()}),
        Ok(DriftOutcome::Missing) => {
            json!({"status": "MISSING", "error": format!("stack {} does not exist in {region}", l.stack)})
        }
        Ok(DriftOutcome::Checked(r)) => json!({
            "status": if r.is_drifted() { "DRIFTED" } else { r.stack_status.as_str() },
            "detection_id": r.detection_id,
            "detected_at": r.checked_at,
            "failure": r.failure,
            "counts": {
                "modified": r.count("MODIFIED"),
                "deleted": r.count("DELETED"),
                "in_sync": r.count("IN_SYNC"),
                "not_checked": r.count("NOT_CHECKED") + r.unsupported.len(),
                "checked": r.resources.len() - r.count("NOT_CHECKED"),
            },
            "not_checked": r.unsupported,
            "resources": r.resources.iter().map(|d| resource_json(l, d)).collect::<Vec<_>>(),
        }),
    };
    let mut object = base;
    if let (Value::Object(o), Value::Object(e)) = (&mut object, extra) {
        o.extend(e);
    }
    object
}

fn resource_json(l: &Located, r: &ResourceDrift) -> Value {
    let (origin, place) = l.origin(&r.logical_id);
    json!({
        "logical_id": r.logical_id,
        "physical_id": r.physical_id,
        "resource_type": r.resource_type,
        "status": r.status,
        "reason": r.reason,
        "origin": origin,
        "place": place,
        "properties": r.properties.iter().map(|p| json!({
            "path": p.path,
            "expected": p.expected,
            "actual": p.actual,
            "difference": p.difference,
            "place": l.places.of(&l.template, &r.logical_id, Some(&p.path)),
        })).collect::<Vec<_>>(),
    })
}

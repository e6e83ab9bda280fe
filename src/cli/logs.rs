//! `stackctl logs`: the log groups of a deployed stack's functions and
//! APIs (as its rendered template names them), merged in time order, each
//! line tagged with its function's or API's stack-file name; `--tail`
//! follows them until Ctrl-C (CloudWatch live tail, else polling).

mod follow;
mod format;
mod sources;

use super::args::{LogsArgs, OutputMode};
use super::deployed::{read_deployed, render_for_reading};
use super::exit;
use super::settings::{connect, Aws, DeclaredRegion, Settings};
use super::stacks::load_stacks;
use super::ui::Ui;
use crate::engine::logs::{merged_events, CloudWatchLogs, Found, LogEvent};
use format::{human_line, json_line, Columns};
use serde_json::Value;
use sources::{known_names, log_sources, LogSource};
use std::collections::{BTreeMap, BTreeSet};

pub fn run(settings: &Settings, args: &LogsArgs, ui: &Ui) -> anyhow::Result<u8> {
    let Some((template, def)) = rendered(settings, args, ui)? else {
        return Ok(exit::FAILURE);
    };
    // Names are checked before AWS is asked anything: they are the template's.
    let declared = log_sources(&template, &def, &BTreeMap::new());
    let names = known_names(&declared);
    if names.is_empty() {
        ui.line(&format!(
            "stack {} has no functions or APIs, so no log groups to read",
            args.stack
        ));
        return Ok(exit::OK);
    }
    if let Some(unknown) = args.functions.iter().find(|f| !names.contains(&f.as_str())) {
        ui.error(
            &format!(
                "stack {} has no function or API named {unknown}",
                args.stack
            ),
            Some(&format!("its functions and APIs: {}", names.join(", "))),
        );
        return Ok(exit::USAGE);
    }
    let stack_name = crate::plan::deployment(&def, &args.env).stack_name;
    let region = DeclaredRegion {
        stack: stack_name.clone(),
        region: def.region.clone(),
    };
    // Read-only: no account line, so the output stays what a script reads.
    let aws = connect(settings, std::slice::from_ref(&region), false, ui)?;
    let Some(physical_ids) = physical_ids(&aws, &stack_name, args, ui)? else {
        return Ok(exit::FAILURE);
    };
    let chosen: Vec<LogSource> = log_sources(&template, &def, &physical_ids)
        .into_iter()
        .filter(|s| args.functions.is_empty() || args.functions.contains(&s.name))
        .collect();
    let groups = Groups::new(&chosen, ui);
    let reader = CloudWatchLogs::new(aws.context.clients().logs.clone());
    let now = now_ms();
    let start = now.saturating_sub(i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX));
    let printer = Printer {
        columns: Columns::new(chosen.iter().map(|s| s.name.as_str()), start, now),
        output: args.output,
        names: &groups.names,
        ui,
    };
    if args.tail {
        return follow::follow(&aws, &reader, &groups, start, args, &printer);
    }
    let mut reported = BTreeSet::new();
    let starts: Vec<(&str, i64)> = groups.order.iter().map(|g| (g.as_str(), start)).collect();
    aws.runtime.block_on(merged_events(
        &reader,
        &starts,
        Some(now),
        args.filter.as_deref(),
        &mut |found| printer.found(found, &mut reported),
    ))?;
    Ok(exit::OK)
}

/// The stack's template as `deploy` would render it now (its code
/// locations do not matter here) and its definition; `None` after saying
/// what is wrong with the stack file.
fn rendered(
    settings: &Settings,
    args: &LogsArgs,
    ui: &Ui,
) -> anyhow::Result<Option<(Value, crate::model::StackDef)>> {
    let (stacks, failures) =
        load_stacks(&settings.stacks_dir, std::slice::from_ref(&args.stack), ui)?;
    if failures > 0 {
        return Ok(None);
    }
    let rendered = render_for_reading(&settings.build_dir, &stacks, &args.env, ui)?;
    Ok(rendered
        .and_then(|mut r| r.pop())
        .map(|r| (r.template, r.def)))
}

/// The deployed stack's physical ids by logical id; `None` after saying
/// the stack is not deployed.
fn physical_ids(
    aws: &Aws,
    stack_name: &str,
    args: &LogsArgs,
    ui: &Ui,
) -> anyhow::Result<Option<BTreeMap<String, String>>> {
    let Some((_, deployed)) = aws
        .runtime
        .block_on(read_deployed(&aws.context, stack_name))?
    else {
        ui.error(
            &format!(
                "stack {stack_name} does not exist in {}",
                aws.context.region()
            ),
            Some(&format!(
                "deploy it with `stackctl deploy --env {} {}`",
                args.env, args.stack
            )),
        );
        return Ok(None);
    };
    Ok(Some(deployed.physical_ids))
}

/// The log groups to read, with the name each line is tagged with.
pub(super) struct Groups {
    /// Group names, functions' first, in the template's order.
    pub order: Vec<String>,
    /// Group name → the function's or API's name.
    pub names: BTreeMap<String, String>,
}

impl Groups {
    /// Says once which chosen functions have no log group in the
    /// deployment (the stack was deployed before the template had one).
    fn new(chosen: &[LogSource], ui: &Ui) -> Groups {
        let (mut order, mut names) = (Vec::new(), BTreeMap::new());
        for source in chosen {
            match &source.group {
                Some(group) => {
                    if names.insert(group.clone(), source.name.clone()).is_none() {
                        order.push(group.clone());
                    }
                }
                None => ui.line(&format!(
                    "{}: its log group {} is not in the deployed stack yet; deploy the stack to create it",
                    source.name,
                    source.group_logical_id.as_deref().unwrap_or("(none)")
                )),
            }
        }
        Groups { order, names }
    }
}

/// Prints what the merge finds, in the chosen output.
pub(super) struct Printer<'u, 'a> {
    columns: Columns,
    output: OutputMode,
    names: &'u BTreeMap<String, String>,
    ui: &'u Ui<'a>,
}

impl Printer<'_, '_> {
    /// One event on stdout, or (once per group) that the group is missing.
    pub fn found(&self, found: Found, reported: &mut BTreeSet<String>) {
        match found {
            Found::Event(event) => self.event(&event),
            Found::MissingGroup(group) => {
                if reported.insert(group.clone()) {
                    let name = self.names.get(&group).map_or("?", String::as_str);
                    self.ui.line(&format!(
                        "{name}: log group {group} does not exist yet (nothing has been logged to it)"
                    ));
                }
            }
        }
    }

    pub fn event(&self, event: &LogEvent) {
        let name = self.names.get(&event.group).map_or("?", String::as_str);
        let line = match self.output {
            OutputMode::Human => human_line(event, name, self.columns),
            OutputMode::Json => json_line(event, name),
        };
        let mut out = self.ui.out();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Milliseconds since the epoch, now.
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

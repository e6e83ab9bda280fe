//! `stackctl status`: how deployed stacks are doing, all read at once: each
//! stack's state and last operation (CloudFormation), its declared alarms'
//! states, its functions' invocations, errors, throttles and p99 duration
//! and its APIs' 4xx/5xx answers over `--since` (CloudWatch), its
//! endpoints. Which functions, APIs and alarms a stack has comes from its
//! rendered template, so they read as in the stack file. Exit 1 when an
//! alarm is in ALARM or a stack cannot be read, so a CI step can gate on it.

mod inventory;
mod view;

use super::args::{OutputMode, StatusArgs};
use super::deployed::{read_deployed, render_for_reading};
use super::exit;
use super::settings::{connect, Settings};
use super::stacks::{declared_regions, load_stacks, LoadedStack};
use super::ui::Ui;
use crate::engine::cloudwatch::{single_period_window, CloudWatch, Monitoring};
use crate::engine::context::AwsContext;
use crate::engine::error::AwsError;
use crate::model::StackDef;
use inventory::{endpoints, inventory, metric_queries, summarise};
use serde_json::Value;
use view::{alarm_rows, Health, Outcome, StackReport, Window};

pub fn run(settings: &Settings, args: &StatusArgs, ui: &Ui) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    // The definitions first: a stack file that does not render is known
    // before any AWS call.
    let Some(expected) = render_all(settings, &stacks, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
    // Read-only, and stdout is the report: no account line.
    let aws = connect(settings, &declared_regions(&stacks, &args.env), false, ui)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let (period, start, end) = single_period_window(now, args.since.as_secs());
    let window = Window {
        since: args.since.as_secs(),
        start,
        end,
        period,
    };
    let cloudwatch = CloudWatch::new(aws.context.clients().cloudwatch.clone());
    let reports = aws.runtime.block_on(futures_util::future::join_all(
        expected
            .iter()
            .map(|e| report(&aws.context, &cloudwatch, e, window, &args.env)),
    ));
    print(&reports, args.output, ui);
    let unreadable = reports
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Unreadable { .. }));
    let in_alarm = reports.iter().any(|r| r.in_alarm() > 0);
    Ok(if unreadable || in_alarm {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// One stack as its definition says it should be in the environment.
struct Expected {
    stack: String,
    stack_name: String,
    template: Value,
    def: StackDef,
}

/// Every stack's template for `env`; `None` after reporting a definition
/// that does not render. Code locations do not matter here: only names
/// and ids are read.
fn render_all(
    settings: &Settings,
    stacks: &[LoadedStack],
    env: &str,
    ui: &Ui,
) -> anyhow::Result<Option<Vec<Expected>>> {
    let Some(rendered) = render_for_reading(&settings.build_dir, stacks, env, ui)? else {
        return Ok(None);
    };
    Ok(Some(
        rendered
            .into_iter()
            .map(|r| Expected {
                stack: r.app,
                stack_name: r.stack_name,
                template: r.template,
                def: r.def,
            })
            .collect(),
    ))
}

async fn report(
    context: &AwsContext,
    cloudwatch: &CloudWatch,
    expected: &Expected,
    window: Window,
    env: &str,
) -> StackReport {
    let outcome = match health(context, cloudwatch, expected, window).await {
        Ok(Some(health)) => Outcome::Read(Box::new(health)),
        Ok(None) => Outcome::NotDeployed {
            hint: format!(
                "deploy it with `stackctl deploy --env {env} {}`",
                expected.stack
            ),
        },
        Err(e) => Outcome::Unreadable {
            error: e.to_string(),
            hint: e.hint(),
        },
    };
    StackReport {
        stack: expected.stack.clone(),
        stack_name: expected.stack_name.clone(),
        outcome,
    }
}

/// The stack's state, alarms and figures; `None` when it is not deployed.
/// Two CloudFormation reads, then the alarms and the metrics at once.
async fn health(
    context: &AwsContext,
    cloudwatch: &CloudWatch,
    expected: &Expected,
    window: Window,
) -> Result<Option<Health>, AwsError> {
    let Some((state, deployed)) = read_deployed(context, &expected.stack_name).await? else {
        return Ok(None);
    };
    let watched = inventory(&expected.template, &expected.def, &deployed);
    let alarm_names: Vec<String> = watched
        .alarms
        .iter()
        .filter_map(|a| a.physical_id.clone())
        .collect();
    let queries = metric_queries(&watched, window.period);
    let (alarms, series) = tokio::join!(
        cloudwatch.alarms(&alarm_names),
        cloudwatch.metric_data(&queries, window.start, window.end)
    );
    let (functions, apis) = summarise(&watched, &series?);
    let last_operation = match (state.last_updated_at, state.created_at) {
        (Some(at), _) => Some(("updated", at)),
        (None, Some(at)) => Some(("created", at)),
        (None, None) => None,
    };
    Ok(Some(Health {
        status: state.status,
        status_reason: state.status_reason,
        last_operation,
        alarms: alarm_rows(&watched.alarms, &alarms?),
        functions,
        apis,
        endpoints: endpoints(&state.outputs),
        window,
    }))
}

fn print(reports: &[StackReport], output: OutputMode, ui: &Ui) {
    for (i, r) in reports.iter().enumerate() {
        match output {
            OutputMode::Json => {
                let _ = writeln!(ui.out(), "{}", view::to_json(r));
            }
            OutputMode::Human => {
                let separator = if i == 0 { "" } else { "\n" };
                let _ = write!(ui.out(), "{separator}{}", view::human(r));
            }
        }
        if let Outcome::Unreadable { error, hint } = &r.outcome {
            ui.error(error, hint.as_deref());
        }
    }
}

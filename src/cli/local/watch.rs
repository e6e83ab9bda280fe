//! The running session: serving until Ctrl-C, printing what happens,
//! firing schedules typed on standard input and delivering S3
//! notifications as objects land in notifying buckets.

use super::{channels, log_text, plan, report_invocation, Found, Reports};
use crate::cli::args::LocalSessionArgs;
use crate::cli::exit;
use crate::cli::ui::Ui;
use crate::engine::objects::list_objects;
use crate::local::aws_proxy::{AwsProxy, Event, Report, Upstream};
use crate::local::queue_triggers::queue_triggers;
use crate::local::session::{ServedApi, Session};
use crate::local::template::Resolver;
use crate::local::triggers::{self, bucket_triggers, changes, schedules, BucketTrigger, Object};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// How often notifying buckets are listed.
const BUCKET_POLL: Duration = Duration::from_secs(1);

pub(super) fn serve(
    found: Found,
    port: u16,
    args: &LocalSessionArgs,
    ui: &Ui,
) -> anyhow::Result<u8> {
    let (channels, mut reports) = channels();
    let runtime = &found.aws.runtime;
    let proxy = runtime.block_on(start_proxy(&found))?;
    let mut checks = proxy.events().expect("taken once");
    let plan = plan(&found, port, Some(proxy.endpoint()));
    let session = match runtime.block_on(Session::start(plan, channels.clone())) {
        Ok(session) => Arc::new(session),
        Err(e) => {
            ui.error(&e.to_string(), e.hint().as_deref());
            return Ok(exit::FAILURE);
        }
    };
    announce(&session.apis, ui);
    if let Some(path) = &args.ready_file {
        let apis: Vec<_> = session
            .apis
            .iter()
            .map(|a| json!({"logicalId": a.logical_id, "url": a.url()}))
            .collect();
        crate::atomic_file::write_atomically(path, json!({ "apis": apis }).to_string().as_bytes())?;
    }
    let resolver = Resolver::new(&found.template, &found.deployed);
    let buckets = bucket_triggers(&found.template, &resolver).unwrap_or_default();
    let schedules = schedules(&found.template, &resolver).unwrap_or_default();
    let queues = match queue_triggers(&found.template, &resolver) {
        Ok(queues) => queues,
        Err((mapping, e)) => {
            ui.warning(
                &format!("{mapping}: its queue cannot be read, so it delivers nothing: {e}"),
                None,
            );
            Vec::new()
        }
    };
    for q in &queues {
        ui.line(&format!(
            "delivering messages of {} to {}",
            q.queue_url, q.function
        ));
    }
    if !schedules.is_empty() {
        let names: Vec<&str> = schedules.iter().map(|s| s.logical_id.as_str()).collect();
        ui.line(&format!(
            "type a schedule's name and Enter to fire it: {}",
            names.join(", ")
        ));
    }
    ui.interrupts().listen_to_ctrl_c();
    let seen = ui.interrupts().count();
    runtime.block_on(async {
        let mut pollers = start_bucket_pollers(&found, &buckets, &session, &channels.problems);
        pollers.extend(super::queues::start_queue_pollers(
            &found.aws.context.sqs(),
            queues,
            &found.deployed.region,
            &session,
            &channels.problems,
        ));
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut stdin_open = true;
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            tokio::select! {
                () = ui.interrupts().after(seen) => break,
                Some(()) = async { terminate.as_mut()?.recv().await } => break,
                Some(line) = reports.logs.recv() => ui.line(&log_text(&line)),
                Some(served) = reports.served.recv() => ui.line(&served_text(&served)),
                Some(problem) = reports.problems.recv() => ui.warning(&problem, None),
                Some(event) = checks.recv() => print_check(&event, ui),
                line = stdin.next_line(), if stdin_open => match line {
                    Ok(Some(name)) => fire(&found, &session, &schedules, name.trim(), ui),
                    _ => stdin_open = false,
                },
            }
        }
        for poller in pollers {
            poller.abort();
        }
        ui.line("stopping: ending every function's processes");
        session.shutdown().await;
        drain(&mut reports, ui);
        while let Ok(event) = checks.try_recv() {
            print_check(&event, ui);
        }
    });
    print_report(&proxy.report(), ui);
    Ok(exit::OK)
}

/// The proxy every function's AWS calls go through, checked against its
/// role: towards the emulator when there is one, else AWS. Your own
/// credentials let it look up a resource's tags when a role's condition
/// needs them.
async fn start_proxy(found: &Found) -> anyhow::Result<AwsProxy> {
    let upstream = match crate::engine::context::local_endpoint() {
        Some(endpoint) => Upstream::Emulator(endpoint),
        None => Upstream::aws(),
    };
    AwsProxy::start_with_lookups(
        upstream,
        found.callers.clone(),
        found.stack_context.clone(),
        found.lookup_credentials.clone(),
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!("cannot start the proxy that checks the functions' AWS calls: {e}")
    })
}

fn print_check(event: &Event, ui: &Ui) {
    match event {
        Event::Denied(finding) => ui.error(&finding.to_string(), None),
        Event::Unchecked(unchecked) => ui.warning(&unchecked.to_string(), None),
    }
}

/// On exit: denied calls again (they are what to fix), then the grants no
/// call used.
fn print_report(report: &Report, ui: &Ui) {
    if !report.denied.is_empty() {
        ui.line(&format!(
            "{} AWS call(s) were denied by the functions' roles:",
            report.denied.len()
        ));
        for finding in &report.denied {
            ui.line(&format!("  {finding}"));
        }
    }
    for (function, unused) in report.unused.iter().filter(|(_, u)| !u.is_empty()) {
        ui.line(&format!(
            "function {function}: granted but never used in this session:"
        ));
        // One line per statement: its actions, then the resources they share.
        let mut statements: Vec<(&str, Vec<&str>, &[String])> = Vec::new();
        for grant in unused {
            let same = |(s, _, r): &&mut (&str, Vec<&str>, &[String])| {
                *s == grant.statement && *r == grant.resources.as_slice()
            };
            match statements.iter_mut().find(same) {
                Some((_, actions, _)) => actions.push(&grant.action),
                None => statements.push((&grant.statement, vec![&grant.action], &grant.resources)),
            }
        }
        for (statement, actions, resources) in statements {
            ui.line(&format!(
                "  {statement}: {} on {}",
                actions.join(", "),
                resources.join(", ")
            ));
        }
    }
}

fn announce(apis: &[ServedApi], ui: &Ui) {
    if apis.is_empty() {
        ui.line("the stack has no API; functions run only through `stackctl local invoke`");
    }
    for api in apis {
        ui.line(&format!(
            "serving {} ({} route{}) at {}",
            api.logical_id,
            api.routes,
            if api.routes == 1 { "" } else { "s" },
            api.url()
        ));
    }
    ui.line("stop with Ctrl-C");
}

fn served_text(served: &crate::local::server::Served) -> String {
    let via = match (&served.trace.route, &served.trace.function) {
        (Some(route), Some(function)) => format!(" ({route} → {function})"),
        (Some(route), None) => format!(" ({route})"),
        _ => String::new(),
    };
    let note = served
        .trace
        .note
        .as_deref()
        .map(|n| format!(": {n}"))
        .unwrap_or_default();
    format!(
        "{} {} {} → {} in {:.1} ms{via}{note}",
        served.api,
        served.method,
        served.path,
        served.status,
        served.took.as_secs_f64() * 1000.0
    )
}

fn drain(reports: &mut Reports, ui: &Ui) {
    while let Ok(line) = reports.logs.try_recv() {
        ui.line(&log_text(&line));
    }
    while let Ok(problem) = reports.problems.try_recv() {
        ui.warning(&problem, None);
    }
}

/// Fires the schedule `name` typed on standard input.
fn fire(
    found: &Found,
    session: &Arc<Session>,
    all: &[triggers::ScheduleTrigger],
    name: &str,
    ui: &Ui,
) {
    if name.is_empty() {
        return;
    }
    let Some(schedule) = find_schedule(all, name) else {
        let names: Vec<&str> = all.iter().map(|s| s.logical_id.as_str()).collect();
        ui.warning(
            &format!("no schedule {name}"),
            Some(&format!("the stack's schedules: {}", names.join(", "))),
        );
        return;
    };
    let payload = triggers::schedule_event(
        schedule,
        &found.deployed.account,
        &found.deployed.region,
        &now_rfc3339(),
    );
    ui.line(&format!(
        "firing {} → {}",
        schedule.logical_id, schedule.function
    ));
    let (session, function) = (session.clone(), schedule.function.clone());
    tokio::spawn(async move {
        // The outcome shows in the function's own REPORT line.
        let _ = session.invoke(&function, payload).await;
    });
}

fn find_schedule<'s>(
    all: &'s [triggers::ScheduleTrigger],
    name: &str,
) -> Option<&'s triggers::ScheduleTrigger> {
    let logical = crate::kinds::SCHEDULE.logical_id(name);
    all.iter()
        .find(|s| s.logical_id == name || s.logical_id == logical || s.name == name)
}

/// What schedule `name` sends `function`; an error saying why it cannot.
pub(super) fn schedule_payload(
    found: &Found,
    function: &str,
    name: &str,
) -> Result<Vec<u8>, String> {
    let resolver = Resolver::new(&found.template, &found.deployed);
    let all = schedules(&found.template, &resolver).map_err(|(what, e)| format!("{what}: {e}"))?;
    let schedule = find_schedule(&all, name)
        .ok_or_else(|| format!("stack {} has no schedule {name}", found.stack))?;
    if schedule.function != function {
        return Err(format!(
            "schedule {} invokes {}, not {function}",
            schedule.logical_id, schedule.function
        ));
    }
    Ok(triggers::schedule_event(
        schedule,
        &found.deployed.account,
        &found.deployed.region,
        &now_rfc3339(),
    ))
}

/// One invocation, its logs on stderr and its answer on stdout.
pub(super) fn invoke_once(
    found: Found,
    function: &str,
    payload: Vec<u8>,
    ui: &Ui,
) -> anyhow::Result<u8> {
    let (channels, mut reports) = channels();
    found.aws.runtime.block_on(async {
        let proxy = start_proxy(&found).await?;
        let mut checks = proxy.events().expect("taken once");
        let plan = plan(&found, 0, Some(proxy.endpoint()));
        let session = match Session::start(plan, channels).await {
            Ok(session) => session,
            Err(e) => {
                ui.error(&e.to_string(), e.hint().as_deref());
                return Ok(exit::FAILURE);
            }
        };
        let ran = session.invoke(function, payload).await;
        session.shutdown().await;
        drain(&mut reports, ui);
        while let Ok(event) = checks.try_recv() {
            print_check(&event, ui);
        }
        Ok(match ran {
            Some(ran) => report_invocation(&ran.result, ui),
            None => exit::FAILURE,
        })
    })
}

/// One task per notifying bucket, listing it and delivering what changed.
fn start_bucket_pollers(
    found: &Found,
    buckets: &[BucketTrigger],
    session: &Arc<Session>,
    problems: &tokio::sync::mpsc::UnboundedSender<String>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut by_bucket: BTreeMap<String, Vec<BucketTrigger>> = BTreeMap::new();
    for trigger in buckets {
        by_bucket
            .entry(trigger.bucket.clone())
            .or_default()
            .push(trigger.clone());
    }
    let client = found.aws.context.s3();
    let region = found.deployed.region.clone();
    by_bucket
        .into_iter()
        .map(|(bucket, triggers)| {
            let watcher = BucketWatcher {
                client: client.clone(),
                bucket,
                triggers,
                session: session.clone(),
                problems: problems.clone(),
                region: region.clone(),
            };
            tokio::spawn(watcher.run())
        })
        .collect()
}

struct BucketWatcher {
    client: aws_sdk_s3::Client,
    bucket: String,
    triggers: Vec<BucketTrigger>,
    session: Arc<Session>,
    problems: tokio::sync::mpsc::UnboundedSender<String>,
    region: String,
}

impl BucketWatcher {
    /// Lists the bucket every second; what is there at start is the baseline.
    async fn run(self) {
        let mut known: Option<BTreeMap<String, Object>> = None;
        let mut warned = false;
        loop {
            match list_objects(&self.client, &self.bucket).await {
                Ok((listed, truncated)) => {
                    if truncated && !warned {
                        warned = true;
                        let _ = self.problems.send(format!(
                            "bucket {} holds over {} objects; only the first are watched for notifications",
                            self.bucket,
                            crate::engine::objects::LISTING_LIMIT
                        ));
                    }
                    let now: BTreeMap<String, Object> = listed
                        .into_iter()
                        .map(|o| {
                            (
                                o.key,
                                Object {
                                    etag: o.etag,
                                    size: o.size,
                                },
                            )
                        })
                        .collect();
                    if let Some(before) = &known {
                        self.deliver(before, &now);
                    }
                    known = Some(now);
                }
                Err(error) => {
                    let _ = self
                        .problems
                        .send(format!("watching bucket {}: {error}", self.bucket));
                }
            }
            tokio::time::sleep(BUCKET_POLL).await;
        }
    }

    fn deliver(&self, before: &BTreeMap<String, Object>, now: &BTreeMap<String, Object>) {
        for (key, change, object) in changes(before, now) {
            for trigger in self.triggers.iter().filter(|t| t.matches(&key, change)) {
                let event = triggers::s3_event(
                    trigger,
                    &key,
                    object.as_ref(),
                    &self.region,
                    &now_rfc3339(),
                );
                let (session, function) = (self.session.clone(), trigger.function.clone());
                // Asynchronous, as S3 invokes: the next listing need not wait.
                tokio::spawn(async move {
                    let _ = session.invoke(&function, event).await;
                });
            }
        }
    }
}

fn now_rfc3339() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

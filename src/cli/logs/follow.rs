//! `logs --tail`: the `--since` span first, then new lines until Ctrl-C
//! (exit 0): through CloudWatch Logs live tail, one session per ten
//! groups, or, where live tail is unavailable, by polling FilterLogEvents
//! with a cursor per group that neither repeats nor drops a line.

use super::{Groups, LogsArgs, Printer};
use crate::cli::exit;
use crate::cli::settings::Aws;
use crate::engine::error::AwsError;
use crate::engine::logs::{
    live_tail_unavailable, log_group_arn, merged_events, poll_interval, CloudWatchLogs,
    FollowCursor, Found, LogEvent, LIVE_TAIL_GROUPS,
};
use std::collections::{BTreeSet, HashMap};
use tokio::sync::mpsc::{channel, Receiver, Sender};
use tokio::task::JoinSet;

type Batches = Receiver<Result<Vec<LogEvent>, AwsError>>;

pub(super) fn follow(
    aws: &Aws,
    reader: &CloudWatchLogs,
    groups: &Groups,
    start_ms: i64,
    args: &LogsArgs,
    printer: &Printer<'_, '_>,
) -> anyhow::Result<u8> {
    let ui = printer.ui;
    ui.interrupts().listen_to_ctrl_c();
    let seen = ui.interrupts().count();
    aws.runtime.block_on(async {
        tokio::select! {
            biased;
            () = ui.interrupts().after(seen) => Ok(()),
            followed = follow_lines(aws, reader, groups, start_ms, args, printer) => followed,
        }
    })?;
    Ok(exit::OK)
}

/// Follows until an error; Ctrl-C ends it from outside.
async fn follow_lines(
    aws: &Aws,
    reader: &CloudWatchLogs,
    groups: &Groups,
    start_ms: i64,
    args: &LogsArgs,
    printer: &Printer<'_, '_>,
) -> anyhow::Result<()> {
    let pattern = args.filter.as_deref();
    let mut poller = Poller::new(&groups.order, start_ms);
    let mut missing = BTreeSet::new();
    // The `--since` span, which also tells which groups exist.
    poller.poll(reader, pattern, printer, &mut missing).await?;
    let arns: Vec<String> = groups
        .order
        .iter()
        .filter(|g| !missing.contains(*g))
        .map(|g| log_group_arn(aws.context.region(), aws.context.account(), g))
        .collect();
    let every = poll_interval(groups.order.len()).as_secs();
    let live = if arns.is_empty() {
        printer.ui.line(&format!(
            "no log group exists yet; following by polling FilterLogEvents every {every} s; Ctrl-C to stop"
        ));
        None
    } else {
        match start_sessions(reader, &arns, pattern).await {
            Ok(live) => Some(live),
            Err(e) if live_tail_unavailable(&e) => {
                printer.ui.line(&format!(
                    "live tail is not available here ({e}); following by polling FilterLogEvents every {every} s; Ctrl-C to stop"
                ));
                None
            }
            Err(e) => return Err(e.into()),
        }
    };
    if let Some((mut batches, _sessions)) = live {
        if !missing.is_empty() {
            printer.ui.line("groups that do not exist yet are not followed; run `logs --tail` again once they do");
        }
        printer.ui.line(&format!(
            "following {} log group(s) live (CloudWatch Logs live tail); Ctrl-C to stop",
            arns.len()
        ));
        while let Some(batch) = batches.recv().await {
            for event in batch? {
                printer.event(&event);
            }
        }
        return Ok(());
    }
    loop {
        tokio::time::sleep(poll_interval(groups.order.len())).await;
        poller.poll(reader, pattern, printer, &mut missing).await?;
    }
}

/// Polling FilterLogEvents: one cursor per group.
struct Poller<'g> {
    order: &'g [String],
    cursors: HashMap<String, FollowCursor>,
}

impl<'g> Poller<'g> {
    fn new(order: &'g [String], start_ms: i64) -> Self {
        Poller {
            order,
            cursors: order
                .iter()
                .map(|g| (g.clone(), FollowCursor::new(start_ms)))
                .collect(),
        }
    }

    /// Prints what is new in every group, merged in time order.
    async fn poll(
        &mut self,
        reader: &CloudWatchLogs,
        pattern: Option<&str>,
        printer: &Printer<'_, '_>,
        missing: &mut BTreeSet<String>,
    ) -> Result<(), AwsError> {
        let starts: Vec<(&str, i64)> = self
            .order
            .iter()
            .map(|g| (g.as_str(), self.cursors[g].next_start_ms()))
            .collect();
        let cursors = &mut self.cursors;
        let mut still_missing = BTreeSet::new();
        merged_events(reader, &starts, None, pattern, &mut |found| match found {
            Found::Event(event) => {
                if cursors
                    .get_mut(&event.group)
                    .is_some_and(|c| c.admit(&event))
                {
                    printer.event(&event);
                }
            }
            Found::MissingGroup(group) => {
                still_missing.insert(group.clone());
                // Said once per group, however many polls find it missing.
                printer.found(Found::MissingGroup(group), missing);
            }
        })
        .await?;
        missing.retain(|g| still_missing.contains(g));
        cursors.values_mut().for_each(FollowCursor::prune);
        Ok(())
    }
}

/// Live-tail batches waiting to be printed before the sessions pause.
const BATCHES_IN_FLIGHT: usize = 64;

/// Live tail sessions of `arns`, ten groups each, all started (so a live
/// tail that cannot work here fails before anything is followed), sending
/// their lines to one receiver. Dropping the set ends them.
async fn start_sessions(
    reader: &CloudWatchLogs,
    arns: &[String],
    pattern: Option<&str>,
) -> Result<(Batches, JoinSet<()>), AwsError> {
    // Bounded: when stdout is slow (a paused pager), sessions wait rather
    // than hold every line CloudWatch sends in memory.
    let (sender, batches) = channel(BATCHES_IN_FLIGHT);
    let mut sessions = JoinSet::new();
    for chunk in arns.chunks(LIVE_TAIL_GROUPS) {
        let tail = reader.live_tail(chunk, pattern).await?;
        sessions.spawn(session(
            reader.clone(),
            chunk.to_vec(),
            pattern.map(String::from),
            tail,
            sender.clone(),
        ));
    }
    Ok((batches, sessions))
}

/// Forwards one session's lines; starts it again when CloudWatch ends it
/// (after three hours).
async fn session(
    reader: CloudWatchLogs,
    arns: Vec<String>,
    pattern: Option<String>,
    mut tail: crate::engine::logs::LiveTail,
    sender: Sender<Result<Vec<LogEvent>, AwsError>>,
) {
    loop {
        let failed = match tail.next().await {
            Ok(Some(events)) => {
                if sender.send(Ok(events)).await.is_err() {
                    return;
                }
                continue;
            }
            Ok(None) => match reader.live_tail(&arns, pattern.as_deref()).await {
                Ok(again) => {
                    tail = again;
                    continue;
                }
                Err(e) => e,
            },
            Err(e) => e,
        };
        let _ = sender.send(Err(failed)).await;
        return;
    }
}

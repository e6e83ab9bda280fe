//! CloudWatch Logs as `stackctl logs` reads it: log events of several
//! groups merged in time order ([`merged_events`]), following them by
//! polling without repeating or dropping a line ([`FollowCursor`]), and
//! CloudWatch's own live tail ([`LiveTail`]) where it answers.
//!
//! Memory: the merge holds at most one FilterLogEvents page
//! ([`PAGE_LIMIT`] events) per group and asks for a group's next page only
//! when its last one has been printed: a k-way merge of the groups' own
//! time-ordered pages, never everything collected and sorted.

use super::error::{AwsError, ErrorKind};
use super::retry::RetryPolicy;
use aws_sdk_cloudwatchlogs::operation::start_live_tail::StartLiveTailOutput;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

/// The most events one FilterLogEvents page brings, so the most held per group.
pub const PAGE_LIMIT: i32 = 1_000;
/// How many log groups one live tail session may follow (StartLiveTail's limit).
pub const LIVE_TAIL_GROUPS: usize = 10;

/// One log line of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub group: String,
    pub stream: String,
    /// Milliseconds since the epoch: when the function wrote it.
    pub timestamp_ms: i64,
    /// CloudWatch's id of the event; empty from live tail, which gives none.
    pub event_id: String,
    pub message: String,
}

/// One FilterLogEvents answer.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub events: Vec<LogEvent>,
    pub next_token: Option<String>,
}

/// What is asked of one group: events from `start_ms` to `end_ms`
/// (inclusive; open-ended without), matching the filter pattern if any.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub pattern: Option<&'a str>,
}

/// The one read `logs` needs, so tests can script it.
pub trait LogReader {
    /// One page of one group's events (FilterLogEvents, up to [`PAGE_LIMIT`]).
    fn page(
        &self,
        group: &str,
        window: Window<'_>,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Page, AwsError>> + Send;
}

/// What the merge reports, in the order it finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Event(LogEvent),
    /// The group does not exist (ResourceNotFoundException): nothing was
    /// ever logged to it, or it was never created.
    MissingGroup(String),
}

/// A group's events still to print, and where its next page is.
struct Cursor<'g> {
    group: &'g str,
    start_ms: i64,
    held: VecDeque<LogEvent>,
    token: Option<String>,
    more: bool,
    missing: bool,
}

/// Every event of `groups` (each with the time it starts from) up to
/// `end_ms`, matching `pattern`, handed to `sink` in time order across the
/// groups; a missing group is reported once and skipped.
pub async fn merged_events<R: LogReader + Sync>(
    reader: &R,
    groups: &[(&str, i64)],
    end_ms: Option<i64>,
    pattern: Option<&str>,
    sink: &mut dyn FnMut(Found),
) -> Result<(), AwsError> {
    let mut cursors: Vec<Cursor<'_>> = groups
        .iter()
        .map(|&(group, start_ms)| Cursor {
            group,
            start_ms,
            held: VecDeque::new(),
            token: None,
            more: true,
            missing: false,
        })
        .collect();
    // The first pages of all groups at once: most groups need only one.
    futures_util::future::try_join_all(
        cursors
            .iter_mut()
            .map(|c| refill(reader, c, end_ms, pattern)),
    )
    .await?;
    for c in &cursors {
        if c.missing {
            sink(Found::MissingGroup(c.group.to_string()));
        }
    }
    loop {
        let heads: Vec<Option<&LogEvent>> = cursors.iter().map(|c| c.held.front()).collect();
        let Some(i) = earliest(&heads) else {
            return Ok(());
        };
        if let Some(event) = cursors[i].held.pop_front() {
            sink(Found::Event(event));
        }
        if cursors[i].held.is_empty() {
            refill(reader, &mut cursors[i], end_ms, pattern).await?;
        }
    }
}

/// Reads pages of the cursor's group until one holds events or there are
/// no more (a page may come back empty with a token: CloudWatch searched
/// part of the span and has more to search).
async fn refill<R: LogReader>(
    reader: &R,
    cursor: &mut Cursor<'_>,
    end_ms: Option<i64>,
    pattern: Option<&str>,
) -> Result<(), AwsError> {
    while cursor.held.is_empty() && cursor.more {
        let window = Window {
            start_ms: cursor.start_ms,
            end_ms,
            pattern,
        };
        match reader
            .page(cursor.group, window, cursor.token.as_deref())
            .await
        {
            Ok(mut page) => {
                // Stable: events of one millisecond keep the service's order.
                page.events.sort_by_key(|e| e.timestamp_ms);
                cursor.held.extend(page.events);
                cursor.more = page.next_token.is_some() && page.next_token != cursor.token;
                cursor.token = page.next_token;
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                cursor.missing = true;
                cursor.more = false;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The index of the group whose next event comes first; on equal
/// timestamps the group listed first, so ties print in a stable order.
pub fn earliest(heads: &[Option<&LogEvent>]) -> Option<usize> {
    heads
        .iter()
        .enumerate()
        .filter_map(|(i, head)| head.map(|e| (e.timestamp_ms, i)))
        .min()
        .map(|(_, i)| i)
}

/// Where following one group by polling FilterLogEvents has got to. Each
/// poll starts [`FollowCursor::LOOKBACK_MS`] before the newest line seen,
/// so a line CloudWatch ingests late is still found; the event ids seen
/// since that start are kept, so nothing found twice is printed twice, and
/// lines of one millisecond are told apart by id, never by time alone.
#[derive(Debug, Clone)]
pub struct FollowCursor {
    floor_ms: i64,
    newest_ms: i64,
    /// Event id → its timestamp, for every event at or after the next start.
    seen: HashMap<String, i64>,
}

impl FollowCursor {
    /// How late (by its own timestamp) a line may reach CloudWatch and
    /// still be printed.
    pub const LOOKBACK_MS: i64 = 15_000;

    /// Following from `start_ms` on.
    pub fn new(start_ms: i64) -> Self {
        FollowCursor {
            floor_ms: start_ms,
            newest_ms: start_ms,
            seen: HashMap::new(),
        }
    }

    /// Where the next poll starts.
    pub fn next_start_ms(&self) -> i64 {
        (self.newest_ms - Self::LOOKBACK_MS).max(self.floor_ms)
    }

    /// Whether `event` is new (to print), remembering it.
    pub fn admit(&mut self, event: &LogEvent) -> bool {
        if event.timestamp_ms < self.next_start_ms() {
            return false;
        }
        if self.seen.contains_key(&event.event_id) {
            return false;
        }
        self.seen.insert(event.event_id.clone(), event.timestamp_ms);
        self.newest_ms = self.newest_ms.max(event.timestamp_ms);
        true
    }

    /// Forgets ids older than the next poll's start: no poll can find them.
    pub fn prune(&mut self) {
        let start = self.next_start_ms();
        self.seen.retain(|_, timestamp| *timestamp >= start);
    }

    /// Event ids remembered (the memory a follow holds per group).
    pub fn remembered(&self) -> usize {
        self.seen.len()
    }
}

/// The pause between polls of `groups` log groups: at least 2 s, and
/// long enough that one poll a group stays near 2.5 FilterLogEvents calls a
/// second (the account's quota for the call is shared by everyone in it).
pub fn poll_interval(groups: usize) -> Duration {
    Duration::from_millis((groups as u64 * 400).max(2_000))
}

/// Whether live tail cannot be had here and following by polling should
/// be used instead: its endpoint unreachable or answering something that
/// is not an event stream (an emulator), the operation unknown, refused to
/// this identity, or refused for the group (an Infrequent Access group) or
/// for too many sessions. Read from the error's kind and code only.
pub fn live_tail_unavailable(error: &AwsError) -> bool {
    const UNAVAILABLE: &[&str] = &[
        "UnknownOperationException",
        "InvalidAction",
        "NotImplemented",
        "InvalidOperationException",
        "LimitExceededException",
    ];
    match error.kind {
        ErrorKind::Transport | ErrorKind::UnexpectedAnswer | ErrorKind::AccessDenied => true,
        _ if error
            .code
            .as_deref()
            .is_some_and(|c| UNAVAILABLE.contains(&c)) =>
        {
            true
        }
        // An endpoint without the operation, as opposed to a missing group.
        _ => error.code.is_none() && matches!(error.status, Some(404 | 501)),
    }
}

/// `arn:aws:logs:eu-west-1:123456789012:log-group:NAME`, as StartLiveTail
/// wants groups named (without the `:*` DescribeLogGroups appends).
pub fn log_group_arn(region: &str, account: &str, group: &str) -> String {
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    format!("arn:{partition}:logs:{region}:{account}:log-group:{group}")
}

/// The group's name in a log group ARN (with or without the `:*`).
pub fn group_of_arn(arn: &str) -> &str {
    let name = arn.split_once(":log-group:").map_or(arn, |(_, name)| name);
    name.strip_suffix(":*").unwrap_or(name)
}

/// CloudWatch Logs through the SDK.
#[derive(Clone)]
pub struct CloudWatchLogs {
    client: aws_sdk_cloudwatchlogs::Client,
    retry: RetryPolicy,
}

impl CloudWatchLogs {
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> Self {
        CloudWatchLogs {
            client,
            retry: RetryPolicy::default(),
        }
    }

    /// A live tail session of up to [`LIVE_TAIL_GROUPS`] groups (by ARN),
    /// started: it has answered with its session start, so a live tail
    /// that cannot work here fails now, not at its first update.
    pub async fn live_tail(
        &self,
        group_arns: &[String],
        pattern: Option<&str>,
    ) -> Result<LiveTail, AwsError> {
        const OPERATION: &str =
            "start a live tail of the log groups (CloudWatch Logs StartLiveTail)";
        // Repeated only when throttled: the caller decides what else means
        // "not here" and falls back at once.
        let output = self
            .retry
            .run_when(AwsError::is_throttling, || async {
                self.client
                    .start_live_tail()
                    .set_log_group_identifiers(Some(group_arns.to_vec()))
                    .set_log_event_filter_pattern(pattern.map(String::from))
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OPERATION, e))
            })
            .await?;
        let mut tail = LiveTail { output };
        match tail.output.response_stream.recv().await {
            Ok(Some(StartLiveTailResponseStream::SessionStart(_))) => Ok(tail),
            Ok(_) => Err(AwsError::new(
                ErrorKind::UnexpectedAnswer,
                OPERATION,
                "the session did not start with a session start",
            )),
            Err(e) => Err(stream_error(OPERATION, e)),
        }
    }
}

impl LogReader for CloudWatchLogs {
    async fn page(
        &self,
        group: &str,
        window: Window<'_>,
        token: Option<&str>,
    ) -> Result<Page, AwsError> {
        let operation = format!("read the log group {group} (CloudWatch Logs FilterLogEvents)");
        let answer = self
            .retry
            .run(|| async {
                #[allow(deprecated)]
                let request = self
                    .client
                    .filter_log_events()
                    .log_group_name(group)
                    .start_time(window.start_ms)
                    .set_end_time(window.end_ms)
                    .set_filter_pattern(window.pattern.map(String::from))
                    .set_next_token(token.map(String::from))
                    .limit(PAGE_LIMIT)
                    // Ignored by CloudWatch, which always interleaves a
                    // group's streams in time order; the emulator needs it.
                    .interleaved(true);
                request
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(operation.clone(), e))
            })
            .await?;
        let events = answer
            .events()
            .iter()
            .map(|e| LogEvent {
                group: group.to_string(),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                timestamp_ms: e.timestamp().unwrap_or_default(),
                event_id: e.event_id().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect();
        Ok(Page {
            events,
            next_token: answer.next_token().map(String::from),
        })
    }
}

/// A started live tail session.
pub struct LiveTail {
    output: StartLiveTailOutput,
}

impl LiveTail {
    /// The next second's lines (often none); `None` when the session has
    /// ended (CloudWatch ends each after three hours).
    pub async fn next(&mut self) -> Result<Option<Vec<LogEvent>>, AwsError> {
        const OPERATION: &str = "follow the live tail of the log groups";
        loop {
            match self.output.response_stream.recv().await {
                Ok(Some(StartLiveTailResponseStream::SessionUpdate(update))) => {
                    return Ok(Some(
                        update
                            .session_results()
                            .iter()
                            .map(|e| LogEvent {
                                group: group_of_arn(e.log_group_identifier().unwrap_or_default())
                                    .to_string(),
                                stream: e.log_stream_name().unwrap_or_default().to_string(),
                                timestamp_ms: e.timestamp().unwrap_or_default(),
                                event_id: String::new(),
                                message: e.message().unwrap_or_default().to_string(),
                            })
                            .collect(),
                    ));
                }
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(None),
                Err(e) if e.code() == Some("SessionTimeoutException") => return Ok(None),
                Err(e) => return Err(stream_error(OPERATION, e)),
            }
        }
    }
}

/// An error of the event stream, typed as [`AwsError::from_sdk`] types an
/// answer's (the stream's errors come without an HTTP response).
fn stream_error<E, R>(
    operation: &str,
    error: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let detail = format!("{error:#?}");
    let mut e = match &error {
        SdkError::ServiceError(context) => {
            let service = context.err();
            let mut e = AwsError::new(
                ErrorKind::Service,
                operation,
                service.message().or(service.code()).unwrap_or("failed"),
            );
            e.code = service.code().map(String::from);
            e
        }
        SdkError::ResponseError(_) => AwsError::new(
            ErrorKind::UnexpectedAnswer,
            operation,
            "the answer was not a live tail event stream",
        ),
        SdkError::TimeoutError(_) => {
            AwsError::new(ErrorKind::Timeout, operation, "AWS did not answer in time")
        }
        _ => AwsError::new(
            ErrorKind::Transport,
            operation,
            "the live tail stream broke off",
        ),
    };
    e.detail = detail;
    e
}

#[cfg(test)]
mod tests;

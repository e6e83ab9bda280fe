//! Event-driven work: SQS queues, Kinesis data streams, and the event
//! source mappings through which a function consumes a queue, a table's
//! stream or a Kinesis stream.

use schemars::JsonSchema;
use serde::Deserialize;

/// An SQS queue, encrypted with the stack key.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Physical name (at most 80 characters, `.fifo` included); `{stack}`,
    /// `{app}`, `{env}`, `{name}` are filled in. Default: `{stack}-{name}`,
    /// with `.fifo` added for a FIFO queue (whose name must end with it).
    #[serde(default)]
    pub queue_name: Option<String>,
    /// A FIFO queue: messages of one message group delivered in order,
    /// exactly once within the deduplication interval. Default: false.
    #[serde(default)]
    pub fifo: Option<bool>,
    /// FIFO only: deduplicate by a SHA-256 hash of the body instead of a
    /// deduplication id the sender gives. Default: false.
    #[serde(default)]
    pub content_based_deduplication: Option<bool>,
    /// Seconds a received message stays hidden from other consumers
    /// (0-43200). Lambda requires at least the consuming function's
    /// timeout. Default: six times the consuming function's timeout plus its
    /// batching window (AWS's recommendation), or 30 without a consumer.
    #[serde(default)]
    pub visibility_timeout: Option<u32>,
    /// Days a message is kept (1-14). Default: 4.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Seconds every message is held before its first delivery (0-900). Default: 0.
    #[serde(default)]
    pub delay_seconds: Option<u32>,
    /// A dead-letter queue (encrypted with the stack key, FIFO when this
    /// queue is) that a message moves to after `max_receives` failed receives.
    #[serde(default)]
    pub dead_letter: Option<QueueDeadLetter>,
}

/// Where a queue's messages go after failing too often.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueDeadLetter {
    /// Receives after which a message moves to the dead-letter queue (1-1000).
    pub max_receives: u32,
    /// Days a message stays in the dead-letter queue (1-14). Default: 14.
    /// Keep it longer than the queue's own: a moved message keeps its
    /// original enqueue time, and SQS deletes it by that.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Physical name (at most 80 characters, `.fifo` included). Default: the
    /// queue's default name with `-dlq` (before `.fifo`).
    #[serde(default)]
    pub queue_name: Option<String>,
}

// Each default is written once, here; validation and planning both read it.
impl Queue {
    /// SQS's default `MessageRetentionPeriod`: 345,600 seconds.
    pub const DEFAULT_RETENTION_DAYS: u32 = 4;
    /// SQS's default `VisibilityTimeout`, for a queue no function consumes.
    pub const DEFAULT_VISIBILITY_TIMEOUT: u32 = 30;
    /// The longest `VisibilityTimeout` SQS accepts: 12 hours.
    pub const MAX_VISIBILITY_TIMEOUT: u32 = 43_200;
    /// SQS keeps a message at most 14 days.
    pub const MAX_RETENTION_DAYS: u32 = 14;

    pub fn is_fifo(&self) -> bool {
        self.fifo == Some(true)
    }

    pub fn retention(&self) -> u32 {
        self.retention_days.unwrap_or(Self::DEFAULT_RETENTION_DAYS)
    }

    /// The default physical-name pattern of the queue, or of its
    /// dead-letter queue: a FIFO queue's name must end with `.fifo`.
    pub fn default_name_pattern(&self, dead_letter: bool) -> &'static str {
        match (self.is_fifo(), dead_letter) {
            (false, false) => "{stack}-{name}",
            (true, false) => "{stack}-{name}.fifo",
            (false, true) => "{stack}-{name}-dlq",
            (true, true) => "{stack}-{name}-dlq.fifo",
        }
    }
}

impl QueueDeadLetter {
    pub fn retention(&self) -> u32 {
        self.retention_days.unwrap_or(Queue::MAX_RETENTION_DAYS)
    }
}

/// A Kinesis data stream, encrypted with the stack key.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// Physical name (at most 128 characters: letters, digits, `_`, `.`,
    /// `-`); `{stack}`, `{app}`, `{env}`, `{name}` are filled in. Default:
    /// `{stack}-{name}`.
    #[serde(default)]
    pub stream_name: Option<String>,
    /// `on_demand` (capacity follows traffic, billed per GB) or
    /// `provisioned` (a fixed number of `shards`). Default: `on_demand`.
    #[serde(default)]
    pub mode: Option<StreamMode>,
    /// Shards of a provisioned stream (each 1 MB/s or 1,000 records/s in, 2 MB/s out).
    #[serde(default)]
    pub shards: Option<u32>,
    /// Hours records are kept (24-8760). Default: 24.
    #[serde(default)]
    pub retention_hours: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamMode {
    OnDemand,
    Provisioned,
}

impl Stream {
    pub const DEFAULT_RETENTION_HOURS: u32 = 24;
    /// Kinesis keeps records at most 365 days.
    pub const MAX_RETENTION_HOURS: u32 = 8760;

    pub fn mode(&self) -> StreamMode {
        self.mode.unwrap_or(StreamMode::OnDemand)
    }

    pub fn retention(&self) -> u32 {
        self.retention_hours
            .unwrap_or(Self::DEFAULT_RETENTION_HOURS)
    }
}

impl StreamMode {
    pub fn cloudformation(self) -> &'static str {
        match self {
            StreamMode::OnDemand => "ON_DEMAND",
            StreamMode::Provisioned => "PROVISIONED",
        }
    }
}

/// What a function may do with a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueAccess {
    /// Send messages (one or in batches).
    Send,
    /// Receive, delete and change the visibility of messages (what a
    /// function that polls the queue itself needs; an `event_sources`
    /// entry derives it).
    Consume,
}

/// What a function may do with a Kinesis stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamAccess {
    /// Put records (one or in batches).
    Write,
    /// Read shards and records (an `event_sources` entry derives it).
    Read,
}

/// A queue, a table's stream or a Kinesis stream that invokes a function
/// with batches of its messages or records (a Lambda event source mapping).
/// Name exactly one of `queue`, `table`, `stream` and `external`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSource {
    /// A queue of this stack.
    #[serde(default)]
    pub queue: Option<String>,
    /// A table of this stack, whose stream (`stream:` on the table) is read.
    #[serde(default)]
    pub table: Option<String>,
    /// A Kinesis stream of this stack.
    #[serde(default)]
    pub stream: Option<String>,
    /// A queue or Kinesis stream of `external:` (another team's), read
    /// with the same grant as one of this stack's.
    #[serde(default)]
    pub external: Option<String>,
    /// Most records in one invocation: 1-10000 (1-10 for a FIFO queue).
    /// Default: 10 for a queue, 100 for a stream. Above 10 a queue needs a
    /// `batching_window_seconds` of at least 1.
    #[serde(default)]
    pub batch_size: Option<u32>,
    /// Seconds Lambda gathers records before invoking (0-300). Default: 0.
    #[serde(default)]
    pub batching_window_seconds: Option<u32>,
    /// Streams: where a new mapping starts reading, `latest` or
    /// `trim_horizon` (the oldest record kept). Default: `latest`.
    #[serde(default)]
    pub starting_position: Option<StartingPosition>,
    /// Only records matching one of these patterns invoke the function
    /// (Lambda event filtering, EventBridge-style patterns; at most 5).
    /// Records that match none are dropped, from a queue too.
    #[serde(default)]
    pub filters: Vec<serde_json::Value>,
    /// The function answers which records of a batch failed
    /// (`batchItemFailures`), so only those are retried. Default: false.
    #[serde(default)]
    pub report_batch_item_failures: Option<bool>,
    /// Streams: split a failing batch in two and retry each half. Default: false.
    #[serde(default)]
    pub bisect_on_error: Option<bool>,
    /// Streams: retries of a failing batch (0-10000), `-1` for until the
    /// record expires. Default: `-1`.
    #[serde(default)]
    pub maximum_retries: Option<i32>,
    /// Streams: skip records older than this many seconds (60-604800), `-1`
    /// for no limit. Default: `-1`.
    #[serde(default)]
    pub maximum_record_age_seconds: Option<i32>,
    /// Streams: batches processed at once per shard (1-10). Default: 1.
    #[serde(default)]
    pub parallelization_factor: Option<u32>,
    /// Streams: where the description of a batch that could not be
    /// processed goes (a queue or topic of this stack). A queue's failed
    /// messages go to the queue's own `dead_letter` instead.
    #[serde(default)]
    pub on_failure: Option<FailureDestination>,
    /// Queues: most concurrent invocations this source makes (2-1000).
    #[serde(default)]
    pub maximum_concurrency: Option<u32>,
    /// Default: true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A queue or topic of this stack that receives a record of what failed.
/// Name exactly one.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailureDestination {
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StartingPosition {
    Latest,
    TrimHorizon,
}

impl StartingPosition {
    pub fn cloudformation(self) -> &'static str {
        match self {
            StartingPosition::Latest => "LATEST",
            StartingPosition::TrimHorizon => "TRIM_HORIZON",
        }
    }
}

/// What an event source reads, once validation has checked that it names
/// exactly one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceOf<'a> {
    Queue(&'a str),
    TableStream(&'a str),
    Stream(&'a str),
    /// An `external:` queue or stream (validation proved which).
    External(&'a str),
}

impl EventSource {
    /// SQS's and the streams' default batch sizes (Lambda's defaults).
    pub const DEFAULT_QUEUE_BATCH: u32 = 10;
    pub const DEFAULT_STREAM_BATCH: u32 = 100;

    /// The one thing this source reads; `None` when it names none or several.
    pub fn source(&self) -> Option<SourceOf<'_>> {
        super::exactly_one([
            self.queue.as_deref().map(SourceOf::Queue),
            self.table.as_deref().map(SourceOf::TableStream),
            self.stream.as_deref().map(SourceOf::Stream),
            self.external.as_deref().map(SourceOf::External),
        ])
    }

    pub fn batching_window(&self) -> u32 {
        self.batching_window_seconds.unwrap_or(0)
    }
}

impl FailureDestination {
    /// The one destination named; `None` when none or both are.
    pub fn target(&self) -> Option<Destination<'_>> {
        match (&self.queue, &self.topic) {
            (Some(q), None) => Some(Destination::Queue(q)),
            (None, Some(t)) => Some(Destination::Topic(t)),
            _ => None,
        }
    }
}

/// A queue or a topic a failure record is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    Queue(&'a str),
    Topic(&'a str),
}

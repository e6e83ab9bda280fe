//! Queues, Kinesis streams and event sources: SQS's and Kinesis's limits,
//! and what Lambda refuses or advises for an event source mapping.

use super::event_pattern::check_lambda_filter;
use super::{p, Checker};
use crate::model::{EventSource, ExternalKind, Function, Queue, SourceOf, StreamMode};
use crate::source::Path;

/// Lambda event filtering: "You can define up to five different filters
/// for a single event source mapping" (a quota AWS can raise to 10; AWS
/// Lambda Developer Guide, invocation-eventfiltering.html).
pub const MAX_FILTERS: usize = 5;

pub(super) fn check(c: &mut Checker) {
    let def = c.def;
    for (name, q) in &def.queues {
        queue(c, name, q);
    }
    for (name, s) in &def.streams {
        let at = p("streams").key(name);
        if let Some(hours) = s.retention_hours {
            c.in_range(
                at.key("retention_hours"),
                "retention",
                hours.into(),
                24..=8760,
                "Kinesis keeps records, in hours,",
            );
        }
        match (s.mode(), s.shards) {
            (StreamMode::Provisioned, None) => c.error_at_key(at, format!("provisioned stream `{name}` has no `shards`"), "add `shards: 1` (each shard takes 1 MB/s or 1,000 records/s), or use `mode: on_demand`"),
            (StreamMode::Provisioned, Some(n)) => c.in_range(at.key("shards"), "shards", n.into(), 1..=500, "a provisioned stream has, by the default shard quota,"),
            (StreamMode::OnDemand, Some(_)) => c.error(at.key("shards"), "an on-demand stream has no fixed shard count", "remove `shards`, or set `mode: provisioned`"),
            (StreamMode::OnDemand, None) => {}
        }
    }
    for (name, f) in &def.functions {
        let at = p("functions").key(name);
        for (level_name, _) in &f.access.queues {
            c.expect_known_key(
                at.key("access").key("queues").key(level_name),
                "queue",
                level_name,
                def.queues.keys(),
            );
        }
        for (level_name, _) in &f.access.streams {
            c.expect_known_key(
                at.key("access").key("streams").key(level_name),
                "Kinesis stream",
                level_name,
                def.streams.keys(),
            );
        }
        let mut seen: Vec<(SourceOf, usize)> = Vec::new();
        for (i, s) in f.event_sources.iter().enumerate() {
            let here = at.key("event_sources").index(i);
            let Some(of) = s.source() else {
                c.error(
                    here,
                    "an event source names exactly one of `queue`, `table`, `stream` and `external`",
                    "write one entry per source, such as `{queue: jobs}`",
                );
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(o, _)| *o == of) {
                c.error(here.clone(), format!("event sources {first} and {i} read the same source"), "Lambda refuses a second mapping of one source to one function; merge them (a mapping takes up to five filters)");
            }
            seen.push((of, i));
            event_source(c, name, f, here, of, s);
        }
    }
}

fn queue(c: &mut Checker, name: &str, q: &Queue) {
    let at = p("queues").key(name);
    if let Some(v) = q.visibility_timeout {
        c.in_range(
            at.key("visibility_timeout"),
            "visibility timeout",
            v.into(),
            0..=u64::from(Queue::MAX_VISIBILITY_TIMEOUT),
            "SQS hides a received message for, in seconds,",
        );
    }
    if let Some(days) = q.retention_days {
        c.in_range(
            at.key("retention_days"),
            "retention",
            days.into(),
            1..=u64::from(Queue::MAX_RETENTION_DAYS),
            "SQS keeps messages, in days,",
        );
    }
    if let Some(delay) = q.delay_seconds {
        c.in_range(
            at.key("delay_seconds"),
            "delay",
            delay.into(),
            0..=900,
            "SQS delays messages, in seconds,",
        );
    }
    if q.content_based_deduplication.is_some() && !q.is_fifo() {
        c.error(
            at.key("content_based_deduplication"),
            "content-based deduplication is for FIFO queues",
            "add `fifo: true`, or remove `content_based_deduplication`",
        );
    }
    if let Some(given) = &q.queue_name {
        fifo_suffix(c, at.key("queue_name"), given, q.is_fifo());
    }
    if let Some(d) = &q.dead_letter {
        let here = at.key("dead_letter");
        c.in_range(
            here.key("max_receives"),
            "max_receives",
            d.max_receives.into(),
            1..=1000,
            "SQS moves a message after this many receives:",
        );
        if let Some(days) = d.retention_days {
            c.in_range(
                here.key("retention_days"),
                "retention",
                days.into(),
                1..=u64::from(Queue::MAX_RETENTION_DAYS),
                "SQS keeps messages, in days,",
            );
        }
        if d.retention() <= q.retention() {
            c.warning(here.key("retention_days"), format!("the dead-letter queue keeps messages {} days, the queue {} days", d.retention(), q.retention()), "a moved message keeps its original enqueue time and SQS deletes it by that: keep the dead-letter queue's retention longer than the queue's");
        }
        if let Some(given) = &d.queue_name {
            fifo_suffix(c, here.key("queue_name"), given, q.is_fifo());
        }
    }
}

/// SQS: "The name of a FIFO queue must end with the .fifo suffix", and a
/// standard queue's name cannot contain a `.`.
fn fifo_suffix(c: &mut Checker, at: Path, name: &str, fifo: bool) {
    let stem = name.strip_suffix(".fifo");
    match (fifo, stem) {
        (true, None) => c.error(at, format!("FIFO queue name `{name}` does not end with `.fifo`"), "SQS requires the suffix: add `.fifo` to the name"),
        (false, Some(_)) => c.error(at, format!("queue name `{name}` ends with `.fifo`, but the queue is not FIFO"), "add `fifo: true`, or drop the suffix"),
        (_, stem) if stem.unwrap_or(name).contains('.') => c.error(at, format!("queue name `{name}` contains `.`"), "SQS allows letters, digits, `_` and `-` (and `.fifo` at the end of a FIFO queue's name)"),
        _ => {}
    }
}

fn event_source(
    c: &mut Checker,
    function: &str,
    f: &Function,
    at: Path,
    of: SourceOf,
    s: &EventSource,
) {
    let def = c.def;
    match of {
        SourceOf::Queue(q) => c.expect_known(at.key("queue"), "queue", q, def.queues.keys()),
        SourceOf::TableStream(t) => c.expect_known(at.key("table"), "table", t, def.tables.keys()),
        SourceOf::Stream(k) => {
            c.expect_known(at.key("stream"), "Kinesis stream", k, def.streams.keys())
        }
        SourceOf::External(e) => external_source(c, &at, e),
    };
    if let SourceOf::TableStream(t) = of {
        if def
            .tables
            .get(t)
            .is_some_and(|table| table.stream.is_none())
        {
            c.error(at.key("table"), format!("table `{t}` has no stream"), format!("add `stream: new_and_old_images` (or `keys_only`, `new_image`, `old_image`) to table `{t}`"));
        }
    }
    if let Some(window) = s.batching_window_seconds {
        c.in_range(
            at.key("batching_window_seconds"),
            "batching window",
            window.into(),
            0..=300,
            "Lambda gathers records, in seconds,",
        );
    }
    if s.filters.len() > MAX_FILTERS {
        c.error(at.key("filters").index(MAX_FILTERS), format!("{} filters; Lambda takes at most {MAX_FILTERS}", s.filters.len()), "combine patterns with `$or`, or ask AWS to raise the quota and filter in the function meanwhile");
    }
    for (i, pattern) in s.filters.iter().enumerate() {
        filter(c, at.key("filters").index(i), pattern);
    }
    match of {
        SourceOf::Queue(q) => {
            let queue = def.queues.get(q);
            queue_source(c, function, f, &at, q, queue, s);
        }
        SourceOf::TableStream(_) | SourceOf::Stream(_) => stream_source(c, &at, s),
        // Another team's queue: its FIFO-ness and visibility timeout are
        // not known here, so only what holds for every queue is checked.
        SourceOf::External(e) => match def.external.get(e).map(|x| x.kind) {
            Some(ExternalKind::Stream) => stream_source(c, &at, s),
            Some(ExternalKind::Queue) => queue_source(c, function, f, &at, e, None, s),
            _ => {}
        },
    }
}

/// An event source on `external:`: a queue or a Kinesis stream.
fn external_source(c: &mut Checker, at: &Path, name: &str) -> bool {
    let def = c.def;
    if !c.expect_known(
        at.key("external"),
        "external resource",
        name,
        def.external.keys(),
    ) {
        return false;
    }
    let kind = def.external[name].kind;
    if !matches!(kind, ExternalKind::Queue | ExternalKind::Stream) {
        c.error(
            at.key("external"),
            format!(
                "external `{name}` is a {}; Lambda reads batches from a queue or a Kinesis stream",
                kind.word()
            ),
            "name an external queue or stream, or a queue, table or stream of this stack",
        );
        return false;
    }
    true
}

fn queue_source(
    c: &mut Checker,
    function: &str,
    f: &Function,
    at: &Path,
    name: &str,
    queue: Option<&Queue>,
    s: &EventSource,
) {
    let fifo = queue.is_some_and(Queue::is_fifo);
    if let Some(size) = s.batch_size {
        let most = if fifo { 10 } else { 10_000 };
        c.in_range(
            at.key("batch_size"),
            "batch size",
            size.into(),
            1..=most,
            if fifo {
                "Lambda reads a FIFO queue in batches of"
            } else {
                "Lambda reads a queue in batches of"
            },
        );
        if !fifo && size > 10 && s.batching_window() < 1 {
            c.error(at.key("batch_size"), format!("a batch size of {size} needs a batching window"), "Lambda reads more than 10 messages at once only with `batching_window_seconds: 1` or more");
        }
    }
    if let Some(most) = s.maximum_concurrency {
        c.in_range(
            at.key("maximum_concurrency"),
            "maximum concurrency",
            most.into(),
            2..=1000,
            "Lambda scales a queue's consumers to",
        );
    }
    let stream_only = [
        ("starting_position", s.starting_position.is_some()),
        ("bisect_on_error", s.bisect_on_error.is_some()),
        ("maximum_retries", s.maximum_retries.is_some()),
        (
            "maximum_record_age_seconds",
            s.maximum_record_age_seconds.is_some(),
        ),
        ("parallelization_factor", s.parallelization_factor.is_some()),
    ];
    for (field, set) in stream_only {
        if set {
            c.error(
                at.key(field),
                format!("`{field}` is for streams, not queues"),
                "a queue retries a message until `dead_letter.max_receives`; remove this setting",
            );
        }
    }
    if s.on_failure.is_some() {
        c.error(
            at.key("on_failure"),
            "a queue's failed messages go to the queue's own dead-letter queue",
            format!(
                "remove `on_failure` and give queue `{name}` `dead_letter: {{max_receives: 5}}`"
            ),
        );
    }
    let Some(queue) = queue else { return };
    let timeout = f.timeout_seconds(&c.def.function_defaults);
    if let Some(visibility) = queue.visibility_timeout {
        let here = p("queues").key(name).key("visibility_timeout");
        let recommended = 6 * timeout + s.batching_window();
        if visibility < timeout {
            c.error(here, format!("queue `{name}` hides a message {visibility} s, less than function `{function}`'s timeout of {timeout} s"), format!("Lambda refuses the mapping: set `visibility_timeout` to at least {timeout}, better {recommended} (six times the timeout plus the batching window, AWS's advice), or leave it out for that default"));
        } else if visibility < recommended {
            c.warning(here, format!("queue `{name}` hides a message {visibility} s; function `{function}` may run {timeout} s"), format!("AWS advises six times the function's timeout plus the batching window ({recommended} s), so a retried batch is not delivered twice at once; leave `visibility_timeout` out for that default"));
        }
    }
    if queue.dead_letter.is_none() {
        c.warning(at.key("queue"), format!("queue `{name}` has no dead-letter queue"), "a message the function keeps failing on is retried until it expires, blocking nothing but costing invocations; add `dead_letter: {max_receives: 5}` to the queue");
    }
}

fn stream_source(c: &mut Checker, at: &Path, s: &EventSource) {
    if let Some(size) = s.batch_size {
        c.in_range(
            at.key("batch_size"),
            "batch size",
            size.into(),
            1..=10_000,
            "Lambda reads a stream in batches of",
        );
    }
    if s.maximum_concurrency.is_some() {
        c.error(
            at.key("maximum_concurrency"),
            "`maximum_concurrency` is for queues",
            "a stream's concurrency is its shards times `parallelization_factor`",
        );
    }
    if let Some(retries) = s.maximum_retries {
        if !(-1..=10_000).contains(&retries) {
            c.error(
                at.key("maximum_retries"),
                format!("maximum_retries {retries} is out of range"),
                "Lambda retries a batch 0 to 10000 times, or -1 until the record expires",
            );
        }
    }
    if let Some(age) = s.maximum_record_age_seconds {
        if age != -1 && !(60..=604_800).contains(&age) {
            c.error(
                at.key("maximum_record_age_seconds"),
                format!("maximum_record_age_seconds {age} is out of range"),
                "Lambda takes 60 to 604800 seconds, or -1 for no limit",
            );
        }
    }
    if let Some(factor) = s.parallelization_factor {
        c.in_range(
            at.key("parallelization_factor"),
            "parallelization factor",
            factor.into(),
            1..=10,
            "Lambda processes batches per shard at once:",
        );
    }
    if let Some(d) = &s.on_failure {
        let here = at.key("on_failure");
        match d.target() {
            None => c.error(
                here,
                "`on_failure` names exactly one of `queue` and `topic`",
                "write `{queue: failures}` or `{topic: alerts}`",
            ),
            Some(crate::model::Destination::Queue(q)) => {
                if c.expect_known(here.key("queue"), "queue", q, c.def.queues.keys())
                    && c.def.queues.get(q).is_some_and(Queue::is_fifo)
                {
                    c.error(
                        here.key("queue"),
                        format!("queue `{q}` is a FIFO queue"),
                        "Lambda sends a failed batch's record only to a standard queue or a topic",
                    );
                }
            }
            Some(crate::model::Destination::Topic(t)) => {
                c.expect_known(here.key("topic"), "topic", t, c.def.topics.keys());
            }
        }
    }
}

/// A filter is an EventBridge-style pattern in Lambda's dialect (its
/// operators and its 4096-character limit), checked where it is written.
fn filter(c: &mut Checker, at: Path, pattern: &serde_json::Value) {
    if let Err(problems) = check_lambda_filter(pattern) {
        for problem in problems {
            let mut here = at.clone();
            here.0.extend(problem.path.0);
            c.error(here, problem.message, problem.hint);
        }
    }
}

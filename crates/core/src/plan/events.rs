//! Queues, Kinesis streams, and the event source mappings through which
//! functions consume them and tables' streams.

use super::refs::{get_att, reference, sub};
use super::{entity, iam, Planner};
use crate::kinds::{FUNCTION, QUEUE, QUEUE_DEAD_LETTER_NAME, STREAM, TABLE, TOPIC};
use crate::model::{
    Destination, EventSource, ExternalKind, Queue, SourceOf, StartingPosition, StreamMode,
};
use serde_json::{json, Value};

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

impl Planner<'_> {
    pub(super) fn queues(&mut self) {
        for (name, q) in &self.def.queues {
            let id = QUEUE.logical_id(name);
            let queue_name = self.physical_name_sub(&QUEUE, name);
            let dead_letter = q.dead_letter.as_ref().map(|d| {
                let pattern = QUEUE_DEAD_LETTER_NAME.fitted(self.def, self.env, name);
                let dlq_name = self.name_sub(&pattern, name);
                let dlq_id = format!("{id}DeadLetterQueue");
                json!({
                    "id": dlq_id,
                    "queue_name": sub(dlq_name),
                    "retention_seconds": u64::from(d.retention()) * SECONDS_PER_DAY,
                    "redrive": {"deadLetterTargetArn": get_att(&dlq_id, "Arn"), "maxReceiveCount": d.max_receives},
                    // Only this queue may move messages here. Its ARN is
                    // built from its name: a `GetAtt` would be a cycle.
                    "redrive_allow": {
                        "redrivePermission": "byQueue",
                        "sourceQueueArns": [sub(format!("arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{queue_name}"))],
                    },
                })
            });
            let view = json!({
                "id": id,
                "queue_name": sub(queue_name),
                "fifo": q.is_fifo(),
                "content_based_deduplication": q.content_based_deduplication.unwrap_or(false),
                "visibility_timeout": self.visibility_timeout(name, q),
                "retention_seconds": u64::from(q.retention()) * SECONDS_PER_DAY,
                "delay_seconds": q.delay_seconds.unwrap_or(0),
                "dead_letter": dead_letter,
            });
            self.push(QUEUE.template.0, entity(QUEUE.section, name), view);
            self.output(
                format!("{id}Url"),
                format!("URL of queue {name}"),
                reference(&id),
            );
            self.output(
                format!("{id}Arn"),
                format!("ARN of queue {name}"),
                get_att(&id, "Arn"),
            );
            if q.dead_letter.is_some() {
                self.output(
                    format!("{id}DeadLetterQueueUrl"),
                    format!("URL of the dead-letter queue of {name}"),
                    reference(&format!("{id}DeadLetterQueue")),
                );
            }
        }
    }

    /// The queue's own setting, else what AWS recommends for the functions
    /// that consume it: "set the source queue's visibility timeout to at
    /// least six times the timeout that you configure on your function",
    /// plus the batching window (AWS Lambda Developer Guide, "Using Lambda
    /// with Amazon SQS", with-sqs.html), within SQS's 12 hours.
    pub(crate) fn visibility_timeout(&self, queue: &str, q: &Queue) -> u32 {
        if let Some(seconds) = q.visibility_timeout {
            return seconds;
        }
        let defaults = &self.def.function_defaults;
        self.def
            .functions
            .values()
            .flat_map(|f| f.event_sources.iter().map(move |s| (f, s)))
            .filter(|(_, s)| s.source() == Some(SourceOf::Queue(queue)))
            .map(|(f, s)| 6 * f.timeout_seconds(defaults) + s.batching_window())
            .max()
            .map_or(Queue::DEFAULT_VISIBILITY_TIMEOUT, |s| {
                s.min(Queue::MAX_VISIBILITY_TIMEOUT)
            })
    }

    pub(super) fn streams(&mut self) {
        for (name, s) in &self.def.streams {
            let id = STREAM.logical_id(name);
            let view = json!({
                "id": id,
                "stream_name": sub(self.physical_name_sub(&STREAM, name)),
                "mode": s.mode().cloudformation(),
                "shards": (s.mode() == StreamMode::Provisioned).then_some(s.shards).flatten(),
                "retention_hours": s.retention(),
            });
            self.push(STREAM.template.0, entity(STREAM.section, name), view);
            self.output(
                format!("{id}Arn"),
                format!("ARN of Kinesis stream {name}"),
                get_att(&id, "Arn"),
            );
        }
    }

    pub(super) fn event_sources(&mut self) {
        for (name, f) in &self.def.functions {
            for (i, source) in f.event_sources.iter().enumerate() {
                // Validation proved each names exactly one thing.
                let Some(of) = source.source() else { continue };
                let view = json!({
                    "id": event_source_id(name, of),
                    "properties": self.mapping_properties(name, of, source),
                });
                let at = entity(FUNCTION.section, name).key("event_sources").index(i);
                self.push("event_source_mapping", at, view);
            }
        }
    }

    fn mapping_properties(&self, function: &str, of: SourceOf, s: &EventSource) -> Value {
        let stream = match of {
            SourceOf::Queue(_) => false,
            SourceOf::External(e) => self
                .def
                .external
                .get(e)
                .is_some_and(|x| x.kind == ExternalKind::Stream),
            SourceOf::TableStream(_) | SourceOf::Stream(_) => true,
        };
        let (source_arn, default_batch) = match of {
            SourceOf::External(e) => (
                sub(self.external_arn_sub(e)),
                if stream {
                    EventSource::DEFAULT_STREAM_BATCH
                } else {
                    EventSource::DEFAULT_QUEUE_BATCH
                },
            ),
            SourceOf::Queue(q) => (
                get_att(&QUEUE.logical_id(q), "Arn"),
                EventSource::DEFAULT_QUEUE_BATCH,
            ),
            SourceOf::TableStream(t) => (
                get_att(&TABLE.logical_id(t), "StreamArn"),
                EventSource::DEFAULT_STREAM_BATCH,
            ),
            SourceOf::Stream(k) => (
                get_att(&STREAM.logical_id(k), "Arn"),
                EventSource::DEFAULT_STREAM_BATCH,
            ),
        };
        let mut p = json!({
            "FunctionName": self.invoke_target(function),
            "EventSourceArn": source_arn,
            "BatchSize": s.batch_size.unwrap_or(default_batch),
            "Enabled": s.enabled.unwrap_or(true),
            "Tags": self.tags().iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        });
        if let Some(window) = s.batching_window_seconds {
            p["MaximumBatchingWindowInSeconds"] = json!(window);
        }
        if !s.filters.is_empty() {
            // Lambda takes each pattern as a JSON string.
            let filters: Vec<Value> = s
                .filters
                .iter()
                .map(|f| json!({"Pattern": f.to_string()}))
                .collect();
            p["FilterCriteria"] = json!({ "Filters": filters });
        }
        if s.report_batch_item_failures == Some(true) {
            p["FunctionResponseTypes"] = json!(["ReportBatchItemFailures"]);
        }
        if let Some(most) = s.maximum_concurrency {
            p["ScalingConfig"] = json!({ "MaximumConcurrency": most });
        }
        if stream {
            let start = s.starting_position.unwrap_or(StartingPosition::Latest);
            p["StartingPosition"] = json!(start.cloudformation());
            p["BisectBatchOnFunctionError"] = json!(s.bisect_on_error.unwrap_or(false));
            p["MaximumRetryAttempts"] = json!(s.maximum_retries.unwrap_or(-1));
            p["MaximumRecordAgeInSeconds"] = json!(s.maximum_record_age_seconds.unwrap_or(-1));
            p["ParallelizationFactor"] = json!(s.parallelization_factor.unwrap_or(1));
            if let Some(destination) = s.on_failure.as_ref().and_then(|d| d.target()) {
                p["DestinationConfig"] =
                    json!({ "OnFailure": { "Destination": destination_arn(destination) } });
            }
        }
        p
    }
}

/// A mapping's logical id names its function and its source, so reordering
/// `event_sources` replaces nothing (a stream's mapping that is replaced
/// starts reading again from its starting position).
pub(crate) fn event_source_id(function: &str, of: SourceOf) -> String {
    let (source, kind) = match of {
        SourceOf::Queue(q) => (q, "Queue"),
        SourceOf::TableStream(t) => (t, "TableStream"),
        SourceOf::Stream(s) => (s, "Stream"),
        SourceOf::External(e) => (e, "External"),
    };
    format!(
        "{}From{}",
        FUNCTION.logical_id(function),
        crate::naming::logical_id(source, kind)
    )
}

/// The ARN a failure record is sent to.
pub(crate) fn destination_arn(destination: Destination) -> Value {
    match destination {
        Destination::Queue(q) => get_att(&QUEUE.logical_id(q), "Arn"),
        Destination::Topic(t) => reference(&TOPIC.logical_id(t)),
    }
}

/// What one function does with one queue or stream, gathered from its
/// declared access and its event sources.
#[derive(Default)]
struct Use {
    send: bool,
    consume: bool,
}

impl Planner<'_> {
    /// The statements a function's queues and streams need: declared
    /// access, what each event source reads, and sending a failed batch's
    /// record to its `on_failure` destination. One statement per queue or
    /// stream and use, on exactly its ARN; the stack key only through the
    /// service that encrypts with it.
    pub(super) fn queue_and_stream_statements(&self, f: &crate::model::Function) -> Vec<Value> {
        use crate::model::{QueueAccess, StreamAccess};
        let mut queues: indexmap::IndexMap<&str, Use> = indexmap::IndexMap::new();
        let mut streams: indexmap::IndexMap<&str, Use> = indexmap::IndexMap::new();
        let mut table_streams: Vec<&str> = Vec::new();
        let mut topics: Vec<&str> = Vec::new();
        for (q, level) in &f.access.queues {
            let u = queues.entry(q.as_str()).or_default();
            u.send |= *level == QueueAccess::Send;
            u.consume |= *level == QueueAccess::Consume;
        }
        for (s, level) in &f.access.streams {
            let u = streams.entry(s.as_str()).or_default();
            u.send |= *level == StreamAccess::Write;
            u.consume |= *level == StreamAccess::Read;
        }
        for source in &f.event_sources {
            match source.source() {
                Some(SourceOf::Queue(q)) => queues.entry(q).or_default().consume = true,
                Some(SourceOf::Stream(s)) => streams.entry(s).or_default().consume = true,
                Some(SourceOf::TableStream(t)) if !table_streams.contains(&t) => {
                    table_streams.push(t)
                }
                _ => {}
            }
            match source.on_failure.as_ref().and_then(|d| d.target()) {
                Some(Destination::Queue(q)) => queues.entry(q).or_default().send = true,
                Some(Destination::Topic(t)) if !topics.contains(&t) => topics.push(t),
                _ => {}
            }
        }
        let mut out = Vec::new();
        let mut queue_key: Vec<&str> = Vec::new();
        for (q, u) in &queues {
            let id = QUEUE.logical_id(q);
            if u.send {
                out.push(iam::statement(
                    &format!("SendTo{id}"),
                    &iam::QUEUE_SEND,
                    vec![get_att(&id, "Arn")],
                ));
                queue_key.extend(iam::QUEUE_SEND_KEY);
            }
            if u.consume {
                out.push(iam::statement(
                    &format!("Consume{id}"),
                    &iam::QUEUE_CONSUME,
                    vec![get_att(&id, "Arn")],
                ));
                queue_key.push("kms:Decrypt");
            }
        }
        if !queue_key.is_empty() {
            out.push(self.key_via("UseStackKeyForQueues", &queue_key, "sqs"));
        }
        let mut stream_key: Vec<&str> = Vec::new();
        for (s, u) in &streams {
            let id = STREAM.logical_id(s);
            if u.send {
                out.push(iam::statement(
                    &format!("WriteTo{id}"),
                    &iam::STREAM_WRITE,
                    vec![get_att(&id, "Arn")],
                ));
                stream_key.push("kms:GenerateDataKey");
            }
            if u.consume {
                out.push(iam::statement(
                    &format!("Read{id}"),
                    &iam::STREAM_READ,
                    vec![get_att(&id, "Arn")],
                ));
                stream_key.push("kms:Decrypt");
            }
        }
        if !stream_key.is_empty() {
            out.push(self.key_via("UseStackKeyForStreams", &stream_key, "kinesis"));
        }
        for t in &table_streams {
            let id = TABLE.logical_id(t);
            out.push(iam::statement(
                &format!("Read{id}Stream"),
                &iam::TABLE_STREAM_READ,
                vec![sub(format!("${{{id}.Arn}}/stream/*"))],
            ));
        }
        if !table_streams.is_empty() {
            out.push(self.key_via("UseStackKeyForTableStreams", &["kms:Decrypt"], "dynamodb"));
        }
        if !topics.is_empty() {
            let arns = topics
                .iter()
                .map(|t| reference(&TOPIC.logical_id(t)))
                .collect();
            out.push(iam::statement("PublishFailedBatches", &iam::PUBLISH, arns));
            out.push(self.key_via(
                "UseStackKeyForFailedBatchTopics",
                &["kms:Decrypt", "kms:GenerateDataKey"],
                "sns",
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests;

//! Queue messages delivered to the functions that consume them, as
//! Lambda's event source mapping does: a batch received (up to the batch
//! size, within the batching window), filtered, handed to the function as
//! an SQS event; the messages it processed deleted, the others left to come
//! back after the queue's visibility timeout and, past `maxReceiveCount`,
//! moved by SQS to the dead-letter queue.

use crate::engine::queues::{delete, receive, MOST_PER_RECEIVE};
use crate::local::functions::InvokeResult;
use crate::local::queue_triggers::{
    failed_messages, passes_filters, sqs_event, sqs_record, Message, QueueTrigger,
};
use crate::local::session::Session;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// How long one receive waits for a first message (SQS long polling).
const LONG_POLL_SECONDS: u32 = 1;

/// One task per mapping, delivering until aborted.
pub(super) fn start_queue_pollers(
    client: &aws_sdk_sqs::Client,
    triggers: Vec<QueueTrigger>,
    region: &str,
    session: &Arc<Session>,
    problems: &UnboundedSender<String>,
) -> Vec<tokio::task::JoinHandle<()>> {
    triggers
        .into_iter()
        .map(|trigger| {
            let poller = QueuePoller {
                client: client.clone(),
                trigger,
                region: region.to_string(),
                session: session.clone(),
                problems: problems.clone(),
            };
            tokio::spawn(poller.run())
        })
        .collect()
}

struct QueuePoller {
    client: aws_sdk_sqs::Client,
    trigger: QueueTrigger,
    region: String,
    session: Arc<Session>,
    problems: UnboundedSender<String>,
}

impl QueuePoller {
    async fn run(self) {
        loop {
            match self.batch().await {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) => self.deliver(batch).await,
                Err(problem) => {
                    self.report(problem);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn report(&self, problem: String) {
        let _ = self
            .problems
            .send(format!("{}: {problem}", self.trigger.mapping));
    }

    /// Up to the batch size, gathering for the batching window once the
    /// first message is in.
    async fn batch(&self) -> Result<Vec<Message>, String> {
        let t = &self.trigger;
        let mut batch = receive(
            &self.client,
            &t.queue_url,
            t.batch_size.min(MOST_PER_RECEIVE),
            LONG_POLL_SECONDS,
        )
        .await
        .map_err(|e| e.to_string())?;
        let window = Duration::from_secs(u64::from(t.batching_window_seconds));
        let started = Instant::now();
        while !batch.is_empty() && (batch.len() as u32) < t.batch_size && started.elapsed() < window
        {
            let most = (t.batch_size - batch.len() as u32).min(MOST_PER_RECEIVE);
            let more = receive(&self.client, &t.queue_url, most, 0)
                .await
                .map_err(|e| e.to_string())?;
            if more.is_empty() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            batch.extend(more);
        }
        Ok(batch)
    }

    async fn deliver(&self, batch: Vec<Message>) {
        let t = &self.trigger;
        let mut records = Vec::new();
        let mut delivered: Vec<Message> = Vec::new();
        let mut dropped: Vec<&Message> = Vec::new();
        for message in &batch {
            let record = sqs_record(message, &t.queue_arn, &self.region);
            match passes_filters(&record, &t.filters) {
                Ok(true) => {}
                Ok(false) => {
                    // Lambda deletes a queue's messages that match no filter.
                    dropped.push(message);
                    continue;
                }
                Err(operator) => self.report(format!(
                    "a filter uses {operator}, which `local` does not evaluate: message {} is delivered as if it matched",
                    message.message_id
                )),
            }
            records.push(record);
            delivered.push(message.clone());
        }
        if !dropped.is_empty() {
            if let Err(e) = delete(&self.client, &t.queue_url, &dropped).await {
                self.report(format!("deleting the messages no filter matched: {e}"));
            }
        }
        if records.is_empty() {
            return;
        }
        let Some(ran) = self.session.invoke(&t.function, sqs_event(records)).await else {
            self.report(format!("no function {} in this session", t.function));
            return;
        };
        let failed = match &ran.result {
            InvokeResult::Response(answer) => {
                failed_messages(answer, &delivered, t.partial_failures)
            }
            _ => None,
        };
        let done: Vec<&Message> = match &failed {
            Some(ids) => delivered
                .iter()
                .filter(|m| !ids.contains(&m.message_id))
                .collect(),
            None => Vec::new(),
        };
        if let Err(e) = delete(&self.client, &t.queue_url, &done).await {
            self.report(format!("deleting the processed messages: {e}"));
        }
        let kept = delivered.len() - done.len();
        if kept > 0 {
            self.report(format!(
                "{kept} of {} message(s) failed in {}; they come back after the queue's visibility timeout (and go to its dead-letter queue after its maximum receives)",
                delivered.len(),
                t.function
            ));
        }
    }
}

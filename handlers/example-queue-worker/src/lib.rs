//! A queue worker: each message is a job `{"id": "...", "task": "..."}`,
//! recorded in the jobs table under its id with the message that brought
//! it. A message that is not a job, or whose job cannot be recorded, is
//! reported as failed (the mapping has `report_batch_item_failures`), so
//! only it comes back and, after the queue's `max_receives`, lands in the
//! dead-letter queue; the rest of the batch is done. Recording is a put
//! keyed by the job's id: a message delivered twice records the same item.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use handler_support::log::Logger;
use handler_support::{Failure, SqsHandler};
use serde::Deserialize;

pub struct Worker {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
}

/// What a message must carry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub id: String,
    pub task: String,
}

/// Why one message was not processed.
#[derive(Debug, PartialEq)]
pub enum Skipped {
    NotAJob(String),
    NotRecorded(String),
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::NotAJob(why) => write!(f, "not a job: {why}"),
            Skipped::NotRecorded(why) => write!(f, "not recorded: {why}"),
        }
    }
}

pub fn job(message: &SqsMessage) -> Result<Job, Skipped> {
    let body = message.body.as_deref().unwrap_or_default();
    let job: Job = serde_json::from_str(body).map_err(|e| Skipped::NotAJob(e.to_string()))?;
    if job.id.is_empty() || job.task.is_empty() {
        return Err(Skipped::NotAJob("`id` and `task` must not be empty".into()));
    }
    Ok(job)
}

impl Worker {
    async fn record(&self, message: &SqsMessage) -> Result<(), Skipped> {
        let job = job(message)?;
        self.dynamodb
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(job.id))
            .item("task", AttributeValue::S(job.task))
            .item(
                "messageId",
                AttributeValue::S(message.message_id.clone().unwrap_or_default()),
            )
            .send()
            .await
            .map_err(|e| {
                Skipped::NotRecorded(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
            })?;
        Ok(())
    }
}

impl SqsHandler for Worker {
    async fn on_sqs_batch(
        &self,
        event: SqsEvent,
        log: &Logger,
    ) -> Result<SqsBatchResponse, Failure> {
        let mut answer = SqsBatchResponse::default();
        for message in &event.records {
            let id = message.message_id.clone().unwrap_or_default();
            match self.record(message).await {
                Ok(()) => log.info("job recorded", &[("messageId", id.into())]),
                Err(why) => {
                    log.error(
                        "message failed",
                        &[
                            ("messageId", id.clone().into()),
                            ("reason", why.to_string().into()),
                        ],
                    );
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    answer.batch_item_failures.push(failure);
                }
            }
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some("m-1".into());
        m.body = Some(body.into());
        m
    }

    #[test]
    fn a_job_needs_an_id_and_a_task_and_nothing_else() {
        let ok = job(&message(r#"{"id": "j-1", "task": "resize"}"#)).unwrap();
        assert_eq!((ok.id.as_str(), ok.task.as_str()), ("j-1", "resize"));
        for bad in [
            r#"{"id": "j-1"}"#,
            r#"{"id": "", "task": "x"}"#,
            "not json",
            r#"{"id": "j", "task": "t", "extra": 1}"#,
        ] {
            assert!(
                matches!(job(&message(bad)), Err(Skipped::NotAJob(_))),
                "{bad}"
            );
        }
    }
}

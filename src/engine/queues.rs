//! Receiving and deleting a queue's messages: how `local` plays the event
//! source mapping that hands a queue's messages to a function.

use super::error::{AwsError, ErrorKind};
use crate::local::queue_triggers::Message;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

/// SQS hands over at most 10 messages per ReceiveMessage.
pub const MOST_PER_RECEIVE: u32 = 10;

/// Up to `most` messages (at most 10), waiting up to `wait_seconds` (0-20)
/// for the first.
pub async fn receive(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    most: u32,
    wait_seconds: u32,
) -> Result<Vec<Message>, AwsError> {
    let answer = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(most.clamp(1, MOST_PER_RECEIVE) as i32)
        .wait_time_seconds(wait_seconds.min(20) as i32)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                format!("receive messages from {queue_url} (SQS ReceiveMessage)"),
                e,
            )
        })?;
    Ok(answer.messages().iter().map(message).collect())
}

fn message(m: &aws_sdk_sqs::types::Message) -> Message {
    Message {
        message_id: m.message_id().unwrap_or_default().to_string(),
        receipt_handle: m.receipt_handle().unwrap_or_default().to_string(),
        body: m.body().unwrap_or_default().to_string(),
        md5_of_body: m.md5_of_body().unwrap_or_default().to_string(),
        attributes: m
            .attributes()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
            .collect(),
        message_attributes: m
            .message_attributes()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let value = v.string_value().unwrap_or_default().to_string();
                (k.clone(), (v.data_type().to_string(), value))
            })
            .collect(),
    }
}

/// Deletes messages that were processed; `Err` when SQS refuses any.
pub async fn delete(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: &[&Message],
) -> Result<(), AwsError> {
    let operation =
        || format!("delete processed messages from {queue_url} (SQS DeleteMessageBatch)");
    for chunk in messages.chunks(MOST_PER_RECEIVE as usize) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt_handle)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| AwsError::new(ErrorKind::ValidationFailed, operation(), e))?;
        let answer = client
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(operation(), e))?;
        if let Some(failed) = answer.failed().first() {
            let message = format!(
                "{}: {}",
                failed.code(),
                failed.message().unwrap_or_default()
            );
            return Err(AwsError::new(ErrorKind::Service, operation(), message));
        }
    }
    Ok(())
}

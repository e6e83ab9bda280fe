//! A queue worker end to end on the emulator (tier `tier-emulator`):
//! `examples/queue-worker.yaml` deployed with its real package, jobs sent to
//! the deployed queue, and `stackctl local` playing Lambda's event source
//! mapping: the good jobs recorded in the table and deleted from the queue,
//! the bad one reported failed by the worker (`batchItemFailures`), received
//! again after the visibility timeout and, past `max_receives`, moved by
//! SQS to the dead-letter queue.
#![cfg(feature = "tier-emulator")]

mod support;

use aws_sdk_sqs::types::QueueAttributeName;
use std::time::{Duration, Instant};
use support::local::{output, Local, Project};
use support::moto::Moto;

const STACK: &str = "queue-worker";

async fn until<T>(
    what: &str,
    seconds: u64,
    local: &Local,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what} within {seconds} s:\n{}",
            local.output()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn waiting(sqs: &aws_sdk_sqs::Client, url: &str) -> (u64, u64) {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let read = |name: QueueAttributeName| {
        attributes
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        read(QueueAttributeName::ApproximateNumberOfMessages),
        read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_reach_the_worker_and_the_one_it_cannot_process_ends_in_the_dead_letter_queue()
{
    let moto = Moto::start();
    let project = Project::of_example(STACK);
    // Failed messages come back after the visibility timeout: a short one
    // keeps the test short (at least the worker's timeout, as Lambda requires).
    project.edit("    timeout: 10\n", "    timeout: 3\n");
    project.edit(
        "    retention_days: 4\n",
        "    retention_days: 4\n    visibility_timeout: 3\n",
    );
    project.deploy(&moto);
    let outputs = project.outputs(&moto);
    let queue = output(&outputs, "JobsQueueUrl");
    let dead_letter = output(&outputs, "JobsQueueDeadLetterQueueUrl");
    let table = output(&outputs, "JobsTableName");

    let local = Local::start(&project, &moto, "worker");
    let printed = local.output();
    assert!(
        printed.contains(&format!("delivering messages of {queue} to WorkerFunction")),
        "{printed}"
    );

    let config = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let mut sent = Vec::new();
    for body in [
        r#"{"id": "j-1", "task": "resize"}"#,
        "not a job",
        r#"{"id": "j-2", "task": "archive"}"#,
    ] {
        let answer = sqs
            .send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
        sent.push(answer.message_id().unwrap().to_string());
    }

    let items = until("two jobs recorded", 60, &local, async || {
        let scan = dynamodb.scan().table_name(&table).send().await.unwrap();
        (scan.items().len() == 2).then(|| scan.items().to_vec())
    })
    .await;
    let mut recorded: Vec<(String, String, String)> = items
        .iter()
        .map(|item| {
            let text = |k: &str| item[k].as_s().unwrap().clone();
            (text("id"), text("task"), text("messageId"))
        })
        .collect();
    recorded.sort();
    assert_eq!(
        recorded,
        vec![
            ("j-1".to_string(), "resize".to_string(), sent[0].clone()),
            ("j-2".to_string(), "archive".to_string(), sent[2].clone()),
        ]
    );

    // Three receives (max_receives: 3), each failed, each after the
    // visibility timeout; then SQS moves it.
    let moved = until(
        "the bad message in the dead-letter queue",
        90,
        &local,
        async || {
            let answer = sqs
                .receive_message()
                .queue_url(&dead_letter)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            answer.messages().first().cloned()
        },
    )
    .await;
    assert_eq!(moved.message_id(), Some(sent[1].as_str()));
    assert_eq!(moved.body(), Some("not a job"));
    assert_eq!(
        waiting(&sqs, &queue).await,
        (0, 0),
        "the queue is empty: done jobs were deleted"
    );

    let printed = local.stop();
    let failures = printed
        .matches("1 of 1 message(s) failed in WorkerFunction")
        .count()
        + printed
            .matches("1 of 3 message(s) failed in WorkerFunction")
            .count()
        + printed
            .matches("1 of 2 message(s) failed in WorkerFunction")
            .count();
    assert!(
        failures >= 3,
        "each of the three receives was reported:\n{printed}"
    );
    assert!(
        printed.contains("\"message\":\"message failed\""),
        "the worker says why:\n{printed}"
    );
    assert!(
        !printed.contains("denied"),
        "the derived role allows what the worker does:\n{printed}"
    );
}

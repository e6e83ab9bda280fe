//! Lambda entry point: build the DynamoDB client once, serve SQS batches.

use handler_support::{aws, config, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [table] = config::required_all(["JOBS_TABLE"])?;
    let sdk = aws::config().await;
    let worker = example_queue_worker::Worker {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        table,
    };
    handler_support::serve(Function::new(worker).serves_sqs()).await
}

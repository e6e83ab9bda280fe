use crate::pipeline::Outcome;
use serde_json::{json, Value};

fn render(text: &str) -> Outcome {
    super::super::test_stacks::render("events.yaml", text)
}

fn rendered(text: &str) -> Value {
    super::super::test_stacks::rendered("events.yaml", text)
}

/// Errors and warnings as (line, column, message).
fn findings(text: &str, errors: bool) -> Vec<(u32, u32, String)> {
    render(text)
        .diagnostics()
        .iter()
        .filter(|d| d.is_error() == errors)
        .map(|d| {
            let loc = d.loc().expect("located");
            (loc.line, loc.col, d.message.clone())
        })
        .collect()
}

/// The statements of `role` whose Sid is not one every function role has.
fn own_statements(template: &Value, role: &str) -> Vec<Value> {
    template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            !["WriteOwnLogs", "DecryptOwnEnvironment"].contains(&s["Sid"].as_str().unwrap())
        })
        .cloned()
        .collect()
}

fn key_via(sid: &str, actions: &[&str], service: &str) -> Value {
    json!({
        "Sid": sid, "Effect": "Allow", "Action": actions,
        "Resource": [{"Fn::GetAtt": ["StackKey", "Arn"]}],
        "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": format!("{service}.${{AWS::Region}}.${{AWS::URLSuffix}}")}}}
    })
}

const WORKER: &str = r#"
name: shop
functions:
  worker:
    crate: worker
    timeout: 20
    event_sources:
      - {queue: jobs, batch_size: 50, batching_window_seconds: 5, report_batch_item_failures: true, maximum_concurrency: 4, filters: [{body: {kind: [order]}}]}
  producer:
    crate: producer
    access:
      queues: {jobs: send}
queues:
  jobs:
    dead_letter: {max_receives: 3}
"#;

#[test]
fn a_queue_is_encrypted_hidden_six_function_timeouts_and_redriven_to_its_own_dead_letter_queue() {
    let t = rendered(WORKER);
    let r = &t["Resources"];
    assert_eq!(
        r["JobsQueue"]["Properties"],
        json!({
            "QueueName": {"Fn::Sub": "${AWS::StackName}-jobs"},
            "VisibilityTimeout": 6 * 20 + 5,
            "MessageRetentionPeriod": 4 * 86400,
            "DelaySeconds": 0,
            "KmsMasterKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]},
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["JobsQueueDeadLetterQueue", "Arn"]}, "maxReceiveCount": 3},
            "Tags": [{"Key": "app", "Value": "shop"}, {"Key": "env", "Value": "dev"}],
        })
    );
    assert_eq!(
        r["JobsQueueDeadLetterQueue"]["Properties"],
        json!({
            "QueueName": {"Fn::Sub": "${AWS::StackName}-jobs-dlq"},
            "MessageRetentionPeriod": 14 * 86400,
            "KmsMasterKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]},
            "RedriveAllowPolicy": {"redrivePermission": "byQueue", "sourceQueueArns": [{"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}-jobs"}]},
            "Tags": [{"Key": "app", "Value": "shop"}, {"Key": "env", "Value": "dev"}],
        })
    );
    for id in ["JobsQueue", "JobsQueueDeadLetterQueue"] {
        assert_eq!(r[id]["DeletionPolicy"], "Delete", "dev keeps no data");
    }
}

#[test]
fn a_queue_source_maps_with_its_settings_and_derives_exactly_the_consuming_grant() {
    let t = rendered(WORKER);
    assert_eq!(
        t["Resources"]["WorkerFunctionFromJobsQueue"]["Properties"],
        json!({
            "FunctionName": {"Fn::GetAtt": ["WorkerFunction", "Arn"]},
            "EventSourceArn": {"Fn::GetAtt": ["JobsQueue", "Arn"]},
            "BatchSize": 50,
            "MaximumBatchingWindowInSeconds": 5,
            "Enabled": true,
            "FilterCriteria": {"Filters": [{"Pattern": "{\"body\":{\"kind\":[\"order\"]}}"}]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 4},
            "Tags": [{"Key": "app", "Value": "shop"}, {"Key": "env", "Value": "dev"}],
        })
    );
    assert_eq!(
        own_statements(&t, "WorkerFunctionRole"),
        vec![
            json!({"Sid": "ConsumeJobsQueue", "Effect": "Allow",
                   "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
                   "Resource": [{"Fn::GetAtt": ["JobsQueue", "Arn"]}]}),
            key_via("UseStackKeyForQueues", &["kms:Decrypt"], "sqs"),
        ]
    );
    assert_eq!(
        own_statements(&t, "ProducerFunctionRole"),
        vec![
            json!({"Sid": "SendToJobsQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"],
                   "Resource": [{"Fn::GetAtt": ["JobsQueue", "Arn"]}]}),
            key_via(
                "UseStackKeyForQueues",
                &["kms:Decrypt", "kms:GenerateDataKey"],
                "sqs"
            ),
        ]
    );
}

#[test]
fn fifo_queues_and_their_dead_letter_queues_are_named_with_the_suffix_sqs_requires() {
    let t = rendered(
        "name: shop\nqueues:\n  orders:\n    fifo: true\n    content_based_deduplication: true\n    dead_letter: {max_receives: 5}\n",
    );
    let r = &t["Resources"];
    assert_eq!(
        r["OrdersQueue"]["Properties"]["QueueName"],
        json!({"Fn::Sub": "${AWS::StackName}-orders.fifo"})
    );
    assert_eq!(r["OrdersQueue"]["Properties"]["FifoQueue"], true);
    assert_eq!(
        r["OrdersQueue"]["Properties"]["ContentBasedDeduplication"],
        true
    );
    assert_eq!(
        r["OrdersQueue"]["Properties"]["VisibilityTimeout"], 30,
        "no consumer: SQS's default"
    );
    assert_eq!(
        r["OrdersQueueDeadLetterQueue"]["Properties"]["QueueName"],
        json!({"Fn::Sub": "${AWS::StackName}-orders-dlq.fifo"})
    );
    assert_eq!(
        r["OrdersQueueDeadLetterQueue"]["Properties"]["FifoQueue"],
        true
    );
}

const STREAMS: &str = r#"
name: shop
tables:
  users:
    partition_key: {name: id, type: S}
    stream: new_and_old_images
streams:
  clicks: {mode: provisioned, shards: 2, retention_hours: 48}
queues:
  failed: {}
topics:
  alerts: {}
functions:
  changes:
    crate: changes
    event_sources:
      - {table: users, starting_position: trim_horizon, bisect_on_error: true, maximum_retries: 3, on_failure: {queue: failed}}
  clicks:
    crate: clicks
    event_sources:
      - {stream: clicks, batch_size: 500, maximum_record_age_seconds: 3600, parallelization_factor: 2, on_failure: {topic: alerts}}
  tracker:
    crate: tracker
    access:
      streams: {clicks: write}
"#;

#[test]
fn stream_sources_read_their_stream_and_send_what_failed_to_their_destination() {
    let t = rendered(STREAMS);
    let r = &t["Resources"];
    let tags = json!([{"Key": "app", "Value": "shop"}, {"Key": "env", "Value": "dev"}]);
    assert_eq!(
        r["ChangesFunctionFromUsersTableStream"]["Properties"],
        json!({
            "FunctionName": {"Fn::GetAtt": ["ChangesFunction", "Arn"]},
            "EventSourceArn": {"Fn::GetAtt": ["UsersTable", "StreamArn"]},
            "BatchSize": 100, "Enabled": true, "Tags": tags,
            "StartingPosition": "TRIM_HORIZON", "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 3, "MaximumRecordAgeInSeconds": -1, "ParallelizationFactor": 1,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["FailedQueue", "Arn"]}}},
        })
    );
    assert_eq!(
        own_statements(&t, "ChangesFunctionRole"),
        vec![
            json!({"Sid": "SendToFailedQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"],
                   "Resource": [{"Fn::GetAtt": ["FailedQueue", "Arn"]}]}),
            key_via(
                "UseStackKeyForQueues",
                &["kms:Decrypt", "kms:GenerateDataKey"],
                "sqs"
            ),
            json!({"Sid": "ReadUsersTableStream", "Effect": "Allow",
                   "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
                   "Resource": [{"Fn::Sub": "${UsersTable.Arn}/stream/*"}]}),
            key_via("UseStackKeyForTableStreams", &["kms:Decrypt"], "dynamodb"),
        ]
    );
    assert_eq!(
        r["ClicksFunctionFromClicksStream"]["Properties"]["DestinationConfig"],
        json!({"OnFailure": {"Destination": {"Ref": "AlertsTopic"}}})
    );
    assert_eq!(
        own_statements(&t, "ClicksFunctionRole"),
        vec![
            json!({"Sid": "ReadClicksStream", "Effect": "Allow",
                   "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
                   "Resource": [{"Fn::GetAtt": ["ClicksStream", "Arn"]}]}),
            key_via("UseStackKeyForStreams", &["kms:Decrypt"], "kinesis"),
            json!({"Sid": "PublishFailedBatches", "Effect": "Allow", "Action": ["sns:Publish"],
                   "Resource": [{"Ref": "AlertsTopic"}]}),
            key_via(
                "UseStackKeyForFailedBatchTopics",
                &["kms:Decrypt", "kms:GenerateDataKey"],
                "sns"
            ),
        ]
    );
    assert_eq!(
        own_statements(&t, "TrackerFunctionRole"),
        vec![
            json!({"Sid": "WriteToClicksStream", "Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                   "Resource": [{"Fn::GetAtt": ["ClicksStream", "Arn"]}]}),
            key_via("UseStackKeyForStreams", &["kms:GenerateDataKey"], "kinesis"),
        ]
    );
    assert_eq!(
        r["ClicksStream"]["Properties"],
        json!({
            "Name": {"Fn::Sub": "${AWS::StackName}-clicks"},
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            "ShardCount": 2,
            "RetentionPeriodHours": 48,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": {"Fn::GetAtt": ["StackKey", "Arn"]}},
            "Tags": tags,
        })
    );
}

#[test]
fn lambda_refuses_a_visibility_timeout_below_the_function_timeout_and_aws_advises_six_times() {
    let stack = |visibility: u32| {
        format!(
            "name: shop\nfunctions:\n  worker:\n    crate: worker\n    timeout: 20\n    event_sources: [{{queue: jobs}}]\nqueues:\n  jobs:\n    visibility_timeout: {visibility}\n    dead_letter: {{max_receives: 3}}\n"
        )
    };
    assert_eq!(
        findings(&stack(10), true),
        vec![(
            9,
            25,
            "queue `jobs` hides a message 10 s, less than function `worker`'s timeout of 20 s"
                .to_string()
        )]
    );
    assert!(findings(&stack(60), true).is_empty());
    assert_eq!(
        findings(&stack(60), false),
        vec![(
            9,
            25,
            "queue `jobs` hides a message 60 s; function `worker` may run 20 s".to_string()
        )]
    );
    assert!(findings(&stack(120), false).is_empty());
}

#[test]
fn what_lambda_refuses_of_a_mapping_is_reported_where_it_is_written() {
    let text = r#"
name: shop
tables:
  users: {partition_key: {name: id, type: S}}
queues:
  jobs: {fifo: true, dead_letter: {max_receives: 3}}
functions:
  worker:
    crate: worker
    event_sources:
      - {queue: jobs, batch_size: 11, starting_position: latest, on_failure: {queue: jobs}}
      - {table: users}
      - {queue: jobs, table: users}
      - {stream: clicks, maximum_concurrency: 5, maximum_retries: -2}
  other:
    crate: other
    event_sources:
      - {queue: jobs, filters: [{body: {kind: order}}]}
"#;
    assert_eq!(
        findings(text, true),
        vec![
            (
                11,
                35,
                "`functions.worker.event_sources[0].batch_size`: batch size 11 is out of range"
                    .to_string()
            ),
            (
                11,
                58,
                "`starting_position` is for streams, not queues".to_string()
            ),
            (
                11,
                78,
                "a queue's failed messages go to the queue's own dead-letter queue".to_string()
            ),
            (12, 17, "table `users` has no stream".to_string()),
            (
                13,
                9,
                "an event source names exactly one of `queue`, `table`, `stream` and `external`"
                    .to_string()
            ),
            (
                14,
                18,
                "there is no Kinesis stream `clicks` in this stack".to_string()
            ),
            (14, 47, "`maximum_concurrency` is for queues".to_string()),
            (14, 67, "maximum_retries -2 is out of range".to_string()),
            (
                18,
                47,
                "`kind` is a string; a field's values are an array of values to match".to_string()
            ),
        ]
    );
}

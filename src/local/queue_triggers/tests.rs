use super::*;
use crate::local::template::Deployed;

fn deployed() -> Deployed {
    Deployed {
        stack_name: "shop-dev".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        physical_ids: [(
            "JobsQueue".to_string(),
            "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-jobs".to_string(),
        )]
        .into(),
        ..Deployed::default()
    }
}

fn template(enabled: bool) -> Value {
    json!({"Resources": {
        "JobsQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "WorkerFunction": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "WorkerFunctionFromJobsQueue": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Fn::GetAtt": ["WorkerFunction", "Arn"]},
            "EventSourceArn": {"Fn::GetAtt": ["JobsQueue", "Arn"]},
            "BatchSize": 5, "MaximumBatchingWindowInSeconds": 2, "Enabled": enabled,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "FilterCriteria": {"Filters": [{"Pattern": "{\"body\":{\"kind\":[\"order\"]}}"}]}
        }}
    }})
}

#[test]
fn a_queue_mapping_is_found_with_its_queue_function_and_settings_and_a_disabled_one_is_not() {
    let deployed = deployed();
    let t = template(true);
    let found = queue_triggers(&t, &Resolver::new(&t, &deployed)).unwrap();
    assert_eq!(
        found,
        vec![QueueTrigger {
            mapping: "WorkerFunctionFromJobsQueue".into(),
            queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-jobs".into(),
            queue_arn: "arn:aws:sqs:eu-west-1:123456789012:shop-dev-jobs".into(),
            function: "WorkerFunction".into(),
            batch_size: 5,
            batching_window_seconds: 2,
            partial_failures: true,
            filters: vec![json!({"body": {"kind": ["order"]}})],
        }]
    );
    let off = template(false);
    assert!(queue_triggers(&off, &Resolver::new(&off, &deployed))
        .unwrap()
        .is_empty());
}

fn message(id: &str, body: &str) -> Message {
    Message {
        message_id: id.into(),
        receipt_handle: format!("rh-{id}"),
        body: body.into(),
        md5_of_body: "x".into(),
        attributes: [("ApproximateReceiveCount".to_string(), "1".to_string())].into(),
        message_attributes: [(
            "source".to_string(),
            ("String".to_string(), "web".to_string()),
        )]
        .into(),
    }
}

#[test]
fn a_record_has_the_shape_lambda_sends() {
    let record = sqs_record(
        &message("m-1", "{\"kind\":\"order\"}"),
        "arn:aws:sqs:eu-west-1:1:q",
        "eu-west-1",
    );
    assert_eq!(
        record,
        json!({
            "messageId": "m-1", "receiptHandle": "rh-m-1", "body": "{\"kind\":\"order\"}",
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {"source": {"stringValue": "web", "stringListValues": [], "binaryListValues": [], "dataType": "String"}},
            "md5OfBody": "x", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:1:q", "awsRegion": "eu-west-1"
        })
    );
}

#[test]
fn filters_look_inside_a_json_body_and_a_record_passes_when_one_matches() {
    let record = |body: &str| sqs_record(&message("m", body), "arn", "r");
    let kind = [json!({"body": {"kind": ["order"]}})];
    assert_eq!(
        passes_filters(&record("{\"kind\":\"order\"}"), &kind),
        Ok(true)
    );
    assert_eq!(
        passes_filters(&record("{\"kind\":\"refund\"}"), &kind),
        Ok(false)
    );
    assert_eq!(passes_filters(&record("not json"), &kind), Ok(false));
    assert_eq!(passes_filters(&record("not json"), &[]), Ok(true));
    let several = [
        json!({"body": {"kind": ["refund"]}}),
        json!({"body": {"total": [{"numeric": [">", 100, "<=", 500]}]}}),
    ];
    assert_eq!(
        passes_filters(&record("{\"total\": 250}"), &several),
        Ok(true)
    );
    assert_eq!(
        passes_filters(&record("{\"total\": 501}"), &several),
        Ok(false)
    );
    let ops = [
        json!({"body": {"sku": [{"prefix": "A-"}], "note": [{"exists": false}], "state": [{"anything-but": ["void"]}]}}),
    ];
    assert_eq!(
        passes_filters(&record("{\"sku\":\"A-1\",\"state\":\"new\"}"), &ops),
        Ok(true)
    );
    assert_eq!(
        passes_filters(&record("{\"sku\":\"A-1\",\"state\":\"void\"}"), &ops),
        Ok(false)
    );
    assert_eq!(
        passes_filters(
            &record("{\"sku\":\"A-1\",\"state\":\"new\",\"note\":1}"),
            &ops
        ),
        Ok(false)
    );
    let tags = [json!({"body": {"tags": ["red"]}})];
    assert_eq!(
        passes_filters(&record("{\"tags\":[\"blue\",\"red\"]}"), &tags),
        Ok(true)
    );
    let unknown = [json!({"body": {"ip": [{"cidr": "10.0.0.0/8"}]}})];
    assert_eq!(
        passes_filters(&record("{\"ip\":\"10.1.1.1\"}"), &unknown),
        Err("`cidr`".to_string())
    );
}

#[test]
fn an_answer_names_the_failed_messages_and_anything_unreadable_fails_the_whole_batch() {
    let batch = [message("a", "1"), message("b", "2")];
    let failed = |answer: &str, partial| failed_messages(answer.as_bytes(), &batch, partial);
    assert_eq!(
        failed("{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}", true),
        Some(vec!["b".to_string()])
    );
    assert_eq!(failed("{\"batchItemFailures\":[]}", true), Some(vec![]));
    assert_eq!(failed("{\"batchItemFailures\":null}", true), Some(vec![]));
    assert_eq!(failed("", true), Some(vec![]));
    assert_eq!(failed("{}", true), Some(vec![]));
    assert_eq!(failed("not json", true), None);
    assert_eq!(
        failed(
            "{\"batchItemFailures\":[{\"itemIdentifier\":\"zzz\"}]}",
            true
        ),
        None
    );
    assert_eq!(
        failed("{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", true),
        None
    );
    assert_eq!(
        failed("{\"batchItemFailures\":[{\"id\":\"a\"}]}", true),
        None
    );
    assert_eq!(
        failed(
            "{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}",
            false
        ),
        Some(vec![]),
        "without partial failures the answer is not read"
    );
}

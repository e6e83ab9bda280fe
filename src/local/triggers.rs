//! The template's other triggers, as `local` delivers them: EventBridge
//! Scheduler schedules (fired on demand) and S3 notifications (delivered
//! when an object lands in or leaves a notifying bucket). Without I/O: the
//! events are built here; the caller lists buckets and invokes.

use super::template::{referenced_id, resources_of, Resolver, Unresolved};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A schedule that invokes a function.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleTrigger {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub expression: String,
    /// The function's logical id.
    pub function: String,
    /// The target's `Input`, which the function gets as it is.
    pub input: Option<String>,
}

/// Every schedule of the template that targets one of its functions.
pub fn schedules(
    template: &Value,
    resolver: &Resolver<'_>,
) -> Result<Vec<ScheduleTrigger>, (String, Unresolved)> {
    let mut out = Vec::new();
    for (id, resource) in resources_of(template, "AWS::Scheduler::Schedule") {
        let props = &resource["Properties"];
        let Some(function) = referenced_id(&props["Target"]["Arn"])
            .filter(|f| resolver.resource_type(f) == "AWS::Lambda::Function")
        else {
            continue;
        };
        let name = resolver
            .string(&props["Name"])
            .map_err(|e| (format!("{id}.Name"), e))?;
        let group = match props.get("GroupName") {
            Some(g) => resolver
                .string(g)
                .map_err(|e| (format!("{id}.GroupName"), e))?,
            None => "default".to_string(),
        };
        let input = match props["Target"].get("Input") {
            Some(v) => Some(
                resolver
                    .string(v)
                    .map_err(|e| (format!("{id}.Target.Input"), e))?,
            ),
            None => None,
        };
        out.push(ScheduleTrigger {
            logical_id: id.to_string(),
            arn: resolver.schedule_arn(&group, &name),
            expression: props["ScheduleExpression"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            name,
            function,
            input,
        });
    }
    Ok(out)
}

/// What the function gets when `schedule` fires at `time` (RFC 3339): its
/// `Input`, or else Scheduler's "default notification" (the Target API
/// reference), an EventBridge-shaped `Scheduled Event` whose exact fields
/// AWS does not list; the ones here are those functions read.
pub fn schedule_event(
    schedule: &ScheduleTrigger,
    account: &str,
    region: &str,
    time: &str,
) -> Vec<u8> {
    if let Some(input) = &schedule.input {
        return input.clone().into_bytes();
    }
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": account,
        "time": time,
        "region": region,
        "resources": [schedule.arn],
        "detail": "{}",
    })
    .to_string()
    .into_bytes()
}

/// Which changes of a bucket a notification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Removed,
}

/// An S3 notification to a function.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketTrigger {
    pub bucket_logical_id: String,
    pub bucket: String,
    /// The function's logical id.
    pub function: String,
    /// `s3:ObjectCreated:*` as written in the template.
    pub event: String,
    pub change: Change,
    pub prefix: String,
    pub suffix: String,
}

impl BucketTrigger {
    /// Whether a change to `key` is delivered.
    pub fn matches(&self, key: &str, change: Change) -> bool {
        change == self.change && key.starts_with(&self.prefix) && key.ends_with(&self.suffix)
    }
}

/// Every Lambda notification of the template's buckets.
pub fn bucket_triggers(
    template: &Value,
    resolver: &Resolver<'_>,
) -> Result<Vec<BucketTrigger>, (String, Unresolved)> {
    let mut out = Vec::new();
    for (id, resource) in resources_of(template, "AWS::S3::Bucket") {
        let configs = resource
            .pointer("/Properties/NotificationConfiguration/LambdaConfigurations")
            .and_then(Value::as_array);
        let Some(configs) = configs else { continue };
        let bucket = resolver
            .string(&json!({ "Ref": id }))
            .map_err(|e| (id.to_string(), e))?;
        for config in configs {
            let Some(function) = referenced_id(&config["Function"]) else {
                continue;
            };
            let event = config["Event"].as_str().unwrap_or_default().to_string();
            let change = if event.starts_with("s3:ObjectRemoved") {
                Change::Removed
            } else if event.starts_with("s3:ObjectCreated") {
                Change::Created
            } else {
                // Restore, replication, lifecycle… do not happen locally.
                continue;
            };
            let rule = |name: &str| {
                config
                    .pointer("/Filter/S3Key/Rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|r| {
                        r["Name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                    .and_then(|r| r["Value"].as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            out.push(BucketTrigger {
                bucket_logical_id: id.to_string(),
                bucket: bucket.clone(),
                function,
                event,
                change,
                prefix: rule("prefix"),
                suffix: rule("suffix"),
            });
        }
    }
    Ok(out)
}

/// One object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub etag: String,
    pub size: i64,
}

/// The keys created (or overwritten) and removed between two listings.
pub fn changes(
    before: &BTreeMap<String, Object>,
    after: &BTreeMap<String, Object>,
) -> Vec<(String, Change, Option<Object>)> {
    let mut out = Vec::new();
    for (key, object) in after {
        if before.get(key) != Some(object) {
            out.push((key.clone(), Change::Created, Some(object.clone())));
        }
    }
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        out.push((key.clone(), Change::Removed, None));
    }
    out
}

/// The S3 event notification for one change ("Event message structure",
/// version 2.1). The event name is `Put` or `Delete`: a listing cannot tell
/// a copy or a multipart upload from a put.
pub fn s3_event(
    trigger: &BucketTrigger,
    key: &str,
    object: Option<&Object>,
    region: &str,
    time: &str,
) -> Vec<u8> {
    let (name, object) = match object {
        Some(o) => (
            "ObjectCreated:Put",
            json!({"key": encode_key(key), "size": o.size, "eTag": o.etag.trim_matches('"'), "sequencer": sequencer()}),
        ),
        None => (
            "ObjectRemoved:Delete",
            json!({"key": encode_key(key), "sequencer": sequencer()}),
        ),
    };
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": time,
        "eventName": name,
        "userIdentity": {"principalId": "stackctl-local"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "stackctl-local", "x-amz-id-2": "stackctl-local"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": format!("{}-{}", trigger.bucket_logical_id, trigger.function),
            "bucket": {"name": trigger.bucket, "ownerIdentity": {"principalId": "stackctl-local"},
                       "arn": format!("arn:aws:s3:::{}", trigger.bucket)},
            "object": object,
        }
    }]})
    .to_string()
    .into_bytes()
}

/// Keys arrive URL-encoded in S3 events, spaces as `+`.
fn encode_key(key: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/')
        .remove(b' ');
    percent_encoding::utf8_percent_encode(key, KEEP)
        .to_string()
        .replace(' ', "+")
}

fn sequencer() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:X}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::template::Deployed;

    fn deployed() -> Deployed {
        Deployed {
            stack_name: "etl-dev".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            physical_ids: [("RawBucket".to_string(), "etl-raw-dev".to_string())].into(),
            ..Deployed::default()
        }
    }

    fn template() -> Value {
        json!({"Resources": {
            "RawBucket": {"Type": "AWS::S3::Bucket", "Properties": {
                "NotificationConfiguration": {"LambdaConfigurations": [
                    {"Event": "s3:ObjectCreated:*", "Function": {"Fn::GetAtt": ["IngestFunction", "Arn"]},
                     "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "incoming/"}, {"Name": "suffix", "Value": ".csv"}]}}}
                ]}}},
            "IngestFunction": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "NightlySchedule": {"Type": "AWS::Scheduler::Schedule", "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-nightly"},
                "ScheduleExpression": "cron(0 2 * * ? *)",
                "Target": {"Arn": {"Fn::GetAtt": ["IngestFunction", "Arn"]}, "RoleArn": "x"}}}
        }})
    }

    #[test]
    fn a_notifying_bucket_delivers_matching_new_keys_to_its_function() {
        let template = template();
        let deployed = deployed();
        let resolver = Resolver::new(&template, &deployed);
        let triggers = bucket_triggers(&template, &resolver).unwrap();
        assert_eq!(triggers.len(), 1);
        let trigger = &triggers[0];
        assert_eq!(
            (trigger.bucket.as_str(), trigger.function.as_str()),
            ("etl-raw-dev", "IngestFunction")
        );
        assert!(trigger.matches("incoming/a.csv", Change::Created));
        assert!(!trigger.matches("incoming/a.json", Change::Created));
        assert!(!trigger.matches("other/a.csv", Change::Created));
        assert!(!trigger.matches("incoming/a.csv", Change::Removed));

        let object = Object {
            etag: "\"abc\"".into(),
            size: 12,
        };
        let event: Value = serde_json::from_slice(&s3_event(
            trigger,
            "incoming/my file.csv",
            Some(&object),
            "eu-west-1",
            "2026-12-03T00:00:00.000Z",
        ))
        .unwrap();
        let parsed: aws_lambda_events::s3::S3Event = serde_json::from_value(event.clone()).unwrap();
        let record = &parsed.records[0];
        assert_eq!(record.s3.bucket.name.as_deref(), Some("etl-raw-dev"));
        assert_eq!(
            record.s3.object.key.as_deref(),
            Some("incoming/my+file.csv")
        );
        assert_eq!(record.event_name.as_deref(), Some("ObjectCreated:Put"));
        assert_eq!(event["Records"][0]["s3"]["object"]["eTag"], "abc");
    }

    #[test]
    fn listings_differ_by_new_changed_and_gone_keys() {
        let o = |etag: &str| Object {
            etag: etag.into(),
            size: 1,
        };
        let before: BTreeMap<String, Object> =
            [("a".to_string(), o("1")), ("b".to_string(), o("2"))].into();
        let after: BTreeMap<String, Object> = [
            ("a".to_string(), o("1")),
            ("b".to_string(), o("3")),
            ("c".to_string(), o("4")),
        ]
        .into();
        let found: Vec<(String, Change)> = changes(&before, &after)
            .into_iter()
            .map(|(k, c, _)| (k, c))
            .collect();
        assert_eq!(
            found,
            [
                ("b".to_string(), Change::Created),
                ("c".to_string(), Change::Created)
            ]
        );
        let gone: Vec<(String, Change)> = changes(&after, &before)
            .into_iter()
            .map(|(k, c, _)| (k, c))
            .collect();
        assert_eq!(
            gone,
            [
                ("b".to_string(), Change::Created),
                ("c".to_string(), Change::Removed)
            ]
        );
    }

    #[test]
    fn a_schedule_without_input_sends_the_scheduled_event_and_with_input_the_input() {
        let template = template();
        let deployed = deployed();
        let resolver = Resolver::new(&template, &deployed);
        let mut found = schedules(&template, &resolver).unwrap();
        assert_eq!(found.len(), 1);
        let schedule = found.remove(0);
        assert_eq!(schedule.name, "etl-dev-nightly");
        assert_eq!(
            schedule.arn,
            "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/etl-dev-nightly"
        );
        let event: Value = serde_json::from_slice(&schedule_event(
            &schedule,
            "123456789012",
            "eu-west-1",
            "2026-12-03T02:00:00Z",
        ))
        .unwrap();
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["resources"][0], schedule.arn.as_str());
        let with_input = ScheduleTrigger {
            input: Some(r#"{"job":"nightly"}"#.into()),
            ..schedule
        };
        assert_eq!(
            schedule_event(&with_input, "1", "r", "t"),
            br#"{"job":"nightly"}"#
        );
    }
}

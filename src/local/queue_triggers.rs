//! Event source mappings from SQS queues, as `local` delivers them: the
//! mappings the template declares, the SQS event a batch of messages
//! becomes, the filters Lambda applies and which messages a function's
//! answer says failed. Without I/O: the caller receives, invokes, deletes.

use super::template::{referenced_id, resources_of, Resolver, Unresolved};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A queue that invokes a function with batches of its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueTrigger {
    /// The mapping's logical id.
    pub mapping: String,
    pub queue_url: String,
    pub queue_arn: String,
    /// The function's logical id.
    pub function: String,
    pub batch_size: u32,
    pub batching_window_seconds: u32,
    /// `ReportBatchItemFailures`: the answer names the messages that failed.
    pub partial_failures: bool,
    /// Patterns of which a message must match one to be delivered (none: all).
    pub filters: Vec<Value>,
}

/// Every enabled mapping of the template whose source is one of its queues.
pub fn queue_triggers(
    template: &Value,
    resolver: &Resolver<'_>,
) -> Result<Vec<QueueTrigger>, (String, Unresolved)> {
    let mut out = Vec::new();
    for (id, resource) in resources_of(template, "AWS::Lambda::EventSourceMapping") {
        let props = &resource["Properties"];
        let Some(source) = referenced_id(&props["EventSourceArn"]) else {
            continue;
        };
        if resolver.resource_type(&source) != "AWS::SQS::Queue" || props["Enabled"] == json!(false)
        {
            continue;
        }
        let Some(function) = referenced_id(&props["FunctionName"]) else {
            continue;
        };
        let url = resolver
            .string(&json!({ "Ref": source }))
            .map_err(|e| (id.to_string(), e))?;
        let arn = resolver
            .string(&props["EventSourceArn"])
            .map_err(|e| (id.to_string(), e))?;
        let filters = props
            .pointer("/FilterCriteria/Filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| serde_json::from_str(f["Pattern"].as_str()?).ok())
            .collect();
        let partial = props["FunctionResponseTypes"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures"));
        out.push(QueueTrigger {
            mapping: id.to_string(),
            queue_url: url,
            queue_arn: arn,
            function: alias_function(&function, template),
            batch_size: number(&props["BatchSize"]).unwrap_or(10),
            batching_window_seconds: number(&props["MaximumBatchingWindowInSeconds"]).unwrap_or(0),
            partial_failures: partial,
            filters,
        });
    }
    Ok(out)
}

/// A mapping may name the `live` alias: `local` runs the function it points at.
fn alias_function(id: &str, template: &Value) -> String {
    let resource = &template["Resources"][id];
    if resource["Type"] == "AWS::Lambda::Alias" {
        if let Some(function) = referenced_id(&resource["Properties"]["FunctionName"]) {
            return function;
        }
    }
    id.to_string()
}

fn number(value: &Value) -> Option<u32> {
    value.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// One message as SQS handed it over.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    /// System attributes (`ApproximateReceiveCount`, `SentTimestamp`…).
    pub attributes: BTreeMap<String, String>,
    /// Message attributes: name to (data type, string value).
    pub message_attributes: BTreeMap<String, (String, String)>,
}

/// One record of the SQS event Lambda sends ("Example Amazon SQS message
/// event (standard queue)", AWS Lambda Developer Guide, with-sqs.html).
pub fn sqs_record(message: &Message, queue_arn: &str, region: &str) -> Value {
    let attributes: Map<String, Value> = message
        .message_attributes
        .iter()
        .map(|(name, (data_type, value))| {
            (
                name.clone(),
                json!({"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": data_type}),
            )
        })
        .collect();
    json!({
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": message.attributes,
        "messageAttributes": attributes,
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
}

pub fn sqs_event(records: Vec<Value>) -> Vec<u8> {
    json!({ "Records": records }).to_string().into_bytes()
}

/// Whether a record is delivered: it matches one of the filters, or there
/// are none. Lambda parses a JSON body, so `body` patterns look inside it;
/// a body that is not JSON matches only patterns that leave `body` out.
/// `Err` names an operator `local` does not evaluate.
pub fn passes_filters(record: &Value, filters: &[Value]) -> Result<bool, String> {
    if filters.is_empty() {
        return Ok(true);
    }
    let mut seen = record.clone();
    if let Some(body) = record["body"].as_str() {
        seen["body"] = serde_json::from_str(body).unwrap_or(Value::Null);
    }
    for filter in filters {
        if matches(filter, &seen)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An EventBridge-style pattern against an event: every field of the
/// pattern matches; a list of conditions matches when one does.
fn matches(pattern: &Value, event: &Value) -> Result<bool, String> {
    let Some(fields) = pattern.as_object() else {
        return Ok(false);
    };
    for (field, condition) in fields {
        let value = event.get(field);
        let ok = match condition {
            Value::Object(_) => match value {
                Some(inner) => matches(condition, inner)?,
                None => false,
            },
            Value::Array(conditions) => any_condition(conditions, value)?,
            _ => false,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn any_condition(conditions: &[Value], value: Option<&Value>) -> Result<bool, String> {
    // An array in the event matches when one of its elements does.
    let values: Vec<&Value> = match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    for condition in conditions {
        let hit = match condition {
            Value::Object(op) => operator(op, value, &values)?,
            literal => values.contains(&literal),
        };
        if hit {
            return Ok(true);
        }
    }
    Ok(false)
}

fn operator(
    op: &Map<String, Value>,
    value: Option<&Value>,
    values: &[&Value],
) -> Result<bool, String> {
    let Some((name, argument)) = op.iter().next() else {
        return Ok(false);
    };
    let text = |v: &&Value| v.as_str().map(str::to_string);
    Ok(match name.as_str() {
        "exists" => argument.as_bool() == Some(value.is_some()),
        "prefix" => match argument.as_str() {
            Some(p) => values.iter().filter_map(text).any(|s| s.starts_with(p)),
            None => return Err("prefix with a non-string argument".into()),
        },
        "suffix" => match argument.as_str() {
            Some(p) => values.iter().filter_map(text).any(|s| s.ends_with(p)),
            None => return Err("suffix with a non-string argument".into()),
        },
        "equals-ignore-case" => match argument.as_str() {
            Some(p) => values
                .iter()
                .filter_map(text)
                .any(|s| s.eq_ignore_ascii_case(p)),
            None => return Err("equals-ignore-case with a non-string argument".into()),
        },
        "anything-but" => {
            let excluded: Vec<&Value> = match argument {
                Value::Array(items) => items.iter().collect(),
                Value::Object(_) => return Err("anything-but with an operator".into()),
                single => vec![single],
            };
            value.is_some() && values.iter().all(|v| !excluded.contains(v))
        }
        "numeric" => numeric(argument, values)?,
        other => return Err(format!("`{other}`")),
    })
}

/// `{"numeric": [">", 0, "<=", 5]}`: every comparison holds.
fn numeric(argument: &Value, values: &[&Value]) -> Result<bool, String> {
    let Some(parts) = argument.as_array() else {
        return Err("numeric without a list".into());
    };
    let comparisons: Vec<(&str, f64)> = parts
        .chunks(2)
        .map(|pair| match pair {
            [op, n] => Ok((
                op.as_str().unwrap_or_default(),
                n.as_f64().unwrap_or(f64::NAN),
            )),
            _ => Err("numeric with an odd list".to_string()),
        })
        .collect::<Result<_, _>>()?;
    Ok(values.iter().filter_map(|v| v.as_f64()).any(|x| {
        comparisons.iter().all(|(op, n)| match *op {
            "=" => x == *n,
            "<" => x < *n,
            "<=" => x <= *n,
            ">" => x > *n,
            ">=" => x >= *n,
            _ => false,
        })
    }))
}

/// What a function's answer says about a batch: with partial failures on,
/// the message ids of `batchItemFailures`. `None` means the whole batch
/// failed. As Lambda reads it ("Reporting batch item failures", AWS Lambda
/// Developer Guide, services-sqs-errorhandling.html): an empty or null
/// answer or list is success; invalid JSON, an empty or missing
/// `itemIdentifier`, or one not in the batch fails every message.
pub fn failed_messages(answer: &[u8], batch: &[Message], partial: bool) -> Option<Vec<String>> {
    if !partial || answer.iter().all(u8::is_ascii_whitespace) {
        return Some(Vec::new());
    }
    let answer: Value = serde_json::from_slice(answer).ok()?;
    let failures = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(list) => list.as_array()?,
    };
    let mut out = Vec::new();
    for failure in failures {
        let id = failure["itemIdentifier"].as_str()?;
        if id.is_empty() || !batch.iter().any(|m| m.message_id == id) {
            return None;
        }
        out.push(id.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests;

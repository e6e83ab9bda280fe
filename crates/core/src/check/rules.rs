//! Rules AWS enforces when it creates a resource that the resource schemas
//! do not express, each with the AWS documentation it comes from. They run
//! on the rendered template, so an override (`--templates`) is held to them
//! too; the stack-file rules that prevent them sit in `validate`.

use super::resources::Finding;
use crate::diagnostic::Diagnostic;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every rule breach in one resource.
pub fn check_resource(id: &str, type_name: &str, resource: &Value) -> Vec<Finding> {
    let Some(properties) = resource.get("Properties") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    match type_name {
        "AWS::Cognito::UserPool" => threat_protection_needs_plus(properties, &mut found),
        "AWS::DynamoDB::Table" => {
            throughput_follows_billing_mode(properties, &mut found);
            attribute_definitions_match_keys(properties, &mut found);
        }
        "AWS::SNS::Topic" => fifo_topic_names(properties, &mut found),
        _ => {}
    }
    found
        .into_iter()
        .map(|(path, value, diagnostic)| Finding {
            resource: Some(id.to_string()),
            path,
            value,
            diagnostic: prefix(id, type_name, diagnostic),
        })
        .collect()
}

/// Rules that look across resources of one template.
pub fn check_template(resources: &serde_json::Map<String, Value>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, bucket) in resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::S3::Bucket"))
    {
        let mut found = Found::new();
        notifications_wait_for_permissions(bucket, resources, &mut found);
        out.extend(found.into_iter().map(|(path, value, d)| Finding {
            resource: Some(id.clone()),
            path,
            value,
            diagnostic: prefix(id, "AWS::S3::Bucket", d),
        }));
    }
    out
}

type Found = Vec<(Vec<String>, Option<Value>, Diagnostic)>;

/// Amazon S3 PutBucketNotificationConfiguration checks that it may invoke
/// each function it notifies, and fails ("Unable to validate the following
/// destination configurations") when the function's resource policy does
/// not yet allow s3.amazonaws.com. In a template, that permission must exist
/// and the bucket must depend on it, or CloudFormation may create the bucket
/// first.
fn notifications_wait_for_permissions(
    bucket: &Value,
    resources: &serde_json::Map<String, Value>,
    found: &mut Found,
) {
    let depends_on: Vec<&str> = match bucket.get("DependsOn") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let granted = |function: &Value| {
        depends_on
            .iter()
            .filter_map(|d| resources.get(*d))
            .any(|p| {
                p.get("Type").and_then(Value::as_str) == Some("AWS::Lambda::Permission")
                    && p.pointer("/Properties/Principal").and_then(Value::as_str)
                        == Some("s3.amazonaws.com")
                    && p.pointer("/Properties/FunctionName") == Some(function)
            })
    };
    let notified = bucket
        .pointer("/Properties/NotificationConfiguration/LambdaConfigurations")
        .and_then(Value::as_array);
    for (i, config) in notified.into_iter().flatten().enumerate() {
        let Some(function) = config.get("Function") else {
            continue;
        };
        if !granted(function) {
            let d = Diagnostic::error(format!("the bucket notifies function {function} without depending on a permission that lets S3 invoke it"))
                .hint("S3 checks the permission when the notification is set: add an AWS::Lambda::Permission (principal s3.amazonaws.com, the same FunctionName) and list it in the bucket's DependsOn");
            found.push((
                at(&[
                    "NotificationConfiguration",
                    "LambdaConfigurations",
                    &i.to_string(),
                    "Function",
                ]),
                None,
                d,
            ));
        }
    }
}

fn prefix(id: &str, type_name: &str, mut d: Diagnostic) -> Diagnostic {
    d.message = format!("`{id}` ({type_name}): {}", d.message);
    d
}

fn at(parts: &[&str]) -> Vec<String> {
    std::iter::once("Properties")
        .chain(parts.iter().copied())
        .map(str::to_string)
        .collect()
}

/// Amazon Cognito developer guide, "Threat protection" and "User pool
/// feature plans": threat protection (AdvancedSecurityMode AUDIT or
/// ENFORCED) is a Plus-plan feature; a pool on Essentials (the default for
/// new pools) or Lite fails to create ("The following features need to be
/// disabled for the ESSENTIALS pricing tier").
fn threat_protection_needs_plus(properties: &Value, found: &mut Found) {
    let mode = properties
        .pointer("/UserPoolAddOns/AdvancedSecurityMode")
        .and_then(Value::as_str);
    let tier = properties
        .get("UserPoolTier")
        .and_then(Value::as_str)
        .unwrap_or("ESSENTIALS");
    if matches!(mode, Some("AUDIT" | "ENFORCED")) && tier != "PLUS" {
        let d = Diagnostic::error(format!("threat protection (`AdvancedSecurityMode: {}`) needs the Plus feature plan, and the pool is on {tier}", mode.unwrap_or_default()))
            .hint("set `tier: plus` on the user pool (billed per monthly active user), or remove `advanced_security`");
        found.push((
            at(&["UserPoolAddOns", "AdvancedSecurityMode"]),
            mode.map(Value::from),
            d,
        ));
    }
}

/// DynamoDB CreateTable/UpdateTable: provisioned throughput is given for the
/// table and every global secondary index when BillingMode is PROVISIONED
/// (the default), and never when it is PAY_PER_REQUEST ("ProvisionedThroughput
/// should not be specified for index … when BillingMode is PAY_PER_REQUEST").
fn throughput_follows_billing_mode(properties: &Value, found: &mut Found) {
    let on_demand = match properties.get("BillingMode").and_then(Value::as_str) {
        Some("PAY_PER_REQUEST") => true,
        None | Some("PROVISIONED") => false,
        // Another value breaks the schema's enum, reported there.
        Some(_) => return,
    };
    let mut places = vec![(
        at(&["ProvisionedThroughput"]),
        properties.get("ProvisionedThroughput"),
        "the table".to_string(),
    )];
    for (i, index) in properties
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = index
            .get("IndexName")
            .and_then(Value::as_str)
            .unwrap_or("?");
        places.push((
            at(&[
                "GlobalSecondaryIndexes",
                &i.to_string(),
                "ProvisionedThroughput",
            ]),
            index.get("ProvisionedThroughput"),
            format!("index `{name}`"),
        ));
    }
    for (path, throughput, what) in places {
        let present = throughput.is_some_and(|t| !t.is_null());
        if on_demand && present {
            found.push((path, None, Diagnostic::error(format!("{what} gives ProvisionedThroughput, which DynamoDB refuses for an on-demand (PAY_PER_REQUEST) table")).hint("leave throughput out of on-demand tables and their indexes")));
        } else if !on_demand && !present {
            found.push((path, None, Diagnostic::error(format!("{what} has no ProvisionedThroughput, which a PROVISIONED table needs")).hint("give read and write capacity for the table and each index, or make the table on-demand")));
        }
    }
}

/// DynamoDB CreateTable: AttributeDefinitions list exactly the attributes
/// that the table's and its indexes' key schemas use; an attribute defined
/// but used by no key is refused ("Number of attributes in KeySchema does not
/// exactly match number of attributes defined in AttributeDefinitions").
fn attribute_definitions_match_keys(properties: &Value, found: &mut Found) {
    let names = |schema: Option<&Value>| -> Vec<String> {
        schema
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|k| k.get("AttributeName")?.as_str().map(str::to_string))
            .collect()
    };
    let mut used: BTreeSet<String> = names(properties.get("KeySchema")).into_iter().collect();
    for section in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        for index in properties
            .get(section)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            used.extend(names(index.get("KeySchema")));
        }
    }
    let defined: BTreeSet<String> = properties
        .get("AttributeDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("AttributeName")?.as_str().map(str::to_string))
        .collect();
    for name in defined.difference(&used) {
        found.push((at(&["AttributeDefinitions"]), Some(Value::from(name.as_str())), Diagnostic::error(format!("attribute `{name}` is defined but no key of the table or its indexes uses it, which DynamoDB refuses")).hint("define only key attributes; other attributes need no declaration")));
    }
    for name in used.difference(&defined) {
        found.push((
            at(&["AttributeDefinitions"]),
            Some(Value::from(name.as_str())),
            Diagnostic::error(format!(
                "key attribute `{name}` has no attribute definition"
            ))
            .hint("every attribute a key schema names needs a type in AttributeDefinitions"),
        ));
    }
}

/// Amazon SNS CreateTopic: a FIFO topic's name ends in `.fifo`, and only a
/// FIFO topic's does.
fn fifo_topic_names(properties: &Value, found: &mut Found) {
    let Some(name) = properties.get("TopicName").and_then(Value::as_str) else {
        return;
    };
    let fifo = properties
        .get("FifoTopic")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if fifo != name.ends_with(".fifo") {
        let d = if fifo {
            Diagnostic::error(format!("FIFO topic name `{name}` does not end in `.fifo`"))
        } else {
            Diagnostic::error(format!(
                "topic name `{name}` ends in `.fifo` but the topic is not FIFO"
            ))
        };
        found.push((
            at(&["TopicName"]),
            Some(Value::from(name)),
            d.hint("SNS requires FIFO topic names, and only those, to end in `.fifo`"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(type_name: &str, properties: Value) -> Vec<String> {
        check_resource(
            "R",
            type_name,
            &json!({"Type": type_name, "Properties": properties}),
        )
        .into_iter()
        .map(|f| f.diagnostic.message)
        .collect()
    }

    #[test]
    fn threat_protection_without_the_plus_plan_is_refused() {
        assert_eq!(
            messages(
                "AWS::Cognito::UserPool",
                json!({"UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}})
            )
            .len(),
            1
        );
        assert_eq!(messages("AWS::Cognito::UserPool", json!({"UserPoolTier": "ESSENTIALS", "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}})).len(), 1);
        assert!(messages(
            "AWS::Cognito::UserPool",
            json!({"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}})
        )
        .is_empty());
        assert!(messages(
            "AWS::Cognito::UserPool",
            json!({"UserPoolAddOns": {"AdvancedSecurityMode": "OFF"}})
        )
        .is_empty());
    }

    #[test]
    fn throughput_must_follow_the_billing_mode() {
        let keys = json!([{"AttributeName": "id", "KeyType": "HASH"}]);
        let on_demand = json!({"BillingMode": "PAY_PER_REQUEST", "KeySchema": keys, "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "GlobalSecondaryIndexes": [{"IndexName": "i", "KeySchema": keys, "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}]});
        assert_eq!(messages("AWS::DynamoDB::Table", on_demand), vec!["`R` (AWS::DynamoDB::Table): index `i` gives ProvisionedThroughput, which DynamoDB refuses for an on-demand (PAY_PER_REQUEST) table"]);
        let provisioned = json!({"KeySchema": keys, "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            "GlobalSecondaryIndexes": [{"IndexName": "i", "KeySchema": keys}]});
        assert_eq!(messages("AWS::DynamoDB::Table", provisioned).len(), 1);
    }

    #[test]
    fn attribute_definitions_must_equal_the_key_attributes() {
        let table = json!({"BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "auctionEndTime", "AttributeType": "N"}]});
        let found = messages("AWS::DynamoDB::Table", table);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("`auctionEndTime` is defined but no key"));
    }

    #[test]
    fn a_notifying_bucket_must_depend_on_the_permission_that_lets_s3_invoke() {
        let function = json!({"Fn::GetAtt": ["F", "Arn"]});
        let bucket = |depends: Value| json!({"Type": "AWS::S3::Bucket", "DependsOn": depends, "Properties": {"NotificationConfiguration": {"LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": function}]}}});
        let permission = json!({"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": function, "Principal": "s3.amazonaws.com"}});
        let count = |depends: Value| {
            let resources = json!({"B": bucket(depends), "P": permission})
                .as_object()
                .cloned()
                .expect("map");
            check_template(&resources).len()
        };
        assert_eq!(count(json!(["P"])), 0);
        assert_eq!(count(json!("P")), 0);
        assert_eq!(count(json!([])), 1);
    }

    #[test]
    fn fifo_topics_and_only_they_end_in_fifo() {
        assert_eq!(
            messages(
                "AWS::SNS::Topic",
                json!({"TopicName": "alerts", "FifoTopic": true})
            )
            .len(),
            1
        );
        assert_eq!(
            messages("AWS::SNS::Topic", json!({"TopicName": "alerts.fifo"})).len(),
            1
        );
        assert!(messages(
            "AWS::SNS::Topic",
            json!({"TopicName": "alerts.fifo", "FifoTopic": true})
        )
        .is_empty());
    }
}

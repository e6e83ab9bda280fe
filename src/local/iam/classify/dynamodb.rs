//! DynamoDB (JSON 1.0, `DynamoDB_20120810.*`). Batch and transaction calls
//! need a permission per table they touch; a transaction's items each need
//! the action of the item's kind (DynamoDB's "Using IAM with transactions").
//!
//! Every check tells the request's `dynamodb:ReturnValues` (the condition
//! key of PutItem, UpdateItem and DeleteItem): the `ReturnValues` a single
//! item write sends, absent when it sends none; absent for every other call
//! (a transaction's items and a batch's requests have no such parameter).

use super::{field, Check, Classified, Scope};
use serde_json::Value;

const SERVICE: &str = "dynamodb";
const RETURN_VALUES: &str = "dynamodb:ReturnValues";

pub(super) fn classify(operation: &str, body: &Value, scope: &Scope<'_>) -> Classified {
    let table = |name: &str| table_arn(name, scope);
    let checks = match operation {
        "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| Check::new(format!("dynamodb:{operation}"), table(name)))
            .collect(),
        "TransactWriteItems" | "TransactGetItems" => transaction(body, scope),
        "Query" | "Scan" => match (field(body, "TableName"), field(body, "IndexName")) {
            (Some(t), Some(index)) => vec![Check::new(
                format!("dynamodb:{operation}"),
                format!("{}/index/{index}", table(t)),
            )],
            (Some(t), None) => vec![Check::new(format!("dynamodb:{operation}"), table(t))],
            _ => Vec::new(),
        },
        "ListTables" | "DescribeLimits" => vec![Check::new(format!("dynamodb:{operation}"), "*")],
        "DescribeEndpoints" => return Classified::no_permission(SERVICE, operation),
        "ExecuteStatement" | "BatchExecuteStatement" | "ExecuteTransaction" => {
            return Classified::not_checked(
                SERVICE,
                operation,
                "PartiQL names its tables inside the statement text",
            )
        }
        _ => field(body, "TableName")
            .map(|t| vec![Check::new(format!("dynamodb:{operation}"), table(t))])
            .unwrap_or_default(),
    };
    if checks.is_empty() {
        return Classified::not_checked(SERVICE, operation, "no table named in the request");
    }
    let return_values = match operation {
        "PutItem" | "UpdateItem" | "DeleteItem" => field(body, "ReturnValues"),
        _ => None,
    };
    let checks = checks
        .into_iter()
        .map(|c| c.with(RETURN_VALUES, return_values))
        .collect();
    Classified::checked(SERVICE, operation, checks)
}

/// A table named by name or by ARN (DynamoDB takes both).
fn table_arn(name: &str, scope: &Scope<'_>) -> String {
    if name.starts_with("arn:") {
        name.to_string()
    } else {
        scope.arn(SERVICE, &format!("table/{name}"))
    }
}

fn transaction(body: &Value, scope: &Scope<'_>) -> Vec<Check> {
    let kinds = [
        ("Put", "dynamodb:PutItem"),
        ("Update", "dynamodb:UpdateItem"),
        ("Delete", "dynamodb:DeleteItem"),
        ("ConditionCheck", "dynamodb:ConditionCheckItem"),
        ("Get", "dynamodb:GetItem"),
    ];
    let mut checks = Vec::new();
    for item in body["TransactItems"].as_array().into_iter().flatten() {
        for (kind, action) in kinds {
            if let Some(t) = item.get(kind).and_then(|k| field(k, "TableName")) {
                checks.push(Check::new(action, table_arn(t, scope)));
            }
        }
    }
    checks
}

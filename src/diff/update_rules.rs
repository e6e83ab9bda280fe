//! Updates that the resource schemas allow but AWS refuses while applying
//! them, so CloudFormation starts the update and then fails and rolls back.
//! Each is known from the two templates, before any change set exists, and
//! is refused with the deploys to make instead.
//!
//! - One global secondary index created or deleted per DynamoDB table
//!   update: "You can create or delete only one global secondary index per
//!   UpdateTable operation" (DynamoDB API reference, UpdateTable,
//!   `GlobalSecondaryIndexUpdates`); "You can delete or add one global
//!   secondary index without interruption. If you do both in the same
//!   update (for example, by changing the index's logical ID), the update
//!   fails" (CloudFormation template reference, AWS::DynamoDB::Table,
//!   `GlobalSecondaryIndexes`). Changing an index's key schema or
//!   projection is a delete and a create: two operations. Throughput,
//!   contributor insights and warm throughput update in place.

use super::{Action, Replacement, ResourceChange};
use serde::Serialize;
use serde_json::{Map, Value};

/// Which AWS rule an update breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateRule {
    OneIndexPerTableUpdate,
}

/// An update AWS would refuse, and how to get there instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateRefusal {
    pub logical_id: String,
    pub resource_type: String,
    pub rule: UpdateRule,
    /// What the update would do that AWS refuses.
    pub problem: String,
    /// One deploy each, in order.
    pub steps: Vec<String>,
}

/// Every update rule the change from `old` to `new` breaks. `changes` is
/// the diff of the two (a replaced resource is created anew, so update
/// rules do not apply to it).
pub fn update_refusals(old: &Value, new: &Value, changes: &[ResourceChange]) -> Vec<UpdateRefusal> {
    let updated = |c: &&ResourceChange| {
        c.action == Action::Modify && c.replacement != Some(Replacement::True)
    };
    changes
        .iter()
        .filter(updated)
        .filter(|c| c.resource_type == "AWS::DynamoDB::Table")
        .filter_map(|c| {
            one_index_per_update(
                &c.logical_id,
                &old["Resources"][&c.logical_id],
                &new["Resources"][&c.logical_id],
            )
        })
        .collect()
}

/// The index operations one table update would make: (created, deleted,
/// redefined), by index name.
fn index_operations(
    before: &Value,
    after: &Value,
) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
    let (old, new) = (indexes(before)?, indexes(after)?);
    let created: Vec<String> = new
        .keys()
        .filter(|n| !old.contains_key(*n))
        .cloned()
        .collect();
    let deleted: Vec<String> = old
        .keys()
        .filter(|n| !new.contains_key(*n))
        .cloned()
        .collect();
    // Key schema and projection cannot change in place; the rest can.
    let definition = |i: &Value| (i.get("KeySchema").cloned(), i.get("Projection").cloned());
    let redefined: Vec<String> = new
        .iter()
        .filter(|(n, i)| old.get(*n).is_some_and(|o| definition(o) != definition(i)))
        .map(|(n, _)| n.clone())
        .collect();
    Some((created, deleted, redefined))
}

/// The table's indexes by name; `None` when they are not a plain list
/// (an `Fn::If`, say), which cannot be judged from the template.
fn indexes(table: &Value) -> Option<Map<String, Value>> {
    match table.pointer("/Properties/GlobalSecondaryIndexes") {
        None => Some(Map::new()),
        Some(Value::Array(list)) => list
            .iter()
            .map(|i| Some((i.get("IndexName")?.as_str()?.to_string(), i.clone())))
            .collect(),
        Some(_) => None,
    }
}

/// A table whose name or key schema changes is a new table: DynamoDB
/// cannot change either in place (UpdateTable takes neither), so
/// CloudFormation replaces it, and a new table takes any number of indexes.
/// The table's schema marks `KeySchema` only conditionally create-only, so
/// the change's replacement verdict alone does not say this.
fn is_new_table(before: &Value, after: &Value) -> bool {
    ["/Properties/TableName", "/Properties/KeySchema"]
        .iter()
        .any(|p| before.pointer(p) != after.pointer(p))
}

fn one_index_per_update(id: &str, before: &Value, after: &Value) -> Option<UpdateRefusal> {
    if is_new_table(before, after) {
        return None;
    }
    let (created, deleted, redefined) = index_operations(before, after)?;
    let operations = created.len() + deleted.len() + 2 * redefined.len();
    if operations <= 1 {
        return None;
    }
    let quoted = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut what = Vec::new();
    if !created.is_empty() {
        what.push(format!("create {}", quoted(&created)));
    }
    if !deleted.is_empty() {
        what.push(format!("delete {}", quoted(&deleted)));
    }
    if !redefined.is_empty() {
        what.push(format!(
            "delete and create again {} (a key schema or projection change)",
            quoted(&redefined)
        ));
    }
    // New indexes first, so readers can move to them before old ones go; a
    // redefined index is removed, then added back.
    let mut ops: Vec<String> = created.iter().map(|n| format!("`{n}` added")).collect();
    ops.extend(deleted.iter().map(|n| format!("`{n}` removed")));
    for n in &redefined {
        ops.push(format!("`{n}` removed"));
        ops.push(format!(
            "`{n}` added back with its new key schema and projection"
        ));
    }
    let steps = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            if i == 0 {
                format!("deploy with only {op} first")
            } else {
                format!("then deploy with {op}")
            }
        })
        .collect();
    let problem = format!(
        "one update would make {operations} global secondary index operations ({}), and DynamoDB creates or deletes one index per table update; CloudFormation would fail and roll back",
        what.join("; ")
    );
    Some(UpdateRefusal {
        logical_id: id.to_string(),
        resource_type: "AWS::DynamoDB::Table".into(),
        rule: UpdateRule::OneIndexPerTableUpdate,
        problem,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff_templates;
    use serde_json::json;

    fn index(name: &str, key: &str, projection: &str) -> Value {
        json!({"IndexName": name, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}], "Projection": {"ProjectionType": projection}})
    }

    fn table(key: &str, indexes: &[Value]) -> Value {
        let mut t = json!({"Resources": {"OrdersTable": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "orders", "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}}}});
        if !indexes.is_empty() {
            t["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"] = json!(indexes);
        }
        t
    }

    fn refusals(old: &Value, new: &Value) -> Vec<UpdateRefusal> {
        update_refusals(old, new, &diff_templates(old, new))
    }

    #[test]
    fn one_index_added_or_removed_per_update_passes() {
        let none = table("id", &[]);
        let one = table("id", &[index("by-status", "status", "ALL")]);
        assert!(refusals(&none, &one).is_empty());
        assert!(refusals(&one, &none).is_empty());
        let mut throughput = one.clone();
        throughput["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"][0]
            ["ContributorInsightsSpecification"] = json!({"Enabled": true});
        assert!(refusals(&one, &throughput).is_empty(), "updated in place");
    }

    #[test]
    fn two_indexes_added_at_once_are_refused_with_the_steps() {
        let old = table("id", &[]);
        let new = table(
            "id",
            &[
                index("by-status", "status", "ALL"),
                index("by-date", "date", "KEYS_ONLY"),
            ],
        );
        let r = refusals(&old, &new);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(
            (r[0].logical_id.as_str(), r[0].rule),
            ("OrdersTable", UpdateRule::OneIndexPerTableUpdate)
        );
        assert!(r[0].problem.starts_with("one update would make 2 global secondary index operations (create `by-status`, `by-date`)"), "{}", r[0].problem);
        assert_eq!(
            r[0].steps,
            [
                "deploy with only `by-status` added first",
                "then deploy with `by-date` added"
            ]
        );
    }

    #[test]
    fn an_added_and_a_removed_index_are_two_operations() {
        let old = table("id", &[index("by-status", "status", "ALL")]);
        let new = table("id", &[index("by-date", "date", "ALL")]);
        let r = refusals(&old, &new);
        assert_eq!(
            r[0].steps,
            [
                "deploy with only `by-date` added first",
                "then deploy with `by-status` removed"
            ]
        );
    }

    #[test]
    fn a_changed_key_schema_or_projection_is_a_delete_and_a_create() {
        let old = table("id", &[index("by-status", "status", "ALL")]);
        for new in [
            table("id", &[index("by-status", "state", "ALL")]),
            table("id", &[index("by-status", "status", "KEYS_ONLY")]),
        ] {
            let r = refusals(&old, &new);
            assert_eq!(r.len(), 1, "{r:?}");
            assert!(
                r[0].problem.contains("delete and create again `by-status`"),
                "{}",
                r[0].problem
            );
            assert_eq!(r[0].steps, ["deploy with only `by-status` removed first", "then deploy with `by-status` added back with its new key schema and projection"]);
        }
    }

    #[test]
    fn a_new_or_replaced_table_may_have_many_indexes() {
        let many = [
            index("a", "a", "ALL"),
            index("b", "b", "ALL"),
            index("c", "c", "ALL"),
        ];
        assert!(
            refusals(&json!({"Resources": {}}), &table("id", &many)).is_empty(),
            "a CREATE makes them all"
        );
        assert!(
            refusals(&table("id", &[]), &table("orderId", &many)).is_empty(),
            "a new key schema replaces the table"
        );
    }

    #[test]
    fn indexes_written_as_a_condition_are_not_judged() {
        let old = table("id", &[]);
        let mut new = table("id", &[]);
        new["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"] =
            json!({"Fn::If": ["Big", [index("a", "a", "ALL"), index("b", "b", "ALL")], []]});
        assert!(refusals(&old, &new).is_empty());
    }
}

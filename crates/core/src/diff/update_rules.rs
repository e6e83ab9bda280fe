//! Updates that the resource schemas allow but AWS refuses while applying
//! them, so CloudFormation starts the update and then fails and rolls back.
//! Each is known from the two templates and the replacement verdicts (most
//! before any change set exists), and is refused with what to do instead.
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
//! - No replacement of a resource with a fixed physical name under the same
//!   name: "If you specify a name, you cannot perform updates that require
//!   replacement of this resource. ... If you must replace the resource,
//!   specify a new name" (CloudFormation user guide, "Name type").
//!   CloudFormation creates the replacement before deleting the original,
//!   and the name is taken, so the update fails ("CloudFormation cannot
//!   update a stack when a custom-named resource requires replacing").
//!   Checked on CloudFormation's replacement verdict (True only), so in a
//!   deploy it runs once the change set is known.
//! - A user pool's existing attributes stay as they are: Cognito adds custom
//!   attributes (AddCustomAttributes) but refuses to change or remove one
//!   ("Existing schema attributes cannot be modified or deleted").

use super::{Action, Replacement, ResourceChange};
use serde::Serialize;
use serde_json::{Map, Value};

/// Which AWS rule an update breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateRule {
    OneIndexPerTableUpdate,
    FixedNameReplacement,
    UserPoolAttributesAreFixed,
}

/// The property that gives each type stackctl emits a fixed physical name
/// (the "Name type" properties of the CloudFormation user guide).
pub const NAME_PROPERTIES: [(&str, &str); 14] = [
    ("AWS::CloudWatch::Alarm", "AlarmName"),
    ("AWS::CloudWatch::Dashboard", "DashboardName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::KMS::Alias", "AliasName"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::Scheduler::Schedule", "Name"),
    ("AWS::Scheduler::ScheduleGroup", "Name"),
    ("AWS::SecretsManager::Secret", "Name"),
    ("AWS::WAFv2::WebACL", "Name"),
];

/// An update AWS would refuse, and how to get there instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateRefusal {
    pub logical_id: String,
    pub resource_type: String,
    pub rule: UpdateRule,
    /// What the update would do that AWS refuses.
    pub problem: String,
    /// What to do instead: the deploys to make, in order.
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
        .chain(
            changes
                .iter()
                .filter_map(|c| fixed_name_replacement(c, old, new)),
        )
        .chain(
            changes
                .iter()
                .filter(updated)
                .filter(|c| c.resource_type == "AWS::Cognito::UserPool")
                .filter_map(|c| {
                    user_pool_attributes_kept(
                        &c.logical_id,
                        &old["Resources"][&c.logical_id],
                        &new["Resources"][&c.logical_id],
                    )
                }),
        )
        .collect()
}

/// Amazon Cognito keeps a user pool's attributes for its life: new custom
/// attributes can be added (AddCustomAttributes), but an existing attribute
/// can be neither changed nor removed, and the update fails with
/// "Existing schema attributes cannot be modified or deleted"
/// (InvalidParameterException). The pool is not replaced, so only the
/// update fails.
fn user_pool_attributes_kept(id: &str, before: &Value, after: &Value) -> Option<UpdateRefusal> {
    let attributes = |pool: &Value| -> Option<Map<String, Value>> {
        match pool.pointer("/Properties/Schema") {
            None => Some(Map::new()),
            Some(Value::Array(list)) => list
                .iter()
                .map(|a| Some((a.get("Name")?.as_str()?.to_string(), a.clone())))
                .collect(),
            // An intrinsic (`Fn::If`…) cannot be judged from the template.
            Some(_) => None,
        }
    };
    let (old, new) = (attributes(before)?, attributes(after)?);
    let removed: Vec<&String> = old.keys().filter(|n| !new.contains_key(*n)).collect();
    let changed: Vec<&String> = old
        .iter()
        .filter(|(n, a)| new.get(*n).is_some_and(|b| b != *a))
        .map(|(n, _)| n)
        .collect();
    if removed.is_empty() && changed.is_empty() {
        return None;
    }
    let mut problem = Vec::new();
    if !removed.is_empty() {
        problem.push(format!(
            "removes attribute{} {}",
            if removed.len() == 1 { "" } else { "s" },
            names(&removed)
        ));
    }
    if !changed.is_empty() {
        problem.push(format!(
            "changes attribute{} {}",
            if changed.len() == 1 { "" } else { "s" },
            names(&changed)
        ));
    }
    Some(UpdateRefusal {
        logical_id: id.to_string(),
        resource_type: "AWS::Cognito::UserPool".into(),
        rule: UpdateRule::UserPoolAttributesAreFixed,
        problem: format!("the update {}, and Cognito never changes or removes a pool's existing attributes", problem.join(" and ")),
        steps: vec![
            "keep the existing attributes exactly as deployed (new custom attributes may be added)".into(),
            "or, if the pool may be recreated with its users lost, move it to a new pool: rename it in the stack file and deploy with --allow-replace".into(),
        ],
    })
}

fn names(list: &[&String]) -> String {
    list.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A resource CloudFormation will replace while its fixed name stays.
fn fixed_name_replacement(c: &ResourceChange, old: &Value, new: &Value) -> Option<UpdateRefusal> {
    if c.action != Action::Modify || c.replacement != Some(Replacement::True) {
        return None;
    }
    let (_, property) = NAME_PROPERTIES
        .iter()
        .find(|(t, _)| *t == c.resource_type)?;
    let pointer = format!("/Resources/{}/Properties/{property}", c.logical_id);
    let name = old
        .pointer(&pointer)
        .filter(|n| new.pointer(&pointer) == Some(*n))?;
    let causes: Vec<&str> = c
        .properties
        .iter()
        .filter(|p| p.replacement != Replacement::False)
        .map(|p| p.path.as_str())
        .collect();
    let because = if causes.is_empty() {
        String::new()
    } else {
        format!(" because {} changes", causes.join(", "))
    };
    let name = name
        .as_str()
        .map_or_else(|| name.to_string(), |n| format!("`{n}`"));
    Some(UpdateRefusal {
        logical_id: c.logical_id.clone(),
        resource_type: c.resource_type.clone(),
        rule: UpdateRule::FixedNameReplacement,
        problem: format!(
            "would be replaced{because}, but keeps its fixed name {name} ({property}); CloudFormation creates the replacement before deleting the original, so the name is taken and the update fails"
        ),
        steps: vec![format!(
            "give it a new name ({property}) in the same deploy, so the replacement can exist next to the original, or remove it in one deploy and add it back in the next"
        )],
    })
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
    fn a_replacement_under_the_same_fixed_name_is_refused_and_a_renamed_one_is_not() {
        let function = |name: &str, package: &str| json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": name, "PackageType": package}}}});
        let old = function("shop-orders", "Zip");
        let new = function("shop-orders", "Image");
        let changes = diff_templates(&old, &new);
        assert_eq!(
            changes[0].replacement,
            Some(Replacement::True),
            "PackageType is create-only"
        );
        let r = update_refusals(&old, &new, &changes);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].rule, UpdateRule::FixedNameReplacement);
        assert!(r[0].problem.starts_with("would be replaced because PackageType changes, but keeps its fixed name `shop-orders` (FunctionName)"), "{}", r[0].problem);
        let renamed = function("shop-orders-v2", "Image");
        assert!(update_refusals(&old, &renamed, &diff_templates(&old, &renamed)).is_empty());
        // Only a certain replacement: CloudFormation decides a conditional one while it runs.
        let mut conditional = diff_templates(&old, &new);
        conditional[0].replacement = Some(Replacement::Conditional);
        assert!(update_refusals(&old, &new, &conditional).is_empty());
    }

    #[test]
    fn every_name_property_is_a_property_of_its_type() {
        for (type_name, property) in NAME_PROPERTIES {
            let schema = crate::resource_schema::schema(type_name)
                .unwrap_or_else(|| panic!("{type_name} is not a type stackctl emits"));
            assert!(
                schema
                    .root
                    .get("properties")
                    .and_then(|p| p.get(property))
                    .is_some(),
                "{type_name} has no property {property}"
            );
        }
    }

    #[test]
    fn indexes_written_as_a_condition_are_not_judged() {
        let old = table("id", &[]);
        let mut new = table("id", &[]);
        new["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"] =
            json!({"Fn::If": ["Big", [index("a", "a", "ALL"), index("b", "b", "ALL")], []]});
        assert!(refusals(&old, &new).is_empty());
    }

    #[test]
    fn a_user_pool_keeps_its_existing_attributes_but_may_gain_new_ones() {
        let pool = |schema: Value| json!({"Resources": {"Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": "p", "Schema": schema}}}});
        let role = json!({"Name": "role", "AttributeDataType": "String", "Mutable": true});
        let tier = json!({"Name": "tier", "AttributeDataType": "String", "Mutable": true});
        let refusals = |old: &Value, new: &Value| {
            update_refusals(old, new, &crate::diff::diff_templates(old, new))
        };
        let base = pool(json!([role]));
        assert!(
            refusals(&base, &pool(json!([role, tier]))).is_empty(),
            "adding is allowed"
        );
        let removed = refusals(&base, &pool(json!([])));
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].rule, UpdateRule::UserPoolAttributesAreFixed);
        assert!(
            removed[0].problem.contains("removes attribute `role`"),
            "{}",
            removed[0].problem
        );
        let mut immutable = role.clone();
        immutable["Mutable"] = json!(false);
        let changed = refusals(&base, &pool(json!([immutable])));
        assert!(
            changed[0].problem.contains("changes attribute `role`"),
            "{}",
            changed[0].problem
        );
    }
}

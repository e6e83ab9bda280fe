//! What a deploy would change, from two templates: resource by resource,
//! property by property, with the replacements CloudFormation will make.
//!
//! Pure: the deployed template and the new one in, changes out. The engine
//! merges this with the change set CloudFormation computes (which knows the
//! final word on replacement, but some services, and the emulator, return
//! no property details); the guards in [`guard`] decide what may proceed,
//! and [`update_rules`] refuses updates AWS would fail while applying them.

pub mod change_set;
pub mod guard;
pub mod update_rules;

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    Modify,
    Remove,
}

/// CloudFormation's answer to "is the resource replaced?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Replacement {
    False,
    Conditional,
    True,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// Dotted path inside `Properties` (or `DeletionPolicy`, `Metadata`…).
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Whether changing this property replaces the resource.
    pub replacement: Replacement,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    pub logical_id: String,
    pub resource_type: String,
    pub action: Action,
    /// For modifications: the strongest replacement among the properties.
    pub replacement: Option<Replacement>,
    pub properties: Vec<PropertyChange>,
}

/// Whether changing the property at `segments` (names from `Properties`
/// down) replaces a resource of `resource_type`, from its CloudFormation
/// schema: a change at or below a `createOnlyProperties` path replaces it,
/// one at or below a `conditionalCreateOnlyProperties` path may. A change
/// above such a path (a whole list whose items hold it) replaces when the
/// values at that path changed in items both versions have, and may when
/// items were only added or removed.
pub fn replacement_of(
    resource_type: &str,
    old: &Value,
    new: &Value,
    segments: &[String],
) -> Replacement {
    let Some(schema) = crate::resource_schema::schema(resource_type) else {
        return Replacement::False;
    };
    let always = schema.create_only.iter().map(|p| (p, Replacement::True));
    let maybe = schema
        .conditional_create_only
        .iter()
        .map(|p| (p, Replacement::Conditional));
    always
        .chain(maybe)
        .map(|(path, verdict)| {
            if path.covers(segments) {
                return verdict;
            }
            let below = path.0.len() > segments.len()
                && path
                    .0
                    .iter()
                    .zip(segments)
                    .all(|(want, got)| want == "*" || want == got);
            if !below {
                return Replacement::False;
            }
            let (before, after) = (path.values_in(old), path.values_in(new));
            let common = before.len().min(after.len());
            if before[..common] != after[..common] {
                verdict
            } else if before.len() != after.len() {
                verdict.min(Replacement::Conditional)
            } else {
                Replacement::False
            }
        })
        .max()
        .unwrap_or(Replacement::False)
}

/// Every difference between the deployed template and the new one.
pub fn diff_templates(old: &Value, new: &Value) -> Vec<ResourceChange> {
    let empty = Map::new();
    let old_resources = old
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let new_resources = new
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut changes = Vec::new();
    for (id, after) in new_resources {
        let resource_type = type_of(after);
        match old_resources.get(id) {
            None => changes.push(ResourceChange {
                logical_id: id.clone(),
                resource_type,
                action: Action::Add,
                replacement: None,
                properties: Vec::new(),
            }),
            Some(before) if type_of(before) != resource_type => {
                // A new type under the same id: CloudFormation deletes and creates.
                changes.push(ResourceChange {
                    logical_id: id.clone(),
                    resource_type: resource_type.clone(),
                    action: Action::Modify,
                    replacement: Some(Replacement::True),
                    properties: vec![PropertyChange {
                        path: "Type".into(),
                        before: Some(Value::String(type_of(before))),
                        after: Some(Value::String(resource_type)),
                        replacement: Replacement::True,
                    }],
                });
            }
            Some(before) => {
                let properties = property_changes(&resource_type, before, after);
                if !properties.is_empty() {
                    let replacement = properties.iter().map(|p| p.replacement).max();
                    changes.push(ResourceChange {
                        logical_id: id.clone(),
                        resource_type,
                        action: Action::Modify,
                        replacement,
                        properties,
                    });
                }
            }
        }
    }
    for (id, before) in old_resources {
        if !new_resources.contains_key(id) {
            changes.push(ResourceChange {
                logical_id: id.clone(),
                resource_type: type_of(before),
                action: Action::Remove,
                replacement: None,
                properties: Vec::new(),
            });
        }
    }
    changes.sort_by(|a, b| (a.action, &a.logical_id).cmp(&(b.action, &b.logical_id)));
    changes
}

fn type_of(resource: &Value) -> String {
    resource
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn property_changes(resource_type: &str, before: &Value, after: &Value) -> Vec<PropertyChange> {
    let mut out = Vec::new();
    for key in [
        "DeletionPolicy",
        "UpdateReplacePolicy",
        "DependsOn",
        "Condition",
    ] {
        if before.get(key) != after.get(key) {
            out.push(PropertyChange {
                path: key.into(),
                before: before.get(key).cloned(),
                after: after.get(key).cloned(),
                replacement: Replacement::False,
            });
        }
    }
    let empty = Map::new();
    let b = before
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let a = after
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let (old_props, new_props) = (Value::Object(b.clone()), Value::Object(a.clone()));
    let replacement =
        |segments: &[String]| replacement_of(resource_type, &old_props, &new_props, segments);
    let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (old, new) = (b.get(name), a.get(name));
        if old != new {
            leaf_changes(&mut vec![name.clone()], old, new, &replacement, &mut out);
        }
    }
    out
}

/// Descends into objects so a change names its deepest differing path.
fn leaf_changes(
    path: &mut Vec<String>,
    old: Option<&Value>,
    new: Option<&Value>,
    replacement: &dyn Fn(&[String]) -> Replacement,
    out: &mut Vec<PropertyChange>,
) {
    match (old, new) {
        (Some(Value::Object(o)), Some(Value::Object(n)))
            if !is_intrinsic(o) && !is_intrinsic(n) =>
        {
            let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                if o.get(k) != n.get(k) {
                    path.push(k.clone());
                    leaf_changes(path, o.get(k), n.get(k), replacement, out);
                    path.pop();
                }
            }
        }
        _ => out.push(PropertyChange {
            path: path.join("."),
            before: old.cloned(),
            after: new.cloned(),
            replacement: replacement(path),
        }),
    }
}

fn is_intrinsic(map: &Map<String, Value>) -> bool {
    map.len() == 1
        && map
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(key: &str, stream: Option<&str>) -> Value {
        let mut t = json!({"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t", "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}});
        if let Some(s) = stream {
            t["Properties"]["StreamSpecification"] = json!({"StreamViewType": s});
        }
        t
    }

    #[test]
    fn reports_adds_removes_and_property_changes_with_replacement() {
        let old = json!({"Resources": {"T": table("id", None), "Gone": {"Type": "AWS::SNS::Topic"}, "F": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512}}}});
        let new = json!({"Resources": {"T": table("id", Some("NEW_IMAGE")), "New": {"Type": "AWS::SNS::Topic"}, "F": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 1024}}}});
        let changes = diff_templates(&old, &new);
        let summary: Vec<(Action, &str, Option<Replacement>)> = changes
            .iter()
            .map(|c| (c.action, c.logical_id.as_str(), c.replacement))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Action::Add, "New", None),
                (Action::Modify, "F", Some(Replacement::False)),
                (Action::Modify, "T", Some(Replacement::False)),
                (Action::Remove, "Gone", None)
            ]
        );
        assert_eq!(changes[1].properties[0].path, "MemorySize");
        assert_eq!(changes[2].properties[0].path, "StreamSpecification");
    }

    #[test]
    fn replacements_come_from_the_schemas_create_only_properties() {
        // KeySchema is conditionally create-only in the table's schema; TableName always.
        let changes = diff_templates(
            &json!({"Resources": {"T": table("id", None)}}),
            &json!({"Resources": {"T": table("userId", None)}}),
        );
        assert_eq!(changes[0].replacement, Some(Replacement::Conditional));
        assert_eq!(changes[0].properties[0].path, "KeySchema");
        let mut renamed = table("id", None);
        renamed["Properties"]["TableName"] = json!("u");
        let changes = diff_templates(
            &json!({"Resources": {"T": table("id", None)}}),
            &json!({"Resources": {"T": renamed}}),
        );
        assert_eq!(changes[0].replacement, Some(Replacement::True));
    }

    #[test]
    fn a_create_only_property_of_a_version_replaces_it() {
        // AWS::Lambda::Version: CodeSha256 is create-only; ProvisionedConcurrencyConfig too.
        let version = |sha: &str| json!({"Resources": {"V": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": "f", "CodeSha256": sha}}}});
        assert_eq!(
            diff_templates(&version("a"), &version("b"))[0].replacement,
            Some(Replacement::True)
        );
    }

    #[test]
    fn nested_changes_name_their_deepest_path_and_intrinsics_stay_whole() {
        let old = json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"A": "1", "T": {"Ref": "X"}}}}}}});
        let new = json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"A": "2", "T": {"Ref": "Y"}}}}}}});
        let paths: Vec<String> = diff_templates(&old, &new)[0]
            .properties
            .iter()
            .map(|p| p.path.clone())
            .collect();
        assert_eq!(
            paths,
            ["Environment.Variables.A", "Environment.Variables.T"]
        );
    }

    #[test]
    fn identical_templates_have_no_changes() {
        let t = json!({"Resources": {"T": table("id", Some("KEYS_ONLY"))}});
        assert!(diff_templates(&t, &t).is_empty());
    }
}

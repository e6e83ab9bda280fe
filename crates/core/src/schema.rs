//! The JSON schema of stack files, from the model's types and doc comments.

use crate::model::StackDef;
use serde_json::{json, Value};

/// The schema as pretty JSON, with `environments` (which the loader merges
/// before typing) described as overrides of any field.
pub fn schema_json() -> String {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(StackDef)).expect("schema serializes");
    let partial = partial_definitions(&mut schema);
    schema["properties"]["environments"] = json!({
        "description": "Per-environment overrides, by environment name (default: dev, staging, prod). Each is a partial stack definition deep-merged onto the base: mappings merge, anything else replaces, `null` removes.",
        "type": "object",
        "additionalProperties": partial,
    });
    serde_json::to_string_pretty(&schema).expect("schema serializes")
}

/// Adds an "overrides" copy of the root and every definition in which no
/// field is required and any field may be `null`; returns a reference to it.
fn partial_definitions(schema: &mut Value) -> Value {
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut partial_defs = serde_json::Map::new();
    for (name, def) in &defs {
        partial_defs.insert(format!("Partial{name}"), make_partial(def));
    }
    let mut root = schema.clone();
    if let Some(obj) = root.as_object_mut() {
        obj.remove("$defs");
        obj.remove("$schema");
        obj.remove("title");
    }
    partial_defs.insert("PartialStackDef".into(), make_partial(&root));
    let target = schema
        .as_object_mut()
        .expect("schema is an object")
        .entry("$defs")
        .or_insert_with(|| json!({}));
    target
        .as_object_mut()
        .expect("$defs is an object")
        .extend(partial_defs);
    json!({"$ref": "#/$defs/PartialStackDef"})
}

fn make_partial(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                match k.as_str() {
                    "required" => {}
                    "$ref" => {
                        let name = v
                            .as_str()
                            .unwrap_or_default()
                            .trim_start_matches("#/$defs/");
                        out.insert(k.clone(), json!(format!("#/$defs/Partial{name}")));
                    }
                    "properties" => {
                        let props: serde_json::Map<String, Value> = v
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(name, s)| {
                                (
                                    name.clone(),
                                    json!({"anyOf": [make_partial(s), {"type": "null"}]}),
                                )
                            })
                            .collect();
                        out.insert(k.clone(), Value::Object(props));
                    }
                    _ => {
                        out.insert(k.clone(), make_partial(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(make_partial).collect()),
        other => other.clone(),
    }
}

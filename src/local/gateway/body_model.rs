//! A REST method's request validator with a JSON body model: API Gateway
//! validates the body against the model (JSON Schema draft 4) and answers
//! `400 {"message": "Invalid request body"}` when it does not conform
//! ("Request validation for REST APIs in API Gateway").
//!
//! The keywords checked here are the ones a stack file's `body_schema` is
//! written with; a model using any other is refused when `local` starts,
//! rather than let a body through that AWS would refuse.

use serde_json::Value;

/// Keywords that say something about the body, each checked below.
const CHECKED: [&str; 14] = [
    "type",
    "required",
    "properties",
    "additionalProperties",
    "enum",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "items",
    "minItems",
    "maxItems",
];
/// Keywords that only annotate.
const ANNOTATIONS: [&str; 4] = ["$schema", "title", "description", "id"];

/// A body model, checked when built.
#[derive(Debug, Clone)]
pub struct BodyModel {
    schema: Value,
}

impl BodyModel {
    /// The model; an error naming the first keyword this validator cannot
    /// check, with its place in the schema.
    pub fn new(schema: Value) -> Result<BodyModel, String> {
        supported(&schema, "#")?;
        Ok(BodyModel { schema })
    }

    /// Whether `body` is JSON that conforms; the reason when it is not
    /// (for the terminal; the client only gets API Gateway's message).
    pub fn check(&self, body: &[u8]) -> Result<(), String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        conforms(&self.schema, &value, "$")
    }
}

fn supported(schema: &Value, at: &str) -> Result<(), String> {
    let Some(map) = schema.as_object() else {
        return Err(format!("{at} is not a schema object"));
    };
    for (key, value) in map {
        if ANNOTATIONS.contains(&key.as_str()) {
            continue;
        }
        if !CHECKED.contains(&key.as_str()) {
            return Err(format!(
                "keyword `{key}` at {at} is not checked by `stackctl local`"
            ));
        }
        match key.as_str() {
            "properties" => {
                for (name, sub) in value.as_object().into_iter().flatten() {
                    supported(sub, &format!("{at}/properties/{name}"))?;
                }
            }
            "items" | "additionalProperties" if value.is_object() => {
                supported(value, &format!("{at}/{key}"))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn conforms(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        };
        if !kinds.iter().any(|k| is_type(value, k)) {
            return Err(format!("{at} is not of type {}", kinds.join(" or ")));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            return Err(format!("{at} is not one of the allowed values"));
        }
    }
    match value {
        Value::String(text) => string_bounds(schema, text, at),
        Value::Number(_) => number_bounds(schema, value.as_f64().unwrap_or_default(), at),
        Value::Array(items) => array(schema, items, at),
        Value::Object(_) => object(schema, value, at),
        _ => Ok(()),
    }
}

fn is_type(value: &Value, kind: &str) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        _ => false,
    }
}

fn limit(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

fn string_bounds(schema: &Value, text: &str, at: &str) -> Result<(), String> {
    // JSON Schema counts characters, not bytes.
    let length = text.chars().count() as f64;
    if limit(schema, "minLength").is_some_and(|min| length < min) {
        return Err(format!("{at} is shorter than minLength"));
    }
    if limit(schema, "maxLength").is_some_and(|max| length > max) {
        return Err(format!("{at} is longer than maxLength"));
    }
    Ok(())
}

fn number_bounds(schema: &Value, n: f64, at: &str) -> Result<(), String> {
    let exclusive = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or(false);
    if let Some(min) = limit(schema, "minimum") {
        if n < min || (exclusive("exclusiveMinimum") && n == min) {
            return Err(format!("{at} is below the minimum {min}"));
        }
    }
    if let Some(max) = limit(schema, "maximum") {
        if n > max || (exclusive("exclusiveMaximum") && n == max) {
            return Err(format!("{at} is above the maximum {max}"));
        }
    }
    Ok(())
}

fn array(schema: &Value, items: &[Value], at: &str) -> Result<(), String> {
    let count = items.len() as f64;
    if limit(schema, "minItems").is_some_and(|min| count < min) {
        return Err(format!("{at} has fewer than minItems items"));
    }
    if limit(schema, "maxItems").is_some_and(|max| count > max) {
        return Err(format!("{at} has more than maxItems items"));
    }
    if let Some(item) = schema.get("items").filter(|i| i.is_object()) {
        for (i, value) in items.iter().enumerate() {
            conforms(item, value, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

fn object(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let fields = value.as_object().expect("checked by the caller");
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !fields.contains_key(name) {
            return Err(format!("{at} lacks the required `{name}`"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, field) in fields {
        let place = format!("{at}.{name}");
        match (
            properties.and_then(|p| p.get(name)),
            schema.get("additionalProperties"),
        ) {
            (Some(sub), _) => conforms(sub, field, &place)?,
            (None, Some(Value::Bool(false))) => {
                return Err(format!("{place} is not an allowed property"))
            }
            (None, Some(sub @ Value::Object(_))) => conforms(sub, field, &place)?,
            (None, _) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refresh_model() -> BodyModel {
        BodyModel::new(json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "required": ["refreshToken"],
            "properties": {"refreshToken": {"type": "string", "minLength": 1}},
            "additionalProperties": false
        }))
        .unwrap()
    }

    #[test]
    fn the_fleet_consoles_refresh_model_lets_only_a_token_through() {
        let model = refresh_model();
        assert_eq!(model.check(br#"{"refreshToken":"abc"}"#), Ok(()));
        for bad in [
            &br#"{}"#[..],
            br#"{"refreshToken":""}"#,
            br#"{"refreshToken":7}"#,
            br#"{"refreshToken":"a","admin":true}"#,
            br#"["refreshToken"]"#,
            b"not json",
            b"",
        ] {
            assert!(
                model.check(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn numbers_arrays_and_enums_are_bounded() {
        let model = BodyModel::new(json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 10, "exclusiveMaximum": true},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 3}},
                "mode": {"enum": ["a", "b"]}
            }
        }))
        .unwrap();
        assert_eq!(
            model.check(br#"{"count":9,"tags":["x","yz"],"mode":"a"}"#),
            Ok(())
        );
        for bad in [
            &br#"{"count":10}"#[..],
            br#"{"count":0}"#,
            br#"{"count":1.5}"#,
            br#"{"tags":["a","b","c"]}"#,
            br#"{"tags":["long"]}"#,
            br#"{"mode":"c"}"#,
        ] {
            assert!(
                model.check(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_keyword_the_validator_cannot_check_is_refused_up_front() {
        let error = BodyModel::new(json!({
            "type": "object",
            "properties": {"email": {"type": "string", "pattern": "^.+@.+$"}}
        }))
        .unwrap_err();
        assert!(
            error.contains("`pattern`") && error.contains("#/properties/email"),
            "{error}"
        );
    }
}

//! A resource's properties against its CloudFormation schema.
//!
//! Implements the JSON Schema keywords the resource schemas use (types,
//! enums, patterns, lengths, bounds, items, required and unknown
//! properties, `$ref`, the combinators and `if`/`then`) plus cfn-lint's
//! `dependentExcluded` and `requiredXor`, and knows CloudFormation's
//! intrinsic functions: a `Ref` or `Fn::*` value is computed at deploy time,
//! so only its place is checked, and both branches of an `Fn::If` are.
//! `format` is not checked (the schemas use it for hints, not rules).

use super::{schema, ResourceSchema};
use fancy_regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// One way a resource breaks its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Where, inside the resource (`Properties`, then names and indexes).
    pub path: Vec<String>,
    pub message: String,
    /// The offending value, when there is one (to find it in the stack file).
    pub value: Option<Value>,
}

/// The attributes CloudFormation accepts on a resource, besides `Type`.
const RESOURCE_ATTRIBUTES: [&str; 8] = [
    "Properties",
    "DependsOn",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Condition",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
];

/// Checks one resource (`{"Type": …, "Properties": …}`) against its type's
/// schema. `None` when stackctl carries no schema for the type.
pub fn validate_resource(resource: &Value) -> Option<Vec<Violation>> {
    let type_name = resource.get("Type").and_then(Value::as_str)?;
    let schema = schema(type_name)?;
    let mut out = Vec::new();
    if let Some(map) = resource.as_object() {
        for key in map
            .keys()
            .filter(|k| *k != "Type" && !RESOURCE_ATTRIBUTES.contains(&k.as_str()))
        {
            out.push(Violation {
                path: vec![key.clone()],
                message: format!("`{key}` is not a resource attribute CloudFormation knows"),
                value: None,
            });
        }
    }
    let empty = Value::Object(Map::new());
    let properties = resource.get("Properties").unwrap_or(&empty);
    let mut path = vec!["Properties"];
    Walker { schema }.check(&schema.root, properties, &mut path, &mut out);
    read_only_set(schema, properties, &mut out);
    Some(out)
}

fn read_only_set(schema: &ResourceSchema, properties: &Value, out: &mut Vec<Violation>) {
    for path in &schema.read_only {
        if !path.values_in(properties).is_empty() {
            let mut at = vec!["Properties".to_string()];
            at.extend(path.0.iter().cloned());
            out.push(Violation {
                path: at,
                message: format!(
                    "`{}` is read-only: AWS sets it, a template cannot",
                    path.display()
                ),
                value: None,
            });
        }
    }
}

/// Whether a value is an intrinsic function (`Ref`, `Fn::…`, `Condition`).
pub fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    (k == "Ref" || k.starts_with("Fn::") || k == "Condition").then_some((k.as_str(), v))
}

fn is_no_value(value: &Value) -> bool {
    matches!(intrinsic(value), Some(("Ref", Value::String(s))) if s == "AWS::NoValue")
}

struct Walker {
    schema: &'static ResourceSchema,
}

impl Walker {
    fn check<'v>(
        &self,
        rule: &Value,
        value: &'v Value,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        let Some(rule) = rule.as_object() else { return };
        if value.is_null() {
            // Reported once for the whole template by the null check.
            return;
        }
        if let Some((name, args)) = intrinsic(value) {
            if name == "Fn::If" {
                for branch in args
                    .as_array()
                    .into_iter()
                    .flatten()
                    .skip(1)
                    .filter(|b| !is_no_value(b))
                {
                    self.check(&Value::Object(rule.clone()), branch, path, out);
                }
            }
            return;
        }
        if let Some(target) = rule.get("$ref").and_then(Value::as_str) {
            match self.resolve(target) {
                Some(target) => self.check(target, value, path, out),
                None => out.push(violation(
                    path,
                    format!("schema reference {target} does not resolve (a stackctl defect)"),
                    None,
                )),
            }
        }
        if let Some(types) = rule.get("type") {
            if !type_matches(types, value) {
                out.push(violation(
                    path,
                    format!(
                        "{} must be {}, found {}",
                        describe(path),
                        type_words(types),
                        kind(value)
                    ),
                    Some(value),
                ));
                return;
            }
        }
        self.check_value(rule, value, path, out);
        self.check_combinators(rule, value, path, out);
        match value {
            Value::Object(map) => self.check_object(rule, value, map, path, out),
            Value::Array(items) => self.check_array(rule, items, path, out),
            _ => {}
        }
    }

    fn resolve(&self, pointer: &str) -> Option<&'static Value> {
        let mut node = &self.schema.root;
        for part in pointer.strip_prefix("#/")?.split('/') {
            node = node.get(part)?;
        }
        Some(node)
    }

    fn check_value(
        &self,
        rule: &Map<String, Value>,
        value: &Value,
        path: &[&str],
        out: &mut Vec<Violation>,
    ) {
        if let Some(Value::Array(allowed)) = rule.get("enum") {
            if !allowed.contains(value) {
                let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
                out.push(violation(
                    path,
                    format!(
                        "{} is {value}, which is not one of {}",
                        describe(path),
                        list.join(", ")
                    ),
                    Some(value),
                ));
            }
        }
        if let Some(constant) = rule.get("const") {
            if constant != value {
                out.push(violation(
                    path,
                    format!("{} must be {constant}, found {value}", describe(path)),
                    Some(value),
                ));
            }
        }
        match value {
            Value::String(text) => self.check_string(rule, text, value, path, out),
            Value::Number(_) => check_number(rule, value, path, out),
            _ => {}
        }
    }

    fn check_string(
        &self,
        rule: &Map<String, Value>,
        text: &str,
        value: &Value,
        path: &[&str],
        out: &mut Vec<Violation>,
    ) {
        let length = text.chars().count();
        if let Some(min) = rule.get("minLength").and_then(Value::as_u64) {
            if (length as u64) < min {
                out.push(violation(
                    path,
                    format!(
                        "{} is {length} characters long, shorter than the minimum {min}",
                        describe(path)
                    ),
                    Some(value),
                ));
            }
        }
        if let Some(max) = rule.get("maxLength").and_then(Value::as_u64) {
            if length as u64 > max {
                out.push(violation(
                    path,
                    format!(
                        "{} is {length} characters long, longer than the maximum {max}",
                        describe(path)
                    ),
                    Some(value),
                ));
            }
        }
        if let Some(pattern) = rule.get("pattern").and_then(Value::as_str) {
            match matches_pattern(pattern, text) {
                Ok(true) => {}
                Ok(false) => out.push(violation(
                    path,
                    format!(
                        "{} is {value}, which does not match the pattern {pattern}",
                        describe(path)
                    ),
                    Some(value),
                )),
                Err(e) => out.push(violation(
                    path,
                    format!(
                        "the schema's pattern {pattern} cannot be checked: {e} (a stackctl defect)"
                    ),
                    None,
                )),
            }
        }
    }

    fn check_combinators<'v>(
        &self,
        rule: &Map<String, Value>,
        value: &'v Value,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        for branch in rule
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(branch, value, path, out);
        }
        if let Some(Value::Array(branches)) = rule.get("anyOf") {
            let results: Vec<Vec<Violation>> = branches
                .iter()
                .map(|b| self.collect(b, value, path))
                .collect();
            if results.iter().all(|r| !r.is_empty()) {
                out.extend(fewest(results));
            }
        }
        if let Some(Value::Array(branches)) = rule.get("oneOf") {
            let results: Vec<Vec<Violation>> = branches
                .iter()
                .map(|b| self.collect(b, value, path))
                .collect();
            match results.iter().filter(|r| r.is_empty()).count() {
                1 => {}
                0 => out.extend(fewest(results)),
                _ => out.push(violation(path, format!("{} matches more than one of the shapes it may take; it must match exactly one", describe(path)), Some(value))),
            }
        }
        if let Some(condition) = rule.get("if") {
            let branch = if self.collect(condition, value, path).is_empty() {
                rule.get("then")
            } else {
                rule.get("else")
            };
            if let Some(branch) = branch {
                self.check(branch, value, path, out);
            }
        }
        if let Some(not) = rule.get("not") {
            if self.collect(not, value, path).is_empty() {
                out.push(violation(
                    path,
                    format!("{} has a shape the schema forbids", describe(path)),
                    Some(value),
                ));
            }
        }
    }

    fn collect<'v>(
        &self,
        rule: &Value,
        value: &'v Value,
        path: &mut Vec<&'v str>,
    ) -> Vec<Violation> {
        let mut found = Vec::new();
        self.check(rule, value, path, &mut found);
        found
    }

    fn check_object<'v>(
        &self,
        rule: &Map<String, Value>,
        object: &'v Value,
        map: &'v Map<String, Value>,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        let present = |name: &str| map.get(name).is_some_and(|v| !is_no_value(v));
        for name in rule
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !present(name) {
                out.push(violation(
                    path,
                    format!("{} requires `{name}`", describe_object(path)),
                    None,
                ));
            }
        }
        self.check_dependencies(rule, object, map, path, out);
        let properties = rule.get("properties").and_then(Value::as_object);
        let patterns = rule.get("patternProperties").and_then(Value::as_object);
        let additional = rule.get("additionalProperties");
        for (name, value) in map {
            if is_no_value(value) {
                continue;
            }
            path.push(name.as_str());
            let mut known = false;
            if let Some(rule) = properties.and_then(|p| p.get(name)) {
                known = true;
                self.check(rule, value, path, out);
            }
            for (pattern, rule) in patterns.into_iter().flatten() {
                if matches_pattern(pattern, name).unwrap_or(false) {
                    known = true;
                    self.check(rule, value, path, out);
                }
            }
            if !known {
                match additional {
                    Some(Value::Bool(false)) => {
                        let settable = properties
                            .into_iter()
                            .flatten()
                            .map(|(k, _)| k.as_str())
                            .filter(|k| {
                                !self
                                    .schema
                                    .read_only
                                    .iter()
                                    .any(|r| r.0.len() == 1 && r.0[0] == *k)
                            });
                        let hint = crate::diagnostic::suggestion(name, settable);
                        let message = format!(
                            "{} is not a property CloudFormation knows here{}",
                            describe(path),
                            hint.map(|h| format!(" ({h})")).unwrap_or_default()
                        );
                        out.push(violation(path, message, None));
                    }
                    Some(rule @ Value::Object(_)) => self.check(rule, value, path, out),
                    _ => {}
                }
            }
            path.pop();
        }
        let count = map.len() as u64;
        if rule
            .get("minProperties")
            .and_then(Value::as_u64)
            .is_some_and(|min| count < min)
        {
            out.push(violation(
                path,
                format!(
                    "{} needs at least {} entries",
                    describe_object(path),
                    rule["minProperties"]
                ),
                None,
            ));
        }
        if rule
            .get("maxProperties")
            .and_then(Value::as_u64)
            .is_some_and(|max| count > max)
        {
            out.push(violation(
                path,
                format!(
                    "{} allows at most {} entries",
                    describe_object(path),
                    rule["maxProperties"]
                ),
                None,
            ));
        }
    }

    fn check_dependencies<'v>(
        &self,
        rule: &Map<String, Value>,
        object: &'v Value,
        map: &'v Map<String, Value>,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        let present = |name: &str| map.get(name).is_some_and(|v| !is_no_value(v));
        let names = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        for key in ["dependencies", "dependentRequired"] {
            for (name, needs) in rule
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if !present(name) {
                    continue;
                }
                match needs {
                    Value::Array(_) => {
                        for needed in names(needs).iter().filter(|n| !present(n)) {
                            out.push(violation(
                                path,
                                format!("{}: `{name}` needs `{needed}` too", describe_object(path)),
                                None,
                            ));
                        }
                    }
                    schema @ Value::Object(_) => self.check(schema, object, path, out),
                    _ => {}
                }
            }
        }
        for (name, excluded) in rule
            .get("dependentExcluded")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if present(name) {
                for other in names(excluded).iter().filter(|n| present(n)) {
                    out.push(violation(
                        path,
                        format!(
                            "{}: `{name}` and `{other}` cannot both be set",
                            describe_object(path)
                        ),
                        None,
                    ));
                }
            }
        }
        if let Some(group) = rule.get("requiredXor") {
            let group = names(group);
            let set: Vec<&String> = group.iter().filter(|n| present(n)).collect();
            if set.len() != 1 {
                out.push(violation(
                    path,
                    format!(
                        "{} needs exactly one of {}",
                        describe_object(path),
                        group.join(", ")
                    ),
                    None,
                ));
            }
        }
    }

    fn check_array<'v>(
        &self,
        rule: &Map<String, Value>,
        items: &'v [Value],
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        let count = items.len() as u64;
        if let Some(min) = rule.get("minItems").and_then(Value::as_u64) {
            if count < min {
                out.push(violation(
                    path,
                    format!(
                        "{} has {count} items, fewer than the minimum {min}",
                        describe(path)
                    ),
                    None,
                ));
            }
        }
        if let Some(max) = rule.get("maxItems").and_then(Value::as_u64) {
            if count > max {
                out.push(violation(
                    path,
                    format!(
                        "{} has {count} items, more than the maximum {max}",
                        describe(path)
                    ),
                    None,
                ));
            }
        }
        if rule.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    out.push(violation(
                        path,
                        format!(
                            "{} lists {item} twice; its items must be unique",
                            describe(path)
                        ),
                        Some(item),
                    ));
                }
            }
        }
        let prefix = rule.get("prefixItems").and_then(Value::as_array);
        for (i, item) in items.iter().enumerate() {
            let item_rule = prefix.and_then(|p| p.get(i)).or_else(|| rule.get("items"));
            if let Some(item_rule) = item_rule {
                path.push(index_name(i));
                self.check(item_rule, item, path, out);
                path.pop();
            }
        }
    }
}

fn check_number(rule: &Map<String, Value>, value: &Value, path: &[&str], out: &mut Vec<Violation>) {
    let Some(n) = value.as_f64() else { return };
    let bound = |k: &str| rule.get(k).and_then(Value::as_f64);
    if bound("minimum").is_some_and(|min| n < min)
        || bound("exclusiveMinimum").is_some_and(|min| n <= min)
    {
        let min = rule
            .get("minimum")
            .or(rule.get("exclusiveMinimum"))
            .cloned()
            .unwrap_or_default();
        out.push(violation(
            path,
            format!("{} is {value}, below the minimum {min}", describe(path)),
            Some(value),
        ));
    }
    if bound("maximum").is_some_and(|max| n > max)
        || bound("exclusiveMaximum").is_some_and(|max| n >= max)
    {
        let max = rule
            .get("maximum")
            .or(rule.get("exclusiveMaximum"))
            .cloned()
            .unwrap_or_default();
        out.push(violation(
            path,
            format!("{} is {value}, above the maximum {max}", describe(path)),
            Some(value),
        ));
    }
    if let Some(step) = bound("multipleOf").filter(|s| *s > 0.0) {
        if (n / step).fract().abs() > 1e-9 {
            out.push(violation(
                path,
                format!("{} is {value}, not a multiple of {step}", describe(path)),
                Some(value),
            ));
        }
    }
}

fn fewest(results: Vec<Vec<Violation>>) -> Vec<Violation> {
    results.into_iter().min_by_key(Vec::len).unwrap_or_default()
}

/// An array index as a path segment, without allocating on every visit.
fn index_name(i: usize) -> &'static str {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| (0..1024).map(|i| i.to_string()).collect());
    match names.get(i) {
        Some(name) => name,
        // Longer lists are rare enough to pay for their names.
        None => Box::leak(i.to_string().into_boxed_str()),
    }
}

fn violation(path: &[&str], message: String, value: Option<&Value>) -> Violation {
    Violation {
        path: path.iter().map(|p| p.to_string()).collect(),
        message,
        value: value.cloned(),
    }
}

fn type_matches(types: &Value, value: &Value) -> bool {
    match types {
        Value::String(t) => is_type(t, value),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .any(|t| is_type(t, value)),
        _ => true,
    }
}

fn is_type(name: &str, value: &Value) -> bool {
    match name {
        "string" => value.is_string(),
        "integer" => {
            value.as_i64().is_some()
                || value.as_u64().is_some()
                || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn type_words(types: &Value) -> String {
    let word = |t: &str| match t {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "a whole number".to_string(),
        other => format!("a {other}"),
    };
    match types {
        Value::String(t) => word(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(word)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "valid".into(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `Properties.GlobalSecondaryIndexes[0].IndexName`, in backticks.
pub fn dotted<S: AsRef<str>>(path: &[S]) -> String {
    let mut text = String::new();
    for segment in path {
        let segment = segment.as_ref();
        if segment.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
            text.push_str(&format!("[{segment}]"));
        } else {
            if !text.is_empty() {
                text.push('.');
            }
            text.push_str(segment);
        }
    }
    text
}

fn describe(path: &[&str]) -> String {
    format!("`{}`", dotted(path))
}

fn describe_object(path: &[&str]) -> String {
    if path.len() <= 1 {
        "the resource".to_string()
    } else {
        describe(path)
    }
}

/// Matches a schema pattern (ECMA-262 as the schemas write it) against text.
/// Each pattern is compiled once per process and shared by every thread
/// (a shared regex keeps its matching caches; a copy would build new ones).
pub fn matches_pattern(pattern: &str, text: &str) -> Result<bool, String> {
    type Compiled = Arc<Result<Regex, String>>;
    static COMPILED: OnceLock<RwLock<HashMap<String, Compiled>>> = OnceLock::new();
    let cache = COMPILED.get_or_init(Default::default);
    let known = cache
        .read()
        .expect("pattern cache lock")
        .get(pattern)
        .cloned();
    let regex = match known {
        Some(regex) => regex,
        None => {
            // Compiled outside the lock; a pattern two threads race on is compiled twice, harmlessly.
            let compiled = Arc::new(Regex::new(&translate(pattern)).map_err(|e| e.to_string()));
            cache
                .write()
                .expect("pattern cache lock")
                .entry(pattern.to_string())
                .or_insert(compiled)
                .clone()
        }
    };
    match regex.as_ref() {
        Ok(regex) => regex.is_match(text).map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    }
}

/// The few places the schemas' regex dialect differs from Rust's: `\Z`
/// (end of text) and `\uXXXX` escapes.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Z') => out.push_str("\\z"),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push_str(&format!("\\x{{{hex}}}"));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(resource: Value) -> Vec<String> {
        validate_resource(&resource)
            .expect("known type")
            .into_iter()
            .map(|v| format!("{}: {}", dotted(&v.path), v.message))
            .collect()
    }

    fn table(properties: Value) -> Value {
        let mut base = json!({"TableName": "t", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"});
        for (k, v) in properties.as_object().expect("object") {
            base[k] = v.clone();
        }
        json!({"Type": "AWS::DynamoDB::Table", "Properties": base})
    }

    #[test]
    fn a_valid_resource_has_no_violations() {
        assert_eq!(messages(table(json!({}))), Vec::<String>::new());
    }

    #[test]
    fn wrong_type_enum_miss_and_unknown_property_are_each_reported_at_their_path() {
        let found = messages(table(
            json!({"BillingMode": "ON_DEMAND", "TableClass": 3, "Streams": true}),
        ));
        assert!(found.iter().any(|m| m.starts_with("Properties.BillingMode: `Properties.BillingMode` is \"ON_DEMAND\", which is not one of")), "{found:#?}");
        assert!(
            found.iter().any(|m| m.starts_with(
                "Properties.TableClass: `Properties.TableClass` must be a string, found a number"
            )),
            "{found:#?}"
        );
        assert!(found.iter().any(|m| m.starts_with("Properties.Streams: `Properties.Streams` is not a property CloudFormation knows here")), "{found:#?}");
        assert_eq!(found.len(), 3, "{found:#?}");
    }

    #[test]
    fn pattern_length_and_bounds_are_checked() {
        let found = messages(json!({"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"ZipFile": "x"}, "Role": "arn:aws:iam::123456789012:role/r", "FunctionName": "has spaces", "MemorySize": 64, "Timeout": 0}}));
        assert!(
            found
                .iter()
                .any(|m| m.contains("FunctionName") && m.contains("does not match the pattern")),
            "{found:#?}"
        );
        assert!(
            found
                .iter()
                .any(|m| m.contains("MemorySize") && m.contains("below the minimum 128")),
            "{found:#?}"
        );
        assert!(
            found
                .iter()
                .any(|m| m.contains("Timeout") && m.contains("below the minimum 1")),
            "{found:#?}"
        );
    }

    #[test]
    fn required_properties_and_nested_definitions_are_checked() {
        let found = messages(
            json!({"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": "id"}]}}),
        );
        assert!(
            found.iter().any(|m| m.starts_with(
                "Properties.KeySchema[0]: `Properties.KeySchema[0]` requires `KeyType`"
            )),
            "{found:#?}"
        );
    }

    #[test]
    fn intrinsics_pass_and_both_branches_of_an_if_are_checked() {
        assert!(messages(table(
            json!({"TableName": {"Fn::Sub": "${AWS::StackName}-t"}, "BillingMode": {"Ref": "Mode"}})
        ))
        .is_empty());
        let found = messages(table(
            json!({"BillingMode": {"Fn::If": ["C", "PROVISIONED_X", {"Ref": "AWS::NoValue"}]}}),
        ));
        assert_eq!(found.len(), 1, "{found:#?}");
    }

    #[test]
    fn read_only_properties_and_unknown_attributes_are_refused() {
        let mut t = table(json!({"Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t"}));
        t["Retain"] = json!(true);
        let found = messages(t);
        assert!(
            found.iter().any(|m| m.contains("`Arn` is read-only")),
            "{found:#?}"
        );
        assert!(
            found
                .iter()
                .any(|m| m.starts_with("Retain: `Retain` is not a resource attribute")),
            "{found:#?}"
        );
    }

    #[test]
    fn schema_patterns_translate_to_rust_regex() {
        assert_eq!(translate(r"^[\u0009\u000A]+\Z"), r"^[\x{0009}\x{000A}]+\z");
        assert!(matches_pattern(r"^(?!aws:)[a-zA-Z+-=._:/]+$", "team").expect("compiles"));
        assert!(!matches_pattern(r"^(?!aws:)[a-zA-Z+-=._:/]+$", "aws:x").expect("compiles"));
    }
}

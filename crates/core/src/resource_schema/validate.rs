//! A resource's properties against its CloudFormation schema.
//!
//! Implements the JSON Schema keywords the resource schemas use (types,
//! enums, patterns, lengths, bounds, items, required and unknown
//! properties, `$ref`, the combinators and `if`/`then`) plus cfn-lint's
//! `dependentExcluded` and `requiredXor`, and knows CloudFormation's
//! intrinsic functions: a `Ref` or `Fn::*` value is computed at deploy time,
//! so only its place is checked, and both branches of an `Fn::If` are.
//! `format` is not checked (the schemas use it for hints, not rules).

use super::node::{find, Node};
use super::pattern::Pattern;
use super::{schema, ResourceSchema};
use serde_json::{Map, Value};
use std::sync::OnceLock;

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
    Walker { schema }.check(schema.root, properties, &mut path, &mut out);
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

/// One schema node's keywords, read in a single pass over its entries.
#[derive(Default)]
struct Keywords {
    reference: Option<&'static Node>,
    types: Option<&'static Node>,
    enumeration: Option<&'static [Node]>,
    constant: Option<&'static Node>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<&'static Pattern>,
    minimum: Option<&'static Node>,
    exclusive_minimum: Option<&'static Node>,
    maximum: Option<&'static Node>,
    exclusive_maximum: Option<&'static Node>,
    multiple_of: Option<f64>,
    all_of: &'static [Node],
    any_of: &'static [Node],
    one_of: &'static [Node],
    condition: Option<&'static Node>,
    then: Option<&'static Node>,
    otherwise: Option<&'static Node>,
    not: Option<&'static Node>,
    required: &'static [Node],
    required_xor: Option<&'static [Node]>,
    dependencies: &'static [(&'static str, Node)],
    dependent_excluded: &'static [(&'static str, Node)],
    properties: &'static [(&'static str, Node)],
    /// `[pattern, schema]` pairs (see `build.rs`).
    pattern_properties: &'static [Node],
    additional: Option<&'static Node>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    prefix_items: &'static [Node],
    items: Option<&'static Node>,
}

impl Keywords {
    fn of(node: &'static Node) -> Keywords {
        let mut k = Keywords::default();
        for (key, value) in node.entries() {
            match *key {
                "$ref" => {
                    if let Node::Ref(target) = value {
                        k.reference = Some(target);
                    }
                }
                "type" => k.types = Some(value),
                "enum" => k.enumeration = Some(value.items()),
                "const" => k.constant = Some(value),
                "minLength" => k.min_length = value.as_u64(),
                "maxLength" => k.max_length = value.as_u64(),
                "pattern" => {
                    if let Node::Pattern(pattern) = value {
                        k.pattern = Some(pattern);
                    }
                }
                "minimum" => k.minimum = Some(value),
                "exclusiveMinimum" => k.exclusive_minimum = Some(value),
                "maximum" => k.maximum = Some(value),
                "exclusiveMaximum" => k.exclusive_maximum = Some(value),
                "multipleOf" => k.multiple_of = value.as_f64().filter(|step| *step > 0.0),
                "allOf" => k.all_of = value.items(),
                "anyOf" => k.any_of = value.items(),
                "oneOf" => k.one_of = value.items(),
                "if" => k.condition = Some(value),
                "then" => k.then = Some(value),
                "else" => k.otherwise = Some(value),
                "not" => k.not = Some(value),
                "required" => k.required = value.items(),
                "requiredXor" => k.required_xor = Some(value.items()),
                // JSON Schema's older and newer spellings mean the same here.
                "dependencies" | "dependentRequired" => k.dependencies = value.entries(),
                "dependentExcluded" => k.dependent_excluded = value.entries(),
                "properties" => k.properties = value.entries(),
                "patternProperties" => k.pattern_properties = value.items(),
                "additionalProperties" => k.additional = Some(value),
                "minProperties" => k.min_properties = value.as_u64(),
                "maxProperties" => k.max_properties = value.as_u64(),
                "minItems" => k.min_items = value.as_u64(),
                "maxItems" => k.max_items = value.as_u64(),
                "uniqueItems" => k.unique_items = matches!(value, Node::Bool(true)),
                "prefixItems" => k.prefix_items = value.items(),
                "items" => k.items = Some(value),
                _ => {}
            }
        }
        k
    }
}

struct Walker {
    schema: &'static ResourceSchema,
}

impl Walker {
    fn check<'v>(
        &self,
        node: &'static Node,
        value: &'v Value,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
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
                    self.check(node, branch, path, out);
                }
            }
            return;
        }
        let rule = Keywords::of(node);
        if let Some(target) = rule.reference {
            self.check(target, value, path, out);
        }
        if let Some(types) = rule.types {
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
        check_value(&rule, value, path, out);
        self.check_combinators(&rule, value, path, out);
        match value {
            Value::Object(map) => self.check_object(&rule, value, map, path, out),
            Value::Array(items) => self.check_array(&rule, items, path, out),
            _ => {}
        }
    }

    fn check_combinators<'v>(
        &self,
        rule: &Keywords,
        value: &'v Value,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        for branch in rule.all_of {
            self.check(branch, value, path, out);
        }
        if !rule.any_of.is_empty() {
            let results: Vec<Vec<Violation>> = rule
                .any_of
                .iter()
                .map(|b| self.collect(b, value, path))
                .collect();
            if results.iter().all(|r| !r.is_empty()) {
                out.extend(fewest(results));
            }
        }
        if !rule.one_of.is_empty() {
            let results: Vec<Vec<Violation>> = rule
                .one_of
                .iter()
                .map(|b| self.collect(b, value, path))
                .collect();
            match results.iter().filter(|r| r.is_empty()).count() {
                1 => {}
                0 => out.extend(fewest(results)),
                _ => out.push(violation(path, format!("{} matches more than one of the shapes it may take; it must match exactly one", describe(path)), Some(value))),
            }
        }
        if let Some(condition) = rule.condition {
            let branch = if self.collect(condition, value, path).is_empty() {
                rule.then
            } else {
                rule.otherwise
            };
            if let Some(branch) = branch {
                self.check(branch, value, path, out);
            }
        }
        if let Some(not) = rule.not {
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
        node: &'static Node,
        value: &'v Value,
        path: &mut Vec<&'v str>,
    ) -> Vec<Violation> {
        let mut found = Vec::new();
        self.check(node, value, path, &mut found);
        found
    }

    fn check_object<'v>(
        &self,
        rule: &Keywords,
        object: &'v Value,
        map: &'v Map<String, Value>,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        let present = |name: &str| present_in(map, name);
        for name in names(rule.required).filter(|n| !present(n)) {
            out.push(violation(
                path,
                format!("{} requires `{name}`", describe_object(path)),
                None,
            ));
        }
        self.check_dependencies(rule, object, &present, path, out);
        for (name, value) in map {
            if is_no_value(value) {
                continue;
            }
            path.push(name.as_str());
            let mut known = false;
            if let Some(node) = find(rule.properties, name) {
                known = true;
                self.check(node, value, path, out);
            }
            for pair in rule.pattern_properties {
                if let [Node::Pattern(pattern), node] = pair.items() {
                    if pattern.is_match(name).unwrap_or(false) {
                        known = true;
                        self.check(node, value, path, out);
                    }
                }
            }
            if !known {
                match rule.additional {
                    Some(Node::Bool(false)) => out.push(self.unknown_property(rule, name, path)),
                    Some(node @ Node::Object(_)) => self.check(node, value, path, out),
                    _ => {}
                }
            }
            path.pop();
        }
        let count = map.len() as u64;
        if let Some(min) = rule.min_properties.filter(|min| count < *min) {
            out.push(violation(
                path,
                format!("{} needs at least {min} entries", describe_object(path)),
                None,
            ));
        }
        if let Some(max) = rule.max_properties.filter(|max| count > *max) {
            out.push(violation(
                path,
                format!("{} allows at most {max} entries", describe_object(path)),
                None,
            ));
        }
    }

    fn unknown_property(&self, rule: &Keywords, name: &str, path: &[&str]) -> Violation {
        let settable = rule.properties.iter().map(|(k, _)| *k).filter(|k| {
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
        violation(path, message, None)
    }

    fn check_dependencies<'v>(
        &self,
        rule: &Keywords,
        object: &'v Value,
        present: &dyn Fn(&str) -> bool,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        for (name, needs) in rule.dependencies.iter().filter(|(n, _)| present(n)) {
            match needs {
                Node::Array(_) => {
                    for needed in names(needs.items()).filter(|n| !present(n)) {
                        out.push(violation(
                            path,
                            format!("{}: `{name}` needs `{needed}` too", describe_object(path)),
                            None,
                        ));
                    }
                }
                schema @ Node::Object(_) => self.check(schema, object, path, out),
                _ => {}
            }
        }
        for (name, excluded) in rule.dependent_excluded.iter().filter(|(n, _)| present(n)) {
            for other in names(excluded.items()).filter(|n| present(n)) {
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
        if let Some(group) = rule.required_xor {
            if names(group).filter(|n| present(n)).count() != 1 {
                let listed: Vec<&str> = names(group).collect();
                out.push(violation(
                    path,
                    format!(
                        "{} needs exactly one of {}",
                        describe_object(path),
                        listed.join(", ")
                    ),
                    None,
                ));
            }
        }
    }

    fn check_array<'v>(
        &self,
        rule: &Keywords,
        items: &'v [Value],
        path: &mut Vec<&'v str>,
        out: &mut Vec<Violation>,
    ) {
        let count = items.len() as u64;
        if let Some(min) = rule.min_items.filter(|min| count < *min) {
            out.push(violation(
                path,
                format!(
                    "{} has {count} items, fewer than the minimum {min}",
                    describe(path)
                ),
                None,
            ));
        }
        if let Some(max) = rule.max_items.filter(|max| count > *max) {
            out.push(violation(
                path,
                format!(
                    "{} has {count} items, more than the maximum {max}",
                    describe(path)
                ),
                None,
            ));
        }
        if rule.unique_items {
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
        for (i, item) in items.iter().enumerate() {
            if let Some(node) = rule.prefix_items.get(i).or(rule.items) {
                path.push(index_name(i));
                self.check(node, item, path, out);
                path.pop();
            }
        }
    }
}

/// Whether `name` is set (not to `AWS::NoValue`). Template objects are mostly
/// small, and comparing a few keys costs less than hashing one.
fn present_in(map: &Map<String, Value>, name: &str) -> bool {
    let value = if map.len() <= 8 {
        map.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    } else {
        map.get(name)
    };
    value.is_some_and(|v| !is_no_value(v))
}

/// The strings of a schema list (`required`, dependency lists).
fn names(list: &'static [Node]) -> impl Iterator<Item = &'static str> {
    list.iter().filter_map(Node::as_str)
}

fn check_value(rule: &Keywords, value: &Value, path: &[&str], out: &mut Vec<Violation>) {
    if let Some(allowed) = rule.enumeration {
        if !allowed.iter().any(|a| a.equals(value)) {
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
    if let Some(constant) = rule.constant {
        if !constant.equals(value) {
            out.push(violation(
                path,
                format!("{} must be {constant}, found {value}", describe(path)),
                Some(value),
            ));
        }
    }
    match value {
        Value::String(text) => check_string(rule, text, value, path, out),
        Value::Number(_) => check_number(rule, value, path, out),
        _ => {}
    }
}

fn check_string(
    rule: &Keywords,
    text: &str,
    value: &Value,
    path: &[&str],
    out: &mut Vec<Violation>,
) {
    if rule.min_length.is_some() || rule.max_length.is_some() {
        let length = text.chars().count() as u64;
        if let Some(min) = rule.min_length.filter(|min| length < *min) {
            out.push(violation(
                path,
                format!(
                    "{} is {length} characters long, shorter than the minimum {min}",
                    describe(path)
                ),
                Some(value),
            ));
        }
        if let Some(max) = rule.max_length.filter(|max| length > *max) {
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
    if let Some(pattern) = rule.pattern {
        match pattern.is_match(text) {
            Ok(true) => {}
            Ok(false) => out.push(violation(
                path,
                format!(
                    "{} is {value}, which does not match the pattern {}",
                    describe(path),
                    pattern.source()
                ),
                Some(value),
            )),
            Err(e) => out.push(violation(
                path,
                format!(
                    "the schema's pattern {} cannot be checked: {e} (a stackctl defect)",
                    pattern.source()
                ),
                None,
            )),
        }
    }
}

fn check_number(rule: &Keywords, value: &Value, path: &[&str], out: &mut Vec<Violation>) {
    let Some(n) = value.as_f64() else { return };
    let limit = |bound: Option<&'static Node>, broken: fn(f64, f64) -> bool| {
        bound.filter(|b| b.as_f64().is_some_and(|limit| broken(n, limit)))
    };
    let below =
        limit(rule.minimum, |n, min| n < min).or(limit(rule.exclusive_minimum, |n, min| n <= min));
    if let Some(bound) = below {
        out.push(violation(
            path,
            format!("{} is {value}, below the minimum {bound}", describe(path)),
            Some(value),
        ));
    }
    let above =
        limit(rule.maximum, |n, max| n > max).or(limit(rule.exclusive_maximum, |n, max| n >= max));
    if let Some(bound) = above {
        out.push(violation(
            path,
            format!("{} is {value}, above the maximum {bound}", describe(path)),
            Some(value),
        ));
    }
    if let Some(step) = rule.multiple_of {
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

fn type_matches(types: &'static Node, value: &Value) -> bool {
    match types {
        Node::String(t) => is_type(t, value),
        Node::Array(ts) => ts
            .iter()
            .filter_map(Node::as_str)
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

fn type_words(types: &'static Node) -> String {
    let word = |t: &str| match t {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "a whole number".to_string(),
        other => format!("a {other}"),
    };
    match types {
        Node::String(t) => word(t),
        Node::Array(ts) => ts
            .iter()
            .filter_map(Node::as_str)
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

pub use super::pattern::matches_pattern;

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
        assert_eq!(
            super::super::pattern::translate(r"^[\u0009\u000A]+\Z"),
            r"^[\x{0009}\x{000A}]+\z"
        );
        assert!(matches_pattern(r"^(?!aws:)[a-zA-Z+-=._:/]+$", "team").expect("compiles"));
        assert!(!matches_pattern(r"^(?!aws:)[a-zA-Z+-=._:/]+$", "aws:x").expect("compiles"));
    }
}

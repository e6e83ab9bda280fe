//! CloudFormation's resource provider schemas, embedded.
//!
//! These are the JSON schemas CloudFormation validates resource properties
//! with (draft-07 plus its own keywords), for every type stackctl emits. They
//! live in `crates/core/schema/resources/`, written from a pinned source by
//! `scripts/resource-schemas.py` (a test fails when they are stale), and are
//! compiled into the binary by `build.rs`. A schema is parsed the first time
//! a template uses its type.
//!
//! Besides validation ([`validate_resource`]), the schemas say which property
//! changes replace a resource (`createOnlyProperties`), so the template diff
//! needs no hand-kept table.

pub mod validate;

pub use validate::{validate_resource, Violation};

use serde_json::Value;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/resource_schemas.rs"));

/// One resource type's schema, parsed.
#[derive(Debug)]
pub struct ResourceSchema {
    pub type_name: &'static str,
    /// The whole schema document (`properties`, `definitions`, …).
    pub root: Value,
    /// Properties whose change always replaces the resource.
    pub create_only: Vec<PropertyPath>,
    /// Properties whose change may replace it, depending on the change.
    pub conditional_create_only: Vec<PropertyPath>,
    /// Properties AWS sets; a template may not.
    pub read_only: Vec<PropertyPath>,
}

/// A path into a resource's properties, as the schemas write it
/// (`/properties/Schema/*/Name`): names, with `*` for any array item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyPath(pub Vec<String>);

impl PropertyPath {
    fn parse(pointer: &str) -> Option<PropertyPath> {
        let rest = pointer.strip_prefix("/properties/")?;
        Some(PropertyPath(rest.split('/').map(str::to_string).collect()))
    }

    /// Whether `segments` (property names and array indexes) lie at or below this path.
    pub fn covers(&self, segments: &[String]) -> bool {
        self.0.len() <= segments.len()
            && self
                .0
                .iter()
                .zip(segments)
                .all(|(want, got)| want == "*" || want == got)
    }

    /// Every value at this path inside `properties` (one per array item matched by `*`).
    pub fn values_in<'v>(&self, properties: &'v Value) -> Vec<&'v Value> {
        let mut current = vec![properties];
        for segment in &self.0 {
            current = current
                .into_iter()
                .flat_map(|v| match (segment.as_str(), v) {
                    ("*", Value::Array(items)) => items.iter().collect::<Vec<_>>(),
                    (name, Value::Object(map)) => map.get(name).into_iter().collect(),
                    _ => Vec::new(),
                })
                .collect();
        }
        current
    }

    pub fn display(&self) -> String {
        self.0.join(".")
    }
}

/// Every resource type stackctl has a schema for, in order.
pub fn known_types() -> impl Iterator<Item = &'static str> {
    RESOURCE_SCHEMA_TEXTS.iter().map(|(t, _)| *t)
}

/// The embedded text of `type_name`'s schema.
pub fn schema_text(type_name: &str) -> Option<&'static str> {
    let index = RESOURCE_SCHEMA_TEXTS
        .binary_search_by(|(t, _)| (*t).cmp(type_name))
        .ok()?;
    Some(RESOURCE_SCHEMA_TEXTS[index].1)
}

/// The schema of `type_name`, if stackctl carries one.
pub fn schema(type_name: &str) -> Option<&'static ResourceSchema> {
    static PARSED: OnceLock<Vec<OnceLock<ResourceSchema>>> = OnceLock::new();
    let index = RESOURCE_SCHEMA_TEXTS
        .binary_search_by(|(t, _)| (*t).cmp(type_name))
        .ok()?;
    let slots = PARSED.get_or_init(|| {
        RESOURCE_SCHEMA_TEXTS
            .iter()
            .map(|_| OnceLock::new())
            .collect()
    });
    Some(slots[index].get_or_init(|| parse(RESOURCE_SCHEMA_TEXTS[index])))
}

fn parse((type_name, text): (&'static str, &'static str)) -> ResourceSchema {
    // The text is compiled in and checked by tests; a parse failure is a build defect.
    let root: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("embedded schema of {type_name} is not JSON: {e}"));
    let paths = |key: &str| -> Vec<PropertyPath> {
        root.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(PropertyPath::parse)
            .collect()
    };
    ResourceSchema {
        type_name,
        create_only: paths("createOnlyProperties"),
        conditional_create_only: paths("conditionalCreateOnlyProperties"),
        read_only: paths("readOnlyProperties"),
        root,
    }
}

/// Resource types that hold data a replacement or removal would lose. Every
/// type here must be one stackctl emits (a test checks it against the
/// schemas it carries), and every emitted type is either here or judged
/// stateless by that same test's reviewed list.
pub const STATEFUL_TYPES: [&str; 6] = [
    "AWS::Cognito::UserPool",
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_parses_and_names_its_type() {
        for t in known_types() {
            let s = schema(t).expect("listed types have schemas");
            assert_eq!(s.root["typeName"], t);
            assert!(s.root.get("properties").is_some(), "{t} has properties");
        }
        assert!(schema("AWS::Nothing::Here").is_none());
    }

    /// Emitted types judged to hold no data a replacement would lose; with
    /// [`STATEFUL_TYPES`] they must cover every type stackctl has a schema
    /// for, so a new kind is classified before it ships.
    const STATELESS_TYPES: [&str; 35] = [
        "AWS::Amplify::App",
        "AWS::Amplify::Branch",
        "AWS::ApiGateway::Account",
        "AWS::ApiGateway::Authorizer",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Model",
        "AWS::ApiGateway::RequestValidator",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Stage",
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::ResponseHeadersPolicy",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::Cognito::UserPoolClient",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::Lambda::Alias",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Version",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::Scheduler::Schedule",
        "AWS::Scheduler::ScheduleGroup",
        "AWS::WAFv2::WebACL",
        "AWS::WAFv2::WebACLAssociation",
    ];

    #[test]
    fn every_type_with_a_schema_is_classified_stateful_or_not() {
        let mut classified: Vec<&str> = STATEFUL_TYPES
            .iter()
            .chain(STATELESS_TYPES.iter())
            .copied()
            .collect();
        classified.sort_unstable();
        let known: Vec<&str> = known_types().collect();
        assert_eq!(
            classified, known,
            "classify each new type as stateful (STATEFUL_TYPES) or not (STATELESS_TYPES)"
        );
    }

    #[test]
    fn every_pattern_in_every_schema_compiles() {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(p)) = map.get("pattern") {
                        out.push(p.clone());
                    }
                    if let Some(Value::Object(pp)) = map.get("patternProperties") {
                        out.extend(pp.keys().cloned());
                    }
                    map.values().for_each(|v| walk(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut patterns = Vec::new();
        for t in known_types() {
            walk(&schema(t).expect("schema").root, &mut patterns);
        }
        assert!(patterns.len() > 50);
        for p in patterns {
            validate::matches_pattern(&p, "x")
                .unwrap_or_else(|e| panic!("pattern {p} does not compile: {e}"));
        }
    }

    #[test]
    fn create_only_paths_come_from_the_schema() {
        let table = schema("AWS::DynamoDB::Table").expect("table schema");
        assert!(table
            .create_only
            .contains(&PropertyPath(vec!["TableName".into()])));
        assert!(table
            .conditional_create_only
            .contains(&PropertyPath(vec!["KeySchema".into()])));
        let path = PropertyPath(vec!["Schema".into(), "*".into(), "Name".into()]);
        assert!(path.covers(&["Schema".into(), "3".into(), "Name".into(), "x".into()]));
        assert!(!path.covers(&["Schema".into()]));
        let props = serde_json::json!({"Schema": [{"Name": "a"}, {"Name": "b"}, {}]});
        assert_eq!(
            path.values_in(&props),
            vec![&serde_json::json!("a"), &serde_json::json!("b")]
        );
    }
}

//! CloudFormation's resource provider schemas, embedded.
//!
//! These are the JSON schemas CloudFormation validates resource properties
//! with (draft-07 plus its own keywords), for every type stackctl emits. They
//! live in `crates/core/schema/resources/`, written from a pinned source by
//! `scripts/resource-schemas.py` (a test fails when they are stale), and
//! `build.rs` compiles them into the binary as static [`Node`] trees, so
//! nothing is parsed at run time.
//!
//! Besides validation ([`validate_resource`]), the schemas say which property
//! changes replace a resource (`createOnlyProperties`), so the template diff
//! needs no hand-kept table.

mod node;
mod pattern;
pub mod validate;

pub use node::Node;
pub use validate::{validate_resource, Violation};

use pattern::Pattern;
use serde_json::Value;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/resource_schemas.rs"));

/// One resource type's schema.
#[derive(Debug)]
pub struct ResourceSchema {
    pub type_name: &'static str,
    /// The schema document (`properties`, `required`, …; definitions are
    /// reached through its resolved `$ref`s).
    pub root: &'static Node,
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
    RESOURCE_SCHEMAS.iter().map(|(t, _)| *t)
}

/// The schema of `type_name`, if stackctl carries one.
pub fn schema(type_name: &str) -> Option<&'static ResourceSchema> {
    static READ: OnceLock<Vec<OnceLock<ResourceSchema>>> = OnceLock::new();
    let index = RESOURCE_SCHEMAS
        .binary_search_by(|(t, _)| (*t).cmp(type_name))
        .ok()?;
    let slots = READ.get_or_init(|| RESOURCE_SCHEMAS.iter().map(|_| OnceLock::new()).collect());
    Some(slots[index].get_or_init(|| read(RESOURCE_SCHEMAS[index])))
}

fn read((type_name, root): (&'static str, &'static Node)) -> ResourceSchema {
    let paths = |key: &str| -> Vec<PropertyPath> {
        root.get(key)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
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
/// stateless by that same test's reviewed list. A queue holds its messages
/// (a schedule group's dead-letter queue: the invocations that failed, kept
/// to be looked at or sent again), which a new queue would not have.
pub const STATEFUL_TYPES: [&str; 8] = [
    "AWS::Cognito::UserPool",
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_parses_and_names_its_type() {
        for t in known_types() {
            let s = schema(t).expect("listed types have schemas");
            assert_eq!(s.root.get("typeName").and_then(Node::as_str), Some(t));
            assert!(s.root.get("properties").is_some(), "{t} has properties");
        }
        assert!(schema("AWS::Nothing::Here").is_none());
    }

    /// Emitted types judged to hold no data a replacement would lose; with
    /// [`STATEFUL_TYPES`] they must cover every type stackctl has a schema
    /// for, so a new kind is classified before it ships.
    const STATELESS_TYPES: [&str; 43] = [
        "AWS::Amplify::App",
        "AWS::Amplify::Branch",
        "AWS::ApiGateway::Account",
        "AWS::ApiGateway::Authorizer",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::GatewayResponse",
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
        "AWS::Events::EventBus",
        "AWS::Events::Rule",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::Lambda::Alias",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Url",
        "AWS::Lambda::Version",
        "AWS::Logs::SubscriptionFilter",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::SQS::QueuePolicy",
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
        fn walk(node: &'static Node, seen: &mut Vec<*const Node>, out: &mut Vec<String>) {
            match node {
                Node::Pattern(p) => out.push(p.source().to_string()),
                Node::Object(entries) => entries.iter().for_each(|(_, v)| walk(v, seen, out)),
                Node::Array(items) => items.iter().for_each(|v| walk(v, seen, out)),
                // Definitions are shared and may be recursive: visit each once.
                Node::Ref(target) if !seen.contains(&(*target as *const Node)) => {
                    seen.push(*target);
                    walk(target, seen, out);
                }
                _ => {}
            }
        }
        let mut patterns = Vec::new();
        for t in known_types() {
            walk(
                schema(t).expect("schema").root,
                &mut Vec::new(),
                &mut patterns,
            );
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

//! EventBridge rules (`rules:`): an event pattern on a bus and its targets,
//! with the permissions that let the rule reach them.

use super::{Attribute, Kind, NameRule, PhysicalName, EVENT_BUS};
use crate::model::StackDef;
use crate::naming::{to_sub, NameContext};

pub const RULE: Kind = Kind {
    section: "rules",
    noun: "rule",
    logical_suffix: "Rule",
    template: (
        "event_rule",
        include_str!("../../templates/event_rule.yaml"),
    ),
    part_templates: &[],
    emits: &["AWS::Events::Rule", "AWS::Lambda::Permission"],
    stateful: false,
    // From the names: a function told about the rule that invokes it forms no cycle.
    attributes: &[
        ("name", Attribute::Name),
        ("arn", Attribute::FromEntry(arn)),
    ],
    physical_name: Some(PhysicalName {
        field: Some("rule_name"),
        default: "{stack}-{name}",
        given: |def, name| def.rules.get(name)?.rule_name.as_deref(),
        // The schema's `^[\.\-_A-Za-z0-9]+$`, 1 to 64; unique per bus.
        rule: NameRule {
            what: "rule name",
            min: 1,
            max: 64,
            allowed: |ch| ch.is_ascii_alphanumeric() || "._-".contains(ch),
            allowed_text: "letters, digits, `.`, `_` and `-`",
            unique: true,
        },
    }),
    names: |def| def.rules.keys().collect(),
};

/// A rule's ARN: `rule/NAME` on the default bus, `rule/BUS/NAME` on a custom one.
fn arn(def: &StackDef, env: &str, name: &str) -> String {
    let physical = |kind: &Kind, n: &str| -> String {
        let ctx = NameContext {
            app: &def.name,
            env,
            name: n,
        };
        kind.physical_name
            .as_ref()
            .map(|p| to_sub(&p.fitted(def, env, n), &ctx))
            .unwrap_or_default()
    };
    let rule = physical(&RULE, name);
    let prefix = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule";
    match def.rules.get(name).and_then(|r| r.bus.as_deref()) {
        Some(bus) => format!("{prefix}/{}/{rule}", physical(&EVENT_BUS, bus)),
        None => format!("{prefix}/{rule}"),
    }
}

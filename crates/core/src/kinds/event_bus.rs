//! Custom EventBridge event buses (`event_buses:`).

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const EVENT_BUS: Kind = Kind {
    section: "event_buses",
    noun: "event bus",
    logical_suffix: "EventBus",
    template: ("event_bus", include_str!("../../templates/event_bus.yaml")),
    part_templates: &[],
    emits: &["AWS::Events::EventBus"],
    stateful: false,
    // From the name: a function that puts events on the bus a rule of which
    // invokes it forms no cycle.
    attributes: &[
        ("name", Attribute::Name),
        (
            "arn",
            Attribute::Sub(
                "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/{name}",
            ),
        ),
    ],
    physical_name: Some(PhysicalName {
        field: Some("bus_name"),
        default: "{stack}-{name}",
        given: |def, name| def.event_buses.get(name)?.bus_name.as_deref(),
        // The schema's `^[/\.\-_A-Za-z0-9]+$`, 1 to 256; unique per account
        // and region (`default` is the account's own bus: validation refuses it).
        rule: NameRule {
            what: "event bus name",
            min: 1,
            max: 256,
            allowed: |ch| ch.is_ascii_alphanumeric() || "/._-".contains(ch),
            allowed_text: "letters, digits, `/`, `.`, `_` and `-`",
            unique: true,
        },
    }),
    names: |def| def.event_buses.keys().collect(),
};

//! Fixed EventBridge Scheduler schedules (`schedules:`) that invoke a
//! function, each with the role it runs as.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const SCHEDULE: Kind = Kind {
    section: "schedules",
    noun: "schedule",
    logical_suffix: "Schedule",
    template: ("schedule", include_str!("../../templates/schedule.yaml")),
    part_templates: &[],
    emits: &["AWS::Scheduler::Schedule", "AWS::IAM::Role"],
    stateful: false,
    // By name: a function told about the schedule that invokes it forms no cycle.
    attributes: &[
        ("name", Attribute::Name),
        (
            "arn",
            Attribute::Sub("arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/default/{name}"),
        ),
    ],
    physical_name: Some(PhysicalName {
        field: None,
        default: "{stack}-{name}",
        given: |_, _| None,
        // The schema's `^[0-9a-zA-Z-_.]+$`, 1 to 64; unique in its group
        // (these are all in the default group).
        rule: NameRule {
            what: "schedule name",
            min: 1,
            max: 64,
            allowed: |ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch),
            allowed_text: "letters, digits, `_`, `.` and `-`",
            unique: true,
        },
    }),
    names: |def| def.schedules.keys().collect(),
};

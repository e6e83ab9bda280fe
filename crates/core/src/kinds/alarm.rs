//! CloudWatch alarms (`alarms:`) on functions, APIs, tables or any metric.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const ALARM: Kind = Kind {
    section: "alarms",
    noun: "alarm",
    logical_suffix: "Alarm",
    template: (
        "cloudwatch_alarm",
        include_str!("../../templates/cloudwatch_alarm.yaml"),
    ),
    part_templates: &[],
    emits: &["AWS::CloudWatch::Alarm"],
    stateful: false,
    // By name: a function told about the alarm that watches it forms no cycle.
    attributes: &[
        ("name", Attribute::Name),
        (
            "arn",
            Attribute::Sub(
                "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:{name}",
            ),
        ),
    ],
    physical_name: Some(PhysicalName {
        field: None,
        default: "{stack}-{name}",
        given: |_, _| None,
        // PutMetricAlarm: up to 255 characters, no ASCII control characters;
        // a second alarm of the same name would replace the first.
        rule: NameRule {
            what: "alarm name",
            min: 1,
            max: 255,
            allowed: |ch| !ch.is_control(),
            allowed_text: "any character but control characters",
            unique: true,
        },
    }),
    names: |def| def.alarms.keys().collect(),
};

//! EventBridge Scheduler groups (`schedule_groups:`) in which functions
//! create one-time schedules, with the role those schedules run as and, when
//! the group declares one, the dead-letter queue they name.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const SCHEDULE_GROUP: Kind = Kind {
    section: "schedule_groups",
    noun: "schedule group",
    logical_suffix: "ScheduleGroup",
    template: (
        "schedule_group",
        include_str!("../../templates/schedule_group.yaml"),
    ),
    part_templates: &[],
    emits: &[
        "AWS::Scheduler::ScheduleGroup",
        "AWS::IAM::Role",
        "AWS::SQS::Queue",
    ],
    stateful: false,
    attributes: &[
        ("name", Attribute::Name),
        ("role_arn", Attribute::GetAttOf("Role", "Arn")),
        // Only a group with `dead_letter` has the queue (validation says so).
        (
            "dead_letter_arn",
            Attribute::GetAttOf("DeadLetterQueue", "Arn"),
        ),
        // `Ref` is the URL; moto 5.2.5's CloudFormation refuses
        // `Fn::GetAtt …QueueUrl` (it knows only `Arn` and `QueueName`).
        ("dead_letter_url", Attribute::RefOf("DeadLetterQueue")),
    ],
    physical_name: Some(PhysicalName {
        field: Some("group_name"),
        default: "{stack}-{name}",
        given: |def, name| def.schedule_groups.get(name)?.group_name.as_deref(),
        rule: NameRule {
            what: "schedule group name",
            min: 1,
            max: 64,
            allowed: |ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch),
            allowed_text: "letters, digits, `_`, `.` and `-`",
            unique: true,
        },
    }),
    names: |def| def.schedule_groups.keys().collect(),
};

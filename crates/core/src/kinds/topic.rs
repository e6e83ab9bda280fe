//! SNS topics (`topics:`), such as alarm notifications, and their
//! subscriptions (e-mail addresses, functions, queues).

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const TOPIC: Kind = Kind {
    section: "topics",
    noun: "topic",
    logical_suffix: "Topic",
    template: ("sns_topic", include_str!("../../templates/sns_topic.yaml")),
    // Each function or queue subscription, with its invoke permission.
    part_templates: &[(
        "topic_subscription",
        include_str!("../../templates/topic_subscription.yaml"),
    )],
    emits: &[
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::Lambda::Permission",
    ],
    stateful: false,
    attributes: &[
        ("arn", Attribute::Ref),
        ("name", Attribute::GetAtt("TopicName")),
    ],
    physical_name: Some(PhysicalName {
        field: None,
        default: "{stack}-{name}",
        given: |_, _| None,
        rule: NameRule {
            what: "topic name",
            min: 1,
            max: 256,
            allowed: |ch| ch.is_ascii_alphanumeric() || "_-".contains(ch),
            allowed_text: "letters, digits, `_` and `-`",
            unique: true,
        },
    }),
    names: |def| def.topics.keys().collect(),
};

//! SQS queues (`queues:`), each with its dead-letter queue when it declares one.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const QUEUE: Kind = Kind {
    section: "queues",
    noun: "queue",
    logical_suffix: "Queue",
    template: ("sqs_queue", include_str!("../../templates/sqs_queue.yaml")),
    part_templates: &[],
    emits: &["AWS::SQS::Queue"],
    stateful: true,
    attributes: &[
        ("arn", Attribute::GetAtt("Arn")),
        // `Ref` of a queue is its URL.
        ("url", Attribute::Ref),
        ("name", Attribute::Name),
        // Only a queue with `dead_letter` has one (validation says so).
        (
            "dead_letter_arn",
            Attribute::GetAttOf("DeadLetterQueue", "Arn"),
        ),
        ("dead_letter_url", Attribute::RefOf("DeadLetterQueue")),
    ],
    physical_name: Some(PhysicalName {
        field: Some("queue_name"),
        default: "{stack}-{name}",
        // A FIFO queue's default ends with `.fifo`, which SQS requires.
        given: |def, name| {
            let queue = def.queues.get(name)?;
            queue
                .queue_name
                .as_deref()
                .or(queue.is_fifo().then(|| queue.default_name_pattern(false)))
        },
        rule: QUEUE_NAME_RULE,
    }),
    names: |def| def.queues.keys().collect(),
};

/// "A queue name can have up to 80 characters. You can use alphanumeric
/// characters, hyphens (-), and underscores (_)"; a FIFO queue's name ends
/// with `.fifo`, counted in the 80 (Amazon SQS Developer Guide, "Amazon SQS
/// queue quotas"). Validation refuses a `.` anywhere else.
pub const QUEUE_NAME_RULE: NameRule = NameRule {
    what: "queue name",
    min: 1,
    max: 80,
    allowed: |ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch),
    allowed_text: "letters, digits, `_` and `-` (and `.fifo` at the end of a FIFO queue's)",
    unique: true,
};

/// A queue's dead-letter queue: `queues.NAME.dead_letter.queue_name`.
pub const QUEUE_DEAD_LETTER_NAME: PhysicalName = PhysicalName {
    field: Some("queue_name"),
    default: "{stack}-{name}-dlq",
    given: |def, name| {
        let queue = def.queues.get(name)?;
        let dead_letter = queue.dead_letter.as_ref()?;
        dead_letter
            .queue_name
            .as_deref()
            .or(queue.is_fifo().then(|| queue.default_name_pattern(true)))
    },
    rule: QUEUE_NAME_RULE,
};

//! Kinesis data streams (`streams:`).

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const STREAM: Kind = Kind {
    section: "streams",
    noun: "Kinesis stream",
    logical_suffix: "Stream",
    template: (
        "kinesis_stream",
        include_str!("../../templates/kinesis_stream.yaml"),
    ),
    part_templates: &[],
    emits: &["AWS::Kinesis::Stream"],
    stateful: true,
    attributes: &[("arn", Attribute::GetAtt("Arn")), ("name", Attribute::Name)],
    physical_name: Some(PhysicalName {
        field: Some("stream_name"),
        default: "{stack}-{name}",
        given: |def, name| def.streams.get(name)?.stream_name.as_deref(),
        rule: NameRule {
            what: "stream name",
            min: 1,
            max: 128,
            allowed: |ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch),
            allowed_text: "letters, digits, `_`, `.` and `-`",
            unique: true,
        },
    }),
    names: |def| def.streams.keys().collect(),
};

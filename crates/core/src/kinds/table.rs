//! DynamoDB tables (`tables:`).

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const TABLE: Kind = Kind {
    section: "tables",
    noun: "table",
    logical_suffix: "Table",
    template: (
        "dynamodb_table",
        include_str!("../../templates/dynamodb_table.yaml"),
    ),
    part_templates: &[],
    emits: &["AWS::DynamoDB::Table"],
    stateful: true,
    attributes: &[
        ("name", Attribute::Ref),
        ("arn", Attribute::GetAtt("Arn")),
        ("stream_arn", Attribute::GetAtt("StreamArn")),
    ],
    physical_name: Some(PhysicalName {
        field: Some("table_name"),
        default: "{stack}-{name}",
        given: |def, name| def.tables.get(name)?.table_name.as_deref(),
        rule: NameRule {
            what: "table name",
            min: 3,
            max: 255,
            allowed: |ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch),
            allowed_text: "letters, digits, `_`, `.` and `-`",
            unique: true,
        },
    }),
    names: |def| def.tables.keys().collect(),
};

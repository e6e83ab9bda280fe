//! Lambda functions (`functions:`): the function, its role and log group,
//! and the `live` alias when it keeps provisioned concurrency.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const FUNCTION: Kind = Kind {
    section: "functions",
    noun: "function",
    logical_suffix: "Function",
    template: (
        "lambda_function",
        include_str!("../../templates/lambda_function.yaml"),
    ),
    part_templates: &[],
    emits: &[
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::Logs::LogGroup",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
    ],
    stateful: false,
    attributes: &[
        ("name", Attribute::Name),
        (
            "arn",
            Attribute::Sub(
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:{name}",
            ),
        ),
    ],
    physical_name: Some(PhysicalName {
        field: Some("function_name"),
        default: "{stack}-{name}",
        given: |def, name| def.functions.get(name)?.function_name.as_deref(),
        rule: NameRule {
            what: "function name",
            min: 1,
            max: 64,
            allowed: |ch| ch.is_ascii_alphanumeric() || "_-".contains(ch),
            allowed_text: "letters, digits, `_` and `-`",
            unique: true,
        },
    }),
    names: |def| def.functions.keys().collect(),
};

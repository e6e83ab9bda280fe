//! Lambda functions (`functions:`): the function, its role and log group,
//! the `live` alias when it keeps provisioned concurrency, and the event
//! source mappings through which queues and streams invoke it.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const FUNCTION: Kind = Kind {
    section: "functions",
    noun: "function",
    logical_suffix: "Function",
    template: (
        "lambda_function",
        include_str!("../../templates/lambda_function.yaml"),
    ),
    // One event source mapping per `event_sources` entry.
    part_templates: &[(
        "event_source_mapping",
        include_str!("../../templates/event_source_mapping.yaml"),
    )],
    emits: &[
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::Logs::LogGroup",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::Lambda::Url",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::EventSourceMapping",
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
        // Only a function with `url` has one (validation says so). AWS picks
        // the URL's id, so the value is the URL resource's attribute: a
        // function cannot be told its own URL (that would be a cycle).
        ("url", Attribute::GetAttOf("UrlConfig", "FunctionUrl")),
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

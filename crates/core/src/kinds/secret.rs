//! Secrets Manager secrets (`secrets:`). Values never appear in templates.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const SECRET: Kind = Kind {
    section: "secrets",
    noun: "secret",
    logical_suffix: "Secret",
    template: ("secret", include_str!("../../templates/secret.yaml")),
    part_templates: &[],
    emits: &["AWS::SecretsManager::Secret"],
    stateful: true,
    attributes: &[("arn", Attribute::Ref), ("name", Attribute::Name)],
    physical_name: Some(PhysicalName {
        field: Some("secret_name"),
        default: "{stack}/{name}",
        given: |def, name| def.secrets.get(name)?.secret_name.as_deref(),
        rule: NameRule {
            what: "secret name",
            min: 1,
            max: 512,
            allowed: |ch| ch.is_ascii_alphanumeric() || "/_+=.@-".contains(ch),
            allowed_text: "letters, digits and `/_+=.@-`",
            unique: true,
        },
    }),
    names: |def| def.secrets.keys().collect(),
};

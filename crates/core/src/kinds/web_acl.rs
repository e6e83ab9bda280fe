//! WAFv2 web ACLs (`web_acls:`) and their associations with the REST API
//! stages and user pools that name them.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const WEB_ACL: Kind = Kind {
    section: "web_acls",
    noun: "web ACL",
    logical_suffix: "WebAcl",
    template: (
        "waf_web_acl",
        include_str!("../../templates/waf_web_acl.yaml"),
    ),
    part_templates: &[],
    emits: &["AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"],
    stateful: false,
    attributes: &[
        ("name", Attribute::Name),
        ("arn", Attribute::GetAtt("Arn")),
        ("id", Attribute::GetAtt("Id")),
    ],
    physical_name: Some(PhysicalName {
        field: None,
        default: "{stack}-{name}",
        given: |_, _| None,
        // WAFv2's `EntityName`: `^[0-9A-Za-z_-]{1,128}$`, unique per scope.
        rule: NameRule {
            what: "web ACL name",
            min: 1,
            max: 128,
            allowed: |ch| ch.is_ascii_alphanumeric() || "_-".contains(ch),
            allowed_text: "letters, digits, `_` and `-`",
            unique: true,
        },
    }),
    names: |def| def.web_acls.keys().collect(),
};

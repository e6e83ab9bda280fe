//! CloudFront distributions (`distributions:`) serving the stack's buckets
//! through origin access control.

use super::{Attribute, Kind};

pub const DISTRIBUTION: Kind = Kind {
    section: "distributions",
    noun: "distribution",
    logical_suffix: "Distribution",
    template: (
        "cloudfront_distribution",
        include_str!("../../templates/cloudfront_distribution.yaml"),
    ),
    part_templates: &[],
    emits: &[
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::ResponseHeadersPolicy",
    ],
    stateful: false,
    attributes: &[
        ("domain", Attribute::GetAtt("DomainName")),
        ("url", Attribute::Sub("https://${{id}.DomainName}")),
        ("id", Attribute::Ref),
    ],
    // CloudFront gives a distribution an id and a domain, never a name.
    physical_name: None,
    names: |def| def.distributions.keys().collect(),
};

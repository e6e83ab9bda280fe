//! S3 buckets (`buckets:`): always private, encrypted and TLS-only.

use super::{Attribute, Kind, NameRule, PhysicalName};

pub const BUCKET: Kind = Kind {
    section: "buckets",
    noun: "bucket",
    logical_suffix: "Bucket",
    template: ("s3_bucket", include_str!("../../templates/s3_bucket.yaml")),
    part_templates: &[],
    emits: &[
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::Lambda::Permission",
    ],
    stateful: true,
    // By name rather than `Ref`: a bucket notifying a function that reads
    // it, or CORS naming the distribution that serves it, forms no cycle.
    attributes: &[
        ("name", Attribute::Name),
        ("arn", Attribute::Sub("arn:${AWS::Partition}:s3:::{name}")),
        (
            "regional_domain",
            Attribute::Sub("{name}.s3.${AWS::Region}.${AWS::URLSuffix}"),
        ),
    ],
    physical_name: Some(BUCKET_NAME),
    names: |def| def.buckets.keys().collect(),
};

/// A bucket's name, on its own: S3 has naming rules beyond the registry's.
pub const BUCKET_NAME: PhysicalName = PhysicalName {
    field: Some("bucket_name"),
    default: "{stack}-{name}-{account}-{region}",
    given: |def, name| def.buckets.get(name)?.bucket_name.as_deref(),
    rule: NameRule {
        what: "bucket name",
        min: 3,
        max: 63,
        allowed: |ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ".-".contains(ch),
        allowed_text: "lowercase letters, digits, `.` and `-`",
        unique: true,
    },
};

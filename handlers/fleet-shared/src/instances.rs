//! EC2 instances as the console shows them, and EC2's errors as answers.

use crate::Code;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::primitives::{DateTime, DateTimeFormat};
use aws_sdk_ec2::types::{Instance, InstanceStatus, InstanceStatusSummary};
use handler_support::ApiError;
use serde_json::{json, Map, Value};

/// `i-` and 8 or 17 lower-case hex digits, as EC2 issues them.
pub fn instance_id(text: Option<&str>) -> Result<&str, ApiError> {
    let text = text.unwrap_or_default();
    let hex = text.strip_prefix("i-").unwrap_or_default();
    let well_formed = matches!(hex.len(), 8 | 17)
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if well_formed {
        Ok(text)
    } else {
        Err(ApiError::new(
            Code::ValidationError,
            format!("{text:?} is not an instance id (i- and 8 or 17 hex digits)"),
        ))
    }
}

/// The tag that marks an instance as managed by this console; the stack's
/// IAM (`instances_tagged`) lets its functions act on those instances only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedTag {
    pub key: String,
    pub value: String,
}

impl ManagedTag {
    /// From the `MANAGED_TAG` setting; an error that says what is wrong.
    pub fn from_environment() -> Result<ManagedTag, String> {
        let text = handler_support::config::required("MANAGED_TAG").map_err(|e| e.to_string())?;
        ManagedTag::parse(&text)
            .ok_or_else(|| format!("MANAGED_TAG is `{text}`: it must be key=value"))
    }

    /// From `key=value` (the `MANAGED_TAG` setting).
    pub fn parse(text: &str) -> Option<ManagedTag> {
        let (key, value) = text.split_once('=')?;
        (!key.is_empty()).then(|| ManagedTag {
            key: key.into(),
            value: value.into(),
        })
    }

    pub fn is_on(&self, instance: &Instance) -> bool {
        instance
            .tags()
            .iter()
            .any(|t| t.key() == Some(&self.key) && t.value() == Some(&self.value))
    }
}

/// One instance, by id: 404 when EC2 does not know it.
pub async fn describe(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Instance, ApiError> {
    let out = ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .map_err(|e| answer_for(&e.into_service_error(), id))?;
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .cloned()
        .ok_or_else(|| not_found(id))
}

/// Status checks of `ids` (at most 100 per call, as EC2 allows), stopped
/// instances included.
pub async fn statuses(
    ec2: &aws_sdk_ec2::Client,
    ids: &[String],
) -> Result<Vec<InstanceStatus>, ApiError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(100) {
        let mut token = None;
        loop {
            let page = ec2
                .describe_instance_status()
                .set_instance_ids(Some(chunk.to_vec()))
                .include_all_instances(true)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| answer_for(&e.into_service_error(), &chunk.join(",")))?;
            out.extend(page.instance_statuses().iter().cloned());
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

pub fn not_found(id: &str) -> ApiError {
    ApiError::new(Code::NotFound, format!("Instance {id} not found"))
}

/// EC2's refusal as the answer it means: unknown → 404, malformed → 400,
/// not allowed by the function's IAM → 403, throttled → 429; anything
/// else is ours (500, cause logged).
pub fn answer_for(error: &impl ProvideErrorMetadata, id: &str) -> ApiError {
    let code = error.code().unwrap_or_default();
    let message = error.message().unwrap_or_default();
    match code {
        "InvalidInstanceID.NotFound" => not_found(id),
        "InvalidInstanceID.Malformed" | "InvalidParameterValue" => ApiError::new(
            Code::ValidationError,
            format!("EC2 refused {id:?}: {message}"),
        ),
        "UnauthorizedOperation" => ApiError {
            cause: Some(format!("{code}: {message}")),
            ..ApiError::new(
                Code::InstanceNotManaged,
                format!("This console is not allowed to act on instance {id}: only instances it manages (tagged as managed) can be acted on"),
            )
        },
        "RequestLimitExceeded" | "Throttling" | "ThrottlingException" => ApiError {
            cause: Some(format!("{code}: {message}")),
            ..ApiError::new(Code::TooManyRequests, "EC2 is throttling requests; retry shortly")
        },
        _ => ApiError::internal(format!("EC2 {code}: {message}")),
    }
}

/// An instance as the API shows it; `status` adds its status checks.
pub fn to_json(
    instance: &Instance,
    status: Option<&InstanceStatus>,
    managed: &ManagedTag,
) -> Value {
    let tags: Map<String, Value> = instance
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), json!(t.value().unwrap_or_default()))))
        .collect();
    json!({
        "instanceId": instance.instance_id(),
        "name": tags.get("Name"),
        "instanceType": instance.instance_type().map(|t| t.as_str()),
        "state": instance.state().and_then(|s| s.name()).map(|n| n.as_str()),
        "availabilityZone": instance.placement().and_then(|p| p.availability_zone()),
        "privateIpAddress": instance.private_ip_address(),
        "publicIpAddress": instance.public_ip_address(),
        "privateDnsName": non_empty(instance.private_dns_name()),
        "publicDnsName": non_empty(instance.public_dns_name()),
        "launchTime": instance.launch_time().map(iso),
        "platform": instance.platform_details(),
        "vpcId": instance.vpc_id(),
        "subnetId": instance.subnet_id(),
        "managed": managed.is_on(instance),
        "tags": tags,
        "statusChecks": status.map(status_json),
    })
}

fn status_json(status: &InstanceStatus) -> Value {
    let summary = |s: Option<&InstanceStatusSummary>| {
        s.and_then(|s| s.status()).map(|v| v.as_str().to_string())
    };
    json!({
        "system": summary(status.system_status()),
        "instance": summary(status.instance_status()),
        "attachedEbs": status.attached_ebs_status().and_then(|s| s.status()).map(|v| v.as_str()),
    })
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.is_empty())
}

/// RFC 3339 (`2026-12-03T06:30:55Z`).
pub fn iso(time: &DateTime) -> String {
    time.fmt(DateTimeFormat::DateTime).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::Tag;

    #[test]
    fn instance_ids_are_checked() {
        for good in ["i-1d98229de2722eae7", "i-0123abcd"] {
            assert_eq!(instance_id(Some(good)).unwrap(), good);
        }
        for bad in [
            None,
            Some(""),
            Some("i-"),
            Some("i-XYZ12345"),
            Some("i-0123ABCD"),
            Some("bogus"),
            Some("i-0123456789"),
            Some("vol-0123abcd"),
        ] {
            let e = instance_id(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"), "{bad:?}");
        }
    }

    #[test]
    fn the_managed_tag_must_match_key_and_value() {
        let tag = ManagedTag::parse("fleet-console=managed").unwrap();
        let with = |k: &str, v: &str| {
            Instance::builder()
                .tags(Tag::builder().key(k).value(v).build())
                .build()
        };
        assert!(tag.is_on(&with("fleet-console", "managed")));
        assert!(!tag.is_on(&with("fleet-console", "retired")));
        assert!(!tag.is_on(&with("Name", "managed")));
        assert!(!tag.is_on(&Instance::builder().build()));
        assert_eq!(ManagedTag::parse("=x"), None);
        assert_eq!(ManagedTag::parse("no-equals"), None);
    }
}

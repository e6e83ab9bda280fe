//! Drift: what was changed in a stack's resources outside CloudFormation.
//!
//! [`detect_drift`] starts CloudFormation's drift detection, waits for it
//! (backing off, up to a deadline) and reads every result; [`last_drift`]
//! only reads what the latest detection found (for `diff`, which must stay
//! fast and never starts one). The SDK's shapes become plain structs here,
//! in functions without I/O; where a resource comes from in the stack file
//! is the caller's to say.

use super::error::{AwsError, ErrorKind};
use super::stacks::{StackState, Stacks};
pub use crate::diff::change_set::{ChangeDrift, PropertyDrift};
use aws_sdk_cloudformation::types as sdk;
use serde::Serialize;
use std::time::Duration;

/// A stack's latest drift check, as DescribeStacks' `DriftInformation` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftCheck {
    /// DRIFTED, IN_SYNC, NOT_CHECKED or UNKNOWN.
    pub status: String,
    /// When the latest detection ran (RFC 3339, UTC); `None` if never.
    pub checked_at: Option<String>,
}

/// One resource's drift, from a detection or a drift-aware change set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
    /// MODIFIED, DELETED, IN_SYNC, NOT_CHECKED, UNKNOWN or UNSUPPORTED.
    pub status: String,
    /// Why CloudFormation could not tell (`DriftStatusReason`), if it says.
    pub reason: Option<String>,
    pub properties: Vec<PropertyDrift>,
}

impl ResourceDrift {
    /// Changed or deleted outside CloudFormation.
    pub fn drifted(&self) -> bool {
        is_drifted_status(&self.status)
    }
}

fn is_drifted_status(status: &str) -> bool {
    matches!(status, "MODIFIED" | "DELETED")
}

/// Where a running detection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    InProgress,
    Complete,
    /// Failed for at least one resource; the others' results still stand.
    Failed,
}

/// One look at a drift detection (DescribeStackDriftDetectionStatus).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionStatus {
    pub phase: Phase,
    /// DRIFTED, IN_SYNC or UNKNOWN (`StackDriftStatus`), once known.
    pub stack_status: Option<String>,
    /// `DetectionStatusReason`.
    pub reason: Option<String>,
    pub checked_at: Option<String>,
}

/// A finished detection of one stack, with every resource it checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackDriftReport {
    pub stack: String,
    pub detection_id: String,
    /// DRIFTED, IN_SYNC or UNKNOWN.
    pub stack_status: String,
    /// Why the detection failed (DETECTION_FAILED); the results it did
    /// finish are still in `resources`.
    pub failure: Option<String>,
    pub checked_at: Option<String>,
    pub resources: Vec<ResourceDrift>,
    /// Resources of the stack the detection left out (DescribeStackResourceDrifts
    /// omits the types that do not support drift detection): logical ids.
    pub unsupported: Vec<String>,
}

impl StackDriftReport {
    /// The resources changed or deleted outside CloudFormation.
    pub fn drifted(&self) -> impl Iterator<Item = &ResourceDrift> {
        self.resources.iter().filter(|r| r.drifted())
    }

    /// How many resources have `status`.
    pub fn count(&self, status: &str) -> usize {
        self.resources.iter().filter(|r| r.status == status).count()
    }

    /// Whether anything drifted (by the resources found, so a failed
    /// detection's partial results count too).
    pub fn is_drifted(&self) -> bool {
        self.stack_status == "DRIFTED" || self.drifted().next().is_some()
    }
}

/// How a drift check of one stack ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DriftOutcome {
    /// No such stack (or only the empty shell of a first change set).
    Missing,
    Checked(StackDriftReport),
}

/// How often a detection is looked at, and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectionPacing {
    pub first: Duration,
    pub longest: Duration,
    /// After this, stackctl stops waiting (the detection carries on).
    pub deadline: Duration,
}

impl Default for DetectionPacing {
    /// A small stack is checked in seconds, a large one in minutes;
    /// DescribeStackDriftDetectionStatus is asked at most every 10 s then.
    fn default() -> Self {
        DetectionPacing {
            first: Duration::from_secs(1),
            longest: Duration::from_secs(10),
            deadline: Duration::from_secs(15 * 60),
        }
    }
}

/// Detects drift on every resource of `stack` that supports it: starts the
/// detection, waits for it, and reads every result.
pub async fn detect_drift<C: Stacks>(
    cfn: &C,
    stack: &str,
    pacing: DetectionPacing,
) -> Result<DriftOutcome, AwsError> {
    match cfn.describe(stack).await? {
        Some(state) if state.is_deployed() => {}
        _ => return Ok(DriftOutcome::Missing),
    }
    let detection_id = match cfn.start_drift_detection(stack).await {
        Ok(id) => id,
        // Deleted between the two calls.
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(DriftOutcome::Missing),
        Err(e) => return Err(e),
    };
    let status = wait_for_detection(cfn, stack, &detection_id, pacing).await?;
    let resources = cfn.resource_drifts(stack, false).await?;
    let checked: std::collections::BTreeSet<&str> =
        resources.iter().map(|r| r.logical_id.as_str()).collect();
    let unsupported = cfn
        .resources(stack)
        .await?
        .into_iter()
        .map(|r| r.logical_id)
        .filter(|id| !checked.contains(id.as_str()))
        .collect();
    Ok(DriftOutcome::Checked(StackDriftReport {
        stack: stack.to_string(),
        detection_id,
        stack_status: status.stack_status.unwrap_or_else(|| "UNKNOWN".into()),
        failure: (status.phase == Phase::Failed)
            .then(|| status.reason.unwrap_or_else(|| "no reason given".into())),
        checked_at: status.checked_at,
        resources,
        unsupported,
    }))
}

/// Looks at the detection until it ends, fast at first, then backing off.
async fn wait_for_detection<C: Stacks>(
    cfn: &C,
    stack: &str,
    detection_id: &str,
    pacing: DetectionPacing,
) -> Result<DetectionStatus, AwsError> {
    let deadline = tokio::time::Instant::now() + pacing.deadline;
    let mut delay = pacing.first;
    loop {
        let status = cfn.drift_detection(detection_id).await?;
        if status.phase != Phase::InProgress {
            return Ok(status);
        }
        if tokio::time::Instant::now() + delay > deadline {
            return Err(AwsError::new(
                ErrorKind::Timeout,
                format!("detect drift on {stack}"),
                format!(
                    "the detection was still running after {} s",
                    pacing.deadline.as_secs()
                ),
            )
            .with_hint(format!("CloudFormation carries on; read its results later with `aws cloudformation describe-stack-drift-detection-status --stack-drift-detection-id {detection_id}`")));
        }
        tokio::time::sleep(delay).await;
        delay = next_delay(delay, pacing.longest);
    }
}

fn next_delay(delay: Duration, longest: Duration) -> Duration {
    (delay * 2).min(longest)
}

/// What a diff knows about a stack's drift without detecting it: the
/// latest detection's findings, or where they came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct KnownDrift {
    /// Where the drift statuses come from.
    pub source: DriftSource,
    /// The stack's latest check; `None` when CloudFormation said nothing
    /// (an emulator) or the stack is new.
    pub check: Option<DriftCheck>,
    /// The resources found drifted (for a drift-aware change set: every
    /// resource it gave a drift status).
    pub resources: Vec<ResourceDrift>,
    /// The drift results could not be read (the diff itself stands).
    pub unreadable: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftSource {
    /// The latest drift detection (`stackctl drift`, or the console's).
    #[default]
    LastDetection,
    /// The drift-aware change set of this deploy (`--revert-drift`).
    ChangeSet,
}

impl KnownDrift {
    /// The drift of resource `logical_id`, when it drifted.
    pub fn of(&self, logical_id: &str) -> Option<&ResourceDrift> {
        self.resources
            .iter()
            .find(|r| r.logical_id == logical_id && r.drifted())
    }

    /// The drift statuses a drift-aware change set reported, by resource.
    pub fn from_change_set(changes: &[super::stacks::CfnChange]) -> KnownDrift {
        let resources = changes
            .iter()
            .filter_map(|c| {
                let d = c.drift.as_ref()?;
                Some(ResourceDrift {
                    logical_id: c.logical_id.clone(),
                    physical_id: d.physical_id.clone().unwrap_or_default(),
                    resource_type: c.resource_type.clone(),
                    status: d.status.clone(),
                    reason: None,
                    properties: d.properties.clone(),
                })
            })
            .collect();
        KnownDrift {
            source: DriftSource::ChangeSet,
            resources,
            ..KnownDrift::default()
        }
    }
}

/// The latest detection's findings for a deployed stack, read without
/// starting one: nothing more is asked unless DescribeStacks said DRIFTED.
/// A failure to read is kept, never fatal.
pub async fn last_drift<C: Stacks>(cfn: &C, stack: &str, state: &StackState) -> KnownDrift {
    let mut known = KnownDrift {
        check: state.drift.clone(),
        ..KnownDrift::default()
    };
    if known.check.as_ref().is_some_and(|c| c.status == "DRIFTED") {
        match cfn.resource_drifts(stack, true).await {
            Ok(found) => known.resources = found,
            Err(e) => known.unreadable = Some(e.to_string()),
        }
    }
    known
}

// The SDK's shapes as plain structs.

fn when(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// `/Properties/Tags/0/Value` (or `Tags/0/Value`) as `Tags.0.Value`.
pub fn property_path(path: &str) -> String {
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("Properties/").unwrap_or(path);
    path.split('/')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// A stack's `DriftInformation`.
pub fn drift_check(info: &sdk::StackDriftInformation) -> DriftCheck {
    DriftCheck {
        status: info
            .stack_drift_status()
            .map_or("UNKNOWN", |s| s.as_str())
            .to_string(),
        checked_at: when(info.last_check_timestamp()),
    }
}

/// One `StackResourceDrift`.
pub fn resource_drift(r: &sdk::StackResourceDrift) -> ResourceDrift {
    ResourceDrift {
        logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
        physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
        resource_type: r.resource_type().unwrap_or_default().to_string(),
        status: r
            .stack_resource_drift_status()
            .map_or("UNKNOWN", |s| s.as_str())
            .to_string(),
        reason: r.drift_status_reason().map(String::from),
        properties: r
            .property_differences()
            .iter()
            .map(|p| PropertyDrift {
                path: property_path(p.property_path().unwrap_or_default()),
                expected: p.expected_value().map(String::from),
                actual: p.actual_value().map(String::from),
                difference: p
                    .difference_type()
                    .map_or("NOT_EQUAL", |d| d.as_str())
                    .to_string(),
            })
            .collect(),
    }
}

/// A `DescribeStackDriftDetectionStatus` answer.
pub fn detection_status(
    phase: Option<&sdk::StackDriftDetectionStatus>,
    stack_status: Option<&sdk::StackDriftStatus>,
    reason: Option<&str>,
    timestamp: Option<&aws_smithy_types::DateTime>,
) -> DetectionStatus {
    DetectionStatus {
        phase: match phase {
            Some(sdk::StackDriftDetectionStatus::DetectionComplete) => Phase::Complete,
            Some(sdk::StackDriftDetectionStatus::DetectionFailed) => Phase::Failed,
            _ => Phase::InProgress,
        },
        stack_status: stack_status.map(|s| s.as_str().to_string()),
        reason: reason.filter(|r| !r.is_empty()).map(String::from),
        checked_at: when(timestamp),
    }
}

/// The drift a drift-aware change set reports for one resource: its
/// status, and each drifted property with the live value and the one the
/// deploy puts back. `None` for an ordinary change set.
pub fn change_drift(c: &sdk::ResourceChange) -> Option<ChangeDrift> {
    let status = c.resource_drift_status()?.as_str().to_string();
    let properties = c
        .details()
        .iter()
        .filter_map(|d| d.target())
        .filter_map(|t| {
            let live = t.drift()?;
            let path = t
                .path()
                .map(property_path)
                .or_else(|| t.name().map(String::from))
                .unwrap_or_default();
            Some(PropertyDrift {
                path,
                // The template's value is what the deploy sets; without
                // one, the previous deployment's.
                expected: t.after_value().or(live.previous_value()).map(String::from),
                actual: live.actual_value().map(String::from),
                difference: t
                    .attribute_change_type()
                    .map_or("Modify", |a| a.as_str())
                    .to_string(),
            })
        })
        .collect();
    Some(ChangeDrift {
        status,
        physical_id: c.physical_resource_id().map(String::from),
        properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::DateTime;

    #[test]
    fn property_paths_read_as_the_template_diff_names_them() {
        assert_eq!(property_path("/Properties/Tags/0/Value"), "Tags.0.Value");
        assert_eq!(property_path("/MemorySize"), "MemorySize");
        assert_eq!(property_path("Timeout"), "Timeout");
    }

    #[test]
    fn a_resource_drift_keeps_every_difference_and_its_kind() {
        let r = sdk::StackResourceDrift::builder()
            .logical_resource_id("ApiFunction")
            .physical_resource_id("shop-prod-api")
            .resource_type("AWS::Lambda::Function")
            .stack_resource_drift_status(sdk::StackResourceDriftStatus::Modified)
            .property_differences(
                sdk::PropertyDifference::builder()
                    .property_path("/Timeout")
                    .expected_value("10")
                    .actual_value("30")
                    .difference_type(sdk::DifferenceType::NotEqual)
                    .build(),
            )
            .property_differences(
                sdk::PropertyDifference::builder()
                    .property_path("/Tags/1")
                    .actual_value("{\"Key\":\"owner\",\"Value\":\"ops\"}")
                    .difference_type(sdk::DifferenceType::Add)
                    .build(),
            )
            .timestamp(DateTime::from_secs(0))
            .build();
        let drift = resource_drift(&r);
        assert!(drift.drifted());
        assert_eq!(drift.status, "MODIFIED");
        assert_eq!(
            drift.properties,
            vec![
                PropertyDrift {
                    path: "Timeout".into(),
                    expected: Some("10".into()),
                    actual: Some("30".into()),
                    difference: "NOT_EQUAL".into(),
                },
                PropertyDrift {
                    path: "Tags.1".into(),
                    expected: None,
                    actual: Some("{\"Key\":\"owner\",\"Value\":\"ops\"}".into()),
                    difference: "ADD".into(),
                },
            ]
        );
        let unchecked = sdk::StackResourceDrift::builder()
            .logical_resource_id("Api")
            .stack_resource_drift_status(sdk::StackResourceDriftStatus::NotChecked)
            .build();
        assert!(!resource_drift(&unchecked).drifted());
    }

    #[test]
    fn detection_status_tells_running_from_finished_and_keeps_the_reason() {
        use sdk::{StackDriftDetectionStatus as D, StackDriftStatus as S};
        let running = detection_status(Some(&D::DetectionInProgress), None, None, None);
        assert_eq!(running.phase, Phase::InProgress);
        let failed = detection_status(
            Some(&D::DetectionFailed),
            Some(&S::Drifted),
            Some("Failed to detect drift on resource [Queue]"),
            Some(&DateTime::from_secs(1_764_763_200)),
        );
        assert_eq!(failed.phase, Phase::Failed);
        assert_eq!(failed.stack_status.as_deref(), Some("DRIFTED"));
        assert_eq!(
            failed.reason.as_deref(),
            Some("Failed to detect drift on resource [Queue]")
        );
        assert_eq!(failed.checked_at.as_deref(), Some("2025-12-03T12:00:00Z"));
        let check = drift_check(
            &sdk::StackDriftInformation::builder()
                .stack_drift_status(S::NotChecked)
                .build(),
        );
        assert_eq!(
            check,
            DriftCheck {
                status: "NOT_CHECKED".into(),
                checked_at: None
            }
        );
    }

    #[test]
    fn a_drift_aware_change_names_what_it_puts_back() {
        use sdk::{
            ChangeAction, LiveResourceDrift, ResourceChange, ResourceChangeDetail,
            ResourceTargetDefinition, StackResourceDriftStatus,
        };
        let change = ResourceChange::builder()
            .action(ChangeAction::Modify)
            .logical_resource_id("ApiFunction")
            .physical_resource_id("shop-prod-api")
            .resource_type("AWS::Lambda::Function")
            .resource_drift_status(StackResourceDriftStatus::Modified)
            .details(
                ResourceChangeDetail::builder()
                    .target(
                        ResourceTargetDefinition::builder()
                            .name("Timeout")
                            .path("/Properties/Timeout")
                            .before_value("30")
                            .after_value("10")
                            .drift(
                                LiveResourceDrift::builder()
                                    .previous_value("10")
                                    .actual_value("30")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build();
        let drift = change_drift(&change).expect("drift-aware");
        assert_eq!(drift.status, "MODIFIED");
        assert_eq!(drift.physical_id.as_deref(), Some("shop-prod-api"));
        assert_eq!(drift.properties[0].path, "Timeout");
        assert_eq!(drift.properties[0].expected.as_deref(), Some("10"));
        assert_eq!(drift.properties[0].actual.as_deref(), Some("30"));
        let ordinary = ResourceChange::builder()
            .logical_resource_id("ApiFunction")
            .build();
        assert!(change_drift(&ordinary).is_none());
    }

    #[test]
    fn waits_grow_to_the_longest_and_stay_there() {
        let longest = Duration::from_secs(10);
        assert_eq!(
            next_delay(Duration::from_secs(1), longest),
            Duration::from_secs(2)
        );
        assert_eq!(next_delay(Duration::from_secs(8), longest), longest);
        assert_eq!(next_delay(longest, longest), longest);
    }
}

//! CloudFormation's pre-deployment validation of a change set (since late
//! 2025): property syntax, resource name conflicts, and warnings such as a
//! non-empty bucket about to be deleted. The adapter reads the results from
//! DescribeEvents into [`ValidationFinding`]s; what is a finding, how bad it
//! is and how it reads are decided here, on plain data.

use serde::Serialize;

/// What happens to the change set when a validation fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// The change set fails and cannot be executed.
    Fail,
    /// The change set is created; the finding is for a person to review.
    Warn,
}

/// The outcome of one validation, as `ValidationStatus` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Failed,
    Skipped,
    /// A value this version of stackctl does not know, kept as sent.
    Other(String),
}

/// One validation result of a change set, as DescribeEvents reports it.
/// Logical id and property path are separate, so either can be mapped back
/// to the stack file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationFinding {
    /// `ValidationName`, e.g. `AWS::EarlyValidation::ResourceExistenceCheck`.
    pub name: String,
    /// `ValidationStatus`; `None` when the event did not carry one.
    pub status: Option<Status>,
    /// `ValidationFailureMode`; `None` when the event did not carry one.
    pub mode: Option<Severity>,
    /// `LogicalResourceId`, or the resource named by the path.
    pub logical_id: Option<String>,
    pub resource_type: Option<String>,
    pub physical_id: Option<String>,
    /// `ValidationPath` as sent, e.g. `/Resources/Bucket/Properties/BucketName`.
    pub path: Option<String>,
    /// `ValidationStatusReason`.
    pub reason: String,
    /// Where in the stack file the resource (or the offending value) comes
    /// from, as `file:line:col`; set by the caller that knows the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

impl ValidationFinding {
    /// Whether this is a problem to show: a failed validation (a skipped one
    /// says only that a check did not run).
    pub fn is_problem(&self) -> bool {
        matches!(self.status, Some(Status::Failed) | None)
    }

    /// FAIL or WARN; without a mode, a failed change set's findings are
    /// what failed it and a created change set's can only be warnings.
    pub fn severity(&self, change_set_failed: bool) -> Severity {
        self.mode.unwrap_or(if change_set_failed {
            Severity::Fail
        } else {
            Severity::Warn
        })
    }

    /// The resource the finding is about: the event's logical id, else the
    /// one its path names.
    pub fn resource(&self) -> Option<&str> {
        self.logical_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .or_else(|| {
                let mut parts = path_parts(self.path.as_deref()?);
                (parts.next()? == "Resources").then_some(())?;
                parts.next()
            })
    }

    /// The dotted property path inside the resource's `Properties`
    /// (`Tags.0.Key`), as the template diff names properties.
    pub fn property_path(&self) -> Option<String> {
        let parts: Vec<&str> = path_parts(self.path.as_deref()?).collect();
        match parts.as_slice() {
            ["Resources", _, "Properties", rest @ ..] if !rest.is_empty() => Some(rest.join(".")),
            _ => None,
        }
    }
}

/// `/Resources/A/Properties/B` and `Resources/A/Properties/B` alike.
fn path_parts(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|p| !p.is_empty())
}

/// The findings worth showing, failures first, each once (pages of events
/// can repeat a result), in a stable order.
pub fn problems(findings: &[ValidationFinding], change_set_failed: bool) -> Vec<ValidationFinding> {
    let mut shown: Vec<ValidationFinding> = Vec::new();
    for f in findings.iter().filter(|f| f.is_problem()) {
        if !shown.iter().any(|s| {
            s.name == f.name
                && s.resource() == f.resource()
                && s.path == f.path
                && s.reason == f.reason
        }) {
            shown.push(f.clone());
        }
    }
    shown.sort_by(|a, b| {
        (a.severity(change_set_failed), a.resource())
            .cmp(&(b.severity(change_set_failed), b.resource()))
    });
    shown
}

/// One line for a person: `FAIL OrdersBucket (AWS::S3::Bucket) BucketName:
/// reason [validation]`.
pub fn describe(f: &ValidationFinding, change_set_failed: bool) -> String {
    let severity = match f.severity(change_set_failed) {
        Severity::Fail => "FAIL",
        Severity::Warn => "WARN",
    };
    let resource = match (f.resource(), f.resource_type.as_deref()) {
        (Some(id), Some(ty)) => format!(" {id} ({ty})"),
        (Some(id), None) => format!(" {id}"),
        (None, _) => String::new(),
    };
    let place = f
        .property_path()
        .map(|p| format!(" {p}:"))
        .unwrap_or_else(|| {
            if resource.is_empty() {
                String::new()
            } else {
                ":".into()
            }
        });
    let name = if f.name.is_empty() {
        String::new()
    } else {
        format!(" [{}]", f.name)
    };
    let at = f
        .place
        .as_deref()
        .map(|p| format!(" (from {p})"))
        .unwrap_or_default();
    format!("{severity}{resource}{place} {}{name}{at}", f.reason.trim())
}

/// What CloudFormation said about a change set: its status reason, the
/// validation results behind it, or why those could not be read (no
/// permission for DescribeEvents, an endpoint without it).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Validation {
    /// The change set this is about (name or ARN), to read it again by hand.
    pub change_set: String,
    /// Whether the change set failed (FAIL findings) or was created (WARN).
    pub failed: bool,
    /// The change set's status reason, as sent.
    pub reason: Option<String>,
    pub findings: Vec<ValidationFinding>,
    /// Why the results could not be read; `None` when they were.
    pub unread: Option<String>,
}

impl Validation {
    pub fn new(
        change_set: &str,
        failed: bool,
        reason: Option<String>,
        results: Result<Vec<ValidationFinding>, super::error::AwsError>,
    ) -> Validation {
        let (findings, unread) = match results {
            Ok(all) => (problems(&all, failed), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        Validation {
            change_set: change_set.to_string(),
            failed,
            reason,
            findings,
            unread,
        }
    }

    /// Points each finding at the stack-file place of its resource (and
    /// property, when the stack file wrote the value): `place(logical id,
    /// dotted property path)` answers `file:line:col`.
    pub fn locate(&mut self, place: impl Fn(&str, Option<&str>) -> Option<String>) {
        for f in &mut self.findings {
            let property = f.property_path();
            f.place = f.resource().and_then(|id| place(id, property.as_deref()));
        }
    }

    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.unread.is_none() && self.reason.is_none()
    }

    /// Lines for a person. The findings are the cause when there are any
    /// (the status reason then only says to look them up); otherwise the
    /// status reason is all CloudFormation said. Results that could not be
    /// read come with the command that reads them.
    pub fn lines(&self, stack: &str) -> Vec<String> {
        let mut lines: Vec<String> = self
            .findings
            .iter()
            .map(|f| describe(f, self.failed))
            .collect();
        if lines.is_empty() {
            lines.extend(self.reason.iter().map(|r| r.trim().to_string()));
        }
        if let Some(why) = &self.unread {
            lines.push(format!("could not read CloudFormation's validation results ({why}); read them with `aws cloudformation describe-events --stack-name {stack} --change-set-name {}`", self.change_set));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(
        mode: Option<Severity>,
        status: Option<Status>,
        logical: Option<&str>,
        path: Option<&str>,
        reason: &str,
    ) -> ValidationFinding {
        ValidationFinding {
            name: "AWS::EarlyValidation::PropertyValidation".into(),
            status,
            mode,
            logical_id: logical.map(String::from),
            resource_type: Some("AWS::S3::Bucket".into()),
            physical_id: None,
            path: path.map(String::from),
            reason: reason.into(),
            place: None,
        }
    }

    #[test]
    fn paths_name_the_resource_and_the_property() {
        let f = finding(
            None,
            None,
            None,
            Some("/Resources/OrdersBucket/Properties/Tags/0/Key"),
            "too long",
        );
        assert_eq!(f.resource(), Some("OrdersBucket"));
        assert_eq!(f.property_path().as_deref(), Some("Tags.0.Key"));
        let whole = finding(
            None,
            None,
            Some("Other"),
            Some("Resources/OrdersBucket"),
            "exists",
        );
        assert_eq!(
            whole.resource(),
            Some("Other"),
            "the event's logical id wins"
        );
        assert_eq!(whole.property_path(), None);
        assert_eq!(
            finding(None, None, None, Some("/Outputs/Url"), "x").resource(),
            None
        );
    }

    #[test]
    fn severity_comes_from_the_mode_or_from_what_happened_to_the_change_set() {
        assert_eq!(
            finding(Some(Severity::Warn), None, None, None, "").severity(true),
            Severity::Warn
        );
        assert_eq!(
            finding(None, None, None, None, "").severity(true),
            Severity::Fail
        );
        assert_eq!(
            finding(None, None, None, None, "").severity(false),
            Severity::Warn
        );
    }

    #[test]
    fn problems_drop_skipped_checks_and_repeats_and_put_failures_first() {
        let warn = finding(
            Some(Severity::Warn),
            Some(Status::Failed),
            Some("A"),
            None,
            "bucket not empty",
        );
        let fail = finding(
            Some(Severity::Fail),
            Some(Status::Failed),
            Some("B"),
            Some("/Resources/B/Properties/BucketName"),
            "exists",
        );
        let skipped = finding(
            Some(Severity::Fail),
            Some(Status::Skipped),
            Some("C"),
            None,
            "not checked",
        );
        let shown = problems(&[warn.clone(), skipped, fail.clone(), fail.clone()], false);
        assert_eq!(shown, vec![fail, warn]);
    }

    #[test]
    fn a_finding_reads_as_severity_resource_property_reason_and_check() {
        let f = finding(
            Some(Severity::Fail),
            Some(Status::Failed),
            Some("OrdersBucket"),
            Some("/Resources/OrdersBucket/Properties/BucketName"),
            "shop-orders already exists ",
        );
        assert_eq!(describe(&f, true), "FAIL OrdersBucket (AWS::S3::Bucket) BucketName: shop-orders already exists [AWS::EarlyValidation::PropertyValidation]");
        let bare = ValidationFinding {
            name: String::new(),
            resource_type: None,
            ..finding(None, None, None, None, "quota reached")
        };
        assert_eq!(describe(&bare, false), "WARN quota reached");
    }

    #[test]
    fn located_findings_name_their_stack_file_place() {
        let mut v = Validation::new(
            "c",
            true,
            None,
            Ok(vec![finding(
                Some(Severity::Fail),
                Some(Status::Failed),
                None,
                Some("/Resources/OrdersBucket/Properties/BucketName"),
                "exists",
            )]),
        );
        v.locate(|id, property| {
            (id == "OrdersBucket" && property == Some("BucketName"))
                .then(|| "stacks/shop.yaml:9:18".to_string())
        });
        assert_eq!(v.lines("shop-prod"), vec!["FAIL OrdersBucket (AWS::S3::Bucket) BucketName: exists [AWS::EarlyValidation::PropertyValidation] (from stacks/shop.yaml:9:18)"]);
    }

    #[test]
    fn findings_replace_the_status_reason_and_unreadable_results_say_how_to_read_them() {
        let reason = Some("The following hook(s)/validation failed: [AWS::EarlyValidation::ResourceExistenceCheck].".to_string());
        let fail = finding(
            Some(Severity::Fail),
            Some(Status::Failed),
            Some("B"),
            None,
            "exists",
        );
        let v = Validation::new("stackctl-1", true, reason.clone(), Ok(vec![fail]));
        assert_eq!(
            v.lines("shop-prod"),
            ["FAIL B (AWS::S3::Bucket): exists [AWS::EarlyValidation::PropertyValidation]"]
        );
        let v = Validation::new(
            "stackctl-1",
            true,
            reason,
            Err(crate::engine::error::AwsError::new(
                crate::engine::error::ErrorKind::AccessDenied,
                "read the validation results",
                "AccessDenied: not allowed",
            )),
        );
        let lines = v.lines("shop-prod");
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("The following hook(s)/validation failed"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("AccessDenied")
                && lines[1].contains(
                    "describe-events --stack-name shop-prod --change-set-name stackctl-1"
                ),
            "{}",
            lines[1]
        );
        assert!(Validation::new("c", false, None, Ok(vec![])).is_empty());
    }
}

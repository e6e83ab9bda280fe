//! CloudFormation's change set merged into the template diff: its
//! replacement verdict wins (it knows each service's rules), and changes
//! only it reports are added. The engine turns the SDK's answer into
//! [`CfnChange`]s; merging them is pure and lives here.

use super::{Action, PropertyChange, Replacement, ResourceChange};
use serde::Serialize;
use serde_json::Value;

/// One change as CloudFormation's change set reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct CfnChange {
    pub logical_id: String,
    pub resource_type: String,
    pub action: Action,
    pub replacement: Option<Replacement>,
    /// Attributes whose change causes it, with whether each recreates.
    pub causes: Vec<(String, Option<String>)>,
    /// How the resource drifted, as a drift-aware change set (deployment
    /// mode REVERT_DRIFT) reports it; `None` for an ordinary change set.
    pub drift: Option<ChangeDrift>,
}

/// A resource's drift as a drift-aware change set sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeDrift {
    /// `ResourceDriftStatus`: IN_SYNC, MODIFIED, DELETED, UNKNOWN, UNSUPPORTED…
    pub status: String,
    pub physical_id: Option<String>,
    /// The drifted properties and the values the deploy puts back.
    pub properties: Vec<PropertyDrift>,
}

/// One property that differs from what CloudFormation expects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyDrift {
    /// Dotted path inside `Properties` (`Tags.0.Value`), as the template
    /// diff names properties.
    pub path: String,
    /// What the template says (a drift-aware change set: the value the
    /// deploy sets), as CloudFormation sent it (JSON text, or plain text).
    pub expected: Option<String>,
    /// The live value.
    pub actual: Option<String>,
    /// ADD, REMOVE or NOT_EQUAL (drift detection); Add, Remove, Modify or
    /// SyncWithActual (a drift-aware change set).
    pub difference: String,
}

impl PropertyDrift {
    /// A value as the template diff holds values: JSON when it reads as
    /// JSON, else the text itself.
    fn value(text: Option<&String>) -> Option<Value> {
        text.map(|t| serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.clone())))
    }
}

/// The local diff, corrected by what CloudFormation's change set says:
/// its replacement verdict wins (it knows the service's rules), and changes
/// only it reports (a resource it must touch for a reason the template
/// does not show) are added.
pub fn merge_change_set(mut local: Vec<ResourceChange>, cfn: &[CfnChange]) -> Vec<ResourceChange> {
    for c in cfn {
        match local.iter_mut().find(|l| l.logical_id == c.logical_id) {
            Some(l) => {
                if let Some(r) = c.replacement {
                    if l.action == Action::Modify {
                        l.replacement = Some(r);
                    }
                }
                // CloudFormation's property details say which changes recreate.
                for (name, recreation) in &c.causes {
                    let verdict = match recreation.as_deref() {
                        Some("Always") => Replacement::True,
                        Some("Conditionally") => Replacement::Conditional,
                        _ => continue,
                    };
                    let mut matched = false;
                    for p in l
                        .properties
                        .iter_mut()
                        .filter(|p| p.path == *name || p.path.starts_with(&format!("{name}.")))
                    {
                        p.replacement = p.replacement.max(verdict);
                        matched = true;
                    }
                    if !matched {
                        l.properties.push(PropertyChange {
                            path: name.clone(),
                            before: None,
                            after: None,
                            replacement: verdict,
                        });
                    }
                }
            }
            // A modification the template does not show, reported with no
            // detail and no verdict, says nothing (the emulator does this).
            None if c.action == Action::Modify
                && c.causes.is_empty()
                && c.replacement.is_none() => {}
            None => local.push(ResourceChange {
                logical_id: c.logical_id.clone(),
                resource_type: c.resource_type.clone(),
                action: c.action,
                replacement: c.replacement,
                properties: only_in_change_set(c),
            }),
        }
    }
    local.sort_by(|a, b| (a.action, &a.logical_id).cmp(&(b.action, &b.logical_id)));
    local
}

/// The properties of a change only CloudFormation reports. A drifted
/// resource that a drift-aware change set puts back has no template change:
/// its values are the live one (before) and the template's (after).
fn only_in_change_set(c: &CfnChange) -> Vec<PropertyChange> {
    let drifted = |name: &str| {
        c.drift.iter().flat_map(|d| &d.properties).find(|p| {
            p.path == name
                || p.path.starts_with(&format!("{name}."))
                || p.path.starts_with(&format!("{name}["))
        })
    };
    c.causes
        .iter()
        .map(|(name, recreation)| {
            let drift = drifted(name);
            PropertyChange {
                path: drift.map_or_else(|| name.clone(), |p| p.path.clone()),
                before: drift.and_then(|p| PropertyDrift::value(p.actual.as_ref())),
                after: drift.and_then(|p| PropertyDrift::value(p.expected.as_ref())),
                replacement: match recreation.as_deref() {
                    Some("Always") => Replacement::True,
                    Some("Conditionally") => Replacement::Conditional,
                    _ => Replacement::False,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drifted_resource_only_the_change_set_touches_shows_live_and_template_values() {
        let put_back = CfnChange {
            logical_id: "ApiFunction".into(),
            resource_type: "AWS::Lambda::Function".into(),
            action: Action::Modify,
            replacement: Some(Replacement::False),
            causes: vec![("Environment".into(), Some("Never".into()))],
            drift: Some(ChangeDrift {
                status: "MODIFIED".into(),
                physical_id: Some("shop-prod-api".into()),
                properties: vec![PropertyDrift {
                    path: "Environment.Variables.LOG_LEVEL".into(),
                    expected: Some("info".into()),
                    actual: Some("debug".into()),
                    difference: "Modify".into(),
                }],
            }),
        };
        let merged = merge_change_set(vec![], &[put_back]);
        let p = &merged[0].properties[0];
        assert_eq!(p.path, "Environment.Variables.LOG_LEVEL");
        assert_eq!(
            (p.before.clone(), p.after.clone()),
            (Some(Value::from("debug")), Some(Value::from("info"))),
            "plain text stays text; the live value before, the template's after"
        );
    }

    #[test]
    fn the_change_set_decides_replacement_and_adds_what_only_it_saw() {
        let local = vec![ResourceChange {
            logical_id: "T".into(),
            resource_type: "AWS::DynamoDB::Table".into(),
            action: Action::Modify,
            replacement: Some(Replacement::False),
            properties: vec![PropertyChange {
                path: "X".into(),
                before: None,
                after: None,
                replacement: Replacement::False,
            }],
        }];
        let cfn = vec![
            CfnChange {
                logical_id: "T".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                action: Action::Modify,
                replacement: Some(Replacement::Conditional),
                causes: vec![],
                drift: None,
            },
            CfnChange {
                logical_id: "F".into(),
                resource_type: "AWS::Lambda::Function".into(),
                action: Action::Modify,
                replacement: Some(Replacement::False),
                causes: vec![("Code".into(), Some("Never".into()))],
                drift: None,
            },
        ];
        let merged = merge_change_set(local, &cfn);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged
                .iter()
                .find(|c| c.logical_id == "T")
                .unwrap()
                .replacement,
            Some(Replacement::Conditional)
        );
        assert_eq!(
            merged
                .iter()
                .find(|c| c.logical_id == "F")
                .unwrap()
                .properties[0]
                .path,
            "Code"
        );
        // A recreation only CloudFormation knows about names its property.
        let local = vec![ResourceChange {
            logical_id: "T".into(),
            resource_type: "AWS::DynamoDB::Table".into(),
            action: Action::Modify,
            replacement: Some(Replacement::False),
            properties: vec![PropertyChange {
                path: "SSESpecification.KMSMasterKeyId".into(),
                before: None,
                after: None,
                replacement: Replacement::False,
            }],
        }];
        let cfn = vec![CfnChange {
            logical_id: "T".into(),
            resource_type: "AWS::DynamoDB::Table".into(),
            action: Action::Modify,
            replacement: Some(Replacement::Conditional),
            causes: vec![("SSESpecification".into(), Some("Conditionally".into()))],
            drift: None,
        }];
        let merged = merge_change_set(local, &cfn);
        assert_eq!(
            merged[0].properties[0].replacement,
            Replacement::Conditional
        );
        let refused = crate::diff::guard::data_loss(&merged, &[]);
        assert_eq!(
            refused[0].reason,
            "possibly replaced (Conditional) because SSESpecification.KMSMasterKeyId changes"
        );
        let silent = vec![CfnChange {
            logical_id: "G".into(),
            resource_type: "AWS::SNS::Topic".into(),
            action: Action::Modify,
            replacement: None,
            causes: vec![],
            drift: None,
        }];
        assert!(
            merge_change_set(vec![], &silent).is_empty(),
            "a detail-less modify adds nothing"
        );
    }
}

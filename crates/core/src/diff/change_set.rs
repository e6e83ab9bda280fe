//! CloudFormation's change set merged into the template diff: its
//! replacement verdict wins (it knows each service's rules), and changes
//! only it reports are added. The engine turns the SDK's answer into
//! [`CfnChange`]s; merging them is pure and lives here.

use super::{Action, PropertyChange, Replacement, ResourceChange};

/// One change as CloudFormation's change set reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct CfnChange {
    pub logical_id: String,
    pub resource_type: String,
    pub action: Action,
    pub replacement: Option<Replacement>,
    /// Attributes whose change causes it, with whether each recreates.
    pub causes: Vec<(String, Option<String>)>,
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
                properties: c
                    .causes
                    .iter()
                    .map(|(name, recreation)| PropertyChange {
                        path: name.clone(),
                        before: None,
                        after: None,
                        replacement: match recreation.as_deref() {
                            Some("Always") => Replacement::True,
                            Some("Conditionally") => Replacement::Conditional,
                            _ => Replacement::False,
                        },
                    })
                    .collect(),
            }),
        }
    }
    local.sort_by(|a, b| (a.action, &a.logical_id).cmp(&(b.action, &b.logical_id)));
    local
}

#[cfg(test)]
mod tests {
    use super::*;

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
            },
            CfnChange {
                logical_id: "F".into(),
                resource_type: "AWS::Lambda::Function".into(),
                action: Action::Modify,
                replacement: Some(Replacement::False),
                causes: vec![("Code".into(), Some("Never".into()))],
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
        }];
        assert!(
            merge_change_set(vec![], &silent).is_empty(),
            "a detail-less modify adds nothing"
        );
    }
}

//! Rollback triggers at deploy time: the stack file's choice of alarms
//! ([`crate::rollback`]) turned into the ARNs CloudFormation watches, and a
//! rollback they caused recognised in the stack's events.
//!
//! A trigger must name an alarm that exists when the update starts, or
//! CloudFormation fails the whole update. So only alarms the deployed stack
//! already holds guard it: a first deploy has none, and an alarm the update
//! adds guards the next one. Their ARNs come from the deployed stack (the
//! physical id of an alarm is its name; partition, region and account are
//! the stack's own). Pure: the caller lists the deployed resources.

use super::stacks::{RollbackSettings, StackEvent, StackResource};
use crate::rollback::RollbackGuard;

/// An alarm that guards an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// Its name in the stack file.
    pub name: String,
    /// Its name in CloudWatch.
    pub alarm_name: String,
    pub arn: String,
}

/// What guards one update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Guarding {
    pub triggers: Vec<Trigger>,
    pub monitoring_minutes: u32,
    /// Chosen alarms the stack does not hold yet: they guard the next update.
    pub not_yet_deployed: Vec<String>,
    /// Why nothing guards updates of this stack by its settings.
    pub off: Option<String>,
}

impl Guarding {
    /// The configuration an update's change set carries. Always sent, an
    /// empty list too: CloudFormation otherwise keeps the triggers of the
    /// stack's last update, which may name an alarm since deleted.
    pub fn settings(&self) -> RollbackSettings {
        RollbackSettings {
            alarm_arns: self.triggers.iter().map(|t| t.arn.clone()).collect(),
            monitoring_minutes: if self.triggers.is_empty() {
                0
            } else {
                self.monitoring_minutes
            },
        }
    }

    /// What to tell the person before the update runs; `None` when the
    /// stack has no say in rollback triggers (the account settings).
    pub fn describe(&self) -> Option<String> {
        if let Some(why) = &self.off {
            return Some(format!("no rollback triggers: {why}"));
        }
        let waiting = match self.not_yet_deployed.as_slice() {
            [] => String::new(),
            [one] => format!("; alarm {one} is not deployed yet and guards the next update"),
            many => format!(
                "; alarms {} are not deployed yet and guard the next update",
                many.join(", ")
            ),
        };
        if self.triggers.is_empty() {
            return (!waiting.is_empty())
                .then(|| format!("no rollback triggers{}", waiting.replacen(';', ":", 1)));
        }
        let names: Vec<&str> = self.triggers.iter().map(|t| t.name.as_str()).collect();
        let minutes = self.monitoring_minutes;
        let window = match minutes {
            0 => "during it".to_string(),
            1 => "during it or in the minute after (deploy waits for it)".to_string(),
            m => format!("during it or in the {m} minutes after (deploy waits for them)"),
        };
        Some(format!(
            "rollback triggers: alarm{} {} guard{} this update; CloudFormation rolls it back if one goes into ALARM {window}{waiting}",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            if names.len() == 1 { "s" } else { "" },
        ))
    }
}

/// What a first deploy says: no alarm exists before it.
pub fn first_deploy_note(guard: &RollbackGuard) -> Option<String> {
    match &guard.off {
        Some(why) => Some(format!("no rollback triggers: {why}")),
        None if guard.alarms.is_empty() => None,
        None => Some(
            "no rollback triggers on a first deploy: its alarms do not exist until it is done, and guard the next update"
                .to_string(),
        ),
    }
}

/// The ARN of the alarm `alarm_name` in the partition, region and account
/// of the stack whose ARN is `stack_arn`.
pub fn alarm_arn(stack_arn: &str, alarm_name: &str) -> Option<String> {
    let mut parts = stack_arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(_service), Some(region), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if partition.is_empty() || region.is_empty() || account.is_empty() {
        return None;
    }
    Some(format!(
        "arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm_name}"
    ))
}

/// Whether a resource as listed exists and can be watched now.
fn exists(r: &StackResource) -> bool {
    !r.physical_id.is_empty()
        && !matches!(
            r.status.as_str(),
            "CREATE_IN_PROGRESS" | "CREATE_FAILED" | "DELETE_IN_PROGRESS" | "DELETE_COMPLETE"
        )
}

/// The triggers of an update: the guard's alarms the deployed stack holds
/// (found by logical id among `deployed`), in the guard's order.
pub fn guarding(guard: &RollbackGuard, stack_arn: &str, deployed: &[StackResource]) -> Guarding {
    let mut g = Guarding {
        monitoring_minutes: guard.monitoring_minutes,
        off: guard.off.clone(),
        ..Guarding::default()
    };
    for alarm in &guard.alarms {
        let found = deployed.iter().find(|r| {
            r.logical_id == alarm.logical_id
                && r.resource_type == "AWS::CloudWatch::Alarm"
                && exists(r)
        });
        match found.and_then(|r| Some((r, alarm_arn(stack_arn, &r.physical_id)?))) {
            Some((r, arn)) => g.triggers.push(Trigger {
                name: alarm.name.clone(),
                alarm_name: r.physical_id.clone(),
                arn,
            }),
            None => g.not_yet_deployed.push(alarm.name.clone()),
        }
    }
    g
}

/// Whether `text` names `id` as a whole: not as the start of a longer
/// name (`shop-5xx` in `shop-5xx-rate`).
fn names(text: &str, id: &str) -> bool {
    text.match_indices(id).any(|(at, _)| {
        let rest = &text[at + id.len()..];
        match rest.chars().next() {
            None => true,
            Some('.') => rest[1..].chars().next().is_none_or(char::is_whitespace),
            Some(c) => c.is_whitespace() || matches!(c, ',' | ';' | ']' | ')' | '"' | '\''),
        }
    })
}

/// The triggers a rolled-back update's stack events blame. CloudFormation
/// reports a tripped trigger on the stack itself (its rollback event names
/// the alarm); the alarm is recognised by its ARN, or by its name.
pub fn tripped<'t>(events: &[StackEvent], triggers: &'t [Trigger]) -> Vec<&'t Trigger> {
    let reasons: Vec<&str> = events
        .iter()
        .filter(|e| e.is_stack())
        .filter_map(|e| e.reason.as_deref())
        .collect();
    triggers
        .iter()
        .filter(|t| {
            reasons
                .iter()
                .any(|r| names(r, &t.arn) || names(r, &t.alarm_name))
        })
        .collect()
}

/// The report's line for each alarm that rolled an update back.
pub fn blame(alarms: &[Trigger], monitoring_minutes: u32) -> Vec<String> {
    let when = match monitoring_minutes {
        0 => "during the update".to_string(),
        1 => "during the update or the minute after it".to_string(),
        m => format!("during the update or the {m} minutes after it"),
    };
    alarms
        .iter()
        .map(|a| format!("alarm {} ({}) went into ALARM {when}", a.name, a.alarm_name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollback::GuardAlarm;

    const STACK_ARN: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-prod/1c2d";

    fn guard(names: &[&str]) -> RollbackGuard {
        RollbackGuard {
            off: None,
            alarms: names
                .iter()
                .map(|n| GuardAlarm {
                    name: n.to_string(),
                    logical_id: format!("{n}Alarm"),
                })
                .collect(),
            monitoring_minutes: 10,
        }
    }

    fn alarm(logical: &str, physical: &str, status: &str) -> StackResource {
        StackResource {
            logical_id: logical.into(),
            physical_id: physical.into(),
            resource_type: "AWS::CloudWatch::Alarm".into(),
            status: status.into(),
            status_reason: None,
        }
    }

    #[test]
    fn alarm_arns_take_the_stacks_partition_region_and_account() {
        assert_eq!(
            alarm_arn(STACK_ARN, "shop-prod-5xx").as_deref(),
            Some("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-5xx")
        );
        assert_eq!(
            alarm_arn(
                "arn:aws-cn:cloudformation:cn-north-1:210987654321:stack/a/b",
                "x"
            )
            .as_deref(),
            Some("arn:aws-cn:cloudwatch:cn-north-1:210987654321:alarm:x")
        );
        assert_eq!(alarm_arn("shop-prod", "x"), None);
    }

    #[test]
    fn only_alarms_the_deployed_stack_holds_become_triggers_in_the_guards_order() {
        let deployed = vec![
            alarm("ErrorsAlarm", "shop-prod-errors", "UPDATE_COMPLETE"),
            alarm("FiveAlarm", "shop-prod-five", "CREATE_COMPLETE"),
            alarm("BrokenAlarm", "", "CREATE_FAILED"),
        ];
        let g = guarding(
            &guard(&["Five", "Errors", "Broken", "New"]),
            STACK_ARN,
            &deployed,
        );
        assert_eq!(
            g.triggers
                .iter()
                .map(|t| t.arn.as_str())
                .collect::<Vec<_>>(),
            [
                "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-five",
                "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-errors"
            ]
        );
        assert_eq!(g.not_yet_deployed, ["Broken", "New"]);
        assert_eq!(g.settings().monitoring_minutes, 10);
        let said = g.describe().unwrap();
        assert!(
            said.starts_with("rollback triggers: alarms Five, Errors guard this update; CloudFormation rolls it back if one goes into ALARM during it or in the 10 minutes after"),
            "{said}"
        );
        assert!(
            said.ends_with("alarms Broken, New are not deployed yet and guard the next update"),
            "{said}"
        );
    }

    #[test]
    fn an_update_without_triggers_still_clears_the_old_ones_and_says_why() {
        let off = guarding(&RollbackGuard::off("off in dev"), STACK_ARN, &[]);
        assert_eq!(
            off.settings(),
            RollbackSettings {
                alarm_arns: vec![],
                monitoring_minutes: 0
            }
        );
        assert_eq!(
            off.describe().as_deref(),
            Some("no rollback triggers: off in dev")
        );
        let new = guarding(&guard(&["Five"]), STACK_ARN, &[]);
        assert_eq!(
            new.describe().as_deref(),
            Some("no rollback triggers: alarm Five is not deployed yet and guards the next update")
        );
        assert_eq!(new.settings().monitoring_minutes, 0);
        assert!(first_deploy_note(&guard(&["Five"]))
            .unwrap()
            .contains("first deploy"));
    }

    #[test]
    fn a_rollback_is_blamed_on_the_alarm_its_stack_event_names_and_no_other() {
        let triggers = vec![
            Trigger {
                name: "five".into(),
                alarm_name: "shop-prod-5xx".into(),
                arn: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-5xx".into(),
            },
            Trigger {
                name: "five-rate".into(),
                alarm_name: "shop-prod-5xx-rate".into(),
                arn: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-5xx-rate".into(),
            },
        ];
        let event = |reason: &str, ty: &str| StackEvent {
            id: "e".into(),
            timestamp: 0.0,
            logical_id: "shop-prod".into(),
            resource_type: ty.into(),
            physical_id: String::new(),
            status: "UPDATE_ROLLBACK_IN_PROGRESS".into(),
            reason: Some(reason.into()),
        };
        let stack = "AWS::CloudFormation::Stack";
        let by_arn = [event("Alarm arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-5xx-rate is in ALARM state.", stack)];
        assert_eq!(
            tripped(&by_arn, &triggers)
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["five-rate"]
        );
        let by_name = [event("Alarms [shop-prod-5xx] went into ALARM", stack)];
        assert_eq!(tripped(&by_name, &triggers)[0].name, "five");
        let resource = [event(
            "shop-prod-5xx-rate is in ALARM",
            "AWS::Lambda::Function",
        )];
        assert!(tripped(&resource, &triggers).is_empty());
    }
}

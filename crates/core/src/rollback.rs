//! Rollback triggers: which of a stack's alarms guard its updates, and how
//! long CloudFormation keeps watching them afterwards.
//!
//! CloudFormation takes at most five alarms per stack. When the stack file
//! does not name them (`rollback_triggers.alarms`), [`chosen_alarms`] picks
//! the five that matter most. The order asks one question: "did this
//! deploy break what users see?", most direct signal first:
//!
//! 1. API 5xx, as a rate, then as a count: users get server errors; a rate
//!    does not depend on how busy the API is, so it is trusted first.
//! 2. Function error rate, then function errors: the code just deployed
//!    fails, also where no API sits in front (queues, schedules).
//! 3. Function throttles: a deploy that changed concurrency turns work away.
//! 4. API latency, then function duration: slower, still answering; noisier.
//! 5. Table throttles: more often load than a deploy, but a deploy that
//!    changed capacity or access patterns shows here.
//! 6. Alarms on any other metric: their meaning is the author's, so they
//!    come after everything stackctl understands.
//!
//! API 4xx alarms are never chosen by the rule: 4xx answers are callers'
//! mistakes (a scanner's 404s, expired tokens), and rolling back a good
//! deploy because of them would be wrong. Name one in
//! `rollback_triggers.alarms` to use it anyway. Ties keep the order in
//! which the stack file declares the alarms.
//!
//! Pure: the engine turns the chosen names into the ARNs of the alarms the
//! deployed stack already holds.

use crate::kinds::ALARM;
use crate::model::{AlarmKind, StackDef};

/// CloudFormation's limit on rollback triggers per stack.
pub const MAX_ROLLBACK_TRIGGERS: usize = 5;
/// Minutes watched after an update when the stack file does not say.
pub const DEFAULT_MONITORING_MINUTES: u32 = 10;
/// CloudFormation's longest monitoring time.
pub const MAX_MONITORING_MINUTES: u32 = 180;

/// How much an alarm of this kind says about a deploy that went wrong:
/// lower ranks first; `None` for kinds the rule never picks.
pub fn rank(kind: AlarmKind) -> Option<u8> {
    Some(match kind {
        AlarmKind::Api5xxRate => 0,
        AlarmKind::Api5xx => 1,
        AlarmKind::FunctionErrorRate => 2,
        AlarmKind::FunctionErrors => 3,
        AlarmKind::FunctionThrottles => 4,
        AlarmKind::ApiLatency => 5,
        AlarmKind::FunctionDuration => 6,
        AlarmKind::TableThrottles => 7,
        AlarmKind::Metric => 8,
        AlarmKind::Api4xx | AlarmKind::Api4xxRate => return None,
    })
}

/// The alarms the rule picks: by [`rank`], ties in declaration order, at
/// most [`MAX_ROLLBACK_TRIGGERS`].
pub fn chosen_alarms(def: &StackDef) -> Vec<&str> {
    let mut ranked: Vec<(u8, &str)> = def
        .alarms
        .iter()
        .filter_map(|(name, a)| rank(a.kind).map(|r| (r, name.as_str())))
        .collect();
    // A stable sort: equal ranks stay in declaration order.
    ranked.sort_by_key(|(r, _)| *r);
    ranked
        .into_iter()
        .take(MAX_ROLLBACK_TRIGGERS)
        .map(|(_, name)| name)
        .collect()
}

/// One alarm that guards updates: its name in the stack file and its
/// logical id in the template (which finds it among the deployed resources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardAlarm {
    pub name: String,
    pub logical_id: String,
}

/// The rollback triggers of a stack in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackGuard {
    /// Why no alarm guards updates here, when none does by setting (off,
    /// or no alarm to choose).
    pub off: Option<String>,
    /// The alarms, most important first.
    pub alarms: Vec<GuardAlarm>,
    pub monitoring_minutes: u32,
}

impl RollbackGuard {
    /// No rollback triggers and nothing to say about it: a stack whose
    /// contents are stackctl's (the account settings), or a test's.
    pub fn none() -> Self {
        RollbackGuard {
            off: None,
            alarms: Vec::new(),
            monitoring_minutes: 0,
        }
    }

    /// No rollback triggers, for `why`.
    pub fn off(why: impl Into<String>) -> Self {
        RollbackGuard {
            off: Some(why.into()),
            alarms: Vec::new(),
            monitoring_minutes: 0,
        }
    }
}

/// The rollback triggers `def` asks for in `env`: the named alarms, or the
/// rule's choice; off in `dev` unless the file turns them on.
pub fn rollback_guard(def: &StackDef, env: &str) -> RollbackGuard {
    let settings = &def.rollback_triggers;
    match settings.enabled {
        Some(false) => {
            return RollbackGuard::off("off (`rollback_triggers.enabled: false`)");
        }
        None if env == "dev" => {
            return RollbackGuard::off(
                "off in dev (turn them on with `rollback_triggers: {enabled: true}`)",
            );
        }
        _ => {}
    }
    let names: Vec<&str> = match &settings.alarms {
        Some(named) => named.iter().map(String::as_str).collect(),
        None => chosen_alarms(def),
    };
    if names.is_empty() {
        let why = if def.alarms.is_empty() {
            "none: the stack declares no alarms"
        } else if settings.alarms.is_some() {
            "none: `rollback_triggers.alarms` is empty"
        } else {
            "none: the stack's alarms are all 4xx alarms, which the rule does not choose (name them in `rollback_triggers.alarms` to use them)"
        };
        return RollbackGuard::off(why);
    }
    RollbackGuard {
        off: None,
        alarms: names
            .into_iter()
            .map(|name| GuardAlarm {
                name: name.to_string(),
                logical_id: ALARM.logical_id(name),
            })
            .collect(),
        monitoring_minutes: settings
            .monitoring_minutes
            .unwrap_or(DEFAULT_MONITORING_MINUTES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::resolve_text;

    fn def_in(yaml: &str, env: &str) -> StackDef {
        let (_, resolved) = resolve_text("test.yaml", yaml, env);
        let valid = resolved.valid_def().expect("valid");
        StackDef::clone(valid)
    }

    fn def(yaml: &str) -> StackDef {
        def_in(yaml, "prod")
    }

    const ALARMS: &str = r#"name: shop
functions:
  api: {crate: shop-api}
  worker: {crate: shop-worker}
apis:
  web: {type: http, routes: {"GET /": {function: api, public: true}}}
tables:
  orders: {partition_key: {name: id, type: S}}
topics:
  ops: {}
alarms:
  table-throttles: {type: table_throttles, table: orders, threshold: 1}
  custom: {type: metric, metric: {namespace: Shop, name: Failed, statistic: Sum}, threshold: 1}
  api-4xx: {type: api_4xx_rate, api: web, threshold: 20}
  worker-duration: {type: function_duration, function: worker, threshold: 2000}
  api-errors: {type: function_errors, function: api, threshold: 1}
  worker-errors: {type: function_errors, function: worker, threshold: 1}
  web-5xx: {type: api_5xx, api: web, threshold: 1}
  web-5xx-rate: {type: api_5xx_rate, api: web, threshold: 1}
"#;

    #[test]
    fn the_rule_puts_server_errors_first_keeps_declaration_order_and_stops_at_five() {
        let d = def(ALARMS);
        assert_eq!(
            chosen_alarms(&d),
            [
                "web-5xx-rate",
                "web-5xx",
                "api-errors",
                "worker-errors",
                "worker-duration"
            ]
        );
    }

    #[test]
    fn the_rule_never_picks_4xx_and_puts_other_metrics_last() {
        let d = def(r#"name: shop
functions:
  api: {crate: shop-api}
apis:
  web: {type: http, routes: {"GET /": {function: api, public: true}}}
topics:
  ops: {}
alarms:
  custom: {type: metric, metric: {namespace: Shop, name: Failed, statistic: Sum}, threshold: 1}
  api-4xx: {type: api_4xx, api: web, threshold: 20}
  slow: {type: api_latency, api: web, threshold: 900}
"#);
        assert_eq!(chosen_alarms(&d), ["slow", "custom"]);
        assert_eq!(rank(AlarmKind::Api4xxRate), None);
    }

    #[test]
    fn the_guard_is_off_in_dev_unless_turned_on_and_names_win_over_the_rule() {
        let off = rollback_guard(&def_in(ALARMS, "dev"), "dev");
        assert!(off.alarms.is_empty());
        assert!(
            off.off.as_deref().unwrap().contains("off in dev"),
            "{off:?}"
        );

        let prod = rollback_guard(&def(ALARMS), "prod");
        assert_eq!(prod.off, None);
        assert_eq!(prod.monitoring_minutes, DEFAULT_MONITORING_MINUTES);
        assert_eq!(
            prod.alarms[0],
            GuardAlarm {
                name: "web-5xx-rate".into(),
                logical_id: ALARM.logical_id("web-5xx-rate")
            }
        );

        let named =
            format!("{ALARMS}rollback_triggers: {{alarms: [api-4xx], monitoring_minutes: 30}}\n");
        let g = rollback_guard(&def(&named), "prod");
        assert_eq!(
            g.alarms.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["api-4xx"]
        );
        assert_eq!(g.monitoring_minutes, 30);

        let on_in_dev = format!(
            "{ALARMS}environments:\n  dev:\n    rollback_triggers: {{enabled: true}}\n  prod:\n    rollback_triggers: {{enabled: false}}\n"
        );
        let dev = def_in(&on_in_dev, "dev");
        assert_eq!(rollback_guard(&dev, "dev").alarms.len(), 5);
        let prod = def_in(&on_in_dev, "prod");
        assert!(rollback_guard(&prod, "prod")
            .off
            .unwrap()
            .contains("enabled: false"));
    }

    #[test]
    fn a_stack_without_alarms_says_why_nothing_guards_it() {
        let d = def("name: shop\n");
        assert_eq!(
            rollback_guard(&d, "prod").off.as_deref(),
            Some("none: the stack declares no alarms")
        );
    }
}

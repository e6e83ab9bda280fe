//! Alarms and topics: the right target for each kind, CloudWatch's period
//! rules, and someone to tell.

use super::{p, Checker};
use crate::model::AlarmKind;

pub(super) fn check(c: &mut Checker) {
    let def = c.def;
    for (name, a) in &def.alarms {
        let at = p("alarms").key(name);
        let (wants, what) = match a.kind {
            AlarmKind::FunctionErrors
            | AlarmKind::FunctionErrorRate
            | AlarmKind::FunctionThrottles
            | AlarmKind::FunctionDuration => ("function", "a function"),
            AlarmKind::Api5xx
            | AlarmKind::Api5xxRate
            | AlarmKind::Api4xx
            | AlarmKind::Api4xxRate
            | AlarmKind::ApiLatency => ("api", "an API"),
            AlarmKind::TableThrottles => ("table", "a table"),
            AlarmKind::Metric => ("metric", "a metric"),
        };
        let given = [
            ("function", a.function.is_some()),
            ("api", a.api.is_some()),
            ("table", a.table.is_some()),
            ("metric", a.metric.is_some()),
        ];
        for (field, present) in given {
            if field == wants && !present {
                c.error(
                    at.clone(),
                    format!("alarm `{name}` watches {what} but names none"),
                    format!("add `{wants}: …`"),
                );
            } else if field != wants && present {
                c.error_at_key(
                    at.key(field),
                    format!("alarm `{name}` does not watch a {field}"),
                    format!("this alarm type watches {what}; remove `{field}`"),
                );
            }
        }
        // Only the watched thing must exist; a field that does not belong was reported above.
        match wants {
            "function" => a.function.iter().for_each(|f| {
                c.expect_known(at.key("function"), "function", f, def.functions.keys());
            }),
            "api" => a.api.iter().for_each(|api| {
                c.expect_known(at.key("api"), "API", api, def.apis.keys());
            }),
            "table" => a.table.iter().for_each(|t| {
                c.expect_known(at.key("table"), "table", t, def.tables.keys());
            }),
            _ => {}
        }
        if let Some(m) = &a.metric {
            let ok = ["Sum", "Average", "Minimum", "Maximum", "SampleCount"]
                .contains(&m.statistic.as_str())
                || m.statistic
                    .strip_prefix('p')
                    .and_then(|n| n.parse::<f64>().ok())
                    .is_some_and(|n| n > 0.0 && n < 100.0);
            if !ok {
                c.error(
                    at.key("metric").key("statistic"),
                    format!("`{}` is not a CloudWatch statistic", m.statistic),
                    "use Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99",
                );
            }
            if m.dimensions.len() > 30 {
                c.error(
                    at.key("metric").key("dimensions"),
                    "more than 30 dimensions",
                    "CloudWatch metrics have at most 30 dimensions",
                );
            }
        }
        let rate = matches!(
            a.kind,
            AlarmKind::FunctionErrorRate | AlarmKind::Api5xxRate | AlarmKind::Api4xxRate
        );
        if rate && !(0.0..=100.0).contains(&a.threshold) {
            c.error(
                at.key("threshold"),
                format!("a rate of {}%", a.threshold),
                "rates are percentages from 0 to 100",
            );
        }
        let period = a.period();
        if !(period == 10 || period == 30 || (period >= 60 && period % 60 == 0)) {
            c.error(
                at.key("period_seconds"),
                format!("a period of {period} s"),
                "CloudWatch alarm periods are 10, 30, or a multiple of 60 seconds",
            );
        }
        let evaluations = a.evaluations();
        if evaluations == 0 {
            c.error(
                at.key("evaluation_periods"),
                "0 evaluation periods",
                "at least 1",
            );
        } else if u64::from(period) * u64::from(evaluations) > 86_400 {
            c.error(
                at.key("evaluation_periods"),
                format!("{evaluations} periods of {period} s look back more than a day"),
                "CloudWatch evaluates at most one day: period × evaluation_periods ≤ 86,400 s",
            );
        }
        if let Some(d) = a.datapoints_to_alarm {
            if d == 0 || d > evaluations {
                c.error(
                    at.key("datapoints_to_alarm"),
                    format!("{d} of {evaluations} data points"),
                    "between 1 and `evaluation_periods`",
                );
            }
        }
        match &a.notify {
            Some(topics) => {
                for (i, t) in topics.iter().enumerate() {
                    c.expect_known(at.key("notify").index(i), "topic", t, def.topics.keys());
                }
            }
            None if def.topics.is_empty() => c.warning(at, format!("alarm `{name}` notifies nobody"), "add a topic under `topics:` with an e-mail subscription; alarms notify every topic unless they say `notify`"),
            None => {}
        }
    }
    rollback_triggers(c);
    for (name, t) in &def.topics {
        for (i, mail) in t.email.iter().enumerate() {
            let ok = mail.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !mail.contains(' ')
            });
            if !ok {
                c.error(
                    p("topics").key(name).key("email").index(i),
                    format!("`{mail}` is not an e-mail address"),
                    "write `someone@example.com`",
                );
            }
        }
    }
}

/// `rollback_triggers`: alarms of this stack, no more than CloudFormation
/// takes, watched no longer than it allows.
fn rollback_triggers(c: &mut Checker) {
    use crate::rollback::{MAX_MONITORING_MINUTES, MAX_ROLLBACK_TRIGGERS};
    let def = c.def;
    let at = p("rollback_triggers");
    if let Some(names) = &def.rollback_triggers.alarms {
        for (i, name) in names.iter().enumerate() {
            if c.expect_known(at.key("alarms").index(i), "alarm", name, def.alarms.keys())
                && names[..i].contains(name)
            {
                c.error(
                    at.key("alarms").index(i),
                    format!("alarm `{name}` is listed twice"),
                    "list each alarm once",
                );
            }
        }
        if names.len() > MAX_ROLLBACK_TRIGGERS {
            c.error(
                at.key("alarms"),
                format!("{} alarms guard updates", names.len()),
                format!("CloudFormation takes at most {MAX_ROLLBACK_TRIGGERS} rollback triggers; keep the ones that matter most"),
            );
        }
    }
    if let Some(minutes) = def.rollback_triggers.monitoring_minutes {
        c.in_range(
            at.key("monitoring_minutes"),
            "monitoring time",
            u64::from(minutes),
            0..=u64::from(MAX_MONITORING_MINUTES),
            "the minutes CloudFormation watches after an update",
        );
    }
}

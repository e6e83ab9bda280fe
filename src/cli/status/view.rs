//! What `status` found in one stack, and how it reads: aligned text for a
//! person (alarms in ALARM first), one JSON object for a machine. No I/O.

use super::inventory::{ApiFigures, FunctionFigures, Watched};
use crate::engine::cloudwatch::{AlarmDefinition, AlarmState};
use crate::local::utc::Utc;
use serde_json::{json, Value};

/// One stack's status, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct StackReport {
    /// The stack file's name (`guitar-collection`).
    pub stack: String,
    /// The CloudFormation stack's (`guitar-collection-dev`).
    pub stack_name: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    NotDeployed {
        hint: String,
    },
    Unreadable {
        error: String,
        /// What to do about it, from the error's kind.
        hint: Option<String>,
    },
    Read(Box<Health>),
}

/// The window the metrics cover: `[start, end)`, one period long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// What `--since` asked for, in seconds.
    pub since: u64,
    pub start: i64,
    pub end: i64,
    pub period: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub status: String,
    pub status_reason: Option<String>,
    /// `created` or `updated`, and when (seconds since the Unix epoch).
    pub last_operation: Option<(&'static str, i64)>,
    pub alarms: Vec<AlarmRow>,
    pub functions: Vec<FunctionFigures>,
    pub apis: Vec<ApiFigures>,
    pub endpoints: Vec<(String, String)>,
    pub window: Window,
}

impl StackReport {
    /// Alarms of this stack in ALARM.
    pub fn in_alarm(&self) -> usize {
        match &self.outcome {
            Outcome::Read(h) => h
                .alarms
                .iter()
                .filter(|a| a.state == Some(AlarmState::Alarm))
                .count(),
            _ => 0,
        }
    }
}

/// One declared alarm and its state; `state` is `None` when CloudWatch has
/// no alarm of that name (deleted by hand, or never created).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRow {
    pub name: String,
    pub alarm_name: Option<String>,
    pub state: Option<AlarmState>,
    pub reason: Option<String>,
    pub since: Option<i64>,
}

impl AlarmRow {
    /// ALARM first, then missing alarms, then INSUFFICIENT_DATA, then OK.
    fn rank(&self) -> u8 {
        match &self.state {
            Some(AlarmState::Alarm) => 0,
            None => 1,
            Some(AlarmState::InsufficientData) => 2,
            Some(AlarmState::Ok) => 3,
            Some(AlarmState::Other(_)) => 4,
        }
    }

    fn state_text(&self) -> &str {
        self.state.as_ref().map_or("MISSING", AlarmState::as_str)
    }
}

/// The stack's declared alarms with what CloudWatch says of each, ALARM first.
pub fn alarm_rows(declared: &[Watched], found: &[AlarmDefinition]) -> Vec<AlarmRow> {
    let mut rows: Vec<AlarmRow> = declared
        .iter()
        .map(|w| {
            let live = w
                .physical_id
                .as_ref()
                .and_then(|name| found.iter().find(|a| &a.name == name));
            AlarmRow {
                name: w.name.clone(),
                alarm_name: w.physical_id.clone(),
                state: live.map(|a| a.state.clone()),
                reason: live.and_then(|a| a.state_reason.clone()),
                since: live.and_then(|a| a.state_updated_at),
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.rank(), &a.name).cmp(&(b.rank(), &b.name)));
    rows
}

/// `2026-12-03 14:05:00 UTC`.
pub fn clock(epoch_s: i64) -> String {
    let t = Utc::from_epoch_s(epoch_s.max(0) as u64);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// `2026-12-03T14:05:00Z` (RFC 3339), for JSON.
pub fn rfc3339(epoch_s: i64) -> String {
    let t = Utc::from_epoch_s(epoch_s.max(0) as u64);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// A span as the user would write it for `--since`: `1h`, `90m`, `2d`.
pub fn span(seconds: u64) -> String {
    match seconds {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn count(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.0}"))
}

fn millis(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v < 10.0 => format!("{v:.1} ms"),
        Some(v) => format!("{v:.0} ms"),
    }
}

/// Rows as aligned columns (the first left-aligned, the others right),
/// each line starting with `indent`.
fn columns(rows: &[Vec<String>], indent: &str) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut line = indent.to_string();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                line.push_str(&format!("{cell}{}", " ".repeat(pad)));
            } else {
                line.push_str(&format!("  {}{cell}", " ".repeat(pad)));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The person's view of one stack.
pub fn human(report: &StackReport) -> String {
    let name = &report.stack_name;
    let health = match &report.outcome {
        Outcome::NotDeployed { hint } => {
            return format!("{name}: not deployed\n  = hint: {hint}\n")
        }
        Outcome::Unreadable { error, .. } => {
            return format!("{name}: could not be read: {error}\n")
        }
        Outcome::Read(health) => health,
    };
    let mut text = format!("{name}: {}", health.status);
    if let Some((what, at)) = health.last_operation {
        text.push_str(&format!(", {what} {}", clock(at)));
    }
    if let Some(reason) = &health.status_reason {
        text.push_str(&format!(" ({reason})"));
    }
    text.push('\n');
    text.push_str(&alarms_text(report.in_alarm(), &health.alarms));
    let last = span(health.window.since);
    text.push_str(&functions_text(&last, &health.functions));
    text.push_str(&apis_text(&last, &health.apis));
    if !health.endpoints.is_empty() {
        text.push_str("  endpoints\n");
        let width = health
            .endpoints
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (output, url) in &health.endpoints {
            text.push_str(&format!("    {output:width$}  {url}\n"));
        }
    }
    text
}

fn functions_text(last: &str, functions: &[FunctionFigures]) -> String {
    if functions.is_empty() {
        return String::new();
    }
    let mut rows = vec![vec![
        format!("functions, last {last}"),
        "invocations".into(),
        "errors".into(),
        "throttles".into(),
        "p99 duration".into(),
    ]];
    rows.extend(functions.iter().map(|f| match &f.function_name {
        None => {
            let mut row = vec![String::new(); 5];
            row[0] = format!("  {} (not in the deployed stack)", f.name);
            row
        }
        Some(_) => vec![
            format!("  {}", f.name),
            count(f.invocations),
            count(f.errors),
            count(f.throttles),
            millis(f.p99_duration_ms),
        ],
    }));
    columns(&rows, "  ")
}

fn apis_text(last: &str, apis: &[ApiFigures]) -> String {
    if apis.is_empty() {
        return String::new();
    }
    let mut rows = vec![vec![
        format!("apis, last {last}"),
        "4xx".into(),
        "5xx".into(),
    ]];
    rows.extend(apis.iter().map(|a| {
        vec![
            format!("  {} ({})", a.name, a.kind),
            count(a.client_errors),
            count(a.server_errors),
        ]
    }));
    columns(&rows, "  ")
}

fn alarms_text(in_alarm: usize, alarms: &[AlarmRow]) -> String {
    if alarms.is_empty() {
        return "  alarms: none declared\n".into();
    }
    let mut text = format!("  alarms: {in_alarm} of {} in ALARM\n", alarms.len());
    let state_width = alarms
        .iter()
        .map(|a| a.state_text().len())
        .max()
        .unwrap_or(0);
    let name_width = alarms
        .iter()
        .map(|a| a.name.chars().count())
        .max()
        .unwrap_or(0);
    for a in alarms {
        let mut line = format!(
            "    {:state_width$}  {:name_width$}",
            a.state_text(),
            a.name
        );
        match (&a.state, a.since) {
            (None, _) => line.push_str(&format!(
                "  CloudWatch has no alarm {}",
                a.alarm_name
                    .as_deref()
                    .unwrap_or("(not in the deployed stack)")
            )),
            (Some(state), Some(since)) => {
                line.push_str(&format!("  since {}", clock(since)));
                if *state == AlarmState::Alarm {
                    if let Some(reason) = &a.reason {
                        line.push_str(&format!(": {reason}"));
                    }
                }
            }
            (Some(_), None) => {}
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The machine's view of one stack: every figure, stable keys.
pub fn to_json(report: &StackReport) -> Value {
    let mut object = json!({"stack": report.stack, "stack_name": report.stack_name});
    let fields = match &report.outcome {
        Outcome::NotDeployed { hint } => json!({"deployed": false, "hint": hint}),
        Outcome::Unreadable { error, .. } => json!({"deployed": null, "error": error}),
        Outcome::Read(h) => json!({
            "deployed": true,
            "status": h.status,
            "status_reason": h.status_reason,
            "last_operation": h.last_operation.map(|(what, at)| json!({"operation": what, "at": rfc3339(at)})),
            "in_alarm": report.in_alarm(),
            "alarms": h.alarms.iter().map(|a| json!({
                "name": a.name,
                "alarm_name": a.alarm_name,
                "state": a.state_text(),
                "reason": a.reason,
                "since": a.since.map(rfc3339),
            })).collect::<Vec<_>>(),
            "window": {
                "since_seconds": h.window.since,
                "start": rfc3339(h.window.start),
                "end": rfc3339(h.window.end),
                "period_seconds": h.window.period,
            },
            "functions": h.functions,
            "apis": h.apis,
            "endpoints": h.endpoints.iter().map(|(k, v)| json!({"output": k, "url": v})).collect::<Vec<_>>(),
        }),
    };
    if let (Some(object), Value::Object(fields)) = (object.as_object_mut(), fields) {
        object.extend(fields);
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(name: &str, state: AlarmState, since: i64, reason: &str) -> AlarmDefinition {
        AlarmDefinition {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"),
            description: None,
            state,
            state_reason: Some(reason.into()),
            state_updated_at: Some(since),
            namespace: None,
            metric_name: None,
            dimensions: Vec::new(),
            statistic: None,
            extended_statistic: None,
            threshold: Some(1.0),
            comparison_operator: None,
            period: None,
            evaluation_periods: Some(1),
            datapoints_to_alarm: None,
            treat_missing_data: None,
            actions_enabled: Some(true),
            alarm_actions: Vec::new(),
            ok_actions: Vec::new(),
            insufficient_data_actions: Vec::new(),
            metrics: Vec::new(),
        }
    }

    fn declared(name: &str) -> Watched {
        Watched {
            name: name.into(),
            logical_id: format!("{name}Alarm"),
            physical_id: Some(format!("shop-prod-{name}")),
        }
    }

    const T: i64 = 1_764_770_400; // 2025-12-03 14:00:00 UTC

    fn report() -> StackReport {
        let found = [
            definition(
                "shop-prod-api-5xx",
                AlarmState::Ok,
                T - 7_200,
                "Threshold Crossed: no datapoints",
            ),
            definition(
                "shop-prod-payments-error-rate",
                AlarmState::Alarm,
                T - 300,
                "Threshold Crossed: 1 datapoint [50.0] was greater than the threshold (1.0).",
            ),
            definition(
                "shop-prod-orders-throttles",
                AlarmState::InsufficientData,
                T - 3_600,
                "Unchecked: Initial alarm creation",
            ),
        ];
        let declared = [
            declared("api-5xx"),
            declared("orders-throttles"),
            declared("payments-error-rate"),
            declared("refunds-error-rate"),
        ];
        StackReport {
            stack: "shop".into(),
            stack_name: "shop-prod".into(),
            outcome: Outcome::Read(Box::new(Health {
                status: "UPDATE_COMPLETE".into(),
                status_reason: None,
                last_operation: Some(("updated", T - 86_400)),
                alarms: alarm_rows(&declared, &found),
                functions: vec![
                    FunctionFigures {
                        name: "payments".into(),
                        function_name: Some("shop-prod-payments".into()),
                        invocations: Some(1_250.0),
                        errors: Some(13.0),
                        throttles: Some(0.0),
                        p99_duration_ms: Some(812.25),
                    },
                    FunctionFigures {
                        name: "refunds".into(),
                        function_name: Some("shop-prod-refunds".into()),
                        invocations: Some(0.0),
                        errors: Some(0.0),
                        throttles: Some(0.0),
                        p99_duration_ms: None,
                    },
                ],
                apis: vec![ApiFigures {
                    name: "main".into(),
                    kind: "http",
                    api_id: Some("a1b2c3".into()),
                    api_name: None,
                    stage: None,
                    client_errors: Some(41.0),
                    server_errors: Some(2.0),
                }],
                endpoints: vec![(
                    "MainApiUrl".into(),
                    "https://a1b2c3.execute-api.eu-west-1.amazonaws.com".into(),
                )],
                window: Window {
                    since: 3_600,
                    start: T - 3_600,
                    end: T,
                    period: 3_600,
                },
            })),
        }
    }

    #[test]
    fn alarms_in_alarm_come_first_then_missing_ones_then_the_rest() {
        let r = report();
        let Outcome::Read(h) = &r.outcome else {
            unreachable!()
        };
        let order: Vec<(&str, &str)> = h
            .alarms
            .iter()
            .map(|a| (a.state_text(), a.name.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("ALARM", "payments-error-rate"),
                ("MISSING", "refunds-error-rate"),
                ("INSUFFICIENT_DATA", "orders-throttles"),
                ("OK", "api-5xx"),
            ]
        );
        assert_eq!(r.in_alarm(), 1);
    }

    #[test]
    fn the_human_view_is_aligned_with_the_reason_of_each_alarm_in_alarm() {
        let expected = "\
shop-prod: UPDATE_COMPLETE, updated 2025-12-02 14:00:00 UTC
  alarms: 1 of 4 in ALARM
    ALARM              payments-error-rate  since 2025-12-03 13:55:00 UTC: Threshold Crossed: 1 datapoint [50.0] was greater than the threshold (1.0).
    MISSING            refunds-error-rate   CloudWatch has no alarm shop-prod-refunds-error-rate
    INSUFFICIENT_DATA  orders-throttles     since 2025-12-03 13:00:00 UTC
    OK                 api-5xx              since 2025-12-03 12:00:00 UTC
  functions, last 1h  invocations  errors  throttles  p99 duration
    payments                 1250      13          0        812 ms
    refunds                     0       0          0             -
  apis, last 1h  4xx  5xx
    main (http)   41    2
  endpoints
    MainApiUrl  https://a1b2c3.execute-api.eu-west-1.amazonaws.com
";
        assert_eq!(human(&report()), expected);
    }

    #[test]
    fn a_stack_not_deployed_says_how_to_deploy_it() {
        let r = StackReport {
            stack: "shop".into(),
            stack_name: "shop-dev".into(),
            outcome: Outcome::NotDeployed {
                hint: "deploy it with `stackctl deploy --env dev shop`".into(),
            },
        };
        assert_eq!(
            human(&r),
            "shop-dev: not deployed\n  = hint: deploy it with `stackctl deploy --env dev shop`\n"
        );
        assert_eq!(to_json(&r)["deployed"], json!(false));
    }

    #[test]
    fn the_json_view_carries_every_figure() {
        let v = to_json(&report());
        assert_eq!(v["stack_name"], "shop-prod");
        assert_eq!(v["in_alarm"], 1);
        assert_eq!(
            v["last_operation"],
            json!({"operation": "updated", "at": "2025-12-02T14:00:00Z"})
        );
        assert_eq!(v["alarms"][0]["state"], "ALARM");
        assert_eq!(v["alarms"][0]["since"], "2025-12-03T13:55:00Z");
        assert_eq!(v["alarms"][1]["state"], "MISSING");
        assert_eq!(v["functions"][0]["invocations"], 1250.0);
        assert_eq!(v["functions"][0]["p99_duration_ms"], 812.25);
        assert_eq!(v["functions"][1]["p99_duration_ms"], Value::Null);
        assert_eq!(v["apis"][0]["4xx"], 41.0);
        assert_eq!(v["apis"][0]["type"], "http");
        assert_eq!(v["window"]["period_seconds"], 3_600);
        assert_eq!(v["endpoints"][0]["output"], "MainApiUrl");
    }

    #[test]
    fn spans_read_as_they_are_written() {
        assert_eq!(span(3_600), "1h");
        assert_eq!(span(5_400), "90m");
        assert_eq!(span(172_800), "2d");
        assert_eq!(span(45), "45s");
    }
}

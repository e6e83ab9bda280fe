//! Alarms and the dashboard.

use super::refs::{reference, sub};
use super::{entity, Path, Planner};
use crate::kinds::{ALARM, API, FUNCTION, TABLE, TOPIC};
use crate::model::{Alarm, AlarmKind, ApiKind, Comparison, MissingData};
use serde_json::{json, Value};

/// One metric and its statistic, or metric math.
type AlarmMetrics = (Option<(Value, String)>, Option<Vec<Value>>);

impl Planner<'_> {
    /// The CloudWatch dimensions of an API's metrics, as `Fn::Sub` text pairs.
    fn api_dimensions(&self, api: &str) -> Vec<(&'static str, String)> {
        let id = API.logical_id(api);
        match self.api_kind(api) {
            ApiKind::Http => vec![("ApiId", format!("${{{id}}}"))],
            ApiKind::Rest => vec![
                ("ApiName", self.name_sub("{stack}-{name}", api)),
                ("Stage", self.rest_stage_name(api)),
            ],
        }
    }

    fn api_metric_name(&self, api: &str, kind: AlarmKind) -> &'static str {
        let http = self.api_kind(api) == ApiKind::Http;
        match kind {
            AlarmKind::Api5xx | AlarmKind::Api5xxRate => {
                if http {
                    "5xx"
                } else {
                    "5XXError"
                }
            }
            AlarmKind::Api4xx | AlarmKind::Api4xxRate => {
                if http {
                    "4xx"
                } else {
                    "4XXError"
                }
            }
            _ => "Latency",
        }
    }

    /// What an alarm watches: one metric and a statistic, or metric math;
    /// `None` when the alarm lacks the target its kind needs.
    fn alarm_metrics(&self, a: &Alarm, period: u32) -> Option<AlarmMetrics> {
        let metric = |namespace: &str, metric: &str, dims: Vec<(&str, String)>| json!({"Namespace": namespace, "MetricName": metric, "Dimensions": dims.into_iter().map(|(n, v)| json!({"Name": n, "Value": sub(v)})).collect::<Vec<_>>()});
        let stat = |id: &str, m: Value, stat: &str| json!({"Id": id, "MetricStat": {"Metric": m, "Period": period, "Stat": stat}, "ReturnData": false});
        let function_dims =
            |f: &str| vec![("FunctionName", format!("${{{}}}", FUNCTION.logical_id(f)))];
        // Either one metric and a statistic, or metric math.
        let metrics: AlarmMetrics = match a.kind {
            AlarmKind::FunctionErrors => (
                Some((
                    metric(
                        "AWS/Lambda",
                        "Errors",
                        function_dims(a.function.as_deref()?),
                    ),
                    "Sum".to_string(),
                )),
                None,
            ),
            AlarmKind::FunctionThrottles => (
                Some((
                    metric(
                        "AWS/Lambda",
                        "Throttles",
                        function_dims(a.function.as_deref()?),
                    ),
                    "Sum".to_string(),
                )),
                None,
            ),
            AlarmKind::FunctionDuration => (
                Some((
                    metric(
                        "AWS/Lambda",
                        "Duration",
                        function_dims(a.function.as_deref()?),
                    ),
                    "p99".to_string(),
                )),
                None,
            ),
            AlarmKind::FunctionErrorRate => {
                let f = a.function.as_deref()?;
                (
                    None,
                    Some(vec![
                        stat(
                            "errors",
                            metric("AWS/Lambda", "Errors", function_dims(f)),
                            "Sum",
                        ),
                        stat(
                            "invocations",
                            metric("AWS/Lambda", "Invocations", function_dims(f)),
                            "Sum",
                        ),
                        json!({"Id": "rate", "Expression": "IF(invocations > 0, 100 * errors / invocations, 0)", "Label": "Error rate (%)", "ReturnData": true}),
                    ]),
                )
            }
            AlarmKind::Api5xx | AlarmKind::Api4xx => {
                let api = a.api.as_deref()?;
                (
                    Some((
                        metric(
                            "AWS/ApiGateway",
                            self.api_metric_name(api, a.kind),
                            self.api_dimensions(api),
                        ),
                        "Sum".to_string(),
                    )),
                    None,
                )
            }
            AlarmKind::ApiLatency => {
                let api = a.api.as_deref()?;
                (
                    Some((
                        metric("AWS/ApiGateway", "Latency", self.api_dimensions(api)),
                        "p99".to_string(),
                    )),
                    None,
                )
            }
            AlarmKind::Api5xxRate | AlarmKind::Api4xxRate => {
                let api = a.api.as_deref()?;
                (
                    None,
                    Some(vec![
                        stat(
                            "errors",
                            metric(
                                "AWS/ApiGateway",
                                self.api_metric_name(api, a.kind),
                                self.api_dimensions(api),
                            ),
                            "Sum",
                        ),
                        stat(
                            "requests",
                            metric("AWS/ApiGateway", "Count", self.api_dimensions(api)),
                            "Sum",
                        ),
                        json!({"Id": "rate", "Expression": "IF(requests > 0, 100 * errors / requests, 0)", "Label": "Error rate (%)", "ReturnData": true}),
                    ]),
                )
            }
            AlarmKind::TableThrottles => {
                let table = a.table.as_deref()?;
                let dims = || vec![("TableName", format!("${{{}}}", TABLE.logical_id(table)))];
                (
                    None,
                    Some(vec![
                        stat(
                            "reads",
                            metric("AWS/DynamoDB", "ReadThrottleEvents", dims()),
                            "Sum",
                        ),
                        stat(
                            "writes",
                            metric("AWS/DynamoDB", "WriteThrottleEvents", dims()),
                            "Sum",
                        ),
                        json!({"Id": "throttles", "Expression": "FILL(reads, 0) + FILL(writes, 0)", "Label": "Throttle events", "ReturnData": true}),
                    ]),
                )
            }
            AlarmKind::Metric => {
                let m = a.metric.as_ref()?;
                let dims = m
                    .dimensions
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect();
                (
                    Some((metric(&m.namespace, &m.name, dims), m.statistic.clone())),
                    None,
                )
            }
        };
        Some(metrics)
    }

    pub(super) fn alarms(&mut self) {
        let all_topics: Vec<String> = self.def.topics.keys().cloned().collect();
        for (name, a) in &self.def.alarms {
            let id = ALARM.logical_id(name);
            let period = a.period();
            // Validation proved each kind of alarm names its target.
            let Some((single, math)) = self.alarm_metrics(a, period) else {
                continue;
            };
            let (metric_value, statistic, extended) = match &single {
                Some((m, s)) if s.starts_with('p') => (Some(m.clone()), None, Some(s.clone())),
                Some((m, s)) => (Some(m.clone()), Some(s.clone()), None),
                None => (None, None, None),
            };
            let topics = a.notify.clone().unwrap_or_else(|| all_topics.clone());
            let actions: Vec<Value> = topics
                .iter()
                .map(|t| reference(&TOPIC.logical_id(t)))
                .collect();
            let view = json!({
                "id": id,
                "alarm_name": sub(self.physical_name_sub(&ALARM, name)),
                "description": a.description.clone().unwrap_or_else(|| describe(name, a)),
                "metric": metric_value,
                "statistic": statistic,
                "extended_statistic": extended,
                "period": period,
                "math": math,
                "threshold": a.threshold,
                "comparison": a.comparison.unwrap_or(Comparison::GreaterThan).cloudformation(),
                "evaluation_periods": a.evaluations(),
                "datapoints": a.datapoints_to_alarm,
                "missing": a.treat_missing_data.unwrap_or(MissingData::NotBreaching).cloudformation(),
                "actions": if actions.is_empty() { Value::Null } else { Value::Array(actions) },
            });
            self.push("cloudwatch_alarm", entity("alarms", name), view);
        }
    }

    pub(super) fn dashboard(&mut self) {
        if self.def.dashboard != Some(true) {
            return;
        }
        let mut widgets = Vec::new();
        let mut add = |title: String, metrics: Vec<Value>, stat: &str| {
            let n = widgets.len();
            widgets.push(json!({
                "type": "metric", "x": (n % 2) * 12, "y": (n / 2) * 6, "width": 12, "height": 6,
                "properties": {"title": title, "metrics": metrics, "period": 300, "stat": stat, "region": "${AWS::Region}", "view": "timeSeries"}
            }));
        };
        for name in self.def.functions.keys() {
            let f = format!("${{{}}}", FUNCTION.logical_id(name));
            add(
                format!("{name}: invocations and errors"),
                vec![
                    json!(["AWS/Lambda", "Invocations", "FunctionName", f]),
                    json!(["AWS/Lambda", "Errors", "FunctionName", f]),
                ],
                "Sum",
            );
            add(
                format!("{name}: duration p99"),
                vec![json!(["AWS/Lambda", "Duration", "FunctionName", f])],
                "p99",
            );
        }
        for name in self.def.apis.keys() {
            let dims: Vec<String> = self
                .api_dimensions(name)
                .into_iter()
                .flat_map(|(k, v)| [k.to_string(), v])
                .collect();
            let m = |metric: &str| {
                let mut row = vec![json!("AWS/ApiGateway"), json!(metric)];
                row.extend(dims.iter().map(|d| json!(d)));
                Value::Array(row)
            };
            let (e5, e4) = (
                self.api_metric_name(name, AlarmKind::Api5xx),
                self.api_metric_name(name, AlarmKind::Api4xx),
            );
            add(
                format!("API {name}: requests and errors"),
                vec![m("Count"), m(e4), m(e5)],
                "Sum",
            );
            add(
                format!("API {name}: latency p99"),
                vec![m("Latency")],
                "p99",
            );
        }
        for name in self.def.tables.keys() {
            let t = format!("${{{}}}", TABLE.logical_id(name));
            add(
                format!("table {name}: consumed capacity"),
                vec![
                    json!(["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", t]),
                    json!(["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", t]),
                ],
                "Sum",
            );
            add(
                format!("table {name}: throttles"),
                vec![
                    json!(["AWS/DynamoDB", "ReadThrottleEvents", "TableName", t]),
                    json!(["AWS/DynamoDB", "WriteThrottleEvents", "TableName", t]),
                ],
                "Sum",
            );
        }
        let body = json!({"widgets": widgets}).to_string();
        let view = json!({
            "id": "Dashboard",
            "dashboard_name": sub(self.name_sub("{stack}", "dashboard")),
            "body": sub(body),
        });
        self.push("cloudwatch_dashboard", Path::root().key("dashboard"), view);
    }
}

fn describe(name: &str, a: &Alarm) -> String {
    let target = a
        .function
        .as_deref()
        .or(a.api.as_deref())
        .or(a.table.as_deref())
        .unwrap_or("metric");
    let what = match a.kind {
        AlarmKind::FunctionErrors => "errors",
        AlarmKind::FunctionErrorRate => "error rate (%)",
        AlarmKind::FunctionThrottles => "throttles",
        AlarmKind::FunctionDuration => "p99 duration (ms)",
        AlarmKind::Api5xx => "5xx answers",
        AlarmKind::Api5xxRate => "5xx rate (%)",
        AlarmKind::Api4xx => "4xx answers",
        AlarmKind::Api4xxRate => "4xx rate (%)",
        AlarmKind::ApiLatency => "p99 latency (ms)",
        AlarmKind::TableThrottles => "throttle events",
        AlarmKind::Metric => "value",
    };
    format!("{name}: {target} {what} above {}", a.threshold)
}

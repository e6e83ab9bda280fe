//! Knowing when something is wrong: SNS topics and CloudWatch alarms.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// An SNS topic, encrypted with the stack key.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    #[serde(default)]
    pub display_name: Option<String>,
    /// E-mail addresses subscribed (each confirms by mail).
    #[serde(default)]
    pub email: Vec<String>,
    /// Functions and queues of the stack subscribed to the topic.
    #[serde(default)]
    pub subscriptions: Vec<super::TopicSubscription>,
}

/// A CloudWatch alarm. `type` says what is watched; name the watched thing
/// with `function`, `api` or `table`, or describe any metric with `metric`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alarm {
    #[serde(rename = "type")]
    pub kind: AlarmKind,
    #[serde(default)]
    pub function: Option<String>,
    #[serde(default)]
    pub api: Option<String>,
    #[serde(default)]
    pub table: Option<String>,
    /// Any metric (`type: metric`).
    #[serde(default)]
    pub metric: Option<CustomMetric>,
    /// The value that trips the alarm; rates are in percent.
    pub threshold: f64,
    /// Default: `greater_than`.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// Seconds per data point: 10, 30, or a multiple of 60. Default: 300.
    #[serde(default)]
    pub period_seconds: Option<u32>,
    /// Data points considered. Default: 1.
    #[serde(default)]
    pub evaluation_periods: Option<u32>,
    /// Data points that must breach, of `evaluation_periods`. Default: all.
    #[serde(default)]
    pub datapoints_to_alarm: Option<u32>,
    /// Default: `not_breaching`.
    #[serde(default)]
    pub treat_missing_data: Option<MissingData>,
    /// Topics told when the alarm fires and clears. Default: every topic of the stack.
    #[serde(default)]
    pub notify: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// Sum of a function's errors.
    FunctionErrors,
    /// Errors as a percentage of invocations.
    FunctionErrorRate,
    /// Sum of throttled invocations.
    FunctionThrottles,
    /// p99 duration in milliseconds.
    FunctionDuration,
    /// Sum of 5xx answers of an API.
    #[serde(rename = "api_5xx")]
    Api5xx,
    /// 5xx answers as a percentage of requests.
    #[serde(rename = "api_5xx_rate")]
    Api5xxRate,
    /// Sum of 4xx answers of an API.
    #[serde(rename = "api_4xx")]
    Api4xx,
    /// 4xx answers as a percentage of requests.
    #[serde(rename = "api_4xx_rate")]
    Api4xxRate,
    /// p99 latency in milliseconds.
    ApiLatency,
    /// Read and write throttle events of a table (and its indexes).
    TableThrottles,
    /// Any metric.
    Metric,
}

/// Which alarms guard an update, and for how long after it (CloudFormation's
/// rollback triggers). Only alarms already deployed can guard: a stack's
/// first deploy has none, and an alarm added in an update guards the next.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackTriggers {
    /// Default: true, except in an environment named `dev`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The alarms (names under `alarms:`) that guard updates, at most 5.
    /// Default: the five that matter most, by stackctl's rule (API 5xx,
    /// then function errors, throttles, latency, table throttles, other
    /// metrics; 4xx alarms only when named here).
    #[serde(default)]
    pub alarms: Option<Vec<String>>,
    /// Minutes CloudFormation keeps watching after the update, 0-180
    /// (deploy waits that long). Default: 10.
    #[serde(default)]
    pub monitoring_minutes: Option<u32>,
}

/// A metric described by hand.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomMetric {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub dimensions: IndexMap<String, String>,
    /// `Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount` or a percentile such as `p99`.
    pub statistic: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}

// Each default is written once, here; validation and planning both read it.
impl Alarm {
    /// Seconds per evaluated period. Default: 300.
    pub fn period(&self) -> u32 {
        self.period_seconds.unwrap_or(300)
    }

    /// Periods evaluated. Default: 1.
    pub fn evaluations(&self) -> u32 {
        self.evaluation_periods.unwrap_or(1)
    }
}

impl Comparison {
    pub fn cloudformation(self) -> &'static str {
        match self {
            Comparison::GreaterThan => "GreaterThanThreshold",
            Comparison::GreaterThanOrEqual => "GreaterThanOrEqualToThreshold",
            Comparison::LessThan => "LessThanThreshold",
            Comparison::LessThanOrEqual => "LessThanOrEqualToThreshold",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissingData {
    NotBreaching,
    Breaching,
    Ignore,
    Missing,
}

impl MissingData {
    pub fn cloudformation(self) -> &'static str {
        match self {
            MissingData::NotBreaching => "notBreaching",
            MissingData::Breaching => "breaching",
            MissingData::Ignore => "ignore",
            MissingData::Missing => "missing",
        }
    }
}

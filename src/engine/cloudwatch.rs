//! CloudWatch, behind the two reads stackctl makes: alarms by name
//! (DescribeAlarms), with their whole definition, and metric data
//! (GetMetricData). `status` shows alarm states and metric figures; `verify`
//! compares the definitions with the template. Both answers are plain
//! structs, so callers and tests never touch the SDK's types.

use super::error::AwsError;
use super::retry::RetryPolicy;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{self as cw, StateValue};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

/// DescribeAlarms takes at most 100 names a call.
pub const ALARM_NAMES_PER_CALL: usize = 100;
/// GetMetricData takes at most 500 queries a call.
pub const METRIC_QUERIES_PER_CALL: usize = 500;

/// An alarm's state. Ordered as a person reads them: ALARM first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum AlarmState {
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
    #[serde(rename = "OK")]
    Ok,
    /// A state this SDK does not know yet, as CloudWatch spelled it.
    #[serde(untagged)]
    Other(String),
}

impl AlarmState {
    pub fn as_str(&self) -> &str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            AlarmState::Ok => "OK",
            AlarmState::Other(s) => s,
        }
    }

    fn from_sdk(state: Option<&StateValue>) -> AlarmState {
        match state {
            Some(StateValue::Alarm) => AlarmState::Alarm,
            Some(StateValue::InsufficientData) => AlarmState::InsufficientData,
            Some(StateValue::Ok) => AlarmState::Ok,
            Some(other) => AlarmState::Other(other.as_str().to_string()),
            None => AlarmState::Other(String::new()),
        }
    }
}

/// A metric dimension: `FunctionName` = `shop-prod-payments`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MetricDimension {
    pub name: String,
    pub value: String,
}

impl MetricDimension {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        MetricDimension {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// One metric, statistic and period: what an alarm's `MetricStat` names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmMetricStat {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<MetricDimension>,
    pub period: Option<i32>,
    pub stat: Option<String>,
    pub unit: Option<String>,
}

/// One entry of a metric-math alarm's `Metrics`: a metric or an expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmMetricQuery {
    pub id: String,
    pub metric_stat: Option<AlarmMetricStat>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: Option<bool>,
    pub period: Option<i32>,
}

/// A metric alarm as DescribeAlarms reports it: its state and its whole
/// definition. A single-metric alarm fills `namespace` … `statistic`; a
/// metric-math alarm fills `metrics` instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmDefinition {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub state: AlarmState,
    pub state_reason: Option<String>,
    /// When the state last changed, seconds since the Unix epoch.
    pub state_updated_at: Option<i64>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<MetricDimension>,
    pub statistic: Option<String>,
    /// A percentile such as `p99`, instead of `statistic`.
    pub extended_statistic: Option<String>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub period: Option<i32>,
    pub evaluation_periods: Option<i32>,
    pub datapoints_to_alarm: Option<i32>,
    pub treat_missing_data: Option<String>,
    pub actions_enabled: Option<bool>,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub metrics: Vec<AlarmMetricQuery>,
}

/// One GetMetricData query: a metric, a statistic (`Sum`, `p99`…) and a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// Unique within one request; starts with a lowercase letter.
    pub id: String,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<MetricDimension>,
    pub stat: String,
    /// Seconds: 60 or a multiple of 60 (for data older than three hours).
    pub period: i32,
}

/// What came back for one query: datapoints, oldest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MetricSeries {
    /// Seconds since the Unix epoch, one per value.
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

/// The CloudWatch reads stackctl makes.
pub trait Monitoring {
    /// The metric alarms of these names that exist, in CloudWatch's order
    /// (by name). A name without an alarm is simply not in the answer.
    fn alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmDefinition>, AwsError>> + Send;
    /// Every query's datapoints in `[start, end)` (seconds since the Unix
    /// epoch), by query id; a query without data maps to an empty series.
    fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: i64,
        end: i64,
    ) -> impl Future<Output = Result<BTreeMap<String, MetricSeries>, AwsError>> + Send;
}

/// CloudWatch through the SDK.
pub struct CloudWatch {
    client: aws_sdk_cloudwatch::Client,
    retry: RetryPolicy,
}

impl CloudWatch {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        CloudWatch {
            client,
            retry: RetryPolicy::default(),
        }
    }
}

impl Monitoring for CloudWatch {
    async fn alarms(&self, names: &[String]) -> Result<Vec<AlarmDefinition>, AwsError> {
        let mut found = Vec::new();
        for batch in names.chunks(ALARM_NAMES_PER_CALL) {
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .retry
                    .run(|| async {
                        self.client
                            .describe_alarms()
                            .set_alarm_names(Some(batch.to_vec()))
                            // CloudWatch answers 50 a page unless asked for its most.
                            .max_records(ALARM_NAMES_PER_CALL as i32)
                            .set_next_token(token.clone())
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("read alarms (DescribeAlarms)", e))
                    })
                    .await?;
                found.extend(page.metric_alarms().iter().map(alarm_definition));
                token = page.next_token().map(String::from);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(found)
    }

    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: i64,
        end: i64,
    ) -> Result<BTreeMap<String, MetricSeries>, AwsError> {
        let mut series: BTreeMap<String, MetricSeries> = queries
            .iter()
            .map(|q| (q.id.clone(), MetricSeries::default()))
            .collect();
        for batch in queries.chunks(METRIC_QUERIES_PER_CALL) {
            let sdk_queries: Vec<cw::MetricDataQuery> = batch.iter().map(sdk_query).collect();
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .retry
                    .run(|| async {
                        self.client
                            .get_metric_data()
                            .set_metric_data_queries(Some(sdk_queries.clone()))
                            .start_time(DateTime::from_secs(start))
                            .end_time(DateTime::from_secs(end))
                            .scan_by(cw::ScanBy::TimestampAscending)
                            .set_next_token(token.clone())
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("read metrics (GetMetricData)", e))
                    })
                    .await?;
                for result in page.metric_data_results() {
                    let Some(entry) = result.id().and_then(|id| series.get_mut(id)) else {
                        continue;
                    };
                    // A later page continues the same series (PartialData).
                    entry
                        .timestamps
                        .extend(result.timestamps().iter().map(DateTime::secs));
                    entry.values.extend_from_slice(result.values());
                }
                token = page.next_token().map(String::from);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(series)
    }
}

fn sdk_dimensions(dimensions: &[MetricDimension]) -> Vec<cw::Dimension> {
    dimensions
        .iter()
        .map(|d| {
            cw::Dimension::builder()
                .name(&d.name)
                .value(&d.value)
                .build()
        })
        .collect()
}

fn sdk_query(q: &MetricQuery) -> cw::MetricDataQuery {
    let metric = cw::Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.metric_name)
        .set_dimensions(Some(sdk_dimensions(&q.dimensions)))
        .build();
    cw::MetricDataQuery::builder()
        .id(&q.id)
        .metric_stat(
            cw::MetricStat::builder()
                .metric(metric)
                .period(q.period)
                .stat(&q.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

fn dimensions_of(dimensions: &[cw::Dimension]) -> Vec<MetricDimension> {
    dimensions
        .iter()
        .map(|d| MetricDimension::new(d.name().unwrap_or_default(), d.value().unwrap_or_default()))
        .collect()
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(String::from)
}

fn alarm_metric_query(q: &cw::MetricDataQuery) -> AlarmMetricQuery {
    let metric_stat = q.metric_stat().map(|s| {
        let metric = s.metric();
        AlarmMetricStat {
            namespace: metric
                .and_then(|m| m.namespace())
                .unwrap_or_default()
                .into(),
            metric_name: metric
                .and_then(|m| m.metric_name())
                .unwrap_or_default()
                .into(),
            dimensions: metric
                .map(|m| dimensions_of(m.dimensions()))
                .unwrap_or_default(),
            period: s.period(),
            stat: owned(s.stat()),
            unit: s.unit().map(|u| u.as_str().to_string()),
        }
    });
    AlarmMetricQuery {
        id: q.id().unwrap_or_default().to_string(),
        metric_stat,
        expression: owned(q.expression()),
        label: owned(q.label()),
        return_data: q.return_data(),
        period: q.period(),
    }
}

fn alarm_definition(a: &cw::MetricAlarm) -> AlarmDefinition {
    AlarmDefinition {
        name: a.alarm_name().unwrap_or_default().to_string(),
        arn: a.alarm_arn().unwrap_or_default().to_string(),
        description: owned(a.alarm_description()),
        state: AlarmState::from_sdk(a.state_value()),
        state_reason: owned(a.state_reason()),
        state_updated_at: a.state_updated_timestamp().map(DateTime::secs),
        namespace: owned(a.namespace()),
        metric_name: owned(a.metric_name()),
        dimensions: dimensions_of(a.dimensions()),
        statistic: a.statistic().map(|s| s.as_str().to_string()),
        extended_statistic: owned(a.extended_statistic()),
        threshold: a.threshold(),
        comparison_operator: a.comparison_operator().map(|c| c.as_str().to_string()),
        period: a.period(),
        evaluation_periods: a.evaluation_periods(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        treat_missing_data: owned(a.treat_missing_data()),
        actions_enabled: a.actions_enabled(),
        alarm_actions: a.alarm_actions().to_vec(),
        ok_actions: a.ok_actions().to_vec(),
        insufficient_data_actions: a.insufficient_data_actions().to_vec(),
        metrics: a.metrics().iter().map(alarm_metric_query).collect(),
    }
}

/// The one period that covers the last `span` seconds with a single
/// datapoint: the span rounded up to what CloudWatch accepts for data that
/// old (a multiple of 60 s; of 300 s beyond 15 days; of 3600 s beyond 63
/// days), and the window `[start, end)` of exactly that period, ending at
/// the next whole minute after `now` (CloudWatch rounds start times down
/// to the minute, so an aligned window does not split into two periods).
pub fn single_period_window(now: i64, span: u64) -> (i32, i64, i64) {
    const DAY: u64 = 86_400;
    let multiple = if span > 63 * DAY {
        3_600
    } else if span > 15 * DAY {
        300
    } else {
        60
    };
    let period = span.max(1).div_ceil(multiple) * multiple;
    let period = i32::try_from(period).unwrap_or(i32::MAX / 3_600 * 3_600);
    let end = now.div_euclid(60) * 60 + if now % 60 == 0 { 0 } else { 60 };
    (period, end - i64::from(period), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_one_period_of_whole_minutes_covering_the_span() {
        // 14:03:20 with an hour: 13:04 to 14:04, one period of 3600 s.
        let now = 1_764_770_600;
        assert_eq!(now % 60, 20);
        let (period, start, end) = single_period_window(now, 3_600);
        assert_eq!(period, 3_600);
        assert_eq!(end, now + 40);
        assert_eq!(start, end - 3_600);
        // 90 s rounds up to two minutes; an exact minute stays.
        assert_eq!(single_period_window(now, 90).0, 120);
        assert_eq!(single_period_window(now - 20, 60), (60, now - 80, now - 20));
        // Older data needs coarser periods.
        let twenty_days = 20 * 86_400 + 1;
        assert_eq!(single_period_window(now, twenty_days).0 % 300, 0);
        let seventy_days = 70 * 86_400 + 1;
        assert_eq!(single_period_window(now, seventy_days).0 % 3_600, 0);
        assert!(u64::try_from(single_period_window(now, seventy_days).0).unwrap() >= seventy_days);
    }

    #[test]
    fn alarm_states_sort_alarm_first_and_serialize_as_cloudwatch_spells_them() {
        let mut states = vec![
            AlarmState::Ok,
            AlarmState::InsufficientData,
            AlarmState::Alarm,
        ];
        states.sort();
        assert_eq!(states[0], AlarmState::Alarm);
        assert_eq!(
            serde_json::to_value(&states).unwrap(),
            serde_json::json!(["ALARM", "INSUFFICIENT_DATA", "OK"])
        );
        assert_eq!(
            AlarmState::from_sdk(Some(&StateValue::from("SOMETHING_NEW"))).as_str(),
            "SOMETHING_NEW"
        );
    }

    #[test]
    fn a_metric_math_alarm_keeps_its_queries_and_a_plain_one_its_metric() {
        let sdk = cw::MetricAlarm::builder()
            .alarm_name("shop-prod-payments-error-rate")
            .alarm_arn(
                "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-payments-error-rate",
            )
            .state_value(StateValue::Alarm)
            .state_reason("Threshold Crossed")
            .state_updated_timestamp(DateTime::from_secs(1_764_770_000))
            .threshold(1.0)
            .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
            .evaluation_periods(1)
            .treat_missing_data("notBreaching")
            .alarm_actions("arn:aws:sns:eu-west-1:123456789012:alerts")
            .metrics(
                cw::MetricDataQuery::builder()
                    .id("errors")
                    .metric_stat(
                        cw::MetricStat::builder()
                            .metric(
                                cw::Metric::builder()
                                    .namespace("AWS/Lambda")
                                    .metric_name("Errors")
                                    .dimensions(
                                        cw::Dimension::builder()
                                            .name("FunctionName")
                                            .value("shop-prod-payments")
                                            .build(),
                                    )
                                    .build(),
                            )
                            .period(300)
                            .stat("Sum")
                            .build(),
                    )
                    .return_data(false)
                    .build(),
            )
            .metrics(
                cw::MetricDataQuery::builder()
                    .id("rate")
                    .expression("100 * errors / invocations")
                    .return_data(true)
                    .build(),
            )
            .build();
        let alarm = alarm_definition(&sdk);
        assert_eq!(alarm.state, AlarmState::Alarm);
        assert_eq!(alarm.state_updated_at, Some(1_764_770_000));
        assert_eq!(
            alarm.comparison_operator.as_deref(),
            Some("GreaterThanThreshold")
        );
        assert_eq!(alarm.metrics.len(), 2);
        let stat = alarm.metrics[0].metric_stat.as_ref().unwrap();
        assert_eq!(
            stat.dimensions,
            vec![MetricDimension::new("FunctionName", "shop-prod-payments")]
        );
        assert_eq!(
            (stat.period, stat.stat.as_deref()),
            (Some(300), Some("Sum"))
        );
        assert_eq!(
            alarm.metrics[1].expression.as_deref(),
            Some("100 * errors / invocations")
        );
        assert_eq!(alarm.namespace, None);
    }

    mod scripted {
        //! DescribeAlarms and GetMetricData answered in their documented
        //! shapes: batches of names and queries, and every page read.
        use super::super::*;
        use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
        use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
        use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
        use aws_sdk_cloudwatch::Client;
        use aws_smithy_mocks::{
            create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode,
        };

        fn engine(rules: &[&Rule]) -> CloudWatch {
            let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
            for rule in rules {
                interceptor = interceptor.with_rule(rule);
            }
            let config = aws_sdk_cloudwatch::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("eu-west-1"))
                .credentials_provider(Credentials::new("a", "b", None, None, "scripted"))
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .build();
            CloudWatch::new(Client::from_conf(config))
        }

        fn alarm(name: &str) -> cw::MetricAlarm {
            cw::MetricAlarm::builder()
                .alarm_name(name)
                .state_value(StateValue::Ok)
                .build()
        }

        #[tokio::test]
        async fn alarms_are_asked_for_100_names_a_call_and_every_page_is_read() {
            let names: Vec<String> = (0..150).map(|i| format!("a{i:03}")).collect();
            let first_page = mock!(Client::describe_alarms)
                .match_requests(|r| r.alarm_names().len() == 100 && r.next_token().is_none())
                .then_output(|| {
                    DescribeAlarmsOutput::builder()
                        .metric_alarms(alarm("a000"))
                        .next_token("more")
                        .build()
                });
            let second_page = mock!(Client::describe_alarms)
                .match_requests(|r| r.alarm_names().len() == 100 && r.next_token() == Some("more"))
                .then_output(|| {
                    DescribeAlarmsOutput::builder()
                        .metric_alarms(alarm("a099"))
                        .build()
                });
            let last_batch = mock!(Client::describe_alarms)
                .match_requests(|r| r.alarm_names().len() == 50 && r.alarm_names()[0] == "a100")
                .then_output(|| {
                    DescribeAlarmsOutput::builder()
                        .metric_alarms(alarm("a149"))
                        .build()
                });
            let cloudwatch = engine(&[&first_page, &second_page, &last_batch]);
            let found = cloudwatch.alarms(&names).await.unwrap();
            let found: Vec<&str> = found.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(found, ["a000", "a099", "a149"]);
            assert_eq!(
                (
                    first_page.num_calls(),
                    second_page.num_calls(),
                    last_batch.num_calls()
                ),
                (1, 1, 1)
            );
        }

        fn query(i: usize) -> MetricQuery {
            MetricQuery {
                id: format!("q{i}"),
                namespace: "AWS/Lambda".into(),
                metric_name: "Errors".into(),
                dimensions: vec![MetricDimension::new("FunctionName", format!("f{i}"))],
                stat: "Sum".into(),
                period: 3_600,
            }
        }

        fn result(id: &str, points: &[(i64, f64)]) -> cw::MetricDataResult {
            cw::MetricDataResult::builder()
                .id(id)
                .set_timestamps(Some(
                    points.iter().map(|p| DateTime::from_secs(p.0)).collect(),
                ))
                .set_values(Some(points.iter().map(|p| p.1).collect()))
                .status_code(cw::StatusCode::Complete)
                .build()
        }

        #[tokio::test]
        async fn metric_queries_go_500_a_call_and_pages_continue_their_series() {
            let queries: Vec<MetricQuery> = (0..501).map(query).collect();
            let first_page = mock!(Client::get_metric_data)
                .match_requests(|r| {
                    r.metric_data_queries().len() == 500 && r.next_token().is_none()
                })
                .then_output(|| {
                    GetMetricDataOutput::builder()
                        .metric_data_results(result("q0", &[(1_000, 2.0)]))
                        .next_token("more")
                        .build()
                });
            let second_page = mock!(Client::get_metric_data)
                .match_requests(|r| r.next_token() == Some("more"))
                .then_output(|| {
                    GetMetricDataOutput::builder()
                        .metric_data_results(result("q0", &[(4_600, 3.0)]))
                        .build()
                });
            let last_batch = mock!(Client::get_metric_data)
                .match_requests(|r| {
                    r.metric_data_queries().len() == 1
                        && r.start_time().map(DateTime::secs) == Some(1_000)
                        && r.end_time().map(DateTime::secs) == Some(8_200)
                })
                .then_output(|| {
                    GetMetricDataOutput::builder()
                        .metric_data_results(result("q500", &[(1_000, 7.0)]))
                        .build()
                });
            let cloudwatch = engine(&[&first_page, &second_page, &last_batch]);
            let series = cloudwatch
                .metric_data(&queries, 1_000, 8_200)
                .await
                .unwrap();
            assert_eq!(series.len(), 501, "every query has a series, empty or not");
            assert_eq!(series["q0"].timestamps, [1_000, 4_600]);
            assert_eq!(series["q0"].values, [2.0, 3.0]);
            assert_eq!(series["q500"].values, [7.0]);
            assert!(series["q1"].values.is_empty());
            assert_eq!(
                (
                    first_page.num_calls(),
                    second_page.num_calls(),
                    last_batch.num_calls()
                ),
                (1, 1, 1)
            );
        }
    }
}

//! `GET /instances/{instanceId}/metrics?period=300&start=…&end=…`: an
//! instance's CPU, network, disk and status-check metrics from CloudWatch
//! (`GetMetricData`, all series in one call), oldest point first.

pub mod window;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
};
use fleet_shared::audit::AuditLog;
use fleet_shared::instances;
use fleet_shared::roles::{self, Role, Target};
use fleet_shared::Code;
use handler_support::log::Logger;
use handler_support::{ApiError, HttpHandler, Reply, Request};
use serde_json::{json, Map, Value};
use window::Window;

/// Each series: the answer's key (also the query id), EC2's metric name,
/// the statistic that makes sense for it, and its unit.
const SERIES: [(&str, &str, &str, &str); 10] = [
    ("cpuUtilization", "CPUUtilization", "Average", "Percent"),
    ("networkIn", "NetworkIn", "Sum", "Bytes"),
    ("networkOut", "NetworkOut", "Sum", "Bytes"),
    ("diskReadBytes", "DiskReadBytes", "Sum", "Bytes"),
    ("diskWriteBytes", "DiskWriteBytes", "Sum", "Bytes"),
    ("ebsReadBytes", "EBSReadBytes", "Sum", "Bytes"),
    ("ebsWriteBytes", "EBSWriteBytes", "Sum", "Bytes"),
    ("statusCheckFailed", "StatusCheckFailed", "Maximum", "Count"),
    (
        "statusCheckFailedInstance",
        "StatusCheckFailed_Instance",
        "Maximum",
        "Count",
    ),
    (
        "statusCheckFailedSystem",
        "StatusCheckFailed_System",
        "Maximum",
        "Count",
    ),
];

pub struct Metrics {
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub audit: AuditLog,
}

impl HttpHandler for Metrics {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::Unauthorized)?;
        if request.route != "GET /instances/{instanceId}/metrics" {
            return Err(ApiError::route_not_found(&request.route));
        }
        let id = instances::instance_id(request.path_param("instanceId"))?;
        let now = self.audit.clock.epoch_seconds();
        let window = window::window(&request, now, SERIES.len() as u64)?;
        let target = Target {
            resource_type: "EC2_INSTANCE",
            resource_id: id.into(),
        };
        roles::require(&self.audit, caller, &request, Role::ReadOnly, target, log).await?;
        // An unknown instance has no metrics either: say so instead of
        // answering empty series.
        instances::describe(&self.ec2, id).await?;
        let results = self.fetch(id, window).await?;
        Ok(Reply::ok(answer(id, window, &results)))
    }
}

impl Metrics {
    async fn fetch(&self, id: &str, w: Window) -> Result<Vec<MetricDataResult>, ApiError> {
        let queries: Vec<MetricDataQuery> = SERIES
            .iter()
            .map(|(key, name, stat, _)| query(key, name, stat, id, w.period))
            .collect();
        let mut results: Vec<MetricDataResult> = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from_secs(w.start as i64))
                .end_time(DateTime::from_secs(w.end as i64))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| cloudwatch_error(&e.into_service_error()))?;
            // A later page continues the same series: append to them.
            for r in page.metric_data_results() {
                match results.iter_mut().find(|have| have.id() == r.id()) {
                    Some(have) => *have = merged(have, r),
                    None => results.push(r.clone()),
                }
            }
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(String::from);
            if token.is_none() {
                return Ok(results);
            }
        }
    }
}

fn query(key: &str, name: &str, stat: &str, id: &str, period: u64) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace("AWS/EC2")
        .metric_name(name)
        .dimensions(Dimension::builder().name("InstanceId").value(id).build())
        .build();
    MetricDataQuery::builder()
        .id(key)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(period as i32)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

fn merged(first: &MetricDataResult, next: &MetricDataResult) -> MetricDataResult {
    let mut timestamps = first.timestamps().to_vec();
    timestamps.extend_from_slice(next.timestamps());
    let mut values = first.values().to_vec();
    values.extend_from_slice(next.values());
    MetricDataResult::builder()
        .set_id(first.id().map(String::from))
        .set_label(first.label().map(String::from))
        .set_timestamps(Some(timestamps))
        .set_values(Some(values))
        .set_status_code(next.status_code().cloned())
        .build()
}

fn answer(id: &str, w: Window, results: &[MetricDataResult]) -> Value {
    let iso = |t: &DateTime| t.fmt(DateTimeFormat::DateTime).unwrap_or_default();
    let mut metrics = Map::new();
    for (key, name, stat, unit) in SERIES {
        let found = results.iter().find(|r| r.id() == Some(key));
        let points: Vec<Value> = found
            .map(|r| {
                r.timestamps()
                    .iter()
                    .zip(r.values())
                    .map(|(t, v)| json!({"timestamp": iso(t), "value": v}))
                    .collect()
            })
            .unwrap_or_default();
        let complete = found
            .and_then(|r| r.status_code())
            .is_none_or(|s| s.as_str() == "Complete");
        metrics.insert(
            key.into(),
            json!({"metric": name, "stat": stat, "unit": unit, "complete": complete, "datapoints": points}),
        );
    }
    json!({
        "instanceId": id,
        "period": w.period,
        "start": iso(&DateTime::from_secs(w.start as i64)),
        "end": iso(&DateTime::from_secs(w.end as i64)),
        "metrics": metrics,
    })
}

fn cloudwatch_error(e: &impl ProvideErrorMetadata) -> ApiError {
    let code = e.code().unwrap_or_default();
    let cause = format!("CloudWatch {code}: {}", e.message().unwrap_or_default());
    match code {
        "Throttling" | "ThrottlingException" | "LimitExceeded" | "LimitExceededException" => {
            ApiError {
                cause: Some(cause),
                ..ApiError::new(
                    Code::TooManyRequests,
                    "CloudWatch is throttling requests; retry shortly",
                )
            }
        }
        _ => ApiError::internal(cause),
    }
}

//! CloudWatch metrics through the AWS SDK for Rust against the emulator
//! (tier `tier-emulator`). The SDK speaks Smithy RPC v2 CBOR to CloudWatch,
//! which moto 5.2.5 does not serve; the launcher translates it (fix 11 in
//! `scripts/emulator/moto_server.py`). Data put at several timestamps reads
//! back with GetMetricData at two periods and statistics, with its values and
//! timestamps; a request moto refuses comes back as a service error with
//! moto's code, not as a response the SDK cannot read.

mod support;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataError;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy, StatusCode,
};
use support::moto::Moto;

const INSTANCE: &str = "i-0123456789abcdef0";

fn instance() -> Dimension {
    Dimension::builder()
        .name("InstanceId")
        .value(INSTANCE)
        .build()
}

fn cpu() -> Metric {
    Metric::builder()
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .dimensions(instance())
        .build()
}

fn query(id: &str, period: i32, stat: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(cpu())
                .period(period)
                .stat(stat)
                .build(),
        )
        .build()
}

fn secs(times: &[DateTime]) -> Vec<i64> {
    times.iter().map(DateTime::secs).collect()
}

#[tokio::test]
async fn metric_data_round_trips_and_refusals_are_service_errors() {
    let moto = Moto::start();
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&moto.sdk_config().await);

    // An hour ago, on a 5-minute boundary: every period starts on one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let base = (now - 3600) / 300 * 300;
    let points = [
        (0, 10.0),
        (10, 30.0),
        (60, 25.0),
        (120, 35.0),
        (300, 40.0),
        (360, 60.0),
    ];
    let data = points.iter().map(|&(offset, value)| {
        MetricDatum::builder()
            .metric_name("CPUUtilization")
            .dimensions(instance())
            .timestamp(DateTime::from_secs(base + offset))
            .value(value)
            .unit(aws_sdk_cloudwatch::types::StandardUnit::Percent)
            .build()
    });
    cloudwatch
        .put_metric_data()
        .namespace("AWS/EC2")
        .set_metric_data(Some(data.collect()))
        .send()
        .await
        .expect("PutMetricData");

    let out = cloudwatch
        .get_metric_data()
        .start_time(DateTime::from_secs(base))
        .end_time(DateTime::from_secs(base + 600))
        .scan_by(ScanBy::TimestampAscending)
        .metric_data_queries(query("average", 60, "Average"))
        .metric_data_queries(query("maximum", 300, "Maximum"))
        .send()
        .await
        .expect("GetMetricData");
    let results = out.metric_data_results();
    assert_eq!(results.len(), 2, "{results:?}");
    let average = results
        .iter()
        .find(|r| r.id() == Some("average"))
        .expect("the average query's result");
    assert_eq!(average.status_code(), Some(&StatusCode::Complete));
    assert_eq!(
        secs(average.timestamps()),
        [0, 60, 120, 300, 360].map(|o| base + o)
    );
    assert_eq!(average.values(), [20.0, 25.0, 35.0, 40.0, 60.0]);
    let maximum = results
        .iter()
        .find(|r| r.id() == Some("maximum"))
        .expect("the maximum query's result");
    assert_eq!(secs(maximum.timestamps()), [base, base + 300]);
    assert_eq!(maximum.values(), [35.0, 60.0]);

    // EndTime before StartTime: moto's ValidationError, which CloudWatch's
    // model does not list for GetMetricData (so not a modeled variant).
    let err = cloudwatch
        .get_metric_data()
        .start_time(DateTime::from_secs(base + 600))
        .end_time(DateTime::from_secs(base))
        .metric_data_queries(query("average", 60, "Average"))
        .send()
        .await
        .expect_err("EndTime before StartTime is refused");
    let service = err
        .as_service_error()
        .unwrap_or_else(|| panic!("a service error, not {err:?}"));
    assert_eq!(service.code(), Some("ValidationError"), "{service:?}");
    assert_eq!(
        service.message(),
        Some("The parameter EndTime must be greater than StartTime.")
    );

    // Values and Counts of different lengths: the modeled
    // InvalidParameterValueException, typed.
    let err = cloudwatch
        .put_metric_data()
        .namespace("AWS/EC2")
        .metric_data(
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .values(1.0)
                .values(2.0)
                .counts(1.0)
                .build(),
        )
        .send()
        .await
        .expect_err("Values and Counts of different lengths are refused");
    let service = err
        .as_service_error()
        .unwrap_or_else(|| panic!("a service error, not {err:?}"));
    assert!(
        matches!(
            service,
            PutMetricDataError::InvalidParameterValueException(_)
        ),
        "{service:?}"
    );
    assert_eq!(service.code(), Some("InvalidParameterValue"));
}

//! The time window a metrics request asks for, checked against what
//! CloudWatch can answer (GetMetricData and GetMetricStatistics reference):
//!
//! - EC2's metrics are standard resolution: a period is a multiple of 60 s;
//! - data is kept at 1 minute for 15 days, 5 minutes for 63 days, 1 hour
//!   for 455 days: a start older than 15 (63) days needs a period that is a
//!   multiple of 300 (3600), and nothing older than 455 days exists;
//! - one GetMetricData call returns at most 100,800 data points over all
//!   its queries: a request that would need more is refused with the
//!   smallest period that fits, rather than truncated or split.

use fleet_shared::Code;
use handler_support::clock::parse_rfc3339;
use handler_support::{ApiError, Request};

const DAY: u64 = 86_400;
/// The range shown when the request names no start.
pub const DEFAULT_RANGE: u64 = 3 * 3600;
pub const MAX_DATAPOINTS: u64 = 100_800;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: u64,
    pub period: u64,
}

/// The window of `request` (`period` seconds, `start` and `end` as RFC 3339,
/// `end` defaulting to `now` and `start` to three hours before it) for
/// `series` metrics at once.
pub fn window(request: &Request, now: u64, series: u64) -> Result<Window, ApiError> {
    let invalid = |m: String| ApiError::new(Code::ValidationError, m);
    let period: u64 = request
        .query("period")
        .ok_or_else(|| invalid("period is required (seconds: 60, 300, 3600, ...)".into()))?
        .parse()
        .ok()
        .filter(|p| *p >= 60 && p % 60 == 0)
        .ok_or_else(|| {
            invalid(
                "period must be a whole number of minutes, in seconds (60, 300, 3600, ...)".into(),
            )
        })?;
    let time = |name: &str| -> Result<Option<u64>, ApiError> {
        request
            .query(name)
            .map(|t| {
                parse_rfc3339(t).ok_or_else(|| {
                    invalid(format!(
                        "{name} must be an RFC 3339 time such as 2026-11-23T03:19:05Z"
                    ))
                })
            })
            .transpose()
    };
    let end = time("end")?.unwrap_or(now);
    let start = time("start")?.unwrap_or(end.saturating_sub(DEFAULT_RANGE));
    if start >= end {
        return Err(invalid("start must be before end".into()));
    }
    if start > now {
        return Err(invalid("start is in the future".into()));
    }
    let age = now - start;
    let needed = match age {
        a if a > 455 * DAY => {
            return Err(invalid(
                "CloudWatch keeps metrics for 455 days: start is older than that".into(),
            ))
        }
        a if a > 63 * DAY => Some((3600, "63 days", "1 hour")),
        a if a > 15 * DAY => Some((300, "15 days", "5 minutes")),
        _ => None,
    };
    if let Some((multiple, older, resolution)) = needed {
        if !period.is_multiple_of(multiple) {
            return Err(invalid(format!(
                "data older than {older} is kept at {resolution} resolution: period must be a multiple of {multiple}"
            )));
        }
    }
    let points = (end - start).div_ceil(period) * series;
    if points > MAX_DATAPOINTS {
        let fits = ((end - start) * series)
            .div_ceil(MAX_DATAPOINTS)
            .div_ceil(60)
            * 60;
        return Err(invalid(format!(
            "{points} data points asked for; CloudWatch answers at most {MAX_DATAPOINTS} per request: use a period of at least {fits} seconds or a shorter range"
        )));
    }
    Ok(Window { start, end, period })
}

#[cfg(test)]
mod tests {
    use super::*;
    use handler_support::http::PayloadFormat;

    const NOW: u64 = 1_795_403_945; // 2026-11-23T03:19:05Z

    fn ask(query: &[(&str, &str)]) -> Result<Window, ApiError> {
        let request = Request {
            route: "GET /instances/{instanceId}/metrics".into(),
            path: String::new(),
            headers: Default::default(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            path_parameters: Default::default(),
            body: None,
            caller: None,
            request_id: String::new(),
            format: PayloadFormat::Rest1,
            source_ip: None,
            user_agent: None,
        };
        window(&request, NOW, 10)
    }

    fn refused(query: &[(&str, &str)], wanted: &str) {
        let e = ask(query).unwrap_err();
        assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"), "{query:?}");
        assert!(e.message.contains(wanted), "{query:?}: {}", e.message);
    }

    #[test]
    fn defaults_to_the_last_three_hours() {
        assert_eq!(
            ask(&[("period", "300")]).unwrap(),
            Window {
                start: NOW - 3 * 3600,
                end: NOW,
                period: 300
            }
        );
        let w = ask(&[
            ("period", "60"),
            ("start", "2026-11-23T00:00:00Z"),
            ("end", "2026-11-23T01:00:00+00:00"),
        ])
        .unwrap();
        assert_eq!((w.end - w.start, w.period), (3600, 60));
    }

    #[test]
    fn periods_are_whole_minutes() {
        refused(&[], "period is required");
        for bad in ["0", "30", "90", "-60", "1e3", "five"] {
            refused(&[("period", bad)], "whole number of minutes");
        }
    }

    #[test]
    fn times_must_be_ordered_and_past() {
        refused(
            &[("period", "60"), ("start", "yesterday")],
            "start must be an RFC 3339",
        );
        refused(
            &[("period", "60"), ("end", "2026-11-23T03:19:05")],
            "end must be an RFC 3339",
        );
        refused(
            &[
                ("period", "60"),
                ("start", "2026-11-23T02:00:00Z"),
                ("end", "2026-11-23T01:00:00Z"),
            ],
            "before end",
        );
        refused(
            &[
                ("period", "60"),
                ("start", "2026-11-24T00:00:00Z"),
                ("end", "2026-11-25T00:00:00Z"),
            ],
            "future",
        );
    }

    #[test]
    fn older_data_needs_coarser_periods() {
        let days_ago = |d: u64| handler_support::clock::rfc3339(NOW - d * DAY);
        let start = days_ago(20);
        refused(
            &[("period", "60"), ("start", &start), ("end", &days_ago(19))],
            "multiple of 300",
        );
        assert!(ask(&[("period", "300"), ("start", &start), ("end", &days_ago(19))]).is_ok());
        let start = days_ago(100);
        refused(
            &[("period", "300"), ("start", &start), ("end", &days_ago(99))],
            "multiple of 3600",
        );
        assert!(ask(&[
            ("period", "3600"),
            ("start", &start),
            ("end", &days_ago(99))
        ])
        .is_ok());
        refused(&[("period", "3600"), ("start", &days_ago(456))], "455 days");
    }

    #[test]
    fn one_call_must_hold_every_data_point() {
        // Ten series over 7 days at 60 s: 100,800 points, the most one call returns.
        let week = handler_support::clock::rfc3339(NOW - 7 * DAY);
        assert!(ask(&[("period", "60"), ("start", &week)]).is_ok());
        let longer = handler_support::clock::rfc3339(NOW - 7 * DAY - 60);
        refused(
            &[("period", "60"), ("start", &longer)],
            "at least 120 seconds",
        );
        assert!(ask(&[("period", "120"), ("start", &longer)]).is_ok());
    }
}

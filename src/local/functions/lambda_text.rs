//! The words Lambda uses: its error bodies, its platform log lines, its log
//! stream names and trace ids, so that what `local` shows reads as what
//! the deployed function would show.

use super::Invoked;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, SystemTime};

/// Lambda's limit on a response, as its error message states it.
const RESPONSE_LIMIT_BYTES: usize = 6_291_556;

/// `{"errorType": …, "errorMessage": "RequestId: … Error: …"}`, the body
/// of the errors Lambda itself raises for an invocation.
pub(super) fn error_body(error_type: &str, request_id: &str, message: &str) -> Vec<u8> {
    serde_json::json!({
        "errorType": error_type,
        "errorMessage": format!("RequestId: {request_id} Error: {message}"),
    })
    .to_string()
    .into_bytes()
}

/// The body of an invocation whose process exited or was killed.
pub(super) fn exit_error_body(error_type: &str, request_id: &str, reason: &str) -> Vec<u8> {
    error_body(
        error_type,
        request_id,
        &format!("Runtime exited with error: {reason}"),
    )
}

pub(super) fn response_too_large_body() -> Vec<u8> {
    serde_json::json!({
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": format!("Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT_BYTES} bytes)."),
    })
    .to_string()
    .into_bytes()
}

/// How an exit reads in Lambda's messages (Go's wording): `exit status 2`,
/// `signal: killed`.
pub(super) fn exit_reason(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(9) => "signal: killed".into(),
        Some(6) => "signal: aborted".into(),
        Some(11) => "signal: segmentation fault".into(),
        Some(15) => "signal: terminated".into(),
        Some(other) => format!("signal: {other}"),
        None => "exited".into(),
    }
}

/// `2020-11-10T05:46:57.874Z <request id> Task timed out after 3.00 seconds`:
/// Lambda's log line and, as `errorMessage`, the caller's answer.
pub(super) fn timed_out_line(request_id: &str, at: SystemTime, timeout: Duration) -> String {
    format!(
        "{} {request_id} Task timed out after {:.2} seconds",
        utc_timestamp(at),
        timeout.as_secs_f64()
    )
}

pub(super) fn start_line(request_id: &str) -> String {
    format!("START RequestId: {request_id} Version: $LATEST")
}

pub(super) fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

pub(super) fn report_line(invoked: &Invoked, memory_size_mb: u32) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut line = format!(
        "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory_size_mb} MB\tMax Memory Used: {} MB",
        invoked.request_id,
        ms(invoked.duration),
        ms(invoked.duration).ceil() as u64,
        invoked.max_memory_mb,
    );
    if let Some(init) = invoked.init_duration {
        line.push_str(&format!("\tInit Duration: {:.2} ms", ms(init)));
    }
    line
}

/// `2024/05/01/[$LATEST]` and 32 hex digits, as Lambda names a stream.
pub(super) fn log_stream_name(now: SystemTime) -> String {
    let (year, month, day) = civil_date(epoch(now).as_secs() / 86_400);
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{year:04}/{month:02}/{day:02}/[$LATEST]{random}")
}

/// An X-Ray trace header (`Root=1-<epoch hex>-<24 hex>`), not sampled.
pub(super) fn trace_id(request_id: &str, now: SystemTime) -> String {
    let unique: String = request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(24)
        .collect();
    format!(
        "Root=1-{:08x}-{unique:0>24};Sampled=0",
        epoch(now).as_secs()
    )
}

/// `2020-11-10T05:46:57.874Z`.
pub(super) fn utc_timestamp(at: SystemTime) -> String {
    let since = epoch(at);
    let seconds = since.as_secs();
    let (year, month, day) = civil_date(seconds / 86_400);
    let in_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600,
        in_day % 3_600 / 60,
        in_day % 60,
        since.subsec_millis()
    )
}

fn epoch(at: SystemTime) -> Duration {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// The (year, month, day) `days` after 1970-01-01, counted out year by
/// year and month by month: plain to check, and fast enough for a clock.
fn civil_date(mut days: u64) -> (u64, u64, u64) {
    let leap = |year: u64| {
        (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
    };
    let mut year = 1970;
    while days >= 365 + u64::from(leap(year)) {
        days -= 365 + u64::from(leap(year));
        year += 1;
    }
    let february = 28 + u64::from(leap(year));
    let lengths = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 1;
    for length in lengths {
        if days < length {
            break;
        }
        days -= length;
        month += 1;
    }
    (year, month, days + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, millis: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(seconds * 1000 + millis)
    }

    #[test]
    fn dates_read_as_lambda_writes_them() {
        let cases = [
            ((0, 0), "1970-01-01T00:00:00.000Z"),
            ((1_604_987_217, 874), "2020-11-10T05:46:57.874Z"),
            // 2024 is a leap year; 2100 is not.
            ((1_709_164_800, 1), "2024-02-29T00:00:00.001Z"),
            ((4_107_542_400, 0), "2100-03-01T00:00:00.000Z"),
            ((1_767_225_599, 999), "2025-12-31T23:59:59.999Z"),
        ];
        for ((seconds, millis), expected) in cases {
            assert_eq!(utc_timestamp(at(seconds, millis)), expected);
        }
    }

    #[test]
    fn the_timeout_line_is_lambdas() {
        let line = timed_out_line(
            "160788cd-45ff",
            at(1_604_987_217, 874),
            Duration::from_secs(3),
        );
        assert_eq!(
            line,
            "2020-11-10T05:46:57.874Z 160788cd-45ff Task timed out after 3.00 seconds"
        );
    }

    #[test]
    fn stream_names_and_trace_ids_have_lambdas_shape() {
        let name = log_stream_name(at(1_604_987_217, 0));
        let (date, random) = name.split_once("[$LATEST]").unwrap();
        assert_eq!(date, "2020/11/10/");
        assert_eq!(random.len(), 32);
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{random}");
        let trace = trace_id("1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b", at(1_604_987_217, 0));
        assert_eq!(trace, "Root=1-5faa2951-1b2c3d4e5f6047188a9b0c1d;Sampled=0");
    }

    #[test]
    fn exits_are_worded_as_lambda_words_them() {
        assert_eq!(exit_reason(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(exit_reason(ExitStatus::from_raw(9)), "signal: killed");
        let body = exit_error_body("Runtime.ExitError", "id-1", "exit status 3");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-1 Error: Runtime exited with error: exit status 3"}"#
        );
    }
}

//! How `logs` prints a line: `HH:MM:SS.mmm name  message` for people (UTC,
//! with the date when the span crosses days; a message of several lines
//! keeps its lines under the message column), one JSON object per line for
//! scripts. Nothing here does I/O.

use crate::engine::logs::LogEvent;
use crate::local::utc::Utc;
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

/// The columns, fixed for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// The widest function or API name.
    pub name_width: usize,
    /// Print the date before the time.
    pub date: bool,
}

impl Columns {
    /// Columns for lines of `names` written between `start_ms` and `end_ms`.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>, start_ms: i64, end_ms: i64) -> Self {
        Columns {
            name_width: names
                .into_iter()
                .map(|n| n.chars().count())
                .max()
                .unwrap_or(0),
            date: start_ms.div_euclid(DAY_MS) != end_ms.div_euclid(DAY_MS),
        }
    }
}

/// `13:49:38.123 hello   message`, each further line of the message
/// indented to the message column; the trailing newline dropped.
pub fn human_line(event: &LogEvent, name: &str, columns: Columns) -> String {
    let stamp = time_text(event.timestamp_ms, columns.date);
    let prefix = format!("{stamp} {name:<width$}  ", width = columns.name_width);
    let indent = " ".repeat(prefix.chars().count());
    let mut text = prefix;
    for (i, line) in trimmed(&event.message).split('\n').enumerate() {
        if i > 0 {
            text.push('\n');
            text.push_str(&indent);
        }
        text.push_str(line.strip_suffix('\r').unwrap_or(line));
    }
    text
}

/// One JSON object: timestamp (RFC 3339, milliseconds, UTC), group,
/// stream, function (the stack-file name) and message.
pub fn json_line(event: &LogEvent, name: &str) -> String {
    json!({
        "timestamp": rfc3339(event.timestamp_ms),
        "group": event.group,
        "stream": event.stream,
        "function": name,
        "message": trimmed(&event.message),
    })
    .to_string()
}

/// The message without the newline(s) it was written with.
fn trimmed(message: &str) -> &str {
    message.trim_end_matches(['\n', '\r'])
}

fn parts(timestamp_ms: i64) -> (Utc, i64) {
    let ms = timestamp_ms.max(0);
    (Utc::from_epoch_s((ms / 1_000) as u64), ms % 1_000)
}

fn time_text(timestamp_ms: i64, date: bool) -> String {
    let (t, ms) = parts(timestamp_ms);
    let time = format!("{:02}:{:02}:{:02}.{ms:03}", t.hour, t.minute, t.second);
    if date {
        format!("{:04}-{:02}-{:02} {time}", t.year, t.month, t.day)
    } else {
        time
    }
}

fn rfc3339(timestamp_ms: i64) -> String {
    let (t, ms) = parts(timestamp_ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-03 13:49:38.042 UTC
    const AT: i64 = 1_796_305_778_042;

    fn event(message: &str) -> LogEvent {
        LogEvent {
            group: "/aws/lambda/shop-dev-orders".into(),
            stream: "2026/12/03/[$LATEST]abc".into(),
            timestamp_ms: AT,
            event_id: "1".into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_line_is_time_name_and_message_without_its_newline() {
        let columns = Columns::new(["orders", "api"], AT - 600_000, AT);
        assert_eq!(
            human_line(&event("order placed\n"), "api", columns),
            "13:49:38.042 api     order placed"
        );
    }

    #[test]
    fn further_lines_of_a_message_stay_under_the_message_column() {
        let columns = Columns::new(["orders"], AT, AT);
        assert_eq!(
            human_line(
                &event("panicked at src/main.rs:3\r\n  backtrace\n\n"),
                "orders",
                columns
            ),
            "13:49:38.042 orders  panicked at src/main.rs:3\n                       backtrace",
            "the message column is 21 wide; the line's own two spaces follow"
        );
    }

    #[test]
    fn the_date_is_shown_when_the_span_crosses_midnight() {
        let columns = Columns::new(["orders"], AT - DAY_MS, AT);
        assert!(columns.date);
        assert_eq!(
            human_line(&event("x"), "orders", columns),
            "2026-12-03 13:49:38.042 orders  x"
        );
        assert!(!Columns::new(["orders"], AT - 3_600_000, AT).date);
    }

    #[test]
    fn json_lines_carry_every_field() {
        let line: serde_json::Value =
            serde_json::from_str(&json_line(&event("a \"quoted\" line\n"), "orders")).unwrap();
        assert_eq!(
            line,
            json!({
                "timestamp": "2026-12-03T13:49:38.042Z",
                "group": "/aws/lambda/shop-dev-orders",
                "stream": "2026/12/03/[$LATEST]abc",
                "function": "orders",
                "message": "a \"quoted\" line",
            })
        );
    }
}

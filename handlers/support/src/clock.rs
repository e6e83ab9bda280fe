//! Time as a dependency: handlers ask the clock they were given, so tests
//! run at a fixed instant and their answers can be compared exactly.

use std::time::{SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn epoch_seconds(&self) -> u64;

    /// The time as RFC 3339 text in UTC, such as `2026-11-23T03:19:05Z`.
    fn timestamp(&self) -> String {
        rfc3339(self.epoch_seconds())
    }

    /// Milliseconds since the Unix epoch; clocks that only know seconds
    /// answer the start of the second.
    fn epoch_millis(&self) -> u64 {
        self.epoch_seconds() * 1000
    }

    /// The time as RFC 3339 text with milliseconds, such as
    /// `2026-11-23T03:19:05.123Z`: the form JavaScript's `toISOString`
    /// writes, which sorts as text in time order.
    fn timestamp_millis(&self) -> String {
        rfc3339_millis(self.epoch_millis())
    }
}

/// The machine's clock: what a deployed function uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn epoch_seconds(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
    fn epoch_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that always reads the same instant (epoch seconds).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn epoch_seconds(&self) -> u64 {
        self.0
    }
}

/// `2026-11-23T03:19:05Z` for epoch seconds (civil-from-days, proleptic Gregorian).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `2026-11-23T03:19:05.123Z` for epoch milliseconds.
pub fn rfc3339_millis(ms: u64) -> String {
    let seconds = rfc3339(ms / 1000);
    format!("{}.{:03}Z", &seconds[..seconds.len() - 1], ms % 1000)
}

/// Epoch milliseconds of an RFC 3339 time, its fraction of a second kept
/// to the millisecond (`2026-11-23T03:19:05.123Z`); see [`parse_rfc3339`].
pub fn parse_rfc3339_millis(text: &str) -> Option<u64> {
    let seconds = parse_rfc3339(text)?;
    let fraction = text
        .split_once(['T', 't'])
        .and_then(|(_, time)| time.split_once('.'))
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .chain(std::iter::repeat('0'))
                .take(3)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse::<u64>().ok())
        .unwrap_or(0);
    Some(seconds * 1000 + fraction)
}

/// Epoch seconds of an RFC 3339 time (`2026-11-23T03:19:05Z`, with or
/// without fractions, `Z` or an offset such as `+02:00`) or of a bare date
/// (`2026-11-23`, midnight UTC); `None` for anything else, including
/// impossible dates and times before 1970.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let digits = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (date, time) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (digits(y)?, digits(m)?, digits(d)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let mut seconds = days_from_civil(y, m, d) * 86_400;
    if let Some(time) = time {
        let (clock, offset) = split_offset(time)?;
        let clock = clock.split('.').next()?;
        let mut hms = clock.split(':');
        let (h, mi, s) = (hms.next()?, hms.next()?, hms.next()?);
        if hms.next().is_some() || h.len() != 2 || mi.len() != 2 || s.len() != 2 {
            return None;
        }
        let (h, mi, s) = (digits(h)?, digits(mi)?, digits(s)?);
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        seconds += h * 3600 + mi * 60 + s - offset;
    }
    u64::try_from(seconds).ok()
}

/// The clock part and the offset in seconds of `HH:MM:SS[.f](Z|±HH:MM)`;
/// the fraction must be digits.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, o) = time.split_at(at);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (oh, om) = o[1..].split_once(':')?;
        if oh.len() != 2 || om.len() != 2 {
            return None;
        }
        let (oh, om): (i64, i64) = (oh.parse().ok()?, om.parse().ok()?);
        if oh > 23 || om > 59 {
            return None;
        }
        (c, sign * (oh * 3600 + om * 60))
    };
    if let Some((_, fraction)) = clock.split_once('.') {
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some((clock, offset))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (days-from-civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_403_945), "2026-11-23T03:19:05Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(
            FixedClock(1_795_403_945).timestamp(),
            "2026-11-23T03:19:05Z"
        );
    }

    #[test]
    fn formats_milliseconds() {
        struct At(u64);
        impl Clock for At {
            fn epoch_seconds(&self) -> u64 {
                self.0 / 1000
            }
            fn epoch_millis(&self) -> u64 {
                self.0
            }
        }
        assert_eq!(
            At(1_795_403_945_007).timestamp_millis(),
            "2026-11-23T03:19:05.007Z"
        );
        assert_eq!(
            FixedClock(1_795_403_945).timestamp_millis(),
            "2026-11-23T03:19:05.000Z"
        );
    }

    #[test]
    fn parses_milliseconds() {
        let base = parse_rfc3339("2026-11-23T03:19:05Z").unwrap() * 1000;
        assert_eq!(
            parse_rfc3339_millis("2026-11-23T03:19:05.1Z"),
            Some(base + 100)
        );
        assert_eq!(
            parse_rfc3339_millis("2026-11-23T03:19:05.123456Z"),
            Some(base + 123)
        );
        assert_eq!(parse_rfc3339_millis("2026-11-23T03:19:05Z"), Some(base));
        assert_eq!(
            parse_rfc3339_millis("2026-11-23T03:19:05.5+01:00"),
            Some(base - 3_600_000 + 500)
        );
    }

    #[test]
    fn parses_times_and_dates() {
        for (text, secs) in [
            ("2026-11-23T03:19:05Z", 1_795_403_945),
            ("2026-11-23T03:19:05.123Z", 1_795_403_945),
            ("2026-11-23T05:19:05+02:00", 1_795_403_945),
            ("2026-11-23T01:19:05-02:00", 1_795_403_945),
            ("2026-11-23", 1_795_392_000),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("1970-01-01T00:00:00Z", 0),
        ] {
            assert_eq!(parse_rfc3339(text), Some(secs), "{text}");
            assert_eq!(rfc3339(secs), rfc3339(parse_rfc3339(text).unwrap()));
        }
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-29",
            "2026-11-23T25:00:00Z",
            "2026-11-23T03:19:05",
            "2026-11-23T03:19:05.Z",
            "2026-11-23T03:19Z",
            "1969-12-31T23:59:59Z",
            "+2026-11-23",
            "2026-11-23T03:19:05+2:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_system_clock_reads_now() {
        // After 2026-01-01, whenever this runs.
        assert!(SystemClock.epoch_seconds() > 1_767_225_600);
    }
}

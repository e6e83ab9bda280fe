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
    fn the_system_clock_reads_now() {
        // After 2026-01-01, whenever this runs.
        assert!(SystemClock.epoch_seconds() > 1_767_225_600);
    }
}

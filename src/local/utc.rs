//! A moment as the calendar fields API Gateway writes dates with (its
//! `requestContext.time`, the REST authorizer's `exp` claims), in UTC.

/// English month abbreviations, as both formats use them.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// Weekday abbreviations, starting from 1970-01-01 (a Thursday).
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    /// 1 to 12.
    pub month: i64,
    pub day: i64,
    pub hour: u64,
    pub minute: u64,
    pub second: u64,
    days_since_epoch: u64,
}

impl Utc {
    pub fn from_epoch_s(epoch_s: u64) -> Utc {
        let (days, in_day) = (epoch_s / 86_400, epoch_s % 86_400);
        // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day: doy - (153 * mp + 2) / 5 + 1,
            hour: in_day / 3_600,
            minute: in_day % 3_600 / 60,
            second: in_day % 60,
            days_since_epoch: days,
        }
    }

    pub fn month_name(&self) -> &'static str {
        MONTHS[(self.month - 1) as usize]
    }

    pub fn weekday_name(&self) -> &'static str {
        WEEKDAYS[(self.days_since_epoch % 7) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_across_leap_days_and_centuries() {
        let t = Utc::from_epoch_s(951_782_400); // 2000-02-29 00:00:00, a Tuesday
        assert_eq!(
            (t.year, t.month, t.day, t.weekday_name()),
            (2000, 2, 29, "Tue")
        );
        let t = Utc::from_epoch_s(1_764_700_000); // 2025-12-02 18:26:40
        assert_eq!(
            (t.year, t.month_name(), t.day, t.hour, t.minute, t.second),
            (2025, "Dec", 2, 18, 26, 40)
        );
        assert_eq!(Utc::from_epoch_s(0).weekday_name(), "Thu");
    }
}

//! Days and dates for reports: Unix milliseconds to UTC day numbers, and `YYYY-MM-DD` dates
//! (as invoices store `due_on`) to the same day numbers, with no clock and no date crate.
//!
//! ```text
//! assert_eq!(day_of(0), 0);
//! assert_eq!(day_number("1970-01-02"), Some(1));
//! ```

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since 1970-01-01) that contains `unix_ms`.
pub(crate) fn day_of(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(DAY_MS)
}

/// The day number of a `YYYY-MM-DD` date (anything after the first ten characters, such as a
/// time, is ignored); `None` when it is not a calendar date.
pub(crate) fn day_number(date: &str) -> Option<i64> {
    let date = crate::civil_date::CivilDate::parse(date.trim().get(..10)?)?;
    Some(day_of(date.unix_ms()))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_days_from_the_epoch() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("1970-02-01"), Some(31));
        // 30 years of 365 days plus 7 leap days (72, 76, 80, 84, 88, 92, 96), then Jan + Feb 2000.
        assert_eq!(day_number("2000-03-01"), Some(30 * 365 + 7 + 31 + 29));
        assert_eq!(day_number("1969-12-31"), Some(-1));
        // 56 years, 14 of them leap (1972 … 2024, 2000 included).
        assert_eq!(day_number("2026-01-01"), Some(56 * 365 + 14));
        assert_eq!(day_number("2026-03-15T10:00:00Z"), day_number("2026-03-15"));
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        assert_eq!(day_number("2023-02-29"), None);
        assert_eq!(
            day_number("2024-02-29").map(|d| d - 1),
            day_number("2024-02-28")
        );
        assert_eq!(day_number("2026-13-01"), None);
        assert_eq!(day_number("26-3-1"), None);
        assert_eq!(day_number(""), None);
        assert_eq!(day_number("soon"), None);
    }

    #[test]
    fn days_of_instants_round_down() {
        assert_eq!(day_of(DAY_MS - 1), 0);
        assert_eq!(day_of(DAY_MS), 1);
        assert_eq!(day_of(-1), -1);
    }
}

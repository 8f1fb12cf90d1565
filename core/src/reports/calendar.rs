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
    let date = date.trim();
    let head = date.get(..10)?;
    let mut parts = head.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let year: i64 = year.parse().ok()?;
    let month: i64 = month.parse().ok()?;
    let day: i64 = day.parse().ok()?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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

//! Calendar dates in UTC, by hand: the core takes no date crate for four small conversions.
//!
//! The day arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (<https://howardhinnant.github.io/date_algorithms.html>), exact for the proleptic Gregorian
//! calendar over the whole `i64` range of Unix milliseconds.

const MS_PER_DAY: i64 = 86_400_000;

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CivilDate {
    pub(crate) year: i64,
    /// 1 to 12.
    pub(crate) month: u32,
    /// 1 to 31.
    pub(crate) day: u32,
}

impl CivilDate {
    /// The UTC day that contains `unix_ms`.
    pub(crate) fn from_unix_ms(unix_ms: i64) -> Self {
        civil_from_days(unix_ms.div_euclid(MS_PER_DAY))
    }

    /// Parses `YYYY-MM-DD` (four-digit year, a day that exists in that month).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(year) && all_digits(month) && all_digits(day)) {
            return None;
        }
        let date = Self {
            year: year.parse().ok()?,
            month: month.parse().ok()?,
            day: day.parse().ok()?,
        };
        let valid = (1..=12).contains(&date.month)
            && date.day >= 1
            && date.day <= days_in_month(date.year, date.month);
        valid.then_some(date)
    }

    /// Unix ms of midnight UTC that starts this day.
    pub(crate) fn unix_ms(self) -> i64 {
        days_from_civil(self).saturating_mul(MS_PER_DAY)
    }

    /// The year, clamped into `i32`.
    pub(crate) fn year_i32(self) -> i32 {
        i32::try_from(self.year).unwrap_or(if self.year < 0 { i32::MIN } else { i32::MAX })
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of `date`.
fn days_from_civil(date: CivilDate) -> i64 {
    let month = i64::from(date.month);
    let year = if month <= 2 { date.year - 1 } else { date.year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // [0, 399]
    let month_from_march = (month + 9) % 12; // March = 0
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(date.day) - 1; // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> CivilDate {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // [0, 11]
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // [1, 31]
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    CivilDate {
        year,
        // Both are within u32 by construction; the fallbacks are never taken.
        month: u32::try_from(month).unwrap_or(1),
        day: u32::try_from(day).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i64, month: u32, day: u32) -> CivilDate {
        CivilDate { year, month, day }
    }

    #[test]
    fn known_days_convert_both_ways() {
        let known = [
            (0, date(1970, 1, 1)),
            (-1, date(1969, 12, 31)),
            (11_016, date(2000, 2, 29)),
            (19_723, date(2024, 1, 1)),
            (20_513, date(2026, 3, 1)),
            (-719_468, date(0, 3, 1)),
        ];
        for (days, civil) in known {
            assert_eq!(civil_from_days(days), civil, "{days}");
            assert_eq!(days_from_civil(civil), days, "{civil:?}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips_in_order() {
        let mut previous = civil_from_days(-80_000);
        for days in -79_999..80_000 {
            let civil = civil_from_days(days);
            assert!(civil > previous, "{civil:?} after {previous:?}");
            assert!(civil.day <= days_in_month(civil.year, civil.month));
            assert_eq!(days_from_civil(civil), days);
            previous = civil;
        }
    }

    #[test]
    fn milliseconds_before_the_epoch_fall_on_the_previous_day() {
        assert_eq!(CivilDate::from_unix_ms(-1), date(1969, 12, 31));
        assert_eq!(CivilDate::from_unix_ms(86_399_999), date(1970, 1, 1));
        assert_eq!(CivilDate::from_unix_ms(86_400_000), date(1970, 1, 2));
        // 2026-12-31T23:59:59.999Z and the next millisecond.
        assert_eq!(
            CivilDate::from_unix_ms(1_798_761_599_999),
            date(2026, 12, 31)
        );
        assert_eq!(CivilDate::from_unix_ms(1_798_761_600_000), date(2027, 1, 1));
    }

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(CivilDate::parse("2026-03-01"), Some(date(2026, 3, 1)));
        assert_eq!(CivilDate::parse(" 2024-02-29 "), Some(date(2024, 2, 29)));
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "26-01-01",
            "2026-1-01",
            "2026-01-01T00:00",
            "2026/01/01",
            "",
            "+026-01-01",
        ] {
            assert_eq!(CivilDate::parse(bad), None, "{bad}");
        }
        assert_eq!(date(2026, 3, 1).unix_ms(), 1_772_323_200_000);
    }
}

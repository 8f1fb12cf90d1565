//! The company's calendar: which day and month an instant falls in where the company keeps its
//! books. An invoice posted at 00:30 on New Year's Day in Budapest is 23:30 on 31 December in
//! UTC; its legal number and its journal period follow Budapest.
//!
//! The time zone database is jiff's bundled copy of the IANA database, so the server and a
//! phone decide the same day, and core reads no file.
//!
//! ```
//! use itinera_core::rules::CompanyCalendar;
//!
//! let budapest = CompanyCalendar::new("Europe/Budapest")?;
//! // 2026-12-31T23:30:00Z is already 2027 in Budapest.
//! let instant = 1_798_759_800_000;
//! assert_eq!(budapest.date_of(instant), "2027-01-01");
//! assert_eq!(CompanyCalendar::utc().date_of(instant), "2026-12-31");
//! assert_eq!(budapest.period_of(instant), "2027-01");
//! assert!(CompanyCalendar::new("Mars/Olympus_Mons").is_err());
//! # Ok::<(), itinera_core::rules::CalendarError>(())
//! ```

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::civil_date::CivilDate;

/// Why a time zone name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a time zone of the IANA database (such as Europe/Budapest): {reason}")]
pub struct CalendarError {
    /// The name given.
    pub name: String,
    /// What the database said.
    pub reason: String,
}

/// Days and months in the company's time zone.
#[derive(Debug, Clone)]
pub struct CompanyCalendar {
    name: String,
    zone: TimeZone,
}

impl PartialEq for CompanyCalendar {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl CompanyCalendar {
    /// The calendar of the IANA zone `name` (`Europe/Budapest`).
    pub fn new(name: &str) -> Result<Self, CalendarError> {
        let zone = jiff::tz::db().get(name).map_err(|err| CalendarError {
            name: name.to_owned(),
            reason: err.to_string(),
        })?;
        Ok(Self {
            name: name.to_owned(),
            zone,
        })
    }

    /// Coordinated universal time.
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            zone: TimeZone::UTC,
        }
    }

    /// The zone's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn date(&self, unix_ms: i64) -> Option<Date> {
        let instant = Timestamp::from_millisecond(unix_ms).ok()?;
        Some(instant.to_zoned(self.zone.clone()).date())
    }

    /// The day (`YYYY-MM-DD`) that contains `unix_ms` here. Instants beyond what the calendar
    /// represents (before year -9999 or after 9999) fall back to the UTC day.
    pub fn date_of(&self, unix_ms: i64) -> String {
        match self.date(unix_ms) {
            Some(date) => format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()),
            None => {
                let date = CivilDate::from_unix_ms(unix_ms);
                format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
            }
        }
    }

    /// The month (`YYYY-MM`) that contains `unix_ms` here: the journal period.
    pub fn period_of(&self, unix_ms: i64) -> String {
        let mut date = self.date_of(unix_ms);
        date.truncate(7);
        date
    }

    /// The year that contains `unix_ms` here.
    pub fn year_of(&self, unix_ms: i64) -> i32 {
        match self.date(unix_ms) {
            Some(date) => i32::from(date.year()),
            None => CivilDate::from_unix_ms(unix_ms).year_i32(),
        }
    }

    /// Unix ms of the midnight that starts `date` (`YYYY-MM-DD`) here; `None` if it is not a
    /// date. A day that starts at 01:00 (a DST gap at midnight) starts at its first instant.
    pub fn start_of(&self, date: &str) -> Option<i64> {
        let civil = CivilDate::parse(date)?;
        let year = i16::try_from(civil.year).ok()?;
        let month = i8::try_from(civil.month).ok()?;
        let day = i8::try_from(civil.day).ok()?;
        let date = Date::new(year, month, day).ok()?;
        let zoned = date.to_zoned(self.zone.clone()).ok()?;
        Some(zoned.timestamp().as_millisecond())
    }
}

/// The month (`YYYY-MM`) of a date written `YYYY-MM-DD`, if it is one.
pub fn period_of_date(date: &str) -> Option<String> {
    CivilDate::parse(date).map(|civil| format!("{:04}-{:02}", civil.year, civil.month))
}

/// The month after `period` (`YYYY-MM`), or `None` if it is not a month.
pub fn next_period(period: &str) -> Option<String> {
    let (year, month) = period.split_once('-')?;
    let (year, month): (i64, u32) = (year.parse().ok()?, month.parse().ok()?);
    if !(1..=12).contains(&month) || period.len() != 7 {
        return None;
    }
    Some(if month == 12 {
        format!("{:04}-01", year + 1)
    } else {
        format!("{year:04}-{:02}", month + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_local_midnight() {
        let budapest = CompanyCalendar::new("Europe/Budapest").expect("zone");
        // Winter: UTC+1.
        assert_eq!(budapest.start_of("2026-01-15"), Some(1_768_431_600_000));
        assert_eq!(
            budapest.date_of(1_768_431_600_000),
            "2026-01-15",
            "midnight belongs to its day"
        );
        assert_eq!(budapest.date_of(1_768_431_599_999), "2026-01-14");
        assert_eq!(budapest.start_of("2026-02-30"), None);
    }

    #[test]
    fn periods_follow_each_other() {
        assert_eq!(next_period("2026-11").as_deref(), Some("2026-12"));
        assert_eq!(next_period("2026-12").as_deref(), Some("2027-01"));
        assert_eq!(next_period("2026-13"), None);
        assert_eq!(next_period("junk"), None);
        assert_eq!(period_of_date("2026-03-01").as_deref(), Some("2026-03"));
        assert_eq!(period_of_date("2026-03-01T10:00:00Z"), None);
    }
}

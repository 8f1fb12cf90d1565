//! The company's conventions as the authority applies them: its calendar, its invoice series,
//! the region of its phone numbers and how far back a date may go without office's approval.

use itinera_core::rules::{CalendarError, CompanyCalendar};

use crate::config::CompanySettings;

const DAY_MS: i64 = 86_400_000;

/// [`CompanySettings`], checked and ready to decide with.
#[derive(Debug, Clone)]
pub struct CompanyRules {
    pub calendar: CompanyCalendar,
    series: Vec<String>,
    region: Option<String>,
    backdate_limit_ms: i64,
}

impl CompanyRules {
    /// The rules of `settings`; an unknown time zone is refused with the name given.
    pub fn new(settings: &CompanySettings) -> Result<Self, CalendarError> {
        let region = settings.phone_region.trim();
        Ok(Self {
            calendar: CompanyCalendar::new(settings.time_zone.trim())?,
            series: settings
                .invoice_series
                .iter()
                .map(|series| series.trim().to_owned())
                .collect(),
            region: (!region.is_empty()).then(|| region.to_uppercase()),
            backdate_limit_ms: settings.backdate_limit_days.max(0).saturating_mul(DAY_MS),
        })
    }

    /// Whether invoices may be numbered in `series`.
    pub fn series_allowed(&self, series: &str) -> bool {
        self.series.iter().any(|allowed| allowed == series.trim())
    }

    /// The series in use, for messages.
    pub fn series_list(&self) -> String {
        self.series
            .iter()
            .map(|series| {
                if series.is_empty() {
                    "(none)".to_owned()
                } else {
                    series.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The default phone region.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Whether an instant `at` is further back than `received` allows without approval.
    pub fn too_far_back(&self, at: i64, received: i64) -> bool {
        received.saturating_sub(at) > self.backdate_limit_ms
    }

    /// The same for a date (`YYYY-MM-DD`): its start in the company's calendar.
    pub fn date_too_far_back(&self, date: &str, received: i64) -> bool {
        self.calendar
            .start_of(date)
            .is_some_and(|at| self.too_far_back(at, received))
    }
}

//! Rule 4, invoice numbering: the gapless legal number the server assigns on posting.
//!
//! Phones number drafts from their own series; only the server holds the sequence of legal
//! numbers, one per series and year, so two offices posting offline never take the same
//! number and no number is skipped. These functions say when a number is due and what it looks
//! like; the server keeps the last number under [`sequence_key`] and increments it in the same
//! store transaction that writes the invoice.
//!
//! ```
//! use itinera_core::model::{Invoice, InvoiceStatus};
//! use itinera_core::rules::{
//!     invoice_year, issue_date, legal_number, needs_legal_number, sequence_key,
//! };
//!
//! let invoice = Invoice {
//!     status: InvoiceStatus::Posted,
//!     series: "A".into(),
//!     issued_on: Some("2026-03-01".into()),
//!     ..Default::default()
//! };
//! assert!(needs_legal_number(&invoice));
//! let year = invoice_year(&invoice, 0);
//! assert_eq!(sequence_key(&invoice.series, year), "invoice-seq:A:2026");
//! assert_eq!(legal_number(&invoice.series, year, 42), "2026-A-000042");
//! // An undated invoice is dated by the server when it is numbered.
//! assert_eq!(issue_date(1_772_323_200_000), "2026-03-01");
//! ```

use super::CompanyCalendar;
use crate::civil_date::CivilDate;
use crate::model::{Invoice, InvoiceStatus};

/// Whether the server must give `invoice` its legal number: posted (or already credited) and
/// not numbered yet. An empty legal number counts as none.
pub fn needs_legal_number(invoice: &Invoice) -> bool {
    matches!(
        invoice.status,
        InvoiceStatus::Posted | InvoiceStatus::Credited
    ) && invoice.legal_number.as_deref().is_none_or(str::is_empty)
}

/// The legal number `sequence` of `series` in `year`: `2026-A-000042`, or `2026-000042` for
/// the unnamed series. Six digits at least; the sequence never wraps.
pub fn legal_number(series: &str, year: i32, sequence: u64) -> String {
    if series.is_empty() {
        format!("{year}-{sequence:06}")
    } else {
        format!("{year}-{series}-{sequence:06}")
    }
}

/// The year whose sequence numbers `invoice`: the year of its issue date (`YYYY-MM-DD`), or,
/// when it has none (or an unreadable one), the UTC year of `now_ms`.
pub fn invoice_year(invoice: &Invoice, now_ms: i64) -> i32 {
    invoice
        .issued_on
        .as_deref()
        .and_then(CivilDate::parse)
        .unwrap_or_else(|| CivilDate::from_unix_ms(now_ms))
        .year_i32()
}

/// [`invoice_year`] in the company's calendar: without an issue date, the year it is there.
pub fn invoice_year_in(invoice: &Invoice, now_ms: i64, calendar: &CompanyCalendar) -> i32 {
    invoice
        .issued_on
        .as_deref()
        .and_then(CivilDate::parse)
        .map_or_else(|| calendar.year_of(now_ms), CivilDate::year_i32)
}

/// The issue date (`YYYY-MM-DD`, UTC) to write on an invoice posted at `now_ms` without one, in
/// the same change as its legal number: the number's year and the journal period then both
/// follow from the invoice, not from when the server looked.
pub fn issue_date(now_ms: i64) -> String {
    let date = CivilDate::from_unix_ms(now_ms);
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

/// The store key under which the server keeps the last legal number of `series` in `year`.
pub fn sequence_key(series: &str, year: i32) -> String {
    format!("invoice-seq:{series}:{year}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-31T23:59:59.999Z.
    const END_OF_2026: i64 = 1_798_761_599_999;

    #[test]
    fn only_posted_or_credited_invoices_without_a_number_need_one() {
        let mut invoice = Invoice::default();
        assert!(!needs_legal_number(&invoice));
        invoice.status = InvoiceStatus::Posted;
        assert!(needs_legal_number(&invoice));
        invoice.legal_number = Some(String::new());
        assert!(needs_legal_number(&invoice));
        invoice.legal_number = Some("2026-000001".into());
        assert!(!needs_legal_number(&invoice));
        invoice.status = InvoiceStatus::Credited;
        assert!(!needs_legal_number(&invoice));
        invoice.legal_number = None;
        assert!(needs_legal_number(&invoice));
    }

    #[test]
    fn numbers_are_padded_and_never_truncated() {
        assert_eq!(legal_number("A", 2026, 42), "2026-A-000042");
        assert_eq!(legal_number("", 2026, 42), "2026-000042");
        assert_eq!(legal_number("CN", 2027, 1), "2027-CN-000001");
        assert_eq!(legal_number("A", 2026, 1_234_567), "2026-A-1234567");
    }

    #[test]
    fn the_year_comes_from_the_issue_date_then_the_clock() {
        let mut invoice = Invoice {
            issued_on: Some("2025-12-31".into()),
            ..Default::default()
        };
        assert_eq!(invoice_year(&invoice, END_OF_2026 + 1), 2025);
        invoice.issued_on = None;
        assert_eq!(invoice_year(&invoice, END_OF_2026), 2026);
        assert_eq!(invoice_year(&invoice, END_OF_2026 + 1), 2027);
        invoice.issued_on = Some("31/12/2025".into());
        assert_eq!(invoice_year(&invoice, END_OF_2026), 2026);
        assert_eq!(invoice_year(&invoice, -1), 1969);
    }

    #[test]
    fn an_issue_date_reads_back_as_its_year() {
        assert_eq!(issue_date(END_OF_2026), "2026-12-31");
        assert_eq!(issue_date(END_OF_2026 + 1), "2027-01-01");
        let invoice = Invoice {
            issued_on: Some(issue_date(END_OF_2026)),
            ..Default::default()
        };
        assert_eq!(invoice_year(&invoice, END_OF_2026 + 1), 2026);
    }

    #[test]
    fn each_series_and_year_has_its_own_sequence() {
        assert_eq!(sequence_key("A", 2026), "invoice-seq:A:2026");
        assert_ne!(sequence_key("A", 2026), sequence_key("A", 2027));
        assert_ne!(sequence_key("A", 2026), sequence_key("", 2026));
    }
}

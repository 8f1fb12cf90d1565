//! Invoices needing action and receivables ageing.
//!
//! - *Awaiting a legal number*: posted invoices the server has not numbered yet.
//! - *Drafts*: invoices not posted.
//! - *Receivables*: posted invoices (not credited, not credit notes) with money outstanding,
//!   `gross − paid − credited > 0`, where *credited* is the gross of the posted credit notes
//!   correcting the invoice less any refunds paid out on them (a partial credit note lowers
//!   what the customer owes). Aged by whole days past the due date: `now`'s UTC day minus the
//!   `due_on` day. Zero or fewer days is current (not due); then 1–30, 31–60, 61–90 and over
//!   90. An invoice without a readable due date is aged from its issue date, and without either
//!   is current with no age.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Invoice, InvoiceStatus, InvoiceTotals};
//! use itinera_core::reports::{AgeBand, Summary, invoices};
//!
//! let invoice = Invoice {
//!     status: InvoiceStatus::Posted, legal_number: Some("2026/1".into()), currency: "EUR".into(),
//!     due_on: Some("1970-01-01".into()),
//!     totals: InvoiceTotals { net_minor: 100, vat_minor: 27, gross_minor: 127 },
//!     ..Default::default()
//! };
//! let summaries = [(DocumentId::from_bytes([1; 16]), Summary::Invoice((&invoice).into()))];
//! let report = invoices(&summaries, 31 * 86_400_000); // 1970-02-01: 31 days past due
//! assert_eq!(report.receivables[0].band, AgeBand::Days31To60);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::model::InvoiceStatus;
use crate::reports::amounts::Amounts;
use crate::reports::calendar::{day_number, day_of};
use crate::reports::summary::{InvoiceSummary, Summary};
use crate::reports::summary_index::SummaryIndex;

/// Invoices needing action, and what customers owe by age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceReport {
    /// Posted invoices with no legal number yet, by id.
    pub awaiting_legal_number: Vec<InvoiceRow>,
    /// Draft invoices, by id.
    pub drafts: Vec<InvoiceRow>,
    /// Posted invoices with money outstanding, oldest due first.
    pub receivables: Vec<Receivable>,
    /// One bucket per band, in band order, even when empty.
    pub ageing: Vec<AgeingBucket>,
}

/// An invoice in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    /// The invoice document id (bare bs58).
    pub invoice: String,
    /// The customer's account document id (bare bs58).
    pub customer: String,
    /// The numbering series.
    pub series: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Gross total in minor units.
    pub gross_minor: i64,
    /// `YYYY-MM-DD`.
    pub issued_on: Option<String>,
    /// Whether it is a credit note.
    pub credit_note: bool,
}

/// A posted invoice not fully paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receivable {
    /// The invoice document id (bare bs58).
    pub invoice: String,
    /// The customer's account document id (bare bs58).
    pub customer: String,
    /// The legal number, if assigned.
    pub legal_number: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Gross total in minor units.
    pub gross_minor: i64,
    /// Paid so far.
    pub paid_minor: i64,
    /// Corrected by credit notes, less refunds paid out on them.
    pub credited_minor: i64,
    /// `gross_minor − paid_minor − credited_minor`.
    pub outstanding_minor: i64,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
    /// Whole days past due (negative: not due yet); `None` with no readable date.
    pub days_past_due: Option<i64>,
    /// Its ageing band.
    pub band: AgeBand,
}

/// How long past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgeBand {
    /// Not due yet, or due today.
    #[serde(rename = "current")]
    Current,
    /// 1 to 30 days past due.
    #[serde(rename = "1-30")]
    Days1To30,
    /// 31 to 60 days past due.
    #[serde(rename = "31-60")]
    Days31To60,
    /// 61 to 90 days past due.
    #[serde(rename = "61-90")]
    Days61To90,
    /// More than 90 days past due.
    #[serde(rename = "over-90")]
    Over90,
}

impl AgeBand {
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 5] = [
        AgeBand::Current,
        AgeBand::Days1To30,
        AgeBand::Days31To60,
        AgeBand::Days61To90,
        AgeBand::Over90,
    ];

    /// The band of a debt `days_past_due` days past due.
    pub fn of(days_past_due: i64) -> Self {
        match days_past_due {
            ..=0 => Self::Current,
            1..=30 => Self::Days1To30,
            31..=60 => Self::Days31To60,
            61..=90 => Self::Days61To90,
            _ => Self::Over90,
        }
    }
}

/// The receivables of one band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeingBucket {
    /// The band.
    pub band: AgeBand,
    /// How many invoices.
    pub invoices: u64,
    /// Outstanding, per currency.
    pub outstanding: Amounts,
}

/// Invoices as of `now_ms` (Unix ms).
pub fn invoices(summaries: &[(DocumentId, Summary)], now_ms: i64) -> InvoiceReport {
    let index = SummaryIndex::new(summaries);
    let today = day_of(now_ms);
    let mut awaiting_legal_number = Vec::new();
    let mut drafts = Vec::new();
    let mut receivables = Vec::new();
    let mut ageing: Vec<AgeingBucket> = AgeBand::ALL
        .into_iter()
        .map(|band| AgeingBucket {
            band,
            invoices: 0,
            outstanding: Amounts::new(),
        })
        .collect();

    let mut credited: BTreeMap<DocumentId, i64> = BTreeMap::new();
    for credit_note in index.invoices.values() {
        if let Some((original, net_credit)) = net_credit(credit_note) {
            let sum = credited.entry(original).or_default();
            *sum = sum.saturating_add(net_credit);
        }
    }

    for (document, invoice) in &index.invoices {
        // Printed only for the invoices a row names.
        let id = || crate::reports::reference::key(document);
        match invoice.status {
            InvoiceStatus::Draft => drafts.push(row(&id(), invoice)),
            InvoiceStatus::Credited => {}
            InvoiceStatus::Posted => {
                if invoice.legal_number.is_none() {
                    awaiting_legal_number.push(row(&id(), invoice));
                }
                let credited_minor = credited.get(document).copied().unwrap_or(0);
                let outstanding = outstanding(invoice, credited_minor);
                if invoice.credit_of.is_some() || outstanding <= 0 {
                    continue;
                }
                let days_past_due = due_day(invoice).map(|due| today - due);
                let band = days_past_due.map_or(AgeBand::Current, AgeBand::of);
                if let Some(bucket) = ageing.iter_mut().find(|bucket| bucket.band == band) {
                    bucket.invoices += 1;
                    bucket.outstanding.add(&invoice.currency, outstanding);
                }
                receivables.push(receivable(
                    id(),
                    invoice,
                    credited_minor,
                    outstanding,
                    days_past_due,
                ));
            }
        }
    }
    // In id order, as people read ids.
    drafts.sort_by(|a, b| a.invoice.cmp(&b.invoice));
    awaiting_legal_number.sort_by(|a, b| a.invoice.cmp(&b.invoice));
    // Most overdue first; undated last; ties by id.
    receivables.sort_by(|a, b| {
        let age = |r: &Receivable| r.days_past_due.map_or(i64::MIN, |days| days);
        age(b).cmp(&age(a)).then_with(|| a.invoice.cmp(&b.invoice))
    });

    InvoiceReport {
        awaiting_legal_number,
        drafts,
        receivables,
        ageing,
    }
}

/// What a credit note takes off the invoice it corrects: the original's id and its gross less
/// refunds paid out. `None` for an invoice, a draft, or an original that names no document.
pub(crate) fn net_credit(credit_note: &InvoiceSummary) -> Option<(DocumentId, i64)> {
    let original = credit_note.credit_of.as_deref()?;
    if credit_note.status == InvoiceStatus::Draft {
        return None;
    }
    let net_credit = credit_note
        .gross_minor
        .saturating_abs()
        .saturating_sub(credit_note.paid_minor);
    Some((crate::reports::reference::id_of(original)?, net_credit))
}

/// `gross − paid − credited`.
pub(crate) fn outstanding(invoice: &InvoiceSummary, credited_minor: i64) -> i64 {
    invoice
        .gross_minor
        .saturating_sub(invoice.paid_minor)
        .saturating_sub(credited_minor)
}

/// The day an invoice is aged from: its due date, else its issue date, else none.
pub(crate) fn due_day(invoice: &InvoiceSummary) -> Option<i64> {
    invoice
        .due_on
        .as_deref()
        .and_then(day_number)
        .or_else(|| invoice.issued_on.as_deref().and_then(day_number))
}

/// Invoice `id` as a receivable: `outstanding_minor` left after `credited_minor`, aged
/// `days_past_due` (`None`: no readable date, or not aged yet).
pub(crate) fn receivable(
    id: String,
    invoice: &InvoiceSummary,
    credited_minor: i64,
    outstanding_minor: i64,
    days_past_due: Option<i64>,
) -> Receivable {
    Receivable {
        invoice: id,
        customer: invoice.customer.clone(),
        legal_number: invoice.legal_number.clone(),
        currency: invoice.currency.clone(),
        gross_minor: invoice.gross_minor,
        paid_minor: invoice.paid_minor,
        credited_minor,
        outstanding_minor,
        due_on: invoice.due_on.clone(),
        days_past_due,
        band: days_past_due.map_or(AgeBand::Current, AgeBand::of),
    }
}

pub(crate) fn row(id: &str, invoice: &InvoiceSummary) -> InvoiceRow {
    InvoiceRow {
        invoice: id.to_owned(),
        customer: invoice.customer.clone(),
        series: invoice.series.clone(),
        currency: invoice.currency.clone(),
        gross_minor: invoice.gross_minor,
        issued_on: invoice.issued_on.clone(),
        credit_note: invoice.credit_of.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_have_inclusive_edges() {
        let bands: Vec<AgeBand> = [-5, 0, 1, 30, 31, 60, 61, 90, 91]
            .into_iter()
            .map(AgeBand::of)
            .collect();
        assert_eq!(
            bands,
            [
                AgeBand::Current,
                AgeBand::Current,
                AgeBand::Days1To30,
                AgeBand::Days1To30,
                AgeBand::Days31To60,
                AgeBand::Days31To60,
                AgeBand::Days61To90,
                AgeBand::Days61To90,
                AgeBand::Over90,
            ]
        );
    }
}

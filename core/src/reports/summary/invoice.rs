//! What reports need of an invoice: status, numbers, totals, what it covers and what is paid.
//!
//! ```
//! use itinera_core::model::{Invoice, InvoiceLine};
//! use itinera_core::reports::InvoiceSummary;
//!
//! let mut invoice = Invoice { currency: "EUR".into(), ..Default::default() };
//! invoice.lines.insert("l-1".into(), InvoiceLine { quantity: 3, unit_price_minor: 55_000, vat_rate_bp: 2_700, ..Default::default() });
//! // The server has not written the totals yet: the summary computes them from the lines.
//! assert_eq!(InvoiceSummary::from(&invoice).gross_minor, 165_000 + 44_550);
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Invoice, InvoiceStatus, InvoiceTotals};
use crate::reports::reference::reference;

/// An invoice without its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    /// Draft, posted or credited.
    #[serde(with = "crate::reports::stored_text")]
    pub status: InvoiceStatus,
    /// The legal number, once the server assigned one.
    pub legal_number: Option<String>,
    /// The numbering series.
    pub series: String,
    /// The customer's account document id (bare bs58).
    pub customer: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Net total in minor units.
    pub net_minor: i64,
    /// VAT total in minor units.
    pub vat_minor: i64,
    /// Gross total in minor units.
    pub gross_minor: i64,
    /// `YYYY-MM-DD`.
    pub issued_on: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
    /// Booking document ids invoiced (bare bs58), in order.
    pub bookings: Vec<String>,
    /// Sum of the payments received, in minor units (for a credit note, refunds paid out).
    pub paid_minor: i64,
    /// For a credit note: the invoice it corrects (bare bs58).
    pub credit_of: Option<String>,
}

impl From<&Invoice> for InvoiceSummary {
    fn from(invoice: &Invoice) -> Self {
        // The server writes totals when it posts; a draft's totals are still zero.
        let totals = if invoice.totals == InvoiceTotals::default() {
            invoice.compute_totals()
        } else {
            invoice.totals.clone()
        };
        Self {
            status: invoice.status,
            legal_number: invoice.legal_number.clone(),
            series: invoice.series.clone(),
            customer: reference(&invoice.customer),
            currency: invoice.currency.clone(),
            net_minor: totals.net_minor,
            vat_minor: totals.vat_minor,
            gross_minor: totals.gross_minor,
            issued_on: invoice.issued_on.clone(),
            due_on: invoice.due_on.clone(),
            bookings: invoice.bookings.iter().map(reference).collect(),
            paid_minor: paid_minor(invoice),
            credit_of: invoice.credit_of.as_deref().map(reference),
        }
    }
}

/// The sum of the payments received (refunds paid out, for a credit note).
fn paid_minor(invoice: &Invoice) -> i64 {
    invoice.payments.iter().fold(0i64, |paid, (_, payment)| {
        paid.saturating_add(payment.amount_minor)
    })
}

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Log, Record, Set};

string_enum! {
    /// Where an invoice stands. Posted invoices are frozen; corrections are credit notes.
    #[derive(Default)]
    pub enum InvoiceStatus {
        #[default]
        Draft = "draft",
        Posted = "posted",
        Credited = "credited",
    }
}

record! {
    /// A customer invoice (`invoice:{id}`).
    ///
    /// A phone numbers its drafts from its own series (`provisional_number`); the legal, gapless
    /// number is assigned by the server when the invoice is posted.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Invoice {
        /// Set once at creation, unique per device.
        pub provisional_number: String,
        /// Written by the server on posting.
        pub legal_number: Option<String>,
        /// The numbering series (per legal entity, per credit notes…).
        pub series: String,
        pub status: InvoiceStatus,
        /// The customer's account id.
        pub customer: String,
        pub issued_on: Option<String>,
        pub due_on: Option<String>,
        pub currency: String,
        /// Lines by line id.
        pub lines: BTreeMap<String, InvoiceLine>,
        /// Booking ids invoiced.
        pub bookings: Set,
        /// Written by the server.
        pub totals: InvoiceTotals,
        /// For a credit note: the invoice it corrects.
        pub credit_of: Option<String>,
        /// Money received against the invoice (refunds paid out, for a credit note); the server
        /// books each into the journal once.
        pub payments: Log<Payment>,
        /// Office's approvals of dates far in the past: `issued_on`, or `payment:<key>`. Until
        /// approved, such an invoice is not numbered and such a payment not booked.
        #[autosurgeon(missing = "Default::default")]
        pub approvals: Set,
        /// Written by the server: why the invoice waits (no number yet, a payment not booked),
        /// for the phone to show; `None` when nothing waits.
        #[autosurgeon(missing = "Default::default")]
        pub held: Option<String>,
    }
}

impl Record for Invoice {
    const KIND: DocumentKind = DocumentKind::Invoice;
}

record! {
    /// One line of an invoice.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct InvoiceLine {
        pub description: String,
        pub quantity: i64,
        pub unit_price_minor: i64,
        /// VAT rate in basis points (2700 = 27 %).
        pub vat_rate_bp: i64,
    }
}

record! {
    /// One payment of an invoice, in minor units of the invoice's currency.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Payment {
        pub amount_minor: i64,
        /// How it was paid: `transfer`, `card`, `cash`.
        pub method: String,
        /// The bank or card reference, to match it on the statement.
        pub reference: String,
        /// Unix ms when the money arrived.
        pub at: i64,
    }
}

record! {
    /// Totals in minor units, computed by the server.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate)]
    pub struct InvoiceTotals {
        pub net_minor: i64,
        pub vat_minor: i64,
        pub gross_minor: i64,
    }
}

impl Invoice {
    /// The totals of the current lines; VAT is rounded half away from zero per line.
    pub fn compute_totals(&self) -> InvoiceTotals {
        let mut totals = InvoiceTotals::default();
        for line in self.lines.values() {
            let net = line.quantity.saturating_mul(line.unit_price_minor);
            let vat_scaled = i128::from(net) * i128::from(line.vat_rate_bp);
            let vat = (vat_scaled + vat_scaled.signum() * 5_000) / 10_000;
            let vat = i64::try_from(vat).unwrap_or(i64::MAX);
            totals.net_minor = totals.net_minor.saturating_add(net);
            totals.vat_minor = totals.vat_minor.saturating_add(vat);
        }
        totals.gross_minor = totals.net_minor.saturating_add(totals.vat_minor);
        totals
    }
}

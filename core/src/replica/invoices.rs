//! Invoice drafts numbered on the device, posted for the server to number legally.
//!
//! A phone cannot take the next legal number (another office may be taking it offline), so
//! it numbers its drafts from its own series, `<prefix>-<n>`: the prefix names the device or
//! user ([`Replica::set_invoice_prefix`]) and `n` comes from a counter kept in the device's
//! store and written in the same commit as the invoice, so a number is never used twice, even
//! across a crash. The server gives a posted invoice its gapless legal number.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::model::InvoiceStatus;
//! use itinera_core::replica::{InvoiceLineInput, Replica};
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let invoice = DocumentId::new_v7(1_000, [1; 10]);
//! let line = InvoiceLineInput {
//!     key: "l-1".into(), description: "Spring trip".into(),
//!     quantity: 2, unit_price_minor: 10_000, vat_rate_bp: 2_700,
//! };
//! let customer = DocumentId::from_bytes([8; 16]);
//! let number = replica.create_invoice_draft(invoice, customer, "EUR".into(), "A".into(), vec![line], 1_000)?;
//! assert_eq!(number, "ANA-0001");
//! replica.post_invoice(invoice, 1_001)?;
//! let view = replica.invoice(invoice)?.expect("held");
//! assert_eq!(view.status, InvoiceStatus::Posted);
//! assert_eq!((view.net_minor, view.vat_minor, view.gross_minor), (20_000, 5_400, 25_400));
//! assert_eq!(view.legal_number, None); // until the server numbers it
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use std::collections::BTreeMap;

use super::Replica;
use super::accounts::required;
use super::device_replica::INVOICE_COUNTER_KEY;
use super::error::{ReplicaResult, invalid};
use crate::DocumentId;
use crate::model::{Invoice, InvoiceLine, InvoiceStatus, ModelError};
use crate::store::WriteBatch;

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLineInput {
    /// The line's key within the invoice, unique in it.
    pub key: String,
    /// What is charged.
    pub description: String,
    /// How many; not zero (negative on a credit line).
    pub quantity: i64,
    /// Price of one, in minor units, before VAT.
    pub unit_price_minor: i64,
    /// VAT rate in basis points (2700 = 27 %).
    pub vat_rate_bp: i64,
}

/// An invoice as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceView {
    /// The invoice document.
    pub id: DocumentId,
    /// The device's number for the draft.
    pub provisional_number: String,
    /// The legal number, once the server has assigned it.
    pub legal_number: Option<String>,
    /// The numbering series.
    pub series: String,
    /// Draft, posted or credited.
    pub status: InvoiceStatus,
    /// The customer's account (bs58 id).
    pub customer: String,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The lines, by key.
    pub lines: Vec<InvoiceLineInput>,
    /// Net total in minor units.
    pub net_minor: i64,
    /// VAT total in minor units.
    pub vat_minor: i64,
    /// Gross total in minor units.
    pub gross_minor: i64,
}

impl InvoiceView {
    /// The view of `invoice`, stored as document `id`.
    ///
    /// Totals are computed from the lines with the server's own rounding
    /// ([`Invoice::compute_totals`]), so a draft shows them before the server has written
    /// its totals.
    pub fn of(id: DocumentId, invoice: &Invoice) -> Self {
        let totals = invoice.compute_totals();
        Self {
            id,
            provisional_number: invoice.provisional_number.clone(),
            legal_number: invoice
                .legal_number
                .clone()
                .filter(|number| !number.is_empty()),
            series: invoice.series.clone(),
            status: invoice.status,
            customer: invoice.customer.clone(),
            currency: invoice.currency.clone(),
            lines: invoice
                .lines
                .iter()
                .map(|(key, line)| InvoiceLineInput {
                    key: key.clone(),
                    description: line.description.clone(),
                    quantity: line.quantity,
                    unit_price_minor: line.unit_price_minor,
                    vat_rate_bp: line.vat_rate_bp,
                })
                .collect(),
            net_minor: totals.net_minor,
            vat_minor: totals.vat_minor,
            gross_minor: totals.gross_minor,
        }
    }
}

impl Replica {
    /// Creates the invoice draft `id` for the account `customer` and returns its provisional
    /// number, `<prefix>-<n:04>`. The number's counter is stored with the invoice in one
    /// commit: a number is never reused, even when the app is killed right after.
    pub fn create_invoice_draft(
        &mut self,
        id: DocumentId,
        customer: DocumentId,
        currency: String,
        series: String,
        lines: Vec<InvoiceLineInput>,
        at: i64,
    ) -> ReplicaResult<String> {
        let currency = required(currency, "an invoice needs a currency")?.to_uppercase();
        let mut stored = BTreeMap::new();
        for line in lines {
            let key = required(line.key, "an invoice line needs a key")?;
            let description = required(line.description, "an invoice line needs a description")?;
            if line.quantity == 0 {
                return Err(invalid(format!("invoice line {key} has no quantity")));
            }
            if line.vat_rate_bp < 0 {
                return Err(invalid(format!(
                    "invoice line {key} has a negative VAT rate"
                )));
            }
            let entry = InvoiceLine {
                description,
                quantity: line.quantity,
                unit_price_minor: line.unit_price_minor,
                vat_rate_bp: line.vat_rate_bp,
            };
            if stored.insert(key.clone(), entry).is_some() {
                return Err(invalid(format!("invoice line {key} is listed twice")));
            }
        }
        let counter = self
            .invoice_counter
            .checked_add(1)
            .ok_or_else(|| invalid("this device has used every provisional invoice number"))?;
        let number = format!("{}-{counter:04}", self.invoice_prefix);
        let invoice = Invoice {
            provisional_number: number.clone(),
            series: series.trim().to_owned(),
            customer: customer.to_string(),
            currency,
            lines: stored,
            ..Invoice::default()
        };
        let mut batch = WriteBatch::new();
        batch.put_value(INVOICE_COUNTER_KEY, counter.to_be_bytes());
        self.create(id, at, &invoice, batch)?;
        self.invoice_counter = counter;
        Ok(number)
    }

    /// Posts the draft invoice `id`: it is frozen from now on, and the server gives it its
    /// legal number. Posting a posted invoice changes nothing; an invoice without lines, or a
    /// credited one, is refused.
    pub fn post_invoice(&mut self, id: DocumentId, at: i64) -> ReplicaResult<DocumentId> {
        self.change::<Invoice, _>(id, at, |invoice| match invoice.status {
            InvoiceStatus::Posted => Ok(()),
            InvoiceStatus::Credited => Err(ModelError::Invalid(
                "a credited invoice cannot be posted".into(),
            )),
            InvoiceStatus::Draft if invoice.lines.is_empty() => Err(ModelError::Invalid(
                "an invoice needs a line to be posted".into(),
            )),
            InvoiceStatus::Draft => {
                invoice.status = InvoiceStatus::Posted;
                Ok(())
            }
        })?;
        Ok(id)
    }

    /// The invoice `id` with its numbers, status and totals; `None` if the replica does not
    /// hold it.
    pub fn invoice(&mut self, id: DocumentId) -> ReplicaResult<Option<InvoiceView>> {
        Ok(self
            .read::<Invoice>(id)?
            .map(|invoice| InvoiceView::of(id, &invoice)))
    }
}

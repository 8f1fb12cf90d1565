//! Invoices: a posted invoice gets the next legal number of its series and year, durable in the
//! same transaction as the invoice change (so numbers are gapless and never reused); posted and
//! credited invoices produce balanced journal entries.

use std::collections::BTreeMap;

use itinera_core::DocumentId;
use itinera_core::engine::{EditError, ServerEdit};
use itinera_core::model::{DocumentKind, Invoice, InvoiceStatus, Journal, JournalEntry, LogKey};
use itinera_core::rules;
use itinera_core::store::WriteBatch;

use super::Plan;
use super::records::Records;
use crate::server_documents::journal_document_id;

/// What invoice `id` (as `invoice` says now) needs from the server.
pub fn decide_invoice(
    records: &Records,
    id: DocumentId,
    invoice: &Invoice,
    now: i64,
    plan: &mut Plan,
) {
    if rules::needs_legal_number(invoice) {
        number(records, id, invoice, now, plan);
    }
    if matches!(
        invoice.status,
        InvoiceStatus::Posted | InvoiceStatus::Credited
    ) {
        book(records, id, invoice, plan);
    }
}

/// The next legal number. The store holds the last number used: the authority decides one
/// change at a time and waits for its writes, so what it reads is current.
fn number(records: &Records, id: DocumentId, invoice: &Invoice, now: i64, plan: &mut Plan) {
    let year = rules::invoice_year(invoice, now);
    let key = rules::sequence_key(&invoice.series, year);
    let next = records.sequence(&key) + 1;
    let number = rules::legal_number(&invoice.series, year, next);
    let mut sequence = WriteBatch::new();
    sequence.put_value(&key, next.to_string().into_bytes());
    let issued = rules::issue_date(now);
    let edit = ServerEdit::record(move |i: &mut Invoice| {
        if i.legal_number.is_some() {
            // Numbered meanwhile: the sequence must not move.
            return Err(EditError::Superseded("already numbered".into()));
        }
        i.legal_number = Some(number);
        // An invoice takes its legal date when it takes its number, if it had none.
        i.issued_on.get_or_insert(issued);
        i.totals = i.compute_totals();
        Ok(true)
    });
    plan.with(id, edit, sequence);
}

/// The invoice's journal entries that are not booked yet, per period.
fn book(records: &Records, id: DocumentId, invoice: &Invoice, plan: &mut Plan) {
    let mut by_period: BTreeMap<String, Vec<(String, JournalEntry)>> = BTreeMap::new();
    for (key, entry) in rules::journal_entries_for_invoice(&id, invoice) {
        by_period
            .entry(rules::journal_period(entry.at))
            .or_default()
            .push((key, entry));
    }
    for (period, entries) in by_period {
        let journal_id = journal_document_id(&period);
        let existing = records.load::<Journal>(&journal_id);
        let missing: Vec<(String, JournalEntry)> = entries
            .into_iter()
            .filter(|(key, _)| {
                existing
                    .as_ref()
                    .is_none_or(|journal| journal.entries.get(key).is_none())
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let edit = ServerEdit::record(move |journal: &mut Journal| {
            journal.period.clone_from(&period);
            for (key, entry) in missing {
                if journal.entries.get(&key).is_none() {
                    journal
                        .entries
                        .append(LogKey::from_stored(key), entry)
                        .map_err(|err| EditError::Invalid(err.to_string()))?;
                }
            }
            Ok(true)
        })
        .or_create(DocumentKind::Journal);
        plan.edit(journal_id, edit);
    }
}

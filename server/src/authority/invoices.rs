//! Invoices: a posted invoice gets the next legal number of its series and year (the year of
//! its issue date in the company's calendar), durable in the same transaction as the invoice
//! change, so numbers are gapless and never reused; posted and credited invoices and their
//! payments produce balanced journal entries, each exactly once, in the period of their date
//! or, when that period is locked, in the next open one with a reference to it; a posted credit
//! note marks the invoice it corrects credited. A series the company does not use, or an issue
//! or payment date further back than the company allows, waits (the invoice says why, office
//! gets an alert) until office approves or the invoice is corrected.

use std::collections::BTreeMap;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use itinera_core::DocumentId;
use itinera_core::engine::{EditError, ServerEdit};
use itinera_core::model::{
    AlertRule, AlertSeverity, DocumentKind, Invoice, InvoiceStatus, JournalEntry,
};
use itinera_core::rules::{self, Finding};
use itinera_core::store::WriteBatch;

use super::Plan;
use super::alerts::record_findings;
use super::company_rules::CompanyRules;
use super::journals::Journals;
use super::records::Records;
use super::relations::parse_reference;

/// What the invoice decision reads besides the invoice.
pub struct Books<'a> {
    pub records: &'a Records,
    pub rules: &'a CompanyRules,
    pub journals: &'a mut Journals,
}

/// What invoice `id` (as `invoice` says now) needs from the server; the change that called for
/// it reached the server at `at`.
pub fn decide_invoice(
    books: &mut Books<'_>,
    id: DocumentId,
    invoice: &Invoice,
    at: i64,
    plan: &mut Plan,
) {
    if !matches!(
        invoice.status,
        InvoiceStatus::Posted | InvoiceStatus::Credited
    ) {
        record_findings(books.records, id, &RULES, Vec::new(), at, plan);
        return;
    }
    let mut findings = Vec::new();
    let mut held = Vec::new();
    let mut numbered = invoice.clone();
    if rules::needs_legal_number(invoice) {
        match may_number(books.rules, id, invoice, at) {
            Ok(()) => number(books, id, invoice, at, &mut numbered, plan),
            Err((reason, finding)) => {
                held.push(reason);
                findings.push(finding);
            }
        }
    }
    if numbered.legal_number.is_some() {
        let waiting = book(books, id, &numbered, at, plan, &mut findings);
        held.extend(waiting);
        if let Some(original) = numbered.credit_of.as_deref() {
            credit(original, plan);
        }
    }
    let held = (!held.is_empty()).then(|| held.join("; "));
    if invoice.held != held {
        plan.edit(
            id,
            ServerEdit::record(move |i: &mut Invoice| {
                let changed = i.held != held;
                i.held = held;
                Ok(changed)
            }),
        );
    }
    record_findings(books.records, id, &RULES, findings, at, plan);
}

const RULES: [AlertRule; 2] = [AlertRule::InvoiceNumbering, AlertRule::DatePastLimit];

/// Whether the invoice may take its number now; else why not.
fn may_number(
    rules: &CompanyRules,
    id: DocumentId,
    invoice: &Invoice,
    at: i64,
) -> Result<(), (String, Finding)> {
    if !rules.series_allowed(&invoice.series) {
        let reason = format!(
            "series {:?} is not one the company numbers in ({}); correct it with a credit note \
             and post the invoice again in one of them",
            invoice.series,
            rules.series_list()
        );
        let finding = Finding::new(
            AlertRule::InvoiceNumbering,
            AlertSeverity::Warning,
            id,
            "series",
            format!(
                "invoice {} was posted in an unknown series: {reason}",
                invoice.provisional_number
            ),
        );
        return Err((reason, finding));
    }
    if let Some(date) = invoice.issued_on.as_deref() {
        if rules.date_too_far_back(date, at) && !invoice.approvals.contains("issued_on") {
            let reason = format!(
                "issued on {date}, further back than the company allows: waits for office to \
                 approve the date (approvals: issued_on) before it is numbered and booked"
            );
            let finding = Finding::new(
                AlertRule::DatePastLimit,
                AlertSeverity::Warning,
                id,
                "issued_on",
                format!("invoice {} {reason}", invoice.provisional_number),
            );
            return Err((reason, finding));
        }
    }
    Ok(())
}

/// The next legal number, with the sequence in the same transaction. The store holds the last
/// number used: the authority decides one change at a time and waits for its writes, so what it
/// reads is current, and the write checks that it still is.
fn number(
    books: &mut Books<'_>,
    id: DocumentId,
    invoice: &Invoice,
    at: i64,
    numbered: &mut Invoice,
    plan: &mut Plan,
) {
    let calendar = &books.rules.calendar;
    let year = rules::invoice_year_in(invoice, at, calendar);
    let key = rules::sequence_key(&invoice.series, year);
    let (last, stored) = books.records.sequence_stored(&key);
    let next = last + 1;
    let number = rules::legal_number(&invoice.series, year, next);
    let mut sequence = WriteBatch::new();
    // A compare-and-set on the value read: if anyone else took a number meanwhile (an
    // authority on another node that does not know it lost its place), this invoice's
    // transaction fails instead of writing the same number twice.
    sequence.replace_value(&key, stored, next.to_string().into_bytes());
    // An invoice takes its legal date when it takes its number, if it had none: today in the
    // company's calendar.
    let issued = invoice
        .issued_on
        .clone()
        .unwrap_or_else(|| calendar.date_of(at));
    numbered.legal_number = Some(number.clone());
    numbered.issued_on = Some(issued.clone());
    let edit = ServerEdit::record(move |i: &mut Invoice| {
        if i.legal_number.is_some() {
            // Numbered meanwhile: the sequence must not move.
            return Err(EditError::Superseded("already numbered".into()));
        }
        i.legal_number = Some(number);
        i.issued_on.get_or_insert(issued);
        i.totals = i.compute_totals();
        Ok(true)
    });
    plan.with(id, edit, sequence);
}

/// Books the invoice's entries not booked yet; returns why some wait (a payment dated too far
/// back), with a finding each.
fn book(
    books: &mut Books<'_>,
    id: DocumentId,
    invoice: &Invoice,
    at: i64,
    plan: &mut Plan,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let mut waiting = Vec::new();
    let mut by_period: BTreeMap<String, Vec<(String, JournalEntry)>> = BTreeMap::new();
    for (key, mut entry) in rules::journal_entries_in(&id, invoice, &books.rules.calendar) {
        let period = books.rules.calendar.period_of(entry.at);
        let Some(target) = books.journals.target(books.records, &key, &period) else {
            continue;
        };
        if let Some(payment) = key
            .rsplit(':')
            .next()
            .filter(|_| key.starts_with("payment:"))
        {
            let approved = invoice.approvals.contains(&format!("payment:{payment}"));
            if books.rules.too_far_back(entry.at, at) && !approved {
                let reason = format!(
                    "payment {payment} dated {} waits for office to approve the date \
                     (approvals: payment:{payment}) before it is booked",
                    books.rules.calendar.date_of(entry.at)
                );
                findings.push(Finding::new(
                    AlertRule::DatePastLimit,
                    AlertSeverity::Warning,
                    id,
                    &format!("payment:{payment}"),
                    format!("invoice {}: {reason}", number_of(invoice)),
                ));
                waiting.push(reason);
                continue;
            }
        }
        if target != period {
            entry.late_from = Some(period.clone());
            entry.description = format!("{} (late entry for locked {period})", entry.description);
        }
        books.journals.booked(&target, &key);
        by_period.entry(target).or_default().push((key, entry));
    }
    for (period, entries) in by_period {
        plan.journal(period, entries);
    }
    waiting
}

/// Appends `entries` to the journal of `period` (created if missing), each under its key unless
/// it is there already. Written entry by entry rather than through the whole record: a month's
/// journal holds thousands of entries, and reading them all for each invoice would cost time in
/// proportion to the square of a busy month.
pub fn append_entries(period: String, entries: Vec<(String, JournalEntry)>) -> ServerEdit {
    ServerEdit::new(move |doc| {
        let stored: Option<String> =
            autosurgeon::hydrate_prop(&*doc, automerge::ROOT, "period").ok();
        if stored.as_deref() != Some(period.as_str()) {
            autosurgeon::reconcile_prop(doc, automerge::ROOT, "period", &period)?;
        }
        let log = match doc.get(automerge::ROOT, "entries")? {
            Some((automerge::Value::Object(automerge::ObjType::Map), log)) => log,
            _ => doc.put_object(automerge::ROOT, "entries", automerge::ObjType::Map)?,
        };
        for (key, entry) in entries {
            if doc.get(&log, key.as_str())?.is_none() {
                autosurgeon::reconcile_prop(doc, &log, key.as_str(), &entry)?;
            }
        }
        Ok(())
    })
    .or_create(DocumentKind::Journal)
}

fn number_of(invoice: &Invoice) -> &str {
    invoice
        .legal_number
        .as_deref()
        .unwrap_or(&invoice.provisional_number)
}

/// A posted credit note marks the invoice it corrects credited.
fn credit(original: &str, plan: &mut Plan) {
    let Ok(original) = parse_reference(original) else {
        return;
    };
    plan.edit(
        original,
        ServerEdit::record(|i: &mut Invoice| {
            let changed = i.status == InvoiceStatus::Posted;
            if changed {
                i.status = InvoiceStatus::Credited;
            }
            Ok(changed)
        }),
    );
}

//! Rule 5, the balanced ledger: the journal entries of an invoice and its payments.
//!
//! Only the server writes the journal. Each entry is derived from one invoice or one payment
//! and keyed by it, so evaluating the same invoice again yields the same keys and the server
//! appends only what is missing: nothing is booked twice, whichever order changes arrived in.
//!
//! | Source | Debit | Credit |
//! |---|---|---|
//! | posted invoice | 1200 receivables (gross) | 4000 revenue (net), 2600 VAT payable (VAT) |
//! | credit note | 4000 revenue, 2600 VAT payable | 1200 receivables |
//! | payment | 1000 bank | 1200 receivables |
//! | refund on a credit note | 1200 receivables | 1000 bank |
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Invoice, InvoiceLine, InvoiceStatus};
//! use itinera_core::rules::{journal_entries_for_invoice, journal_period};
//!
//! let mut invoice = Invoice {
//!     status: InvoiceStatus::Posted,
//!     issued_on: Some("2026-03-01".into()),
//!     ..Default::default()
//! };
//! invoice.lines.insert("l-1".into(), InvoiceLine {
//!     description: "Danube bend".into(), quantity: 2, unit_price_minor: 10_000, vat_rate_bp: 2_700,
//! });
//! let id = DocumentId::from_bytes([3; 16]);
//! let entries = journal_entries_for_invoice(&id, &invoice);
//! let (key, entry) = &entries[0];
//! assert_eq!(key, &format!("invoice:{id}"));
//! assert!(entry.is_balanced());
//! assert_eq!(entry.lines["1200"].debit_minor, 25_400);
//! assert_eq!(journal_period(entry.at), "2026-03");
//! ```

use std::collections::BTreeMap;

use super::CompanyCalendar;
use super::Finding;
use crate::DocumentId;
use crate::civil_date::CivilDate;
use crate::model::{
    AlertRule, AlertSeverity, Invoice, InvoiceStatus, Journal, JournalEntry, JournalLine,
};

/// Money in the bank.
pub const BANK_ACCOUNT: &str = "1000";
/// What customers owe.
pub const RECEIVABLES_ACCOUNT: &str = "1200";
/// VAT collected and owed to the tax authority.
pub const VAT_PAYABLE_ACCOUNT: &str = "2600";
/// Sales of tours.
pub const REVENUE_ACCOUNT: &str = "4000";

/// The journal entries `invoice` calls for, each with its deterministic entry key.
///
/// A draft books nothing. A posted (or later credited) invoice books one entry under
/// `invoice:<invoice id>`, dated midnight UTC of its issue date, from
/// [`Invoice::compute_totals`]; a credit note (`credit_of` set) books the reverse and names the
/// entry it reverses. Every payment books one entry under
/// `payment:<invoice id>:<payment key>`, dated when it arrived; on a credit note a payment is a
/// refund and books the reverse. Amounts of a credit note may be written positive or negative:
/// either way it reduces revenue. Zero amounts book nothing; every entry is balanced.
///
/// An invoice without a readable issue date books nothing at all: the period of an entry must
/// not depend on when the server looked, and a payment booked without its invoice would credit
/// receivables never debited. The server dates the invoice when it numbers it
/// ([`super::issue_date`]).
pub fn journal_entries_for_invoice(
    invoice_id: &DocumentId,
    invoice: &Invoice,
) -> Vec<(String, JournalEntry)> {
    journal_entries_in(invoice_id, invoice, &CompanyCalendar::utc())
}

/// [`journal_entries_for_invoice`] in the company's calendar: the invoice's entry is dated at
/// the midnight that starts its issue date there, so [`CompanyCalendar::period_of`] of every
/// entry's `at` is its period. Every line carries the invoice's currency.
pub fn journal_entries_in(
    invoice_id: &DocumentId,
    invoice: &Invoice,
    calendar: &CompanyCalendar,
) -> Vec<(String, JournalEntry)> {
    if !matches!(
        invoice.status,
        InvoiceStatus::Posted | InvoiceStatus::Credited
    ) {
        return Vec::new();
    }
    let Some(issued_at) = invoice
        .issued_on
        .as_deref()
        .and_then(|date| calendar.start_of(date))
    else {
        return Vec::new();
    };
    let currency = invoice.currency.as_str();
    let totals = invoice.compute_totals();
    let number = invoice
        .legal_number
        .as_deref()
        .filter(|number| !number.is_empty())
        .unwrap_or(&invoice.provisional_number);
    let customer = &invoice.customer;

    // +1 books as an invoice, -1 as its reversal. A credit note written with negative lines is
    // already reversed by its amounts.
    let direction = match &invoice.credit_of {
        Some(_) if totals.gross_minor >= 0 => -1,
        Some(_) => 1,
        None => 1,
    };
    let mut entries = Vec::new();

    let mut posting = JournalEntry {
        at: issued_at,
        description: match &invoice.credit_of {
            Some(original) => format!("Credit note {number} to {customer}, correcting {original}"),
            None => format!("Invoice {number} to {customer}"),
        },
        source: Some(invoice_id.to_string()),
        late_from: None,
        reverses: invoice.credit_of.as_deref().map(|original| {
            let original = DocumentId::parse(original)
                .map_or_else(|_| original.to_owned(), |id| id.to_string());
            format!("invoice:{original}")
        }),
        lines: BTreeMap::new(),
    };
    // Signed debit amounts: positive debits, negative credits. Their sum is
    // direction * (gross - net - VAT) = 0.
    add_line(
        &mut posting,
        currency,
        RECEIVABLES_ACCOUNT,
        totals.gross_minor.saturating_mul(direction),
    );
    add_line(
        &mut posting,
        currency,
        REVENUE_ACCOUNT,
        totals.net_minor.saturating_mul(-direction),
    );
    add_line(
        &mut posting,
        currency,
        VAT_PAYABLE_ACCOUNT,
        totals.vat_minor.saturating_mul(-direction),
    );
    if !posting.lines.is_empty() {
        entries.push((format!("invoice:{invoice_id}"), posting));
    }

    let payment_direction = if invoice.credit_of.is_some() { -1 } else { 1 };
    for (key, payment) in invoice.payments.iter() {
        let mut entry = JournalEntry {
            at: payment.at,
            description: if payment_direction > 0 {
                format!(
                    "Payment of {number} by {} {}",
                    payment.method, payment.reference
                )
            } else {
                format!(
                    "Refund of {number} by {} {}",
                    payment.method, payment.reference
                )
            },
            source: Some(format!("{invoice_id}/payments/{key}")),
            reverses: None,
            late_from: None,
            lines: BTreeMap::new(),
        };
        let amount = payment.amount_minor.saturating_mul(payment_direction);
        add_line(&mut entry, currency, BANK_ACCOUNT, amount);
        add_line(&mut entry, currency, RECEIVABLES_ACCOUNT, -amount);
        if !entry.lines.is_empty() {
            entries.push((format!("payment:{invoice_id}:{key}"), entry));
        }
    }
    entries
}

/// Adds a line on `account` for a signed amount: a debit when positive, a credit when negative,
/// nothing when zero. Lines are keyed by account: an entry names each account once.
fn add_line(entry: &mut JournalEntry, currency: &str, account: &str, signed_debit: i64) {
    if signed_debit == 0 {
        return;
    }
    let (debit_minor, credit_minor) = if signed_debit > 0 {
        (signed_debit, 0)
    } else {
        (0, signed_debit.saturating_neg())
    };
    entry.lines.insert(
        account.to_owned(),
        JournalLine {
            account: account.to_owned(),
            debit_minor,
            credit_minor,
            currency: currency.to_owned(),
        },
    );
}

/// The journal period (`YYYY-MM`, UTC) an entry at `at_ms` belongs to: the `journal:{period}`
/// document it goes into.
pub fn journal_period(at_ms: i64) -> String {
    let date = CivilDate::from_unix_ms(at_ms);
    format!("{:04}-{:02}", date.year, date.month)
}

/// One [`AlertRule::UnbalancedLedger`] finding (critical) per entry of `journal` whose debits
/// and credits differ, in entry order.
pub fn unbalanced_entries(journal_id: &DocumentId, journal: &Journal) -> Vec<Finding> {
    journal
        .entries
        .iter()
        .filter(|(_, entry)| !entry.is_balanced())
        .map(|(key, entry)| {
            let (debit, credit) = entry.lines.values().fold((0i128, 0i128), |(d, c), line| {
                (
                    d + i128::from(line.debit_minor),
                    c + i128::from(line.credit_minor),
                )
            });
            Finding::new(
                AlertRule::UnbalancedLedger,
                AlertSeverity::Critical,
                *journal_id,
                key,
                format!(
                    "journal {} entry {key} ({}) debits {debit} but credits {credit}; \
                     book a correcting entry",
                    journal.period, entry.description
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InvoiceLine, LogKey, Payment};

    fn invoice(unit_price_minor: i64) -> Invoice {
        let mut invoice = Invoice {
            status: InvoiceStatus::Posted,
            issued_on: Some("2026-01-31".into()),
            customer: "acct".into(),
            provisional_number: "P-1".into(),
            ..Default::default()
        };
        invoice.lines.insert(
            "l-1".into(),
            InvoiceLine {
                description: "tour".into(),
                quantity: 3,
                unit_price_minor,
                vat_rate_bp: 2_700,
            },
        );
        invoice
    }

    fn side(entry: &JournalEntry, account: &str) -> (i64, i64) {
        entry
            .lines
            .get(account)
            .map_or((0, 0), |line| (line.debit_minor, line.credit_minor))
    }

    #[test]
    fn drafts_and_undated_invoices_book_nothing() {
        let mut draft = invoice(1_000);
        draft.status = InvoiceStatus::Draft;
        assert!(journal_entries_for_invoice(&DocumentId::from_bytes([1; 16]), &draft).is_empty());
        let mut undated = invoice(1_000);
        undated.issued_on = None;
        assert!(journal_entries_for_invoice(&DocumentId::from_bytes([1; 16]), &undated).is_empty());
    }

    #[test]
    fn a_credit_note_with_negative_lines_still_reverses() {
        let mut note = invoice(-1_000);
        note.credit_of = Some("orig".into());
        let entries = journal_entries_for_invoice(&DocumentId::from_bytes([1; 16]), &note);
        let (_, entry) = &entries[0];
        assert!(entry.is_balanced());
        assert_eq!(side(entry, RECEIVABLES_ACCOUNT), (0, 3_810));
        assert_eq!(side(entry, REVENUE_ACCOUNT), (3_000, 0));
        assert_eq!(side(entry, VAT_PAYABLE_ACCOUNT), (810, 0));
        assert_eq!(entry.reverses.as_deref(), Some("invoice:orig"));
    }

    #[test]
    fn a_negative_payment_books_the_other_way() -> Result<(), crate::model::DuplicateEntry> {
        let mut posted = invoice(1_000);
        posted.payments.append(
            LogKey::new(5, "bank"),
            Payment {
                amount_minor: -500,
                method: "transfer".into(),
                reference: "chargeback".into(),
                at: 5,
            },
        )?;
        let entries = journal_entries_for_invoice(&DocumentId::from_bytes([1; 16]), &posted);
        let (_, entry) = &entries[1];
        assert_eq!(side(entry, BANK_ACCOUNT), (0, 500));
        assert_eq!(side(entry, RECEIVABLES_ACCOUNT), (500, 0));
        Ok(())
    }

    #[test]
    fn periods_are_utc_months() {
        assert_eq!(journal_period(0), "1970-01");
        assert_eq!(journal_period(1_772_323_199_999), "2026-02");
        assert_eq!(journal_period(1_772_323_200_000), "2026-03");
    }

    #[test]
    fn an_unbalanced_entry_is_found_by_its_key() -> Result<(), crate::model::DuplicateEntry> {
        let id = DocumentId::from_bytes([5; 16]);
        let mut journal = Journal {
            period: "2026-03".into(),
            ..Default::default()
        };
        let (key, balanced) = journal_entries_for_invoice(&id, &invoice(1_000)).remove(0);
        journal
            .entries
            .append(LogKey::new(1, &key), balanced.clone())?;
        assert!(unbalanced_entries(&id, &journal).is_empty());
        let mut broken = balanced;
        if let Some(line) = broken.lines.get_mut(REVENUE_ACCOUNT) {
            line.credit_minor += 1;
        }
        let broken_key = LogKey::new(2, "broken");
        journal.entries.append(broken_key.clone(), broken)?;
        let findings = unbalanced_entries(&id, &journal);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].key,
            format!("unbalanced_ledger:{id}:{}", broken_key.as_str())
        );
        assert!(
            findings[0].message.contains("3810"),
            "{}",
            findings[0].message
        );
        Ok(())
    }
}

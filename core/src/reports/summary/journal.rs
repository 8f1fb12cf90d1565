//! What reports need of a month's journal: debit and credit totals per ledger account.
//!
//! ```
//! use itinera_core::model::{Journal, JournalEntry, JournalLine, LogKey};
//! use itinera_core::reports::JournalSummary;
//!
//! let mut entry = JournalEntry::default();
//! entry.lines.insert("1".into(), JournalLine { account: "1200".into(), debit_minor: 100, currency: "EUR".into(), ..Default::default() });
//! entry.lines.insert("2".into(), JournalLine { account: "4000".into(), credit_minor: 100, currency: "EUR".into(), ..Default::default() });
//! let mut journal = Journal { period: "2026-03".into(), ..Default::default() };
//! journal.entries.append(LogKey::new(1, "s"), entry)?;
//! let summary = JournalSummary::from(&journal);
//! assert_eq!(summary.accounts["1200"].debit_minor, 100);
//! assert_eq!(summary.by_currency["EUR"]["4000"].credit_minor, 100);
//! # Ok::<(), itinera_core::model::DuplicateEntry>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Journal;

/// A month's ledger entries folded into per-account totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalSummary {
    /// `YYYY-MM`.
    pub period: String,
    /// Whether the period takes no more entries.
    pub locked: bool,
    /// How many entries it holds.
    pub entries: u64,
    /// Totals by ledger account code, every currency together (for journals booked before
    /// lines carried a currency).
    pub accounts: BTreeMap<String, LedgerTotals>,
    /// Totals by currency, then ledger account code; lines without a currency under `""`.
    #[serde(default)]
    pub by_currency: BTreeMap<String, BTreeMap<String, LedgerTotals>>,
}

/// Debits and credits on one ledger account, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerTotals {
    /// Sum of debits.
    pub debit_minor: i64,
    /// Sum of credits.
    pub credit_minor: i64,
}

impl From<&Journal> for JournalSummary {
    fn from(journal: &Journal) -> Self {
        let mut accounts: BTreeMap<String, LedgerTotals> = BTreeMap::new();
        let mut by_currency: BTreeMap<String, BTreeMap<String, LedgerTotals>> = BTreeMap::new();
        for (_, entry) in journal.entries.iter() {
            for line in entry.lines.values() {
                for totals in [
                    accounts.entry(line.account.clone()).or_default(),
                    by_currency
                        .entry(line.currency.clone())
                        .or_default()
                        .entry(line.account.clone())
                        .or_default(),
                ] {
                    totals.debit_minor = totals.debit_minor.saturating_add(line.debit_minor);
                    totals.credit_minor = totals.credit_minor.saturating_add(line.credit_minor);
                }
            }
        }
        Self {
            period: journal.period.clone(),
            locked: journal.locked,
            entries: u64::try_from(journal.entries.len()).unwrap_or(u64::MAX),
            accounts,
            by_currency,
        }
    }
}

impl JournalSummary {
    /// The summary read straight from a journal document, without hydrating its entries;
    /// `None` if the document does not have the journal's shape (the caller then hydrates,
    /// which says where it breaks).
    pub(crate) fn read(doc: &automerge::AutoCommit) -> Option<Self> {
        use automerge::{ObjType, ReadDoc, ScalarValue, Value};
        let text = |obj: &automerge::ObjId, key: &str| -> Option<String> {
            match doc.get(obj, key).ok()?? {
                (Value::Scalar(s), _) => match s.as_ref() {
                    ScalarValue::Str(text) => Some(text.to_string()),
                    _ => None,
                },
                _ => None,
            }
        };
        let int = |obj: &automerge::ObjId, key: &str| -> Option<i64> {
            match doc.get(obj, key).ok()?? {
                (Value::Scalar(s), _) => match s.as_ref() {
                    ScalarValue::Int(n) => Some(*n),
                    ScalarValue::Uint(n) => i64::try_from(*n).ok(),
                    _ => None,
                },
                _ => None,
            }
        };
        let map = |obj: &automerge::ObjId, key: &str| -> Option<automerge::ObjId> {
            match doc.get(obj, key).ok()?? {
                (Value::Object(ObjType::Map), id) => Some(id),
                _ => None,
            }
        };
        let root = automerge::ROOT;
        let period = text(&root, "period")?;
        let locked = match doc.get(&root, "locked").ok()?? {
            (Value::Scalar(s), _) => matches!(s.as_ref(), ScalarValue::Boolean(true)),
            _ => return None,
        };
        let entries = map(&root, "entries")?;
        let mut summary = Self {
            period,
            locked,
            entries: 0,
            accounts: BTreeMap::new(),
            by_currency: BTreeMap::new(),
        };
        for item in doc.map_range(&entries, ..) {
            summary.entries += 1;
            let entry = item.id();
            if !matches!(item.value.into_value(), Value::Object(ObjType::Map)) {
                return None;
            }
            let lines = map(&entry, "lines")?;
            for line in doc.map_range(&lines, ..) {
                let line = line.id();
                let account = text(&line, "account")?;
                let debit = int(&line, "debit_minor")?;
                let credit = int(&line, "credit_minor")?;
                let currency = text(&line, "currency").unwrap_or_default();
                for totals in [
                    summary.accounts.entry(account.clone()).or_default(),
                    summary
                        .by_currency
                        .entry(currency)
                        .or_default()
                        .entry(account)
                        .or_default(),
                ] {
                    totals.debit_minor = totals.debit_minor.saturating_add(debit);
                    totals.credit_minor = totals.credit_minor.saturating_add(credit);
                }
            }
        }
        Some(summary)
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::Document;
    use crate::model::{JournalEntry, JournalLine, LogKey};

    #[test]
    fn reading_the_document_gives_what_hydrating_gives() {
        let mut journal = Journal {
            period: "2026-03".into(),
            locked: true,
            ..Default::default()
        };
        for n in 0..3 {
            let mut entry = JournalEntry::default();
            let line = |account: &str, debit_minor, credit_minor, currency: &str| JournalLine {
                account: account.into(),
                debit_minor,
                credit_minor,
                currency: currency.into(),
            };
            let currency = if n == 2 { "" } else { "EUR" };
            entry
                .lines
                .insert("a".into(), line("1200", 100 + n, 0, currency));
            entry
                .lines
                .insert("b".into(), line("4000", 0, 100 + n, currency));
            journal
                .entries
                .append(LogKey::new(n, "x"), entry)
                .expect("entry");
        }
        let doc = Document::create(ActorId::from([1u8; 16]), 0, &journal).expect("doc");
        let read = JournalSummary::read(doc.automerge()).expect("a journal");
        assert_eq!(read, JournalSummary::from(&journal));
    }
}

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

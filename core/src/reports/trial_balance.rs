//! The trial balance: every ledger account's debits and credits over all journal periods.
//!
//! Balance is debit − credit (positive for a debit balance). The ledger is balanced when total
//! debits equal total credits; the server writes only balanced entries, so `balanced: false`
//! means a journal was written by something else or an entry was lost.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Journal, JournalEntry, JournalLine, LogKey};
//! use itinera_core::reports::{Summary, trial_balance};
//!
//! let mut entry = JournalEntry::default();
//! entry.lines.insert("1".into(), JournalLine { account: "1200".into(), debit_minor: 127, credit_minor: 0 });
//! entry.lines.insert("2".into(), JournalLine { account: "4000".into(), debit_minor: 0, credit_minor: 127 });
//! let mut journal = Journal { period: "2026-03".into(), ..Default::default() };
//! journal.entries.append(LogKey::new(1, "server"), entry)?;
//! let summaries = [(DocumentId::from_bytes([1; 16]), Summary::Journal((&journal).into()))];
//! let balance = trial_balance(&summaries);
//! assert!(balance.balanced);
//! assert_eq!(balance.accounts[1].balance_minor, -127);
//! # Ok::<(), itinera_core::model::DuplicateEntry>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::reports::summary::{LedgerTotals, Summary};
use crate::reports::summary_index::SummaryIndex;

/// Debits, credits and balances of every ledger account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialBalance {
    /// The journal periods included (`YYYY-MM`), sorted.
    pub periods: Vec<String>,
    /// Every ledger account, by code.
    pub accounts: Vec<LedgerBalance>,
    /// Sum of all debits.
    pub total_debit_minor: i64,
    /// Sum of all credits.
    pub total_credit_minor: i64,
    /// Whether total debits equal total credits.
    pub balanced: bool,
}

/// One ledger account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerBalance {
    /// The account code.
    pub account: String,
    /// Sum of debits.
    pub debit_minor: i64,
    /// Sum of credits.
    pub credit_minor: i64,
    /// `debit_minor − credit_minor`.
    pub balance_minor: i64,
}

/// The trial balance over every journal in `summaries`.
pub fn trial_balance(summaries: &[(DocumentId, Summary)]) -> TrialBalance {
    let index = SummaryIndex::new(summaries);
    let mut periods = BTreeSet::new();
    let mut accounts: BTreeMap<&str, LedgerTotals> = BTreeMap::new();
    for journal in index.journals.values() {
        periods.insert(journal.period.clone());
        for (account, totals) in &journal.accounts {
            let sum = accounts.entry(account.as_str()).or_default();
            sum.debit_minor = sum.debit_minor.saturating_add(totals.debit_minor);
            sum.credit_minor = sum.credit_minor.saturating_add(totals.credit_minor);
        }
    }
    let accounts: Vec<LedgerBalance> = accounts
        .into_iter()
        .map(|(account, totals)| LedgerBalance {
            account: account.to_owned(),
            debit_minor: totals.debit_minor,
            credit_minor: totals.credit_minor,
            balance_minor: totals.debit_minor.saturating_sub(totals.credit_minor),
        })
        .collect();
    let total_debit_minor = accounts
        .iter()
        .fold(0i64, |sum, account| sum.saturating_add(account.debit_minor));
    let total_credit_minor = accounts.iter().fold(0i64, |sum, account| {
        sum.saturating_add(account.credit_minor)
    });
    TrialBalance {
        periods: periods.into_iter().collect(),
        accounts,
        total_debit_minor,
        total_credit_minor,
        balanced: total_debit_minor == total_credit_minor,
    }
}

//! The trial balance: every ledger account's debits and credits over all journal periods, per
//! currency (amounts in different currencies are never added).
//!
//! Balance is debit − credit (positive for a debit balance). The ledger is balanced when debits
//! equal credits in every currency; the server writes only balanced entries, so
//! `balanced: false` means a journal was written by something else or an entry was lost.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Journal, JournalEntry, JournalLine, LogKey};
//! use itinera_core::reports::{Summary, trial_balance};
//!
//! let mut entry = JournalEntry::default();
//! let line = |account: &str, debit_minor, credit_minor| JournalLine {
//!     account: account.into(), debit_minor, credit_minor, currency: "HUF".into(),
//! };
//! entry.lines.insert("1".into(), line("1200", 127, 0));
//! entry.lines.insert("2".into(), line("4000", 0, 127));
//! let mut journal = Journal { period: "2026-03".into(), ..Default::default() };
//! journal.entries.append(LogKey::new(1, "server"), entry)?;
//! let summaries = [(DocumentId::from_bytes([1; 16]), Summary::Journal((&journal).into()))];
//! let balance = trial_balance(&summaries);
//! assert!(balance.balanced);
//! assert_eq!(balance.accounts[1].balance_minor, -127);
//! assert_eq!(balance.currencies[0].currency, "HUF");
//! # Ok::<(), itinera_core::model::DuplicateEntry>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::reports::summary::{LedgerTotals, Summary};

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
    /// Whether debits equal credits in every currency.
    pub balanced: bool,
    /// The same per currency: amounts in different currencies are never added up, and a
    /// ledger balances only if each currency does.
    pub currencies: Vec<CurrencyBalance>,
}

/// The trial balance of one currency (`""` for lines booked before lines carried one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyBalance {
    /// ISO 4217 code.
    pub currency: String,
    /// Every ledger account with lines in this currency, by code.
    pub accounts: Vec<LedgerBalance>,
    /// Sum of debits.
    pub total_debit_minor: i64,
    /// Sum of credits.
    pub total_credit_minor: i64,
    /// Whether they are equal.
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
    let journals = summaries.iter().filter_map(|(_, summary)| match summary {
        Summary::Journal(journal) => Some(journal),
        _ => None,
    });
    let mut periods = BTreeSet::new();
    let mut accounts: BTreeMap<&str, LedgerTotals> = BTreeMap::new();
    let mut currencies: BTreeMap<&str, BTreeMap<&str, LedgerTotals>> = BTreeMap::new();
    for journal in journals {
        periods.insert(journal.period.clone());
        for (account, totals) in &journal.accounts {
            add(accounts.entry(account.as_str()).or_default(), totals);
        }
        if journal.by_currency.is_empty() {
            // Booked before lines carried a currency.
            for (account, totals) in &journal.accounts {
                add(
                    currencies
                        .entry("")
                        .or_default()
                        .entry(account)
                        .or_default(),
                    totals,
                );
            }
        }
        for (currency, by_account) in &journal.by_currency {
            for (account, totals) in by_account {
                add(
                    currencies
                        .entry(currency.as_str())
                        .or_default()
                        .entry(account.as_str())
                        .or_default(),
                    totals,
                );
            }
        }
    }
    let currencies: Vec<CurrencyBalance> = currencies
        .into_iter()
        .map(|(currency, accounts)| {
            let accounts = balances(accounts);
            let (debit, credit) = totals(&accounts);
            CurrencyBalance {
                currency: currency.to_owned(),
                accounts,
                total_debit_minor: debit,
                total_credit_minor: credit,
                balanced: debit == credit,
            }
        })
        .collect();
    let accounts = balances(accounts);
    let (total_debit_minor, total_credit_minor) = totals(&accounts);
    TrialBalance {
        periods: periods.into_iter().collect(),
        accounts,
        total_debit_minor,
        total_credit_minor,
        balanced: currencies.iter().all(|currency| currency.balanced),
        currencies,
    }
}

fn add(sum: &mut LedgerTotals, totals: &LedgerTotals) {
    sum.debit_minor = sum.debit_minor.saturating_add(totals.debit_minor);
    sum.credit_minor = sum.credit_minor.saturating_add(totals.credit_minor);
}

fn balances(accounts: BTreeMap<&str, LedgerTotals>) -> Vec<LedgerBalance> {
    accounts
        .into_iter()
        .map(|(account, totals)| LedgerBalance {
            account: account.to_owned(),
            debit_minor: totals.debit_minor,
            credit_minor: totals.credit_minor,
            balance_minor: totals.debit_minor.saturating_sub(totals.credit_minor),
        })
        .collect()
}

fn totals(accounts: &[LedgerBalance]) -> (i64, i64) {
    accounts
        .iter()
        .fold((0i64, 0i64), |(debit, credit), account| {
            (
                debit.saturating_add(account.debit_minor),
                credit.saturating_add(account.credit_minor),
            )
        })
}

//! What the authority knows of the journals: which entries each period holds and which periods
//! are locked, read from the store once per period and kept as the authority books entries.
//! Booking an invoice then costs a lookup, not a load of a month's journal.

use std::collections::{HashMap, HashSet};

use itinera_core::model::Journal;
use itinera_core::rules::next_period;

use super::records::Records;
use crate::server_documents::journal_document_id;

/// How many locked periods in a row a late entry skips before it is left unbooked.
const MAX_SKIPPED_PERIODS: usize = 36;

#[derive(Debug, Default)]
struct Period {
    locked: bool,
    entries: HashSet<String>,
}

/// The entries booked and the locks, per period (`YYYY-MM`).
#[derive(Debug, Default)]
pub struct Journals {
    periods: HashMap<String, Period>,
}

impl Journals {
    fn period(&mut self, records: &Records, period: &str) -> &mut Period {
        self.periods.entry(period.to_owned()).or_insert_with(|| {
            let journal = records
                .load::<Journal>(&journal_document_id(period))
                .unwrap_or_default();
            Period {
                locked: journal.locked,
                entries: journal.entries.iter().map(|(k, _)| k.to_owned()).collect(),
            }
        })
    }

    /// Where entry `key` of `period` goes: `None` if it is booked already (in its period or
    /// a later one it went to late), else the first open period from `period` on.
    pub fn target(&mut self, records: &Records, key: &str, period: &str) -> Option<String> {
        let mut current = period.to_owned();
        for _ in 0..=MAX_SKIPPED_PERIODS {
            let known = self.period(records, &current);
            if known.entries.contains(key) {
                return None;
            }
            if !known.locked {
                return Some(current);
            }
            current = next_period(&current)?;
        }
        None
    }

    /// Entry `key` was booked into `period`.
    pub fn booked(&mut self, period: &str, key: &str) {
        if let Some(known) = self.periods.get_mut(period) {
            known.entries.insert(key.to_owned());
        }
    }
}

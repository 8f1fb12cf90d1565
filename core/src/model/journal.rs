use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::record;
use super::{DocumentKind, Log, Record};

record! {
    /// The general ledger of one month (`journal:{yyyy-mm}`), written by the server only.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Journal {
        /// `YYYY-MM`.
        pub period: String,
        /// A locked period takes no more entries; corrections go into an open one.
        pub locked: bool,
        pub entries: Log<JournalEntry>,
    }
}

impl Record for Journal {
    const KIND: DocumentKind = DocumentKind::Journal;
}

record! {
    /// One balanced entry, written in one change.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct JournalEntry {
        pub at: i64,
        pub description: String,
        /// The invoice, payment or stock movement behind it.
        pub source: Option<String>,
        /// The entry this one reverses.
        pub reverses: Option<String>,
        /// Lines by line id.
        pub lines: BTreeMap<String, JournalLine>,
        /// For an entry booked late, after its own period was locked: that period (`YYYY-MM`).
        #[autosurgeon(missing = "Default::default")]
        pub late_from: Option<String>,
    }
}

record! {
    /// A debit or a credit on one ledger account, in minor units.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate)]
    pub struct JournalLine {
        pub account: String,
        pub debit_minor: i64,
        pub credit_minor: i64,
        /// ISO 4217 code of the amounts (empty on lines booked before lines carried one).
        #[autosurgeon(missing = "Default::default")]
        pub currency: String,
    }
}

impl JournalEntry {
    /// Whether debits equal credits.
    pub fn is_balanced(&self) -> bool {
        let (debit, credit) = self.lines.values().fold((0i128, 0i128), |(d, c), line| {
            (
                d + i128::from(line.debit_minor),
                c + i128::from(line.credit_minor),
            )
        });
        debit == credit
    }
}

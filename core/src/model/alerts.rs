use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record, Set};

string_enum! {
    /// The rule an alert comes from (DOMAIN.md, rules a merge cannot keep).
    pub enum AlertRule {
        NegativeStock = "negative_stock",
        LowStock = "low_stock",
        Overbooked = "overbooked",
        GuideDoubleBooked = "guide_double_booked",
        InvoiceNumbering = "invoice_numbering",
        UnbalancedLedger = "unbalanced_ledger",
        StageConflict = "stage_conflict",
        EditAfterArchive = "edit_after_archive",
        DuplicateContact = "duplicate_contact",
        TransferNotReceived = "transfer_not_received",
        BookingOnCancelledDeparture = "booking_on_cancelled_departure",
        ArchivedReference = "archived_reference",
        /// A client held a document at an id the server keeps for its own documents.
        ReservedIdTaken = "reserved_id_taken",
        DuplicateAccount = "duplicate_account",
        DatePastLimit = "date_past_limit",
        LateJournalEntry = "late_journal_entry",
    }
}

string_enum! {
    /// How urgently someone should look.
    #[derive(Default)]
    pub enum AlertSeverity {
        Info = "info",
        #[default]
        Warning = "warning",
        Critical = "critical",
    }
}

string_enum! {
    /// Where an alert stands.
    #[derive(Default)]
    pub enum AlertStatus {
        #[default]
        Open = "open",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

record! {
    /// The authority's findings (`alerts`); office acknowledges and resolves them. The same
    /// record is each user's copy of the alerts about their records (`alerts:{user}`), which
    /// their phone reads.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Alerts {
        /// Alerts by alert id: the finding's key and the episode (`<finding>#2`), so a
        /// condition that holds is one alert however often it is found, and one that comes
        /// back after it cleared is a new one.
        pub alerts: BTreeMap<String, Alert>,
        /// The user whose copy this is; `None` for the company's alerts.
        #[autosurgeon(missing = "Default::default")]
        pub for_user: Option<String>,
    }
}

impl Record for Alerts {
    const KIND: DocumentKind = DocumentKind::Alerts;
}

record! {
    /// One finding.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct Alert {
        pub rule: AlertRule,
        pub severity: AlertSeverity,
        /// The document the finding is about.
        pub document: String,
        pub message: String,
        pub raised_at: i64,
        pub status: AlertStatus,
        pub resolved_by: Option<String>,
        pub resolved_at: Option<i64>,
        /// The finding this alert is an episode of (empty for alerts raised before episodes:
        /// their id is the finding's key).
        #[autosurgeon(missing = "Default::default")]
        pub finding: String,
        /// When the server saw the condition gone (an alert a person resolved while it still
        /// held opens no new episode until then).
        #[autosurgeon(missing = "Default::default")]
        pub cleared_at: Option<i64>,
        /// Users who see the alert on their phones: the owner of the record it is about.
        #[autosurgeon(missing = "Default::default")]
        pub owners: Set,
    }
}

impl Alert {
    /// The finding this alert is an episode of, given its id.
    pub fn finding_key<'a>(&'a self, id: &'a str) -> &'a str {
        if self.finding.is_empty() {
            id
        } else {
            &self.finding
        }
    }

    /// Whether someone still has to look at it.
    pub fn is_open(&self) -> bool {
        self.status != AlertStatus::Resolved
    }
}

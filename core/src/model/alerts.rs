use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record};

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
    /// The authority's findings (`alerts`); office acknowledges and resolves them.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Alerts {
        /// Alerts by alert id (deterministic from rule and subject, so a finding raised twice
        /// is one alert).
        pub alerts: BTreeMap<String, Alert>,
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
    }
}

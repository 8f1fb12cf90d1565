use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record};

string_enum! {
    /// Where a transfer between two locations stands.
    #[derive(Default)]
    pub enum TransferStatus {
        #[default]
        Draft = "draft",
        Shipped = "shipped",
        Received = "received",
        Cancelled = "cancelled",
    }
}

record! {
    /// Stock sent from one location to another (`transfer:{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Transfer {
        /// Location id the goods leave.
        pub from: String,
        /// Location id the goods reach.
        pub to: String,
        /// Lines by line id.
        pub lines: BTreeMap<String, TransferLine>,
        pub status: TransferStatus,
        pub shipped_at: Option<i64>,
        pub received_at: Option<i64>,
        pub received_by: Option<String>,
    }
}

impl Record for Transfer {
    const KIND: DocumentKind = DocumentKind::Transfer;
}

record! {
    /// One item of a transfer.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct TransferLine {
        pub item: String,
        pub quantity: i64,
    }
}

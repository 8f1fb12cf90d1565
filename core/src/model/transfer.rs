use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, LogKey, Record};

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

impl Transfer {
    /// The key of the movement line `line` of transfer `transfer` posts: out of the source
    /// when shipped (`incoming` false), into the destination when received. The same on
    /// every device and on the server, so a transfer received on two phones posts one
    /// movement, and the server can post what a phone could not.
    pub fn movement_key(&self, transfer: &crate::DocumentId, line: &str, incoming: bool) -> LogKey {
        let direction = if incoming { "in" } else { "out" };
        LogKey::new(
            self.shipped_at.unwrap_or(0),
            &format!("transfer-{transfer}-{line}-{direction}"),
        )
    }
}

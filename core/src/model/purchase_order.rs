use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record};

string_enum! {
    /// Where a purchase order stands.
    #[derive(Default)]
    pub enum PurchaseOrderStatus {
        #[default]
        Draft = "draft",
        Sent = "sent",
        Confirmed = "confirmed",
        Received = "received",
        Cancelled = "cancelled",
    }
}

record! {
    /// Goods or services bought from a supplier (`po:{id}`): hotels, coaches, restocking.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct PurchaseOrder {
        /// The supplier's account document id.
        pub supplier: String,
        pub status: PurchaseOrderStatus,
        /// ISO dates, `YYYY-MM-DD`.
        pub ordered_on: Option<String>,
        pub expected_on: Option<String>,
        pub currency: String,
        /// Lines by line id.
        pub lines: BTreeMap<String, PurchaseLine>,
        pub notes: Text,
    }
}

impl Record for PurchaseOrder {
    const KIND: DocumentKind = DocumentKind::PurchaseOrder;
}

record! {
    /// One line of a purchase order: an inventory item or a service, maybe for one departure.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct PurchaseLine {
        pub description: String,
        /// The inventory item id, for goods.
        pub item: Option<String>,
        pub quantity: i64,
        pub unit_price_minor: i64,
        /// The departure this service is for.
        pub departure: Option<String>,
    }
}

impl PurchaseOrder {
    /// The order's total in minor units.
    pub fn total_minor(&self) -> i64 {
        self.lines
            .values()
            .map(|line| line.quantity.saturating_mul(line.unit_price_minor))
            .fold(0, i64::saturating_add)
    }
}

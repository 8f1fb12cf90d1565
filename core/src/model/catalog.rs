use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record, Set};

record! {
    /// The company's catalogue: what it stocks and the tours it sells. Written by head office.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Catalog {
        /// Inventory items by item id.
        pub items: BTreeMap<String, InventoryItem>,
        /// Tours by tour id.
        pub tours: BTreeMap<String, Tour>,
    }
}

impl Record for Catalog {
    const KIND: DocumentKind = DocumentKind::Catalog;
}

record! {
    /// Something carried on tours or kept in a warehouse: water, first-aid kits, headsets.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct InventoryItem {
        pub sku: String,
        pub name: String,
        /// The unit counted: `bottle`, `kit`, `pair`.
        pub unit: String,
        pub category: String,
        /// Below this quantity at a location the authority raises a low-stock alert, by location id.
        pub reorder_points: BTreeMap<String, i64>,
        pub tags: Set,
        /// Unix ms when the item was withdrawn; the record stays for history.
        pub archived_at: Option<i64>,
    }
}

record! {
    /// A tour the company sells; each run of it is a departure.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Tour {
        pub code: String,
        pub name: String,
        pub duration_days: i64,
        pub default_capacity: i64,
        pub description: Text,
        /// The programme day by day, as a keyed list: stops are matched by id when merged.
        pub itinerary: Vec<ItineraryStop>,
        /// Prices by option id (adult, child, single supplement…).
        pub price_options: BTreeMap<String, PriceOption>,
        /// What each departure must carry, by item id.
        pub required_kit: BTreeMap<String, KitRequirement>,
        pub archived_at: Option<i64>,
    }
}

record! {
    /// One stop of a tour's itinerary.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct ItineraryStop {
        #[key]
        pub id: String,
        pub day: i64,
        pub title: String,
        pub place: String,
    }
}

record! {
    /// A price a tour is sold at, in minor units of `currency`.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct PriceOption {
        pub name: String,
        pub amount_minor: i64,
        pub currency: String,
    }
}

string_enum! {
    /// What a kit quantity is counted against.
    #[derive(Default)]
    pub enum KitBasis {
        #[default]
        PerDeparture = "per_departure",
        PerPassenger = "per_passenger",
    }
}

record! {
    /// How much of an item a departure needs.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct KitRequirement {
        pub quantity: i64,
        pub basis: KitBasis,
    }
}

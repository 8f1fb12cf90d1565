//! What reports need of the catalogue: item names and reorder points, tour names and kit.
//!
//! ```
//! use itinera_core::model::{Catalog, Tour, KitRequirement, KitBasis};
//! use itinera_core::reports::CatalogSummary;
//!
//! let mut tour = Tour { code: "DB3".into(), ..Default::default() };
//! tour.required_kit.insert("water".into(), KitRequirement { quantity: 2, basis: KitBasis::PerPassenger });
//! let mut catalog = Catalog::default();
//! catalog.tours.insert("db3".into(), tour);
//! assert_eq!(CatalogSummary::from(&catalog).tours["db3"].required_kit["water"].quantity, 2);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Catalog, KitBasis};
use crate::reports::reference::reference;

/// The catalogue without descriptions, itineraries or prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogSummary {
    /// Inventory items by item id.
    pub items: BTreeMap<String, ItemSummary>,
    /// Tours by tour id.
    pub tours: BTreeMap<String, TourSummary>,
}

/// An inventory item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemSummary {
    /// Its name.
    pub name: String,
    /// The unit counted.
    pub unit: String,
    /// Reorder point by stock location document id (bare bs58).
    pub reorder_points: BTreeMap<String, i64>,
}

/// A tour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourSummary {
    /// Its short code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// What each departure must carry, by item id.
    pub required_kit: BTreeMap<String, KitNeed>,
}

/// How much of an item a departure of a tour needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KitNeed {
    /// The quantity, per departure or per passenger.
    pub quantity: i64,
    /// What the quantity is counted against.
    #[serde(with = "crate::reports::stored_text")]
    pub basis: KitBasis,
}

impl KitNeed {
    /// What a departure with `seats` confirmed seats needs.
    pub fn for_departure(&self, seats: i64) -> i64 {
        match self.basis {
            KitBasis::PerDeparture => self.quantity,
            KitBasis::PerPassenger => self.quantity.saturating_mul(seats.max(0)),
        }
    }
}

impl From<&Catalog> for CatalogSummary {
    fn from(catalog: &Catalog) -> Self {
        Self {
            items: catalog
                .items
                .iter()
                .map(|(id, item)| {
                    let summary = ItemSummary {
                        name: item.name.clone(),
                        unit: item.unit.clone(),
                        reorder_points: item
                            .reorder_points
                            .iter()
                            .map(|(location, point)| (reference(location), *point))
                            .collect(),
                    };
                    (id.clone(), summary)
                })
                .collect(),
            tours: catalog
                .tours
                .iter()
                .map(|(id, tour)| {
                    let summary = TourSummary {
                        code: tour.code.clone(),
                        name: tour.name.clone(),
                        required_kit: tour
                            .required_kit
                            .iter()
                            .map(|(item, need)| {
                                let need = KitNeed {
                                    quantity: need.quantity,
                                    basis: need.basis,
                                };
                                (item.clone(), need)
                            })
                            .collect(),
                    };
                    (id.clone(), summary)
                })
                .collect(),
        }
    }
}

//! What reports need of a stock location: quantities on hand and consumption per reference.
//!
//! The movement log is folded into one figure per (reference, item): how much was consumed
//! for a departure, say. The summary grows with the number of distinct references, never with
//! the number of movements.
//!
//! ```
//! use itinera_core::model::{StockLocation, StockMovement, MovementReason, LogKey};
//! use itinera_core::reports::StockSummary;
//!
//! let mut kit = StockLocation::default();
//! for (n, quantity) in [(1, 24), (2, -3), (3, -2)] {
//!     let reason = if quantity > 0 { MovementReason::Receipt } else { MovementReason::Consumption };
//!     let movement = StockMovement { item: "water".into(), quantity, reason, reference: Some("dep-1".into()), actor: "gus".into(), at: n };
//!     kit.post_movement(LogKey::new(n, "gus"), movement)?;
//! }
//! let summary = StockSummary::from(&kit);
//! assert_eq!(summary.on_hand["water"], 19);
//! assert_eq!(summary.consumption["dep-1"]["water"], 5);
//! # Ok::<(), itinera_core::model::ModelError>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{LocationKind, MovementReason, StockLocation};
use crate::reports::reference::reference;

/// A stock location without its movement log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockSummary {
    /// The location's name.
    pub name: String,
    /// Warehouse, van or tour kit.
    #[serde(with = "crate::reports::stored_text")]
    pub location_kind: LocationKind,
    /// The user responsible for it.
    pub custodian: Option<String>,
    /// Quantity on hand by item id.
    pub on_hand: BTreeMap<String, i64>,
    /// Quantity consumed (a positive number: the negated sum of negative consumption
    /// movements) by movement reference (bare bs58 when it names a document), then by item id.
    /// Movements without a reference are not counted here.
    pub consumption: BTreeMap<String, BTreeMap<String, i64>>,
}

impl From<&StockLocation> for StockSummary {
    fn from(location: &StockLocation) -> Self {
        let mut consumption: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (_, movement) in location.movements.iter() {
            let Some(reference_text) = &movement.reference else {
                continue;
            };
            if movement.reason != MovementReason::Consumption || movement.quantity >= 0 {
                continue;
            }
            let consumed = consumption
                .entry(reference(reference_text))
                .or_default()
                .entry(movement.item.clone())
                .or_default();
            *consumed = consumed.saturating_sub(movement.quantity);
        }
        Self {
            name: location.name.clone(),
            location_kind: location.location_kind,
            custodian: location.custodian.clone(),
            on_hand: location
                .on_hand
                .iter()
                .map(|(item, quantity)| (item.clone(), quantity.value()))
                .collect(),
            consumption,
        }
    }
}

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Log, LogKey, ModelError, Quantity, Record};

string_enum! {
    /// What sort of place holds the stock.
    #[derive(Default)]
    pub enum LocationKind {
        #[default]
        Warehouse = "warehouse",
        Van = "van",
        TourKit = "tour_kit",
    }
}

string_enum! {
    /// Why stock moved.
    pub enum MovementReason {
        Receipt = "receipt",
        Consumption = "consumption",
        Sale = "sale",
        Transfer = "transfer",
        /// A stock count: counted minus expected, never an overwrite of the counter.
        Adjustment = "adjustment",
    }
}

record! {
    /// A warehouse, a van or a guide's tour kit, and what it holds (`stock:{location}`).
    ///
    /// Quantities are counters: two guides consuming offline both count. They change only through
    /// [`StockLocation::post_movement`], which writes the counter and the movement in one change.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct StockLocation {
        pub name: String,
        pub location_kind: LocationKind,
        /// The user responsible for this stock (a guide for a tour kit).
        pub custodian: Option<String>,
        /// Quantity on hand by item id.
        pub on_hand: BTreeMap<String, Quantity>,
        pub movements: Log<StockMovement>,
    }
}

impl Record for StockLocation {
    const KIND: DocumentKind = DocumentKind::Stock;
}

record! {
    /// One change of stock at a location.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct StockMovement {
        pub item: String,
        /// Signed: receipts add, consumption subtracts.
        pub quantity: i64,
        pub reason: MovementReason,
        /// The departure, transfer or purchase order behind the movement.
        pub reference: Option<String>,
        pub actor: String,
        pub at: i64,
    }
}

impl StockLocation {
    /// Starts counting `item` here at zero, if it is not counted yet.
    ///
    /// Head office stocks a location's items before phones move them: a counter created on two
    /// phones at once would be two counters, and only one survives the merge. The movement log
    /// still holds every movement, so the authority can reconcile a count made that way.
    pub fn stock_item(&mut self, item: &str) {
        self.on_hand.entry(item.to_owned()).or_default();
    }

    /// Records a movement: the counter and the log entry change together.
    pub fn post_movement(
        &mut self,
        key: LogKey,
        movement: StockMovement,
    ) -> Result<(), ModelError> {
        if movement.quantity == 0 {
            return Err(ModelError::Invalid(
                "a stock movement needs a non-zero quantity".into(),
            ));
        }
        if movement.item.is_empty() {
            return Err(ModelError::Invalid("a stock movement needs an item".into()));
        }
        let quantity = movement.quantity;
        let item = movement.item.clone();
        self.movements.append(key, movement)?;
        self.on_hand.entry(item).or_default().increment(quantity);
        Ok(())
    }

    /// The quantity of `item` here (zero when not stocked).
    pub fn quantity(&self, item: &str) -> i64 {
        self.on_hand.get(item).map_or(0, Quantity::value)
    }
}

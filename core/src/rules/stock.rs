//! Rule 1, stock below zero or below its reorder point, and counters that lost movements.
//!
//! Two guides consuming the last bottles offline both count: the merged counter goes below
//! zero, which no single phone allowed. The authority cannot undo a consumption that happened;
//! it raises an alert so office restocks or corrects the count.
//!
//! The movement log is the truth behind the counters: if two phones created the same counter
//! concurrently, only one counter survives the merge, but both movements do. [`recount`]
//! recomputes the quantities from the log and [`counter_drift`] says by how much each counter
//! must be incremented to agree with it.

use std::collections::BTreeMap;

use super::Finding;
use crate::DocumentId;
use crate::model::{AlertRule, AlertSeverity, Catalog, StockLocation};

/// Findings for the stock of one location: [`AlertRule::NegativeStock`] (critical) for an item
/// below zero, [`AlertRule::LowStock`] (warning) for one below the catalogue's reorder point for
/// this location, at zero or above.
///
/// Quantities are the counters people see. Items the catalogue expects here (a reorder point
/// for this location) but the location has never stocked count as zero; withdrawn catalogue
/// items raise no low-stock alert. Findings come in item order.
///
/// ```
/// use itinera_core::DocumentId;
/// use itinera_core::model::{AlertRule, LogKey, MovementReason, StockLocation, StockMovement};
/// use itinera_core::rules::stock_findings;
///
/// let kit_id = DocumentId::from_bytes([1; 16]);
/// let mut kit = StockLocation::default();
/// let water = StockMovement {
///     item: "water".into(), quantity: -2, reason: MovementReason::Consumption,
///     reference: None, actor: "gus".into(), at: 5,
/// };
/// kit.post_movement(LogKey::new(5, "gus-1"), water)?;
/// let findings = stock_findings(&kit_id, &kit, None);
/// assert_eq!(findings[0].rule, AlertRule::NegativeStock);
/// assert_eq!(findings[0].key, format!("negative_stock:{kit_id}:water"));
/// # Ok::<(), itinera_core::model::ModelError>(())
/// ```
pub fn stock_findings(
    location_id: &DocumentId,
    location: &StockLocation,
    catalog: Option<&Catalog>,
) -> Vec<Finding> {
    let location_key = location_id.to_string();
    let reorder_point = |item: &str| {
        catalog
            .and_then(|catalog| catalog.items.get(item))
            .filter(|item| item.archived_at.is_none())
            .and_then(|item| item.reorder_points.get(&location_key).copied())
    };
    let expected_here = catalog.into_iter().flat_map(|catalog| {
        catalog
            .items
            .iter()
            .filter(|(_, item)| item.reorder_points.contains_key(&location_key))
            .map(|(id, _)| id)
    });
    let items: std::collections::BTreeSet<&String> =
        location.on_hand.keys().chain(expected_here).collect();

    let place = if location.name.is_empty() {
        location_key.clone()
    } else {
        location.name.clone()
    };
    let item_name = |item: &str| {
        catalog
            .and_then(|catalog| catalog.items.get(item))
            .map(|found| found.name.as_str())
            .filter(|name| !name.is_empty())
            .map_or_else(|| item.to_owned(), |name| format!("{name} ({item})"))
    };

    let mut findings = Vec::new();
    for item in items {
        let quantity = location.quantity(item);
        if quantity < 0 {
            findings.push(Finding::new(
                AlertRule::NegativeStock,
                AlertSeverity::Critical,
                *location_id,
                item,
                format!(
                    "{} at {place} is {quantity}: more was consumed than held, probably on \
                     several devices offline; restock or post a counted adjustment",
                    item_name(item)
                ),
            ));
        } else if let Some(point) = reorder_point(item).filter(|point| quantity < *point) {
            findings.push(Finding::new(
                AlertRule::LowStock,
                AlertSeverity::Warning,
                *location_id,
                item,
                format!(
                    "{} at {place} is {quantity}, below its reorder point of {point}",
                    item_name(item)
                ),
            ));
        }
    }
    findings
}

/// The quantity of every item that has moved here, summed from the movement log.
///
/// ```
/// use itinera_core::model::{LogKey, MovementReason, StockLocation, StockMovement};
/// use itinera_core::rules::recount;
///
/// let mut van = StockLocation::default();
/// let receipt = |quantity, at| StockMovement {
///     item: "kit".into(), quantity, reason: MovementReason::Receipt,
///     reference: None, actor: "office".into(), at,
/// };
/// van.post_movement(LogKey::new(1, "o-1"), receipt(10, 1))?;
/// van.post_movement(LogKey::new(2, "o-2"), receipt(-3, 2))?;
/// assert_eq!(recount(&van)["kit"], 7);
/// # Ok::<(), itinera_core::model::ModelError>(())
/// ```
pub fn recount(location: &StockLocation) -> BTreeMap<String, i64> {
    let mut quantities: BTreeMap<String, i64> = BTreeMap::new();
    for (_, movement) in location.movements.iter() {
        let quantity = quantities.entry(movement.item.clone()).or_default();
        *quantity = quantity.saturating_add(movement.quantity);
    }
    quantities
}

/// Items whose counter disagrees with the movement log, each with the increment (expected
/// minus counter) that makes them agree, in item order.
///
/// The server applies the increment to the counter and posts no movement: the log already
/// holds every movement. A counter set at creation without a movement (which
/// [`StockLocation::post_movement`] never does) shows up here too.
///
/// ```
/// use itinera_core::model::{Quantity, StockLocation};
/// use itinera_core::rules::counter_drift;
///
/// let mut van = StockLocation::default();
/// van.on_hand.insert("kit".into(), Quantity::new(4));
/// assert_eq!(counter_drift(&van), vec![("kit".to_string(), -4)]);
/// ```
pub fn counter_drift(location: &StockLocation) -> Vec<(String, i64)> {
    let expected = recount(location);
    let items: std::collections::BTreeSet<&String> =
        location.on_hand.keys().chain(expected.keys()).collect();
    items
        .into_iter()
        .filter_map(|item| {
            let want = expected.get(item).copied().unwrap_or(0);
            let drift = want.saturating_sub(location.quantity(item));
            (drift != 0).then(|| (item.clone(), drift))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InventoryItem, LogKey, MovementReason, Quantity, StockMovement};

    fn location_id() -> DocumentId {
        DocumentId::from_bytes([9; 16])
    }

    fn movement(item: &str, quantity: i64, at: i64) -> StockMovement {
        StockMovement {
            item: item.into(),
            quantity,
            reason: MovementReason::Consumption,
            reference: None,
            actor: "gus".into(),
            at,
        }
    }

    fn catalog_with_reorder_point(item: &str, point: i64) -> Catalog {
        let mut catalog = Catalog::default();
        let mut entry = InventoryItem {
            name: "Water 0.5 l".into(),
            ..Default::default()
        };
        entry
            .reorder_points
            .insert(location_id().to_string(), point);
        catalog.items.insert(item.into(), entry);
        catalog
    }

    #[test]
    fn low_stock_is_strictly_below_the_reorder_point() {
        let catalog = catalog_with_reorder_point("water", 5);
        for (held, expected) in [
            (5, None),
            (4, Some(AlertRule::LowStock)),
            (0, Some(AlertRule::LowStock)),
        ] {
            let mut kit = StockLocation::default();
            kit.on_hand.insert("water".into(), Quantity::new(held));
            let rules: Vec<_> = stock_findings(&location_id(), &kit, Some(&catalog))
                .into_iter()
                .map(|f| f.rule)
                .collect();
            assert_eq!(
                rules,
                expected.into_iter().collect::<Vec<_>>(),
                "held {held}"
            );
        }
    }

    #[test]
    fn negative_stock_is_critical_and_not_also_low() {
        let catalog = catalog_with_reorder_point("water", 5);
        let mut kit = StockLocation::default();
        kit.on_hand.insert("water".into(), Quantity::new(-1));
        let findings = stock_findings(&location_id(), &kit, Some(&catalog));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, AlertRule::NegativeStock);
        assert_eq!(findings[0].severity, AlertSeverity::Critical);
        assert!(
            findings[0].message.contains("-1"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn an_expected_item_never_stocked_is_low_and_a_withdrawn_one_is_not() {
        let mut catalog = catalog_with_reorder_point("water", 5);
        let kit = StockLocation::default();
        let findings = stock_findings(&location_id(), &kit, Some(&catalog));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].key,
            format!("low_stock:{}:water", location_id())
        );

        if let Some(item) = catalog.items.get_mut("water") {
            item.archived_at = Some(1);
        }
        assert!(stock_findings(&location_id(), &kit, Some(&catalog)).is_empty());
    }

    #[test]
    fn another_locations_reorder_point_does_not_apply() {
        let catalog = catalog_with_reorder_point("water", 5);
        let mut kit = StockLocation::default();
        kit.on_hand.insert("water".into(), Quantity::new(1));
        let elsewhere = DocumentId::from_bytes([8; 16]);
        assert!(stock_findings(&elsewhere, &kit, Some(&catalog)).is_empty());
    }

    #[test]
    fn drift_is_what_the_counter_misses() -> Result<(), crate::model::ModelError> {
        let mut kit = StockLocation::default();
        kit.post_movement(LogKey::new(1, "a"), movement("water", 10, 1))?;
        kit.post_movement(LogKey::new(2, "b"), movement("water", -4, 2))?;
        assert!(counter_drift(&kit).is_empty());
        // A lost counter: the log says 6, the counter only kept one device's -4.
        kit.on_hand.insert("water".into(), Quantity::new(-4));
        assert_eq!(counter_drift(&kit), vec![("water".to_string(), 10)]);
        assert_eq!(recount(&kit).get("water"), Some(&6));
        Ok(())
    }
}

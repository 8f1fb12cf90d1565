//! Stock on hand and projected, per location and item; the exceptions head office acts on; and
//! what each departure consumed.
//!
//! The reorder point of an item at a location comes from the catalogue (keyed by the location's
//! document id). The *projection* is a deliberate simplification: only a tour kit whose
//! custodian is a user is projected, and it is charged with the required kit of every upcoming
//! departure (starting at or after `now`, not cancelled or completed) on which an employee whose
//! login is that user holds an accepted assignment, once per departure: `quantity` per departure,
//! or `quantity × seats_confirmed` per passenger. Two guides with a kit each on one departure
//! are both charged in full. Warehouses and vans are not projected: their projection is what
//! they hold.
//!
//! Exceptions, per location and item: `negative` (on hand below zero), otherwise
//! `below_reorder_point` (on hand below the reorder point); and `projected_negative` when the
//! projection goes below zero although the stock on hand does not.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{StockLocation, StockMovement, MovementReason, LogKey};
//! use itinera_core::reports::{Summary, StockExceptionKind, stock};
//!
//! let mut van = StockLocation { name: "Van 1".into(), ..Default::default() };
//! let movement = StockMovement { item: "water".into(), quantity: -2, reason: MovementReason::Consumption, reference: None, actor: "gus".into(), at: 1 };
//! van.post_movement(LogKey::new(1, "gus"), movement)?;
//! let summaries = [(DocumentId::from_bytes([1; 16]), Summary::Stock((&van).into()))];
//! let report = stock(&summaries, 0);
//! assert_eq!(report.exceptions[0].exception, StockExceptionKind::Negative);
//! # Ok::<(), itinera_core::model::ModelError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::model::{AssignmentStatus, DepartureStatus, LocationKind};
use crate::reports::summary::{StockSummary, Summary};
use crate::reports::summary_index::SummaryIndex;

/// Stock per location, its exceptions, and consumption per departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReport {
    /// Every location, by id.
    pub locations: Vec<LocationStock>,
    /// Items needing attention, by location then item.
    pub exceptions: Vec<StockException>,
    /// What was consumed for each departure, by start time.
    pub consumption: Vec<DepartureConsumption>,
}

/// One location's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationStock {
    /// The stock location document id (bare bs58).
    pub location: String,
    /// Its name.
    pub name: String,
    /// Warehouse, van or tour kit.
    #[serde(with = "crate::reports::stored_text")]
    pub location_kind: LocationKind,
    /// The user responsible for it.
    pub custodian: Option<String>,
    /// Whether the projection draws on upcoming departures (a tour kit held by a user).
    pub projected: bool,
    /// The upcoming departures it is charged with, by id.
    pub departures: Vec<String>,
    /// Items held, required, or with a reorder point here; by item id.
    pub items: Vec<ItemStock>,
}

/// One item at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemStock {
    /// The item id.
    pub item: String,
    /// Its name in the catalogue, if there.
    pub name: Option<String>,
    /// Quantity on hand.
    pub on_hand: i64,
    /// The reorder point here, if the catalogue sets one.
    pub reorder_point: Option<i64>,
    /// What upcoming departures will take from here.
    pub required: i64,
    /// `on_hand − required`.
    pub projected: i64,
}

/// Why an item at a location needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockExceptionKind {
    /// On hand below zero: concurrent consumption merged past what was there.
    Negative,
    /// On hand at or above zero but below the reorder point.
    BelowReorderPoint,
    /// On hand is fine, but upcoming departures will take it below zero.
    ProjectedNegative,
}

/// An item at a location needing attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockException {
    /// The stock location document id (bare bs58).
    pub location: String,
    /// The item id.
    pub item: String,
    /// What is wrong.
    pub exception: StockExceptionKind,
    /// Quantity on hand.
    pub on_hand: i64,
    /// Quantity after upcoming departures.
    pub projected: i64,
    /// The reorder point, if any.
    pub reorder_point: Option<i64>,
}

/// What one departure consumed, over every location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureConsumption {
    /// The departure document id (bare bs58).
    pub departure: String,
    /// Its tour id.
    pub tour: String,
    /// Unix ms.
    pub starts_at: i64,
    /// Quantity consumed by item id.
    pub items: BTreeMap<String, i64>,
}

/// Stock as of `now_ms` (Unix ms).
pub fn stock(summaries: &[(DocumentId, Summary)], now_ms: i64) -> StockReport {
    let index = SummaryIndex::new(summaries);
    let mut locations = Vec::new();
    let mut exceptions = Vec::new();
    for (id, location) in &index.stock {
        let row = location_stock(id, location, &index, now_ms);
        for item in &row.items {
            exceptions.extend(exceptions_of(id, item));
        }
        locations.push(row);
    }

    let mut consumption: BTreeMap<&str, DepartureConsumption> = BTreeMap::new();
    for location in index.stock.values() {
        for (reference, items) in &location.consumption {
            let Some(departure) = index.departures.get(reference.as_str()) else {
                continue;
            };
            let row =
                consumption
                    .entry(reference.as_str())
                    .or_insert_with(|| DepartureConsumption {
                        departure: reference.clone(),
                        tour: departure.tour.clone(),
                        starts_at: departure.starts_at,
                        items: BTreeMap::new(),
                    });
            for (item, quantity) in items {
                let sum = row.items.entry(item.clone()).or_default();
                *sum = sum.saturating_add(*quantity);
            }
        }
    }
    let mut consumption: Vec<DepartureConsumption> = consumption.into_values().collect();
    consumption.sort_by(|a, b| (a.starts_at, &a.departure).cmp(&(b.starts_at, &b.departure)));

    StockReport {
        locations,
        exceptions,
        consumption,
    }
}

fn location_stock(
    id: &str,
    location: &StockSummary,
    index: &SummaryIndex<'_>,
    now_ms: i64,
) -> LocationStock {
    let custodian = location
        .custodian
        .as_deref()
        .filter(|custodian| !custodian.is_empty());
    let projected = location.location_kind == LocationKind::TourKit && custodian.is_some();
    let departures = match custodian {
        Some(user) if projected => upcoming_departures_of(user, index, now_ms),
        _ => BTreeSet::new(),
    };

    let mut required: BTreeMap<&str, i64> = BTreeMap::new();
    for departure_id in &departures {
        let Some(departure) = index.departures.get(*departure_id) else {
            continue;
        };
        let Some(tour) = index.tour(&departure.tour) else {
            continue;
        };
        for (item, need) in &tour.required_kit {
            let sum = required.entry(item.as_str()).or_default();
            *sum = sum.saturating_add(need.for_departure(departure.seats_confirmed));
        }
    }

    let mut item_ids: BTreeSet<&str> = location.on_hand.keys().map(String::as_str).collect();
    item_ids.extend(required.keys().copied());
    for catalog in index.catalogs.values() {
        for (item, entry) in &catalog.items {
            if entry.reorder_points.contains_key(id) {
                item_ids.insert(item.as_str());
            }
        }
    }

    let items = item_ids
        .into_iter()
        .map(|item| {
            let on_hand = location.on_hand.get(item).copied().unwrap_or(0);
            let required = required.get(item).copied().unwrap_or(0);
            let catalogued = index.item(item);
            ItemStock {
                item: item.to_owned(),
                name: catalogued.map(|entry| entry.name.clone()),
                on_hand,
                reorder_point: catalogued.and_then(|entry| entry.reorder_points.get(id).copied()),
                required,
                projected: on_hand.saturating_sub(required),
            }
        })
        .collect();

    LocationStock {
        location: id.to_owned(),
        name: location.name.clone(),
        location_kind: location.location_kind,
        custodian: location.custodian.clone(),
        projected,
        departures: departures.into_iter().map(str::to_owned).collect(),
        items,
    }
}

/// Departures starting at or after `now` and still to run, on which an employee logging in as
/// `user` has accepted an assignment.
fn upcoming_departures_of<'i>(
    user: &str,
    index: &'i SummaryIndex<'_>,
    now_ms: i64,
) -> BTreeSet<&'i str> {
    let employees: BTreeSet<&str> = index
        .employees
        .iter()
        .filter(|(_, employee)| employee.user.as_deref() == Some(user))
        .map(|(id, _)| id.as_str())
        .collect();
    index
        .departures
        .iter()
        .filter(|(_, departure)| {
            departure.starts_at >= now_ms
                && !matches!(
                    departure.status,
                    DepartureStatus::Cancelled | DepartureStatus::Completed
                )
                && departure.assignments.iter().any(|assignment| {
                    assignment.status == AssignmentStatus::Accepted
                        && employees.contains(assignment.employee.as_str())
                })
        })
        .map(|(id, _)| id.as_str())
        .collect()
}

fn exceptions_of(location: &str, item: &ItemStock) -> Vec<StockException> {
    let mut kinds = Vec::new();
    if item.on_hand < 0 {
        kinds.push(StockExceptionKind::Negative);
    } else if item.reorder_point.is_some_and(|point| item.on_hand < point) {
        kinds.push(StockExceptionKind::BelowReorderPoint);
    }
    if item.on_hand >= 0 && item.projected < 0 {
        kinds.push(StockExceptionKind::ProjectedNegative);
    }
    kinds
        .into_iter()
        .map(|exception| StockException {
            location: location.to_owned(),
            item: item.item.clone(),
            exception,
            on_hand: item.on_hand,
            projected: item.projected,
            reorder_point: item.reorder_point,
        })
        .collect()
}

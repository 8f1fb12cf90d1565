//! Stock: counters set right from the movement log (the log is append-only, so it is the
//! book), negative and low stock raised as alerts for the location's custodian, and the
//! movements of transfers posted by the server: out of the source when shipped, into the
//! destination when received, each once, under the key every device uses too.

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{
    AlertRule, Catalog, MovementReason, StockLocation, StockMovement, Transfer, TransferStatus,
};
use itinera_core::rules;

use super::Plan;
use super::alerts::record_findings;
use super::records::Records;
use super::relations::parse_reference;

/// Counter corrections and alerts for location `id`.
pub fn decide_location(
    records: &Records,
    id: DocumentId,
    location: &StockLocation,
    catalog: Option<&Catalog>,
    now: i64,
    plan: &mut Plan,
) {
    // Two phones that created the same counter at once leave one counter, and two that posted
    // the same receipt leave one movement: the log is the book, the counters follow it.
    let drift = rules::counter_drift(location);
    if !drift.is_empty() {
        let edit = ServerEdit::record(move |kit: &mut StockLocation| {
            for (item, missing) in drift {
                kit.on_hand.entry(item).or_default().increment(missing);
            }
            Ok(true)
        });
        plan.edit(id, edit);
    }
    let findings = rules::stock_findings(&id, location, catalog);
    let rules = [AlertRule::NegativeStock, AlertRule::LowStock];
    record_findings(records, id, &rules, findings, now, plan);
}

/// The movements transfer `id` calls for that its locations lack.
pub fn post_transfer(records: &Records, id: DocumentId, transfer: &Transfer, plan: &mut Plan) {
    let shipped = matches!(
        transfer.status,
        TransferStatus::Shipped | TransferStatus::Received
    );
    if shipped {
        post(records, id, transfer, &transfer.from, false, plan);
    }
    if transfer.status == TransferStatus::Received {
        post(records, id, transfer, &transfer.to, true, plan);
    }
}

fn post(
    records: &Records,
    id: DocumentId,
    transfer: &Transfer,
    location: &str,
    incoming: bool,
    plan: &mut Plan,
) {
    let Ok(location_id) = parse_reference(location) else {
        return;
    };
    let Some(stock) = records.load::<StockLocation>(&location_id) else {
        return;
    };
    let at = if incoming {
        transfer.received_at.or(transfer.shipped_at)
    } else {
        transfer.shipped_at
    }
    .unwrap_or(0);
    let actor = if incoming {
        transfer
            .received_by
            .clone()
            .unwrap_or_else(|| "server".into())
    } else {
        "server".into()
    };
    let missing: Vec<_> = transfer
        .lines
        .iter()
        .filter(|(_, line)| line.quantity != 0 && !line.item.is_empty())
        .map(|(line_id, line)| (transfer.movement_key(&id, line_id, incoming), line))
        .filter(|(key, _)| stock.movements.get(key.as_str()).is_none())
        .map(|(key, line)| {
            let quantity = if incoming {
                line.quantity
            } else {
                -line.quantity
            };
            let movement = StockMovement {
                item: line.item.clone(),
                quantity,
                reason: MovementReason::Transfer,
                reference: Some(id.to_string()),
                actor: actor.clone(),
                at,
            };
            (key, movement)
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    plan.edit(
        location_id,
        ServerEdit::record(move |kit: &mut StockLocation| {
            let mut changed = false;
            for (key, movement) in missing {
                if kit.movements.get(key.as_str()).is_none() {
                    kit.post_movement(key, movement)
                        .map_err(|err| itinera_core::engine::EditError::Invalid(err.to_string()))?;
                    changed = true;
                }
            }
            Ok(changed)
        }),
    );
}

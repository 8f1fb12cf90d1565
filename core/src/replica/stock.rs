//! Stock on tour: what a guide consumes from a kit, and transfers received into it.
//!
//! Stock changes only by movements ([`StockLocation::post_movement`]), each writing the
//! counter and the log entry in one change, so two guides consuming offline both count and
//! the authority can always recount from the log.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, DocumentId};
//! use itinera_core::model::StockLocation;
//! use itinera_core::replica::Replica;
//!
//! let mut replica = Replica::in_memory("gus", ActorId::from([1u8; 16]))?;
//! let mut kit = StockLocation { name: "Kit 3".into(), ..Default::default() };
//! kit.stock_item("water");
//! let mut office = Document::create(ActorId::from([2u8; 16]), 1, &kit)?.into_automerge();
//! let kit_id = DocumentId::from_bytes([3; 16]);
//! replica.merge_remote(kit_id, &mut office)?;
//!
//! replica.consume_stock(kit_id, "water".into(), 6, None, 1_000, "gus-1")?;
//! assert_eq!(replica.stock_level(kit_id, "water".into())?, Some(-6));
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use super::Replica;
use super::accounts::{log_key, present, required};
use super::error::{ReplicaResult, invalid};
use crate::model::{
    ModelError, MovementReason, StockLocation, StockMovement, Transfer, TransferStatus,
};
use crate::store::WriteBatch;
use crate::{DocumentId, DocumentKind};

impl Replica {
    /// Records that `quantity` (positive) of `item` was used up at `location`, on
    /// `departure` if given: a consumption movement of `-quantity`.
    pub fn consume_stock(
        &mut self,
        location: DocumentId,
        item: String,
        quantity: i64,
        departure: Option<String>,
        at: i64,
        unique: &str,
    ) -> ReplicaResult<DocumentId> {
        let item = required(item, "a stock movement needs an item")?;
        if quantity <= 0 {
            return Err(invalid("consume a positive quantity"));
        }
        let key = log_key(at, unique)?;
        let movement = StockMovement {
            item,
            quantity: -quantity,
            reason: MovementReason::Consumption,
            reference: departure.and_then(present),
            actor: self.user.clone(),
            at,
        };
        self.change::<StockLocation, _>(location, at, |stock| stock.post_movement(key, movement))?;
        Ok(location)
    }

    /// Receives the shipped transfer `transfer`: it becomes received, by this user, at `at`,
    /// and if the replica holds the destination location, each line is posted there as a
    /// receipt movement, in the same commit. Receiving a received transfer changes nothing; a
    /// transfer not shipped yet, or cancelled, is refused.
    pub fn receive_transfer(&mut self, transfer: DocumentId, at: i64) -> ReplicaResult<DocumentId> {
        let record = self.read_existing::<Transfer>(transfer)?;
        match record.status {
            TransferStatus::Received => return Ok(transfer),
            TransferStatus::Shipped => {}
            TransferStatus::Draft => return Err(invalid("the transfer has not been shipped")),
            TransferStatus::Cancelled => return Err(invalid("the transfer was cancelled")),
        }
        let destination = DocumentId::parse(&record.to)
            .ok()
            .filter(|to| self.record_kind(*to) == Some(DocumentKind::Stock));
        let user = self.user.clone();
        self.edit::<Transfer, _>(transfer, at, |record| {
            if record.status != TransferStatus::Shipped {
                return Err(ModelError::Invalid("the transfer is not in transit".into()));
            }
            record.status = TransferStatus::Received;
            record.received_at = Some(at);
            record.received_by = Some(user.clone());
            Ok(())
        })?;
        let Some(destination) = destination else {
            self.write(&[transfer], Some(at), WriteBatch::new())?;
            return Ok(transfer);
        };
        let reference = transfer.to_string();
        let posted = self.edit::<StockLocation, _>(destination, at, |stock| {
            for (line_id, line) in &record.lines {
                if line.quantity == 0 {
                    continue;
                }
                // One key per transfer line, the same on every device and on the server: the
                // receipt of a line is one entry however many phones receive it.
                let key = record.movement_key(&transfer, line_id, true);
                if stock.movements.get(key.as_str()).is_some() {
                    continue;
                }
                let movement = StockMovement {
                    item: line.item.clone(),
                    quantity: line.quantity,
                    reason: MovementReason::Receipt,
                    reference: Some(reference.clone()),
                    actor: user.clone(),
                    at,
                };
                stock.post_movement(key, movement)?;
            }
            Ok(())
        });
        if let Err(err) = posted {
            self.forget(transfer);
            return Err(err);
        }
        self.write(&[transfer, destination], Some(at), WriteBatch::new())?;
        Ok(transfer)
    }

    /// The quantity of `item` on hand at `location` (zero if not stocked there); `None` if the
    /// replica does not hold the location.
    pub fn stock_level(
        &mut self,
        location: DocumentId,
        item: String,
    ) -> ReplicaResult<Option<i64>> {
        Ok(self
            .read::<StockLocation>(location)?
            .map(|stock| stock.quantity(&item)))
    }
}

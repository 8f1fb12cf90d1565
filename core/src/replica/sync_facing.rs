//! What the sync client asks of the replica: documents to sync, remote changes to take in,
//! the heads the server confirmed, and the local changes it has not confirmed yet.
//!
//! The sync client (in the bindings) runs the protocol engine; the replica never talks to the
//! network. After a sync round the client calls [`Replica::merge_remote`] with what arrived
//! and [`Replica::set_acknowledged`] with the heads the server confirmed holding (the sync
//! state's shared heads). [`Replica::pending`] then names the documents that still carry
//! local changes the server does not have, and [`Replica::discard_local_changes`] takes back
//! changes the server refused.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::replica::Replica;
//!
//! let mut phone = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let mut server = Replica::in_memory("ana", ActorId::from([2u8; 16]))?;
//! let account = DocumentId::new_v7(1_000, [1; 10]);
//! phone.create_account(account, "Alpine Schools".into(), "north".into(), 1_000)?;
//! assert_eq!(phone.pending()?, vec![account]);
//!
//! // The server takes the document in and confirms its heads.
//! let mut sent = phone.document(account)?.expect("held");
//! assert!(server.merge_remote(account, &mut sent)?);
//! phone.set_acknowledged(account, sent.get_heads())?;
//! assert!(phone.pending()?.is_empty());
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use automerge::{AutoCommit, ChangeHash};

use super::Replica;
use super::device_replica::{LAST_SYNC_KEY, ack_key, encode_heads};
use super::error::{ReplicaError, ReplicaResult, not_found};
use super::slot::{Slot, same_heads};
use crate::document::validate;
use crate::model::UserIndex;
use crate::store::{DocumentMeta, DocumentStore, Durability, WriteBatch};
use crate::{DocumentId, Error};

impl Replica {
    /// Every document the replica holds, in id order.
    pub fn document_ids(&self) -> Vec<DocumentId> {
        self.slots.keys().copied().collect()
    }

    /// A copy of the document `id` to hand to the sync engine; `None` if the replica does not
    /// hold it. Changes made to the copy reach the replica only through
    /// [`merge_remote`](Self::merge_remote).
    pub fn document(&mut self, id: DocumentId) -> ReplicaResult<Option<AutoCommit>> {
        Ok(self.loaded(id)?.map(|doc| doc.clone()))
    }

    /// Takes in every change of `remote` that the replica lacks, checks the result and writes
    /// it durably; returns whether anything changed. A document the replica does not hold yet
    /// is added (one with no changes at all is not).
    ///
    /// The merged document must still be a well-formed record of the same kind
    /// ([`crate::document::validate`]); if it is not, the replica keeps the document as it was
    /// and reports why.
    pub fn merge_remote(&mut self, id: DocumentId, remote: &mut AutoCommit) -> ReplicaResult<bool> {
        if self.slots.contains_key(&id) {
            self.merge_into_held(id, remote)
        } else {
            self.insert_remote(id, remote)
        }
    }

    fn merge_into_held(&mut self, id: DocumentId, remote: &mut AutoCommit) -> ReplicaResult<bool> {
        let kind = self.slots.get(&id).and_then(|slot| slot.kind);
        let Some(doc) = self.loaded(id)? else {
            return Err(not_found(format!("document {id}")));
        };
        let before = doc.get_heads();
        // Merged in place: should the result be refused, dropping the document from memory
        // restores it from the store, which is cheaper than forking it for every merge.
        let merged = doc.merge(remote);
        crate::document::forget_applied(doc);
        let checked = merged
            .map_err(Error::from)
            .and_then(|_| validate(&*doc))
            .and_then(|header| match (kind, header.kind()) {
                (Some(held), Some(now)) if held == now => Ok(header.kind()),
                (Some(held), now) => Err(Error::WrongKind {
                    expected: held,
                    found: now.map_or_else(
                        || "a document with no Itinera kind".to_owned(),
                        |now| now.to_string(),
                    ),
                }),
                // A generic document may become a record; it is then read as one.
                (None, now) => Ok(now),
            });
        let after = doc.get_heads();
        let kind = match checked {
            Ok(kind) => kind,
            Err(err) => {
                self.forget(id);
                return Err(err.into());
            }
        };
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.kind = kind;
        }
        if same_heads(&before, &after) {
            return Ok(false);
        }
        self.write(&[id], None, WriteBatch::new())?;
        Ok(true)
    }

    fn insert_remote(&mut self, id: DocumentId, remote: &mut AutoCommit) -> ReplicaResult<bool> {
        let mut doc = AutoCommit::new().with_actor(self.actor.clone());
        doc.merge(remote)?;
        crate::document::forget_applied(&mut doc);
        if doc.get_heads().is_empty() {
            return Ok(false);
        }
        let header = validate(&doc)?;
        self.slots.insert(id, Slot::new(header.kind(), doc));
        self.write(&[id], None, WriteBatch::new())?;
        Ok(true)
    }

    /// Records, durably, that the server holds the document `id` up to `server_heads`.
    ///
    /// Pass heads this replica holds (the sync state's shared heads, or the heads just sent
    /// and confirmed): heads the replica does not hold yet are kept but count only once their
    /// changes arrive, since until then the replica cannot tell which of its changes they
    /// cover.
    pub fn set_acknowledged(
        &mut self,
        id: DocumentId,
        server_heads: Vec<ChangeHash>,
    ) -> ReplicaResult<()> {
        let mut batch = WriteBatch::new();
        batch.put_value(&ack_key(id), encode_heads(&server_heads));
        self.store.commit(batch, Durability::Immediate)?;
        self.acknowledged.insert(id, server_heads);
        Ok(())
    }

    /// The heads the server last confirmed for `id` (empty if it never did).
    pub fn acknowledged(&self, id: DocumentId) -> Vec<ChangeHash> {
        self.acknowledged.get(&id).cloned().unwrap_or_default()
    }

    /// The documents holding changes the server has not confirmed: some change is not in the
    /// history of the acknowledged heads. In id order.
    pub fn pending(&mut self) -> ReplicaResult<Vec<DocumentId>> {
        let mut pending = Vec::new();
        for id in self.maybe_pending() {
            if self.unacknowledged_changes(id)? > 0 {
                pending.push(id);
            }
        }
        Ok(pending)
    }

    /// How many changes of all documents the server has not confirmed, for the app's
    /// "waiting to sync" badge.
    pub fn pending_changes(&mut self) -> ReplicaResult<u64> {
        let mut count = 0u64;
        for id in self.maybe_pending() {
            count = count.saturating_add(self.unacknowledged_changes(id)? as u64);
        }
        Ok(count)
    }

    /// Documents whose stored heads differ from their acknowledged heads; the others have
    /// nothing pending and need not be loaded.
    fn maybe_pending(&self) -> Vec<DocumentId> {
        self.slots
            .iter()
            .filter(|(id, slot)| {
                let acknowledged = self.acknowledged.get(id).map_or(&[][..], Vec::as_slice);
                !same_heads(&slot.written, acknowledged)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// The number of changes of `id` outside the history of its acknowledged heads.
    fn unacknowledged_changes(&mut self, id: DocumentId) -> ReplicaResult<usize> {
        let acknowledged = self.acknowledged.get(&id).cloned().unwrap_or_default();
        let Some(doc) = self.loaded(id)? else {
            return Ok(0);
        };
        let known = known_heads(doc, acknowledged);
        Ok(doc.get_changes_meta(&known).len())
    }

    /// Throws away the changes of `id` the server has not confirmed, after it refused them:
    /// the document goes back to its acknowledged heads and is stored as a fresh snapshot.
    ///
    /// Refuses ([`ReplicaError::NeverAcknowledged`]) a document the server never acknowledged:
    /// going back would delete it, and everything in it was never anywhere else. The app asks
    /// the user, then calls [`delete_unsynced_document`](Self::delete_unsynced_document).
    ///
    /// Changes received from others after the acknowledged heads go too; the next sync brings
    /// them again. The document's stored sync states are dropped with the changes, since they
    /// may name changes that are gone.
    pub fn discard_local_changes(&mut self, id: DocumentId) -> ReplicaResult<()> {
        let acknowledged = self.acknowledged.get(&id).cloned().unwrap_or_default();
        let actor = self.actor.clone();
        let Some(doc) = self.loaded(id)? else {
            return Err(not_found(format!("document {id}")));
        };
        let known = known_heads(doc, acknowledged);
        if known.is_empty() {
            let changes = doc.get_changes_meta(&[]).len();
            return Err(ReplicaError::NeverAcknowledged {
                document: id,
                changes,
            });
        }
        if doc.get_changes_meta(&known).is_empty() {
            return Ok(());
        }
        let mut reverted = doc.fork_at(&known)?.with_actor(actor);
        let heads = reverted.get_heads();
        let Some(slot) = self.slots.get_mut(&id) else {
            return Err(not_found(format!("document {id}")));
        };
        let meta = DocumentMeta {
            kind: slot.kind.map(|kind| kind.as_str().to_owned()),
            heads: heads.clone(),
            last_change_at: slot.last_change_at,
            ..DocumentMeta::default()
        };
        // Deleting first also drops the sync states; the snapshot then replaces the chunks.
        let mut batch = WriteBatch::new();
        batch
            .delete_document(id)
            .put_snapshot(id, reverted.save(), meta);
        self.store.commit(batch, Durability::Immediate)?;
        slot.doc = Some(Box::new(reverted));
        slot.written = heads;
        self.written_log.push(id);
        Ok(())
    }

    /// Deletes a document the server never acknowledged, with every change in it: what the
    /// app calls after the user confirmed, when [`discard_local_changes`] refused. A document
    /// the server acknowledged is refused: discard its changes instead.
    ///
    /// [`discard_local_changes`]: Self::discard_local_changes
    pub fn delete_unsynced_document(&mut self, id: DocumentId) -> ReplicaResult<()> {
        if !self.slots.contains_key(&id) {
            return Err(not_found(format!("document {id}")));
        }
        if self
            .acknowledged
            .get(&id)
            .is_some_and(|heads| !heads.is_empty())
        {
            return Err(super::error::invalid(format!(
                "the server holds document {id}: discard its local changes instead"
            )));
        }
        let mut batch = WriteBatch::new();
        batch.delete_document(id).delete_value(&ack_key(id));
        self.store.commit(batch, Durability::Immediate)?;
        self.slots.remove(&id);
        self.acknowledged.remove(&id);
        self.written_log.push(id);
        Ok(())
    }

    /// When the last sync completed (Unix ms), as recorded by [`set_last_sync`](Self::set_last_sync).
    pub fn last_sync(&self) -> Option<i64> {
        self.last_sync
    }

    /// Records, durably, that a sync completed at `at` (Unix ms).
    pub fn set_last_sync(&mut self, at: i64) -> ReplicaResult<()> {
        let mut batch = WriteBatch::new();
        batch.put_value(LAST_SYNC_KEY, at.to_be_bytes());
        self.store.commit(batch, Durability::Immediate)?;
        self.last_sync = Some(at);
        Ok(())
    }

    /// The encoded `automerge::sync::State` last stored for `id` and the remote
    /// `storage_id`, so that a reconnect resumes where the last sync stopped.
    pub fn sync_state(&self, id: DocumentId, storage_id: &str) -> ReplicaResult<Option<Vec<u8>>> {
        Ok(self.store.sync_state(id, storage_id)?)
    }

    /// Stores, durably, the encoded sync state of `id` with the remote `storage_id`.
    pub fn put_sync_state(
        &mut self,
        id: DocumentId,
        storage_id: &str,
        state: Vec<u8>,
    ) -> ReplicaResult<()> {
        let mut batch = WriteBatch::new();
        batch.put_sync_state(id, storage_id, state);
        Ok(self.store.commit(batch, Durability::Immediate)?)
    }

    /// The id of this user's index document (`index:{user}`), which the sync client fetches
    /// first.
    pub fn index_id(&self) -> DocumentId {
        DocumentId::index_of(&self.user)
    }

    /// The documents this user's index lists, which the sync client fetches after the index;
    /// empty until the index has arrived. Entries that are not document ids are skipped.
    pub fn indexed_documents(&mut self) -> ReplicaResult<Vec<DocumentId>> {
        let Some(index) = self.read::<UserIndex>(self.index_id())? else {
            return Ok(Vec::new());
        };
        Ok(index
            .documents
            .keys()
            .filter_map(|id| DocumentId::parse(id).ok())
            .collect())
    }
}

/// The heads of `heads` that `doc` holds.
fn known_heads(doc: &mut AutoCommit, heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads
        .into_iter()
        .filter(|head| doc.get_change_meta_by_hash(head).is_some())
        .collect()
}

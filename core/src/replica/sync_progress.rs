//! What the device's sync session keeps in the replica between connections: its place in the
//! server's changes feed, the documents it knows to be behind the server, the sync states it
//! reached, and the documents that arrived, each batch written in one durable commit.
//!
//! The checkpoint moves only in the commit that stores what the page before it brought (the
//! bodies, or the marks of the documents still to fetch), so a device that dies anywhere
//! resumes without missing a change: PowerSync's rule for its checkpoints.
//!
//! ```
//! use automerge::{ActorId, AutoCommit};
//! use itinera_core::DocumentId;
//! use itinera_core::replica::{Replica, StoredBody};
//!
//! let mut office = Replica::in_memory("ana", ActorId::from([2u8; 16]))?;
//! let account = DocumentId::new_v7(1_000, [1; 10]);
//! office.create_account(account, "Alpine Schools".into(), "north".into(), 1_000)?;
//! let mut stored = office.document(account)?.expect("held");
//!
//! let mut phone = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let body = StoredBody { document: account, heads: stored.get_heads(), bytes: stored.save() };
//! phone.take_feed_page("server-storage", vec![body], vec![], 7)?;
//! assert_eq!(phone.feed_checkpoint("server-storage"), 7);
//! assert_eq!(phone.my_accounts()?.len(), 1);
//! assert!(phone.pending()?.is_empty(), "the server has it");
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use std::collections::BTreeSet;

use automerge::ChangeHash;
use automerge::sync::State;

use super::Replica;
use super::device_replica::{ack_key, encode_heads};
use super::error::{ReplicaResult, not_found};
use super::slot::{Slot, same_heads};
use crate::DocumentId;
use crate::document::{load_bytes, validate};
use crate::store::{DocumentMeta, DocumentStore, Durability, WriteBatch};

/// Key of the changes feed's checkpoint: the server's storage id, a NUL, then the position as
/// a big-endian `u64`.
const FEED_KEY: &str = "replica:feed";
/// Prefix of the marks of documents the feed said changed and the device has not fetched yet.
const BEHIND_PREFIX: &str = "replica:behind:";

fn behind_key(id: DocumentId) -> String {
    format!("{BEHIND_PREFIX}{id}")
}

/// A document as the server stores it, from a page of the changes feed.
#[derive(Debug, Clone)]
pub struct StoredBody {
    /// The document.
    pub document: DocumentId,
    /// The heads the server stores.
    pub heads: Vec<ChangeHash>,
    /// The stored bytes (`AutoCommit::load` reads them).
    pub bytes: Vec<u8>,
}

/// What one round of syncing brought: changes per document (saved after the replica's heads),
/// the heads the server confirmed, the sync states reached and the documents no longer behind.
#[derive(Debug, Default)]
pub struct SyncProgress {
    /// Changes that arrived, per document, as `save_after` bytes.
    pub arrived: Vec<(DocumentId, Vec<u8>)>,
    /// Heads the server confirmed holding.
    pub acknowledged: Vec<(DocumentId, Vec<ChangeHash>)>,
    /// Sync states with the server, to resume from next time.
    pub states: Vec<(DocumentId, State)>,
    /// Documents fetched since the feed named them.
    pub caught_up: Vec<DocumentId>,
}

impl SyncProgress {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.arrived.is_empty()
            && self.acknowledged.is_empty()
            && self.states.is_empty()
            && self.caught_up.is_empty()
    }
}

impl Replica {
    /// The position in the changes feed of the server whose storage id is `server` up to which
    /// this device holds everything; 0 for another server or none yet.
    pub fn feed_checkpoint(&self, server: &str) -> u64 {
        let Ok(Some(value)) = self.store.value(FEED_KEY) else {
            return 0;
        };
        let Some(split) = value.iter().position(|b| *b == 0) else {
            return 0;
        };
        let (stored, position) = value.split_at(split);
        match <[u8; 8]>::try_from(&position[1..]) {
            Ok(bytes) if stored == server.as_bytes() => u64::from_be_bytes(bytes),
            _ => 0,
        }
    }

    /// The documents the feed named that this device has not fetched yet.
    pub fn behind(&self) -> ReplicaResult<BTreeSet<DocumentId>> {
        Ok(self
            .store
            .values_with_prefix(BEHIND_PREFIX)?
            .into_iter()
            .filter_map(|(key, _)| DocumentId::parse(key.strip_prefix(BEHIND_PREFIX)?).ok())
            .collect())
    }

    /// Whether the replica holds every change of `heads` of document `id`.
    pub fn holds_heads(&mut self, id: DocumentId, heads: &[ChangeHash]) -> ReplicaResult<bool> {
        let Some(slot) = self.slots.get(&id) else {
            return Ok(false);
        };
        if heads.iter().all(|head| slot.written.contains(head)) {
            return Ok(true);
        }
        let Some(doc) = self.loaded(id)? else {
            return Ok(false);
        };
        Ok(heads
            .iter()
            .all(|head| doc.get_change_meta_by_hash(head).is_some()))
    }

    /// Takes in one page of the changes feed, durably and at once: the stored documents it
    /// carried (checked, then kept as the server stored them, without being held in memory),
    /// the marks of the documents it named that must still be fetched, and the checkpoint
    /// after it. A body that does not load or is not a well-formed record is marked behind
    /// instead, to be fetched by sync (which checks every change).
    pub fn take_feed_page(
        &mut self,
        server: &str,
        bodies: Vec<StoredBody>,
        behind: Vec<DocumentId>,
        checkpoint: u64,
    ) -> ReplicaResult<Vec<DocumentId>> {
        let mut batch = WriteBatch::new();
        let mut stored = Vec::with_capacity(bodies.len());
        let mut behind: BTreeSet<DocumentId> = behind.into_iter().collect();
        for body in bodies {
            if self.slots.contains_key(&body.document) {
                // Held already (created here, or an older replica): merged by sync.
                behind.insert(body.document);
                continue;
            }
            let Some(slot) = self.checked_body(&body) else {
                behind.insert(body.document);
                continue;
            };
            let meta = DocumentMeta {
                kind: slot.kind.map(|kind| kind.as_str().to_owned()),
                heads: slot.written.clone(),
                ..DocumentMeta::default()
            };
            let mut state = State::new();
            state.shared_heads.clone_from(&slot.written);
            batch
                .put_snapshot(body.document, body.bytes, meta)
                .put_value(&ack_key(body.document), encode_heads(&slot.written))
                .put_sync_state(body.document, server, state.encode());
            stored.push((body.document, slot));
        }
        for id in &behind {
            batch.put_value(&behind_key(*id), Vec::new());
        }
        let mut feed = server.as_bytes().to_vec();
        feed.push(0);
        feed.extend_from_slice(&checkpoint.to_be_bytes());
        batch.put_value(FEED_KEY, feed);
        self.store.commit(batch, Durability::Immediate)?;
        let ids = stored.iter().map(|(id, _)| *id).collect();
        for (id, slot) in stored {
            self.acknowledged.insert(id, slot.written.clone());
            self.slots.insert(id, slot);
            self.written_log.push(id);
        }
        Ok(ids)
    }

    /// The slot of a body that loads as a well-formed document with the heads it claims,
    /// unloaded (the store keeps it).
    fn checked_body(&self, body: &StoredBody) -> Option<Slot> {
        let mut doc = load_bytes(&body.bytes).ok()?;
        let header = validate(&doc).ok()?;
        let heads = doc.get_heads();
        if heads.is_empty() || !same_heads(&heads, &body.heads) {
            return None;
        }
        Some(Slot {
            kind: header.kind(),
            doc: None,
            written: heads,
            last_change_at: 0,
        })
    }

    /// Writes what a round of syncing brought in one durable commit; returns the documents
    /// whose content changed on this device.
    ///
    /// Changes are merged into the stored documents (each checked as in
    /// [`merge_remote`](Self::merge_remote)); a document whose merge is refused keeps its
    /// version and is reported as an error after the rest is written.
    pub fn take_sync_progress(
        &mut self,
        server: &str,
        progress: SyncProgress,
    ) -> ReplicaResult<Vec<DocumentId>> {
        let mut changed = Vec::new();
        let mut refused = None;
        for (id, bytes) in progress.arrived {
            match self.absorb(id, &bytes) {
                Ok(true) => changed.push(id),
                Ok(false) => {}
                Err(err) => refused = Some(err),
            }
        }
        let mut batch = WriteBatch::new();
        for (id, heads) in &progress.acknowledged {
            if self.slots.contains_key(id) {
                batch.put_value(&ack_key(*id), encode_heads(heads));
            }
        }
        for (id, state) in &progress.states {
            if self.slots.contains_key(id) {
                batch.put_sync_state(*id, server, state.encode());
            }
        }
        for id in &progress.caught_up {
            batch.delete_value(&behind_key(*id));
        }
        self.write(&changed, None, batch)?;
        for (id, heads) in progress.acknowledged {
            if self.slots.contains_key(&id) {
                self.acknowledged.insert(id, heads);
            }
        }
        match refused {
            Some(err) => Err(err),
            None => Ok(changed),
        }
    }

    /// Applies changes (saved bytes) to the document `id` in memory, adding it if new, and
    /// checks the result; the caller writes it. Returns whether the document changed.
    fn absorb(&mut self, id: DocumentId, bytes: &[u8]) -> ReplicaResult<bool> {
        if !self.slots.contains_key(&id) {
            let mut doc = load_bytes(bytes)?.with_actor(self.actor.clone());
            if doc.get_heads().is_empty() {
                return Ok(false);
            }
            let header = validate(&doc)?;
            self.slots.insert(id, Slot::new(header.kind(), doc));
            return Ok(true);
        }
        let kind = self.slots.get(&id).and_then(|slot| slot.kind);
        let doc = self
            .loaded(id)?
            .ok_or_else(|| not_found(format!("document {id}")))?;
        let before = doc.get_heads();
        let loaded = doc.load_incremental(bytes);
        crate::document::forget_applied(doc);
        let checked = loaded
            .map_err(crate::Error::from)
            .and_then(|_| validate(&*doc));
        let after = doc.get_heads();
        let checked = checked.and_then(|header| match (kind, header.kind()) {
            (Some(held), now) if now != Some(held) => Err(crate::Error::WrongKind {
                expected: held,
                found: now.map_or_else(|| "no Itinera kind".to_owned(), |now| now.to_string()),
            }),
            (_, now) => Ok(now),
        });
        match checked {
            Ok(now) => {
                if let Some(slot) = self.slots.get_mut(&id) {
                    slot.kind = now;
                }
                Ok(!same_heads(&before, &after))
            }
            Err(err) => {
                self.forget(id);
                Err(err.into())
            }
        }
    }

    /// A copy of the document `id` and the sync state last reached with the server `server`,
    /// for a sync session to resume from; `None` if the replica does not hold it.
    pub fn document_to_sync(
        &mut self,
        id: DocumentId,
        server: &str,
    ) -> ReplicaResult<Option<(automerge::AutoCommit, State)>> {
        let Some(doc) = self.loaded(id)? else {
            return Ok(None);
        };
        let doc = doc.clone();
        let state = self
            .store
            .sync_state(id, server)?
            .and_then(|bytes| State::decode(&bytes).ok())
            .unwrap_or_default();
        Ok(Some((doc, state)))
    }

    /// The changes of `id` after `heads`, saved; heads the replica does not hold are left out,
    /// so the bytes may repeat changes the caller has.
    pub fn changes_after(
        &mut self,
        id: DocumentId,
        heads: &[ChangeHash],
    ) -> ReplicaResult<Option<Vec<u8>>> {
        let Some(doc) = self.loaded(id)? else {
            return Ok(None);
        };
        let known: Vec<ChangeHash> = heads
            .iter()
            .filter(|head| doc.get_change_meta_by_hash(head).is_some())
            .copied()
            .collect();
        Ok(Some(doc.save_after(&known)))
    }

    /// The heads the replica stores for `id`; `None` if it does not hold it.
    pub fn stored_heads(&self, id: DocumentId) -> Option<&[ChangeHash]> {
        self.slots.get(&id).map(|slot| slot.written.as_slice())
    }

    /// Whether the replica holds documents the server confirmed (a device that synced
    /// before), so that a first sync knows to ask for bodies.
    pub fn has_acknowledged_documents(&self) -> bool {
        !self.acknowledged.is_empty()
    }
}

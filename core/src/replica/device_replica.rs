//! [`Replica`]: the device's own documents, in memory and in its store.
//!
//! The replica opens the store, lists its documents without reading them, loads a document
//! on first use and keeps it. Every change is written before the operation returns, as the
//! changes after the heads last written, in one durable commit with whatever else the
//! operation updates (the invoice counter, an acknowledgement): a phone killed right after an
//! edit keeps it, and never keeps half an operation.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::replica::Replica;
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let account = DocumentId::new_v7(1_000, [1; 10]);
//! replica.create_account(account, "Alpine Schools".into(), "north".into(), 1_000)?;
//! assert_eq!(replica.document_ids(), vec![account]);
//! assert_eq!(replica.user(), "ana");
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ChangeHash, ObjType, ReadDoc, Value};

use super::error::{ReplicaError, ReplicaResult, invalid, not_found};
use super::slot::{Slot, same_heads};
use crate::document::Document;
use crate::model::{DocumentKind, FieldPath, ModelError, Record};
use crate::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use crate::{DocumentId, Error};

/// Key of the user the store belongs to.
pub(super) const USER_KEY: &str = "replica:user";
/// Key of the last provisional invoice number used, a big-endian `u64`.
pub(super) const INVOICE_COUNTER_KEY: &str = "replica:invoice-counter";
/// Key of the time of the last completed sync, a big-endian `i64` of Unix ms.
pub(super) const LAST_SYNC_KEY: &str = "replica:last-sync";
/// Prefix of the keys of acknowledged heads, followed by the document id.
pub(super) const ACK_PREFIX: &str = "replica:ack:";

/// The key of the heads the server acknowledged for `id`.
pub(super) fn ack_key(id: DocumentId) -> String {
    format!("{ACK_PREFIX}{id}")
}

/// The device's replica: its documents, kept in its own store, and the typed operations of a
/// sales rep and a guide.
///
/// Methods take `&mut self`; a caller that shares the replica between threads (the phone SDK,
/// the sync client) wraps it in a mutex. Time and randomness are arguments: every change takes
/// `at` (Unix ms) and every creation takes the new id from the caller.
pub struct Replica {
    pub(super) store: RedbStore,
    pub(super) user: String,
    pub(super) actor: ActorId,
    pub(super) invoice_prefix: String,
    /// Every document the store holds (and none other), loaded or not.
    pub(super) slots: BTreeMap<DocumentId, Slot>,
    /// The heads the server confirmed it has, per document.
    pub(super) acknowledged: BTreeMap<DocumentId, Vec<ChangeHash>>,
    /// The last provisional invoice number used; never goes back.
    pub(super) invoice_counter: u64,
    pub(super) last_sync: Option<i64>,
    /// The documents written since the last [`take_written`](Replica::take_written), so that
    /// the app's watches hear of local edits and synced changes alike.
    pub(super) written_log: Vec<DocumentId>,
}

impl fmt::Debug for Replica {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replica")
            .field("user", &self.user)
            .field("actor", &self.actor.to_hex_string())
            .field("documents", &self.slots.len())
            .field("invoice_counter", &self.invoice_counter)
            .finish_non_exhaustive()
    }
}

impl Replica {
    /// Opens the replica stored in the redb file at `path` for `user`, creating the file if it
    /// is missing. `actor` is this device's Automerge actor id: one per device, never shared.
    ///
    /// Refuses a file created for another user ([`ReplicaError::OtherUser`]).
    pub fn open(path: impl AsRef<Path>, user: &str, actor: ActorId) -> ReplicaResult<Self> {
        Self::with_store(RedbStore::open(path)?, user, actor)
    }

    /// A replica that lives in memory only, for tests and demos.
    pub fn in_memory(user: &str, actor: ActorId) -> ReplicaResult<Self> {
        Self::with_store(RedbStore::in_memory()?, user, actor)
    }

    /// A replica on an open store (any redb backend: a file, memory, a disk that fails on
    /// purpose in a test).
    pub fn with_store(store: RedbStore, user: &str, actor: ActorId) -> ReplicaResult<Self> {
        let user = user.trim();
        if user.is_empty() {
            return Err(invalid("a replica needs a user"));
        }
        match store.value(USER_KEY)? {
            Some(owner) if owner != user.as_bytes() => {
                return Err(ReplicaError::OtherUser {
                    owner: String::from_utf8_lossy(&owner).into_owned(),
                    requested: user.to_owned(),
                });
            }
            Some(_) => {}
            None => {
                let mut batch = WriteBatch::new();
                batch.put_value(USER_KEY, user.as_bytes());
                store.commit(batch, Durability::Immediate)?;
            }
        }
        let slots = store
            .documents()?
            .into_iter()
            .map(|(id, meta)| {
                let kind = meta.kind.as_deref().and_then(DocumentKind::parse);
                let slot = Slot {
                    kind,
                    doc: None,
                    written: meta.heads,
                    last_change_at: meta.last_change_at,
                };
                (id, slot)
            })
            .collect();
        let acknowledged = store
            .values_with_prefix(ACK_PREFIX)?
            .into_iter()
            .filter_map(|(key, value)| {
                let id = DocumentId::parse(key.strip_prefix(ACK_PREFIX)?).ok()?;
                Some((id, decode_heads(&value)?))
            })
            .collect();
        let invoice_counter = match store.value(INVOICE_COUNTER_KEY)? {
            None => 0,
            Some(bytes) => u64::from_be_bytes(fixed(INVOICE_COUNTER_KEY, &bytes)?),
        };
        let last_sync = match store.value(LAST_SYNC_KEY)? {
            None => None,
            Some(bytes) => Some(i64::from_be_bytes(fixed(LAST_SYNC_KEY, &bytes)?)),
        };
        Ok(Self {
            store,
            user: user.to_owned(),
            actor,
            invoice_prefix: user.to_uppercase(),
            slots,
            acknowledged,
            invoice_counter,
            last_sync,
            written_log: Vec::new(),
        })
    }

    /// Closes the store cleanly. Dropping the replica loses nothing either (every change is
    /// durable already); a clean close spares the next open a repair pass.
    pub fn close(self) -> ReplicaResult<()> {
        Ok(self.store.close()?)
    }

    /// The documents written since the last call (local edits, synced changes, discards), in
    /// write order; what the app's watches refresh.
    pub fn take_written(&mut self) -> Vec<DocumentId> {
        std::mem::take(&mut self.written_log)
    }

    /// The user this replica belongs to.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The Automerge actor this device writes as.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Sets the prefix of this device's provisional invoice numbers (`ANA-P1` gives
    /// `ANA-P1-0001`); the default is the user name upper-cased. Call it after every
    /// [`open`](Self::open): it is not stored. The counter behind the numbers is the device's,
    /// whatever the prefix, so no number repeats.
    pub fn set_invoice_prefix(&mut self, prefix: String) -> ReplicaResult<()> {
        let prefix = prefix.trim();
        if prefix.is_empty() || prefix.chars().any(char::is_whitespace) {
            return Err(invalid(
                "an invoice prefix needs at least one character and no spaces",
            ));
        }
        prefix.clone_into(&mut self.invoice_prefix);
        Ok(())
    }

    /// The kind of the document `id`, without loading it; `None` if the replica does not hold
    /// it or it is a generic automerge-repo document.
    pub fn record_kind(&self, id: DocumentId) -> Option<DocumentKind> {
        self.slots.get(&id).and_then(|slot| slot.kind)
    }

    /// Whether the replica holds the document `id`.
    pub fn contains(&self, id: DocumentId) -> bool {
        self.slots.contains_key(&id)
    }

    // --- Loading and reading ------------------------------------------------------------

    /// The document `id`, loaded from the store on first use; `None` if the replica does not
    /// hold it.
    pub(super) fn loaded(&mut self, id: DocumentId) -> ReplicaResult<Option<&mut AutoCommit>> {
        let Some(slot) = self.slots.get_mut(&id) else {
            return Ok(None);
        };
        if slot.doc.is_none() {
            let bytes = self
                .store
                .load(id)?
                .ok_or(crate::store::StoreError::DocumentNotFound(id))?;
            let mut doc = crate::document::load_bytes(&bytes)
                .map_err(|err| match err {
                    Error::NotADocument { reason, .. } => Error::NotADocument {
                        expected: slot.kind,
                        reason,
                    },
                    other => other,
                })?
                .with_actor(self.actor.clone());
            slot.written = doc.get_heads();
            slot.doc = Some(Box::new(doc));
        }
        Ok(slot.doc.as_deref_mut())
    }

    /// Refuses a document the replica does not hold, or one of another kind than `kind`.
    pub(super) fn expect_kind(&self, id: DocumentId, kind: DocumentKind) -> ReplicaResult<()> {
        let slot = self
            .slots
            .get(&id)
            .ok_or_else(|| not_found(format!("{kind} {id}")))?;
        match slot.kind {
            Some(found) if found == kind => Ok(()),
            found => Err(Error::WrongKind {
                expected: kind,
                found: found.map_or_else(
                    || "a document with no Itinera kind".to_owned(),
                    |found| found.to_string(),
                ),
            }
            .into()),
        }
    }

    /// The record of the document `id`; `None` if the replica does not hold it, an error if it
    /// is of another kind.
    pub(super) fn read<R: Record>(&mut self, id: DocumentId) -> ReplicaResult<Option<R>> {
        if !self.slots.contains_key(&id) {
            return Ok(None);
        }
        self.expect_kind(id, R::KIND)?;
        match self.loaded(id)? {
            Some(doc) => Ok(Some(crate::model::hydrate_record(doc)?)),
            None => Ok(None),
        }
    }

    /// The record of the document `id`, which must exist.
    pub(super) fn read_existing<R: Record>(&mut self, id: DocumentId) -> ReplicaResult<R> {
        self.expect_kind(id, R::KIND)?;
        self.read(id)?
            .ok_or_else(|| not_found(format!("{} {id}", R::KIND)))
    }

    /// Every record of type `R` the replica holds, in id order.
    ///
    /// A document loaded only for this is dropped from memory again once read: a list of
    /// 10,000 records must not leave 10,000 Automerge documents behind.
    pub(super) fn read_all<R: Record>(&mut self) -> ReplicaResult<Vec<(DocumentId, R)>> {
        let ids: Vec<(DocumentId, bool)> = self
            .slots
            .iter()
            .filter(|(_, slot)| slot.kind == Some(R::KIND))
            .map(|(id, slot)| (*id, slot.doc.is_some()))
            .collect();
        let mut records = Vec::with_capacity(ids.len());
        for (id, held) in ids {
            let record = self.read::<R>(id);
            if !held {
                self.unload(id);
            }
            if let Some(record) = record? {
                records.push((id, record));
            }
        }
        Ok(records)
    }

    /// Drops the stored document `id` from memory (the next use reads it again); one never
    /// stored stays.
    fn unload(&mut self, id: DocumentId) {
        if let Some(slot) = self.slots.get_mut(&id) {
            if !slot.is_unstored() {
                slot.doc = None;
            }
        }
    }

    /// Runs `work` on the document `id` as a [`Document<R>`], then puts it back.
    ///
    /// A document that no longer checks as `R` is dropped from memory, which is safe: the
    /// store holds it, and the next use loads it again.
    pub(super) fn with_document<R: Record, T>(
        &mut self,
        id: DocumentId,
        work: impl FnOnce(&mut Document<R>) -> crate::Result<T>,
    ) -> ReplicaResult<T> {
        self.expect_kind(id, R::KIND)?;
        self.loaded(id)?;
        let slot = self
            .slots
            .get_mut(&id)
            .ok_or_else(|| not_found(format!("{} {id}", R::KIND)))?;
        let doc = slot
            .doc
            .take()
            .ok_or_else(|| not_found(format!("{} {id}", R::KIND)))?;
        let mut typed = Document::<R>::from_automerge(*doc)?;
        let out = work(&mut typed);
        slot.doc = Some(Box::new(typed.into_automerge()));
        Ok(out?)
    }

    // --- Changing and writing -----------------------------------------------------------

    /// Changes the record `id` in memory only, through [`Document::change`] (so only what
    /// changed becomes operations). The caller writes it with [`Self::write`], or calls
    /// [`Self::forget`] if the operation fails later.
    pub(super) fn edit<R: Record, T>(
        &mut self,
        id: DocumentId,
        at: i64,
        edit: impl FnOnce(&mut R) -> Result<T, ModelError>,
    ) -> ReplicaResult<T> {
        self.with_document::<R, T>(id, |doc| doc.change(at, edit))
    }

    /// Changes the record `id` and writes the change durably.
    pub(super) fn change<R: Record, T>(
        &mut self,
        id: DocumentId,
        at: i64,
        edit: impl FnOnce(&mut R) -> Result<T, ModelError>,
    ) -> ReplicaResult<T> {
        let out = self.edit(id, at, edit)?;
        self.write(&[id], Some(at), WriteBatch::new())?;
        Ok(out)
    }

    /// Changes one part of the record `id` (of kind `kind`) at `path` through
    /// [`change_part`](crate::document::change_part), reading and writing that part only, and
    /// writes the change durably: an edit costs what the part holds, not the whole record.
    pub(super) fn change_part<P, T>(
        &mut self,
        id: DocumentId,
        kind: DocumentKind,
        at: i64,
        path: &[&str],
        edit: impl FnOnce(&mut Option<P>) -> Result<T, ModelError>,
    ) -> ReplicaResult<T>
    where
        P: autosurgeon::Hydrate + autosurgeon::Reconcile,
    {
        self.expect_kind(id, kind)?;
        let doc = self
            .loaded(id)?
            .ok_or_else(|| not_found(format!("{kind} {id}")))?;
        let out = crate::document::change_part(doc, kind, at, path, edit)?;
        self.write(&[id], Some(at), WriteBatch::new())?;
        Ok(out)
    }

    /// Replaces the text at the root field `field` of the document `id` (of kind `kind`) with
    /// `text` and writes the change durably. Only the difference is written, so concurrent
    /// edits of the same text merge.
    ///
    /// Not through [`Document::change`]: autosurgeon 0.14's `Text::update` diffs in UTF-8
    /// byte offsets while automerge 0.12 counts code points, so an edit after a non-ASCII
    /// character (`Kovács`) fails or lands at the wrong place. Automerge's own
    /// `update_text` diffs in the document's own units.
    pub(super) fn replace_text(
        &mut self,
        id: DocumentId,
        kind: DocumentKind,
        field: &str,
        text: &str,
        at: i64,
    ) -> ReplicaResult<()> {
        self.expect_kind(id, kind)?;
        let doc = self
            .loaded(id)?
            .ok_or_else(|| not_found(format!("{kind} {id}")))?;
        let edited = match doc.get(automerge::ROOT, field)? {
            Some((Value::Object(ObjType::Text), notes)) => doc.update_text(&notes, text),
            _ => {
                return Err(Error::Malformed {
                    kind,
                    path: FieldPath::root().key(field),
                    reason: "not a text".into(),
                }
                .into());
            }
        };
        if let Err(err) = edited {
            doc.rollback();
            return Err(err.into());
        }
        doc.commit_with(CommitOptions::default().with_time(at));
        self.write(&[id], Some(at), WriteBatch::new())
    }

    /// Adds a new document holding `record` in memory only; refuses an id already taken.
    pub(super) fn insert<R: Record>(
        &mut self,
        id: DocumentId,
        at: i64,
        record: &R,
    ) -> ReplicaResult<()> {
        if self.slots.contains_key(&id) {
            return Err(invalid(format!("document {id} already exists")));
        }
        let doc = Document::create(self.actor.clone(), at, record)?.into_automerge();
        self.slots.insert(id, Slot::new(Some(R::KIND), doc));
        Ok(())
    }

    /// Creates the document `id` holding `record` and writes it durably, with `batch`.
    pub(super) fn create<R: Record>(
        &mut self,
        id: DocumentId,
        at: i64,
        record: &R,
        batch: WriteBatch,
    ) -> ReplicaResult<()> {
        self.insert(id, at, record)?;
        self.write(&[id], Some(at), batch)
    }

    /// Writes what changed in the documents `ids` since they were last written, and `batch`,
    /// in one durable commit.
    ///
    /// A document stored for the first time is written as a snapshot, later ones as the
    /// changes after the heads last written. If the commit fails, the documents are dropped
    /// from memory (new ones entirely), so memory again equals the store.
    pub(super) fn write(
        &mut self,
        ids: &[DocumentId],
        at: Option<i64>,
        mut batch: WriteBatch,
    ) -> ReplicaResult<()> {
        let mut staged = Vec::with_capacity(ids.len());
        for &id in ids {
            let Some(slot) = self.slots.get_mut(&id) else {
                continue;
            };
            let Some(doc) = slot.doc.as_mut() else {
                continue;
            };
            let heads = doc.get_heads();
            if same_heads(&heads, &slot.written) {
                continue;
            }
            let last_change_at = at.unwrap_or(slot.last_change_at);
            let meta = DocumentMeta {
                kind: slot.kind.map(|kind| kind.as_str().to_owned()),
                heads: heads.clone(),
                last_change_at,
                ..DocumentMeta::default()
            };
            if slot.written.is_empty() {
                batch.put_snapshot(id, doc.save(), meta);
            } else {
                batch.append_changes(id, doc.save_after(&slot.written), meta);
            }
            staged.push((id, heads, last_change_at));
        }
        if let Err(err) = self.store.commit(batch, Durability::Immediate) {
            for &id in ids {
                self.forget(id);
            }
            return Err(err.into());
        }
        for (id, heads, last_change_at) in staged {
            if let Some(slot) = self.slots.get_mut(&id) {
                slot.written = heads;
                slot.last_change_at = last_change_at;
            }
            self.written_log.push(id);
        }
        Ok(())
    }

    /// Drops what memory holds of `id` beyond the store: a document never stored is removed,
    /// a stored one is unloaded and read again on next use.
    pub(super) fn forget(&mut self, id: DocumentId) {
        let unstored = self.slots.get(&id).is_some_and(Slot::is_unstored);
        if unstored {
            self.slots.remove(&id);
        } else if let Some(slot) = self.slots.get_mut(&id) {
            slot.doc = None;
        }
    }
}

/// Heads stored as concatenated 32-byte hashes; `None` for bytes of another length.
pub(super) fn decode_heads(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    if bytes.len() % 32 != 0 {
        return None;
    }
    bytes
        .chunks_exact(32)
        .map(|chunk| <[u8; 32]>::try_from(chunk).ok().map(ChangeHash))
        .collect()
}

/// Heads as concatenated 32-byte hashes.
pub(super) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|head| head.0).collect()
}

/// A fixed-size stored value.
fn fixed(key: &str, bytes: &[u8]) -> ReplicaResult<[u8; 8]> {
    <[u8; 8]>::try_from(bytes).map_err(|_| ReplicaError::CorruptValue {
        key: key.to_owned(),
        reason: format!("{} bytes, expected 8", bytes.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_round_trip_and_bad_lengths_are_refused() {
        let heads = vec![ChangeHash([1; 32]), ChangeHash([200; 32])];
        assert_eq!(decode_heads(&encode_heads(&heads)), Some(heads));
        assert_eq!(decode_heads(&[]), Some(Vec::new()));
        assert_eq!(decode_heads(&[0; 33]), None);
    }

    #[test]
    fn a_store_of_another_user_is_refused() {
        let store = RedbStore::in_memory().expect("store");
        let mut batch = WriteBatch::new();
        batch.put_value(USER_KEY, b"ana".as_slice());
        store.commit(batch, Durability::Immediate).expect("commit");
        let err = Replica::with_store(store, "gus", ActorId::from([1u8; 16])).expect_err("refused");
        assert!(
            matches!(&err, ReplicaError::OtherUser { owner, requested } if owner == "ana" && requested == "gus"),
            "{err:?}"
        );
    }

    #[test]
    fn a_corrupt_counter_is_reported_not_reset() {
        let store = RedbStore::in_memory().expect("store");
        let mut batch = WriteBatch::new();
        batch.put_value(INVOICE_COUNTER_KEY, [1u8, 2, 3].as_slice());
        store.commit(batch, Durability::Immediate).expect("commit");
        let err = Replica::with_store(store, "ana", ActorId::from([1u8; 16])).expect_err("refused");
        assert!(
            matches!(err, ReplicaError::CorruptValue { ref key, .. } if key == INVOICE_COUNTER_KEY)
        );
    }

    #[test]
    fn a_blank_user_or_prefix_is_refused() {
        assert!(Replica::in_memory("  ", ActorId::from([1u8; 16])).is_err());
        let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16])).expect("replica");
        assert!(replica.set_invoice_prefix(" ".into()).is_err());
        assert!(replica.set_invoice_prefix("A B".into()).is_err());
        replica.set_invoice_prefix(" P1 ".into()).expect("prefix");
        assert_eq!(replica.invoice_prefix, "P1");
    }
}

use crate::DocumentId;
use crate::store::DocumentMeta;

/// The writes of one commit: applied in order, all or none.
///
/// The server's store writer gathers the changes of many documents, the sync states of the
/// peers that sent them and any key–value updates (an invoice number with the invoice's change)
/// into one batch, so that one fsync makes them all durable.
///
/// ```
/// use itinera_core::DocumentId;
/// use itinera_core::store::{DocumentMeta, WriteBatch};
///
/// let invoice = DocumentId::from_bytes([1; 16]);
/// let mut batch = WriteBatch::new();
/// batch
///     .append_changes(invoice, vec![/* save_incremental() bytes */], DocumentMeta::default())
///     .put_value("invoice-number:2026", 42u64.to_be_bytes());
/// assert_eq!(batch.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    operations: Vec<WriteOp>,
}

/// One write of a [`WriteBatch`].
///
/// Public so that another backend can apply a batch; deliberately not `#[non_exhaustive]`, so
/// that a new kind of write breaks the build of every backend that does not handle it yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Appends incremental change bytes after the document's stored chunks.
    AppendChanges {
        /// The document.
        doc: DocumentId,
        /// Bytes from `save_incremental()` (or any concatenation of change chunks).
        changes: Vec<u8>,
        /// The caller's metadata; its three sizes are ignored.
        meta: DocumentMeta,
    },
    /// Replaces every stored chunk of the document by a snapshot.
    PutSnapshot {
        /// The document.
        doc: DocumentId,
        /// Bytes from `save()`.
        snapshot: Vec<u8>,
        /// The caller's metadata; its three sizes are ignored.
        meta: DocumentMeta,
    },
    /// Replaces the caller's fields of a stored document's metadata (who may see it, its
    /// title) without touching its chunks; nothing happens if the store does not hold it.
    UpdateMeta {
        /// The document.
        doc: DocumentId,
        /// The caller's metadata; its three sizes are ignored.
        meta: DocumentMeta,
    },
    /// Stores the sync state kept for one remote storage id.
    PutSyncState {
        /// The document.
        doc: DocumentId,
        /// The remote's automerge-repo storage id.
        storage_id: String,
        /// An encoded `automerge::sync::State`.
        state: Vec<u8>,
    },
    /// Removes the document's chunks, metadata and sync states.
    DeleteDocument {
        /// The document.
        doc: DocumentId,
    },
    /// Stores a value in the key–value table.
    PutValue {
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
    },
    /// Removes a value from the key–value table.
    DeleteValue {
        /// The key.
        key: String,
    },
    /// Stores `value` under `key` only if the key–value table holds `expected` there (`None`:
    /// no value); otherwise the whole batch fails with [`StoreError::ValueChanged`] and nothing
    /// of it is written. A compare-and-set: a legal number's sequence, or a leader's term,
    /// checked in the transaction that relies on it.
    ///
    /// [`StoreError::ValueChanged`]: crate::store::StoreError::ValueChanged
    ReplaceValue {
        /// The key.
        key: String,
        /// What the caller read, and expects to find.
        expected: Option<Vec<u8>>,
        /// The new value.
        value: Vec<u8>,
    },
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends incremental change bytes to the document (creating it if needed).
    ///
    /// `kind`, `owner`, `scope`, `heads` and `last_change_at` of `meta` replace the stored ones;
    /// the store adds the bytes to `incremental_bytes` and one to `incremental_chunks` itself and
    /// keeps `snapshot_bytes`, whatever `meta` says, so the sizes always describe what is stored.
    pub fn append_changes(
        &mut self,
        doc: DocumentId,
        changes: impl Into<Vec<u8>>,
        meta: DocumentMeta,
    ) -> &mut Self {
        self.push(WriteOp::AppendChanges {
            doc,
            changes: changes.into(),
            meta,
        })
    }

    /// Replaces every stored chunk of the document by `snapshot` (creating it if needed).
    ///
    /// The store sets `snapshot_bytes` to the snapshot's size and the incremental sizes to zero.
    pub fn put_snapshot(
        &mut self,
        doc: DocumentId,
        snapshot: impl Into<Vec<u8>>,
        meta: DocumentMeta,
    ) -> &mut Self {
        self.push(WriteOp::PutSnapshot {
            doc,
            snapshot: snapshot.into(),
            meta,
        })
    }

    /// Replaces the caller's fields of the document's metadata (`kind`, `creator`, `scope`,
    /// `title`, `heads`, `last_change_at`), keeping its chunks and sizes; a document the store
    /// does not hold is left absent.
    pub fn update_meta(&mut self, doc: DocumentId, meta: DocumentMeta) -> &mut Self {
        self.push(WriteOp::UpdateMeta { doc, meta })
    }

    /// Stores the encoded `automerge::sync::State` kept with the remote `storage_id`, so that a
    /// device that comes back resumes the sync where it stopped instead of starting over.
    pub fn put_sync_state(
        &mut self,
        doc: DocumentId,
        storage_id: &str,
        state: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.push(WriteOp::PutSyncState {
            doc,
            storage_id: storage_id.to_owned(),
            state: state.into(),
        })
    }

    /// Removes the document: its chunks, its metadata and its sync states.
    pub fn delete_document(&mut self, doc: DocumentId) -> &mut Self {
        self.push(WriteOp::DeleteDocument { doc })
    }

    /// Stores `value` under `key` in the key–value table (users, tokens, number sequences).
    pub fn put_value(&mut self, key: &str, value: impl Into<Vec<u8>>) -> &mut Self {
        self.push(WriteOp::PutValue {
            key: key.to_owned(),
            value: value.into(),
        })
    }

    /// Removes `key` from the key–value table; nothing happens if it is absent.
    pub fn delete_value(&mut self, key: &str) -> &mut Self {
        self.push(WriteOp::DeleteValue {
            key: key.to_owned(),
        })
    }

    /// Stores `value` under `key` if the key still holds `expected` (`None`: no value), and
    /// fails the whole batch otherwise: see [`WriteOp::ReplaceValue`].
    pub fn replace_value(
        &mut self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.push(WriteOp::ReplaceValue {
            key: key.to_owned(),
            expected,
            value: value.into(),
        })
    }

    /// Appends the writes of `other` after this batch's own.
    pub fn extend(&mut self, other: WriteBatch) -> &mut Self {
        self.operations.extend(other.operations);
        self
    }

    /// The number of writes in the batch.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether the batch holds no write; committing it does nothing.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The writes, in the order they will be applied.
    pub fn operations(&self) -> &[WriteOp] {
        &self.operations
    }

    /// The writes, in the order they will be applied.
    pub fn into_operations(self) -> Vec<WriteOp> {
        self.operations
    }

    fn push(&mut self, operation: WriteOp) -> &mut Self {
        self.operations.push(operation);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_kept_in_call_order() {
        let doc = DocumentId::from_bytes([9; 16]);
        let mut batch = WriteBatch::new();
        assert!(batch.is_empty());
        batch
            .put_value("seq", [1])
            .delete_document(doc)
            .append_changes(doc, vec![1, 2], DocumentMeta::default())
            .put_sync_state(doc, "phone-1", [7])
            .delete_value("seq")
            .put_snapshot(doc, vec![3], DocumentMeta::default());
        assert_eq!(batch.len(), 6);
        assert!(!batch.is_empty());
        let order: Vec<&str> = batch
            .operations()
            .iter()
            .map(|op| match op {
                WriteOp::AppendChanges { .. } => "append",
                WriteOp::PutSnapshot { .. } => "snapshot",
                WriteOp::PutSyncState { .. } => "sync",
                WriteOp::UpdateMeta { .. } => "meta",
                WriteOp::DeleteDocument { .. } => "delete",
                WriteOp::PutValue { .. } => "put",
                WriteOp::DeleteValue { .. } => "unput",
                WriteOp::ReplaceValue { .. } => "replace",
            })
            .collect();
        assert_eq!(
            order,
            ["put", "delete", "append", "sync", "unput", "snapshot"]
        );
        assert_eq!(
            batch.clone().into_operations().get(3),
            Some(&WriteOp::PutSyncState {
                doc,
                storage_id: "phone-1".into(),
                state: vec![7]
            })
        );
    }
}

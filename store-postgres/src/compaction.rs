//! Folding a document's chunks into one snapshot, in two steps as the embedded store does: the
//! snapshot is built from chunks read in one repeatable-read transaction, then swapped in by a
//! transaction that holds the document's row and first checks that the folded chunks are still
//! the stored ones. Building the snapshot of a large document takes long, and holding its row
//! meanwhile would stall every group commit that touches the document. Increments appended in
//! between stay after the snapshot.

use deadpool_postgres::Object;
use itinera_core::DocumentId;
use itinera_core::document::load_bytes;
use itinera_core::store::{CompactionReport, StoreError, StoreResult};
use tokio_postgres::IsolationLevel;

use crate::error::PgError;
use crate::meta_row::column_size;
use crate::sql;

/// A document's chunks as read for compaction.
#[derive(Debug)]
pub(crate) struct FoldedChunks {
    bytes: Vec<u8>,
    /// Sequence number and length of each chunk, in order.
    chunks: Vec<(i64, i64)>,
    incremental_chunks: i64,
}

/// A snapshot built from a document's chunks, not yet stored.
#[derive(Debug)]
pub(crate) struct PendingCompaction {
    chunks: Vec<(i64, i64)>,
    bytes_before: u64,
    snapshot: Vec<u8>,
    increments_folded: u64,
}

/// What [`build`] found.
#[derive(Debug)]
pub(crate) enum SnapshotBuild {
    Built(PendingCompaction),
    /// The document is a single snapshot already; nothing to write.
    AlreadyCompact(CompactionReport),
}

/// What [`swap_in`] did.
#[derive(Debug)]
pub(crate) enum Swap {
    Done(CompactionReport),
    /// The folded chunks were replaced or deleted while the snapshot was being built.
    Replaced,
}

/// The document's chunks, or `None` if there is no such document.
pub(crate) async fn read(
    mut client: Object,
    doc: DocumentId,
) -> Result<Option<FoldedChunks>, PgError> {
    let id = doc.as_bytes().as_slice();
    let transaction = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let Some(row) = transaction
        .query_opt(sql::INCREMENTAL_CHUNKS, &[&id])
        .await?
    else {
        return Ok(None);
    };
    let mut folded = FoldedChunks {
        bytes: Vec::new(),
        chunks: Vec::new(),
        incremental_chunks: row.try_get(0)?,
    };
    for row in transaction.query(sql::COMPACTION_CHUNKS, &[&id]).await? {
        let bytes: &[u8] = row.try_get(1)?;
        folded.bytes.extend_from_slice(bytes);
        folded
            .chunks
            .push((row.try_get(0)?, column_size(bytes.len())));
    }
    transaction.commit().await?;
    Ok(Some(folded))
}

/// Builds the snapshot of the chunks on the calling thread (it is the expensive part), and
/// checks that it reproduces the document's heads.
pub(crate) fn build(doc: DocumentId, folded: FoldedChunks) -> StoreResult<SnapshotBuild> {
    if folded.chunks.is_empty() {
        return Err(StoreError::DocumentNotFound(doc));
    }
    let bytes_before = folded.bytes.len() as u64;
    if folded.chunks.len() == 1 && folded.incremental_chunks == 0 {
        return Ok(SnapshotBuild::AlreadyCompact(CompactionReport {
            bytes_before,
            bytes_after: bytes_before,
            chunks_folded: 0,
        }));
    }
    let unloadable = |source: itinera_core::Error| StoreError::Unloadable {
        doc,
        source: Box::new(source),
    };
    let mut loaded = load_bytes(&folded.bytes).map_err(unloadable)?;
    let snapshot = loaded.save();
    let heads = loaded.get_heads();
    let reproduces_heads =
        load_bytes(&snapshot).is_ok_and(|mut reloaded| reloaded.get_heads() == heads);
    if !reproduces_heads {
        return Err(StoreError::CompactionMismatch { doc });
    }
    Ok(SnapshotBuild::Built(PendingCompaction {
        chunks: folded.chunks,
        bytes_before,
        snapshot,
        increments_folded: u64::try_from(folded.incremental_chunks).unwrap_or(0),
    }))
}

/// Replaces the folded chunks by the snapshot, durably (after `setting`), unless they changed
/// meanwhile.
///
/// Chunks are never rewritten in place, and a sequence number is taken again only by a
/// compaction's snapshot, whose content is that of the chunks it replaced: so the sequence
/// numbers and lengths tell whether the folded chunks are still the stored ones, without
/// reading their bytes again.
pub(crate) async fn swap_in(
    mut client: Object,
    doc: DocumentId,
    pending: PendingCompaction,
    setting: Option<&'static str>,
) -> Result<Swap, PgError> {
    let (Some(&(first, _)), Some(&(last, _))) = (pending.chunks.first(), pending.chunks.last())
    else {
        return Ok(Swap::Replaced);
    };
    let id = doc.as_bytes().as_slice();
    let transaction = client.transaction().await?;
    if let Some(setting) = setting {
        transaction.batch_execute(setting).await?;
    }
    // Returning early drops the transaction, which rolls it back.
    if transaction
        .query_opt(sql::LOCK_DOCUMENT, &[&id])
        .await?
        .is_none()
    {
        return Ok(Swap::Replaced);
    }
    let mut stored = Vec::new();
    for row in transaction.query(sql::CHUNK_SIZES, &[&id]).await? {
        stored.push((row.try_get::<_, i64>(0)?, row.try_get::<_, i64>(1)?));
    }
    let Some(later) = stored.strip_prefix(pending.chunks.as_slice()) else {
        return Ok(Swap::Replaced);
    };
    let later_bytes: i64 = later.iter().map(|&(_, len)| len).sum();
    let later_chunks = column_size(later.len());
    let snapshot_bytes = column_size(pending.snapshot.len());
    transaction
        .execute(sql::DELETE_FOLDED, &[&id, &last])
        .await?;
    // At the first folded position, so that it sorts before the later increments.
    transaction
        .execute(sql::INSERT_CHUNK, &[&id, &first, &pending.snapshot])
        .await?;
    transaction
        .execute(
            sql::SET_SIZES,
            &[&id, &snapshot_bytes, &later_bytes, &later_chunks],
        )
        .await?;
    transaction.commit().await?;
    Ok(Swap::Done(CompactionReport {
        bytes_before: pending.bytes_before,
        bytes_after: pending.snapshot.len() as u64,
        chunks_folded: pending.increments_folded,
    }))
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};
    use itinera_core::store::{
        DocumentMeta, DocumentStore, Durability, StoreOperation, WriteBatch,
    };

    use super::*;
    use crate::PgStore;

    /// A store in a schema of its own on the test cluster; fails without one.
    fn store(test: &str) -> PgStore {
        let url = std::env::var("ITINERA_TEST_POSTGRES_URL")
            .expect("ITINERA_TEST_POSTGRES_URL: run the tests through tests/run.sh");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        PgStore::open_in_schema(&url, &format!("u{nanos}_{test}")).expect("open")
    }

    fn doc_id() -> DocumentId {
        DocumentId::from_bytes([1; 16])
    }

    fn append(store: &PgStore, doc: &mut AutoCommit, round: i64) -> Vec<u8> {
        doc.put(ROOT, "round", round).expect("put");
        let changes = doc.save_incremental();
        let mut batch = WriteBatch::new();
        batch.append_changes(doc_id(), changes.clone(), DocumentMeta::default());
        store.commit(batch, Durability::Immediate).expect("commit");
        changes
    }

    /// Reads and builds the snapshot, as the first step of `compact` does.
    fn pending(store: &PgStore) -> PendingCompaction {
        let folded = store
            .with_client(StoreOperation::Compact, |client| read(client, doc_id()))
            .expect("read")
            .expect("stored");
        match build(doc_id(), folded).expect("build") {
            SnapshotBuild::Built(pending) => pending,
            SnapshotBuild::AlreadyCompact(report) => panic!("nothing to fold: {report:?}"),
        }
    }

    fn swap(store: &PgStore, pending: PendingCompaction) -> Swap {
        store
            .with_client(StoreOperation::Compact, |client| {
                swap_in(client, doc_id(), pending, None)
            })
            .expect("swap")
    }

    #[test]
    fn increments_appended_while_the_snapshot_was_built_stay_after_it() {
        let store = store("appended_meanwhile");
        let mut doc = AutoCommit::new();
        for round in 0..5 {
            append(&store, &mut doc, round);
        }
        let pending = pending(&store);
        let late = append(&store, &mut doc, 5);
        let Swap::Done(report) = swap(&store, pending) else {
            panic!("an append does not stop the compaction");
        };
        assert_eq!(report.chunks_folded, 5);
        let bytes = store.load(doc_id()).expect("load").expect("stored");
        assert!(bytes.ends_with(&late));
        let meta = store.meta(doc_id()).expect("meta").expect("stored");
        assert_eq!(meta.snapshot_bytes, report.bytes_after);
        assert_eq!(
            (meta.incremental_chunks, meta.incremental_bytes),
            (1, late.len() as u64)
        );
        assert_eq!(meta.stored_bytes(), bytes.len() as u64);
        let mut loaded = AutoCommit::load(&bytes).expect("loads");
        assert_eq!(loaded.get_heads(), doc.get_heads());
    }

    #[test]
    fn a_snapshot_or_a_delete_meanwhile_makes_the_swap_give_way() {
        let store = store("replaced_meanwhile");
        let mut doc = AutoCommit::new();
        for round in 0..3 {
            append(&store, &mut doc, round);
        }
        let before_snapshot = pending(&store);
        let snapshot = doc.save();
        let mut batch = WriteBatch::new();
        batch.put_snapshot(doc_id(), snapshot.clone(), DocumentMeta::default());
        store.commit(batch, Durability::Immediate).expect("commit");
        assert!(matches!(swap(&store, before_snapshot), Swap::Replaced));
        assert_eq!(store.load(doc_id()).expect("load"), Some(snapshot));

        append(&store, &mut doc, 3);
        let before_delete = pending(&store);
        let mut batch = WriteBatch::new();
        batch.delete_document(doc_id());
        store.commit(batch, Durability::Immediate).expect("commit");
        assert!(matches!(swap(&store, before_delete), Swap::Replaced));
        assert_eq!(store.load(doc_id()).expect("load"), None);
        assert_eq!(store.meta(doc_id()).expect("meta"), None);
    }
}

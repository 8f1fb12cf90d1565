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
        folded.chunks.push((row.try_get(0)?, column_size(bytes.len())));
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

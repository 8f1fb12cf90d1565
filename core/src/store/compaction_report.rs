/// What [`DocumentStore::compact`](crate::store::DocumentStore::compact) did to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionReport {
    /// Bytes stored for the document before: snapshot and increments.
    pub bytes_before: u64,
    /// Bytes stored after: the new snapshot alone.
    pub bytes_after: u64,
    /// Incremental chunks folded into the new snapshot; 0 when the document was already a
    /// single snapshot and nothing was written.
    pub chunks_folded: u64,
}

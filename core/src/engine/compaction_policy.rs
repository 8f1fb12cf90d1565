//! When a document's write folds its stored increments into one snapshot: see
//! [`CompactionPolicy`].

/// What the store holds of one document: a snapshot and the increments appended after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredSize {
    /// Bytes of the snapshot (0: none).
    pub snapshot_bytes: u64,
    /// Bytes of the increments after it.
    pub incremental_bytes: u64,
    /// How many increments.
    pub incremental_chunks: u64,
}

impl StoredSize {
    /// After appending an increment of `bytes`.
    pub fn appended(self, bytes: usize) -> Self {
        Self {
            incremental_bytes: self.incremental_bytes.saturating_add(bytes as u64),
            incremental_chunks: self.incremental_chunks.saturating_add(1),
            ..self
        }
    }

    /// After replacing everything by a snapshot of `bytes`.
    pub fn folded(bytes: usize) -> Self {
        Self {
            snapshot_bytes: bytes as u64,
            ..Self::default()
        }
    }
}

/// When the engine writes a document as one snapshot, in place of everything stored, instead of
/// appending an increment.
///
/// A write folds once the increments already stored outweigh the snapshot (and
/// [`min_increment_bytes`](Self::min_increment_bytes)), or number
/// [`after_chunks`](Self::after_chunks). A document then never takes much more than twice its
/// snapshot, and the folding is paid for by what was appended: a snapshot of `n` bytes is
/// written only after at least `n` bytes of increments, so saving costs about as much again as
/// writing the increments did. An increment is change-by-change and several times larger than
/// the same changes in a snapshot, which compresses across them. The snapshot goes into the
/// same transaction as the write it replaces, so the store never holds both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// Increments after which the next write folds, whatever their size.
    pub after_chunks: u64,
    /// Increments smaller than this are never worth a snapshot (a new, small document).
    pub min_increment_bytes: u64,
}

impl CompactionPolicy {
    /// Never fold: for a store that several processes write, where a snapshot of what one of
    /// them holds would replace what another appended (the store compacts such documents).
    pub const NEVER: Self = Self {
        after_chunks: u64::MAX,
        min_increment_bytes: u64::MAX,
    };

    /// Whether the next write of a document stored as `stored` writes a snapshot.
    pub fn folds(&self, stored: StoredSize) -> bool {
        stored.incremental_chunks.saturating_add(1) >= self.after_chunks
            || stored.incremental_bytes > stored.snapshot_bytes.max(self.min_increment_bytes)
    }
}

impl Default for CompactionPolicy {
    /// Fold after 64 increments, or once they outweigh the snapshot and 2 KiB.
    fn default() -> Self {
        Self {
            after_chunks: 64,
            min_increment_bytes: 2 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_once_the_increments_outweigh_the_snapshot() {
        let policy = CompactionPolicy::default();
        let snapshot = StoredSize::folded(3_000);
        assert!(!policy.folds(snapshot));
        assert!(!policy.folds(snapshot.appended(3_000)));
        assert!(policy.folds(snapshot.appended(2_000).appended(1_001)));
    }

    #[test]
    fn a_small_new_document_is_not_folded_but_many_increments_are() {
        let policy = CompactionPolicy::default();
        let new = StoredSize::default().appended(500);
        assert!(!policy.folds(new));
        assert!(!policy.folds(StoredSize::default().appended(2_048)));
        assert!(policy.folds(StoredSize::default().appended(2_049)));
        let many = (0..63).fold(StoredSize::folded(1 << 20), |size, _| size.appended(10));
        assert!(policy.folds(many));
        assert!(!CompactionPolicy::NEVER.folds(many.appended(usize::MAX)));
    }
}

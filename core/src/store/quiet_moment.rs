//! When a store is asked to give back its file's free pages: see [`QuietMoment`].

/// The moment a caller asks [`DocumentStore::reclaim_free_pages`] at: what the pause of a
/// compaction may cost then.
///
/// [`DocumentStore::reclaim_free_pages`]: crate::store::DocumentStore::reclaim_free_pages
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietMoment {
    /// Nothing was written for a while, but writes may come back: the store keeps its
    /// compactions to a small share of the time, and may skip this one.
    Idle,
    /// The process stops after its last write: nothing waits on the store any more, so a
    /// compaction is never skipped for having compacted recently.
    Stopping,
}

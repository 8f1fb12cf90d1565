//! When the store file's free pages are counted and given back (redb's `Database::compact`):
//! at open, between commits once the file grew a lot, and when the store is idle. See
//! [`Occasion`].
//!
//! redb reuses a page a transaction frees only once later commits and readers no longer need
//! it, so a stream of small commits (each edit is one) leaves the file several times larger
//! than what it holds. Compacting needs the database to itself and costs about one read and
//! one write of what it holds, in durable two-phase commits of redb's own (a crash during one
//! leaves the file at its last commit, as any commit does). A failed compaction leaves the
//! database as it was, so it only costs the attempt.
//!
//! Counting the free pages reads every page of the file, so it is done only once the file has
//! grown since the last count: an open of a file that did not grow reads nothing more than the
//! open itself (a phone's replica of 10,000 records, a server's store of millions), and a store
//! that keeps growing counts in proportion to what it writes.

use std::path::Path;

use redb::{Database, ReadableDatabase};

use crate::store::tables::STORE_INFO;

/// Key of `store_info` holding the file's length when free pages were last looked for.
const CHECKED_LENGTH_KEY: &str = "length_when_checked";

/// Files smaller than this are not worth a pass.
const SMALLEST: u64 = 64 * 1024;

/// While serving, the file must also have grown by this much since the last count: each
/// compaction pauses the store for a few fsyncs (tens of milliseconds), and a store of a few
/// hundred kilobytes grows by half within a few commits (each commit writes a new copy of the
/// pages it changes, and the copies they replace are reused only some commits later).
pub(crate) const SERVING_GROWTH: u64 = 1024 * 1024;

/// An idle store is compacted once at least this much of its file is free pages, and a
/// quarter of it: a few pages are always in flight (the last commit's copies), and a
/// compaction that gives back less than this is not worth its fsyncs.
const IDLE_FREE: u64 = 32 * 1024;

/// A stopping store is compacted once at least this much of its file is free pages: nobody
/// waits on it any more, and what it gives back stays given back until the next start.
const STOPPING_FREE: u64 = 16 * 1024;

/// After a compaction while serving (or idle) that took `t`, the next waits `t` times this: the
/// store spends at most a tenth of its time compacting, however fast the file grows (a store
/// taking thousands of new documents grows by half many times over).
pub(crate) const PAUSE_SHARE_DIVISOR: u32 = 10;

/// When a count of the free pages is worth its read of the file, and a compaction worth its
/// pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Occasion {
    /// Opening the file, or between two commits: the file grew by half since the last count,
    /// and free pages are most of it (a busy store is paused only for a large gain).
    Busy,
    /// Nothing was written for a while: the file grew at all since the last count, and
    /// [`IDLE_FREE`] and a quarter of it are free pages. Nobody waits on an idle store, so
    /// the file is given back what a run of small commits left, not only a doubling's worth.
    Idle,
    /// The process stops after its last write: as [`Occasion::Idle`], with [`STOPPING_FREE`]
    /// free pages enough (the last flush's copies).
    Stopping,
}

impl Occasion {
    /// Whether a file of `length` bytes, counted at `checked` (0: never), is to be counted.
    pub(crate) fn counts(self, length: u64, checked: u64) -> bool {
        match self {
            Occasion::Busy => grown_enough(length, checked),
            Occasion::Idle | Occasion::Stopping => length > SMALLEST && length > checked,
        }
    }

    /// Whether a file of `length` bytes, `used` of them in allocated pages and `free` of them
    /// fragmented or free (as redb counts), is to be compacted.
    fn compacts(self, length: u64, used: u64, free: u64) -> bool {
        match self {
            Occasion::Busy => free > SMALLEST && free > used,
            Occasion::Idle => {
                let unused = length.saturating_sub(used);
                unused >= IDLE_FREE && unused.saturating_mul(4) >= length
            }
            Occasion::Stopping => length.saturating_sub(used) >= STOPPING_FREE,
        }
    }
}

pub(crate) fn file_length(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Whether a file of `length` bytes grew enough since its free pages were counted at
/// `checked` (0: never) to count them again: by half again.
pub(crate) fn grown_enough(length: u64, checked: u64) -> bool {
    length > SMALLEST && (checked == 0 || length >= checked.saturating_add(checked / 2))
}

/// Gives back the file's free pages when `occasion` says they are worth it; returns the file's
/// length after (the length last counted if this one was not worth counting).
pub(crate) fn compact_if_worth_it(database: &mut Database, path: &Path, occasion: Occasion) -> u64 {
    let before = file_length(path);
    let checked = checked_length(database).unwrap_or(0);
    if !occasion.counts(before, checked) {
        return checked;
    }
    let Ok(transaction) = database.begin_write() else {
        return checked;
    };
    let stats = transaction.stats();
    let _ = transaction.abort();
    let Ok(stats) = stats else {
        return checked;
    };
    let used = stats.allocated_pages() * stats.page_size() as u64;
    // Recorded before the compaction, not after: a compacted file has no free page, so a commit
    // after it would grow the file by a doubling again. The length before is the larger, so
    // the next open counts only once the file outgrew what it was given back from.
    let _ = record_checked_length(database, before);
    if occasion.compacts(before, used, stats.fragmented_bytes()) {
        let _ = database.compact();
    }
    file_length(path)
}

/// The file's length when its free pages were last counted, as the file records it.
pub(crate) fn checked_length(database: &Database) -> Option<u64> {
    let read = database.begin_read().ok()?;
    let info = read.open_table(STORE_INFO).ok()?;
    Some(info.get(CHECKED_LENGTH_KEY).ok()??.value())
}

fn record_checked_length(database: &Database, length: u64) -> Result<(), redb::Error> {
    let transaction = database.begin_write()?;
    transaction
        .open_table(STORE_INFO)?
        .insert(CHECKED_LENGTH_KEY, length)?;
    transaction.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_store_compacts_only_a_file_mostly_free() {
        assert!(!Occasion::Busy.compacts(200 * 1024, 100 * 1024, 90 * 1024));
        assert!(Occasion::Busy.compacts(300 * 1024, 100 * 1024, 190 * 1024));
    }

    #[test]
    fn an_idle_store_compacts_a_file_a_quarter_free() {
        let kib = 1024;
        // Quick workload e's file right after writing: 48 pages, 25 of them in use.
        assert!(Occasion::Idle.compacts(192 * kib, 100 * kib, 150 * kib));
        assert!(!Occasion::Idle.compacts(192 * kib, 160 * kib, 150 * kib));
        assert!(!Occasion::Idle.compacts(80 * kib, 52 * kib, 40 * kib));
        // The last flush's copies, given back at a stop only.
        assert!(!Occasion::Idle.compacts(104 * kib, 76 * kib, 40 * kib));
        assert!(Occasion::Stopping.compacts(104 * kib, 76 * kib, 40 * kib));
    }

    #[test]
    fn an_idle_store_counts_again_after_any_growth_a_busy_one_after_half() {
        let kib = 1024;
        assert!(Occasion::Idle.counts(140 * kib, 136 * kib));
        assert!(!Occasion::Idle.counts(136 * kib, 136 * kib));
        assert!(!Occasion::Busy.counts(140 * kib, 136 * kib));
        assert!(Occasion::Busy.counts(204 * kib, 136 * kib));
        assert!(!Occasion::Idle.counts(60 * kib, 0));
    }
}

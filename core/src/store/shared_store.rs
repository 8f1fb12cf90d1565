//! [`SharedStore`]: what a store that several server processes share offers them besides
//! storing: hearing what the other processes committed, and agreeing on one leader.
//!
//! The embedded redb file belongs to one process: it offers neither, and
//! [`DocumentStore::shared`](crate::store::DocumentStore::shared) is `None` for it, so a single
//! node pays nothing for them. The PostgreSQL store offers both (`LISTEN/NOTIFY` and an
//! advisory lock).
//!
//! ```
//! use std::sync::Arc;
//! use itinera_core::store::{DocumentStore, RedbStore, StoreNotice};
//!
//! let store = RedbStore::in_memory()?;
//! // One process: nothing is ever committed elsewhere, and it leads alone.
//! assert!(store.shared().is_none());
//! let _ignored: Arc<dyn Fn(StoreNotice) + Send + Sync> = Arc::new(|_| {});
//! # Ok::<(), itinera_core::store::StoreError>(())
//! ```

use std::sync::Arc;

use automerge::ChangeHash;

use crate::DocumentId;
use crate::store::StoreResult;

/// What a process hears of the commits of the other processes sharing its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreNotice {
    /// Another process committed writes to these documents; each has the heads that commit
    /// stored. `sequence` is the store's change sequence after that commit.
    Documents {
        /// The change sequence after the commit.
        sequence: u64,
        /// The documents written, with their stored heads.
        documents: Vec<(DocumentId, Vec<ChangeHash>)>,
    },
    /// Another process wrote these keys of the key–value table: the users and tokens every
    /// process keeps in memory.
    Values {
        /// The keys written or removed.
        keys: Vec<String>,
    },
    /// The process stopped hearing for a while (its connection to the store dropped) and hears
    /// again: what was committed meanwhile was not told. Read the changes feed after `after`,
    /// the last sequence heard, and every user and token again.
    Resumed {
        /// The last change sequence heard before the gap.
        after: u64,
    },
}

/// Whether this process leads (runs the singletons, such as the authority) or waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leadership {
    /// This process leads, in `term`. Every leader's term differs from its predecessors', and
    /// the store holds the current one under `term_key`: a write that must not be made by a
    /// leader that lost its place checks it in its own transaction
    /// ([`WriteBatch::replace_value`](crate::store::WriteBatch::replace_value) with the term as
    /// both the expected and the new value).
    Leading {
        /// Where the store keeps the current term.
        term_key: String,
        /// This leader's term, as stored.
        term: Vec<u8>,
    },
    /// Another process leads, or nobody can be known to (the connection to the store is
    /// down): stop what only the leader runs.
    Following,
}

/// Called with each notice, on a thread of the store's.
pub type NoticeSink = Arc<dyn Fn(StoreNotice) + Send + Sync>;

/// Called whenever this process starts or stops leading, on a thread of the store's.
pub type LeadershipSink = Arc<dyn Fn(Leadership) + Send + Sync>;

/// A store several processes share: see the module's documentation.
pub trait SharedStore: Send + Sync {
    /// Tells `sink` what the other processes commit from now on; keeps listening, and says
    /// [`StoreNotice::Resumed`] after a gap, until the store is dropped.
    fn listen(&self, sink: NoticeSink) -> StoreResult<()>;

    /// Competes for leadership from now on, telling `sink` each time this process starts or
    /// stops leading, until the store is dropped. At most one process leads at a time; when
    /// the leader dies, another takes over.
    fn campaign(&self, sink: LeadershipSink) -> StoreResult<()>;
}

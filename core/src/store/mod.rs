//! The durable document store (feature `redb`): Automerge documents, their metadata, the sync
//! states of remote peers and a small key–value table, in one embedded redb file.
//!
//! Each document is stored as chunks: at most one snapshot (`save()`) followed by incremental
//! changes (`save_incremental()`) in the order they were appended; [`DocumentStore::load`]
//! returns them concatenated, which `AutoCommit::load` reads as one document, and
//! [`DocumentStore::compact`] folds them back into a single snapshot. Writes go through a
//! [`WriteBatch`] committed in one transaction, so that the server can make the changes of many
//! documents durable with one fsync (group commit), and an invoice number with the invoice.
//!
//! The server and the phone SDK use [`RedbStore`] through the [`DocumentStore`] trait; the sync
//! engine never touches the store.
//!
//! ```
//! use automerge::{AutoCommit, ReadDoc, ROOT, transaction::Transactable};
//! use itinera_core::DocumentId;
//! use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
//!
//! let store = RedbStore::in_memory()?;
//! let id = DocumentId::from_bytes([7; 16]);
//! let mut doc = AutoCommit::new();
//! doc.put(ROOT, "name", "Atlas Tours")?;
//! let meta = DocumentMeta { kind: Some("account".into()), heads: doc.get_heads(), ..Default::default() };
//!
//! let mut batch = WriteBatch::new();
//! batch.append_changes(id, doc.save_incremental(), meta);
//! store.commit(batch, Durability::Immediate)?;
//!
//! let bytes = store.load(id)?.expect("just stored");
//! let mut loaded = AutoCommit::load(&bytes)?;
//! assert_eq!(loaded.get_heads(), doc.get_heads());
//! assert_eq!(store.meta(id)?.expect("just stored").incremental_chunks, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "redb")]
mod backup;
mod backup_report;
mod compaction_report;
mod document_change;
mod document_meta;
mod document_store;
mod durability;
mod error;
#[cfg(feature = "redb")]
mod free_pages;
#[cfg(feature = "redb")]
mod layout;
mod quiet_moment;
#[cfg(feature = "redb")]
mod redb_store;
#[cfg(feature = "redb")]
mod shared_backend;
mod shared_store;
#[cfg(feature = "redb")]
mod tables;
mod write_batch;

#[cfg(feature = "redb")]
pub use backup::{FORMAT as BACKUP_FORMAT, verify as verify_backup};
pub use backup_report::BackupReport;
pub use compaction_report::CompactionReport;
pub use document_change::DocumentChange;
pub use document_meta::{DocumentMeta, MetaDecodeError};
pub use document_store::DocumentStore;
pub use durability::Durability;
pub use error::{BackendError, StoreError, StoreOperation, StoreResult};
#[cfg(feature = "redb")]
pub use layout::{LAYOUT, LayoutStep, MIGRATIONS, Migration};
pub use quiet_moment::QuietMoment;
#[cfg(feature = "redb")]
pub use redb_store::RedbStore;
pub use shared_store::{Leadership, LeadershipSink, NoticeSink, SharedStore, StoreNotice};
pub use write_batch::{WriteBatch, WriteOp};

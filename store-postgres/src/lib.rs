//! Itinera's document store on PostgreSQL: [`PgStore`] implements core's
//! [`DocumentStore`](itinera_core::store::DocumentStore) over tables that several server nodes
//! can share, so that the state of a tour operator lives where operators already replicate,
//! back up and fail over their databases.
//!
//! The promises are the embedded store's: a [`WriteBatch`](itinera_core::store::WriteBatch) is
//! one PostgreSQL transaction, atomic; [`Durability::Immediate`] returns once PostgreSQL has
//! flushed the commit to its write-ahead log, `Relaxed` commits with `synchronous_commit = off`;
//! listing documents reads no body. The tables are created and upgraded by the numbered SQL
//! files in `migrations/`, applied when the store opens; a database written by a newer build
//! is refused.
//!
//! Several server nodes may share one store: each commit tells the others which documents and
//! users it wrote (`LISTEN/NOTIFY`, in the committing transaction), and one node at a time leads
//! through an advisory lock; both through core's
//! [`SharedStore`](itinera_core::store::SharedStore).
//!
//! The trait is synchronous and is called from threads that may be driving another runtime
//! (the server's actix workers), so the store runs the asynchronous driver on a small runtime
//! of its own and its callers wait on a channel (see `io_runtime.rs`).
//!
//! ```no_run
//! use itinera_core::store::{DocumentStore, Durability, WriteBatch};
//! use itinera_store_postgres::PgStore;
//!
//! let store = PgStore::open("postgres://itinera@127.0.0.1/itinera")?;
//! let mut batch = WriteBatch::new();
//! batch.put_value("invoice-number:2026", 42u64.to_be_bytes());
//! store.commit(batch, Durability::Immediate)?;
//! assert_eq!(store.value("invoice-number:2026")?, Some(42u64.to_be_bytes().to_vec()));
//! # Ok::<(), itinera_core::store::StoreError>(())
//! ```
//!
//! [`Durability::Immediate`]: itinera_core::store::Durability::Immediate

mod batch_writer;
mod compaction;
mod error;
mod io_runtime;
mod key_range;
mod leadership;
mod listener;
mod meta_row;
mod migrations;
mod notice_payload;
mod pg_store;
mod settings;
mod sql;

pub use error::PgError;
pub use pg_store::PgStore;

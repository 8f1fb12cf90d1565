//! The lists head office browses: one row per document, with the document's access scope, kept
//! in memory and current through the committed events, so that a list answers without loading a
//! document.
//!
//! At start-up a thread reads every document's scope and title from the store's metadata, takes
//! the rows it stored before for documents whose heads did not change since, and reads only the
//! other listed documents; after that it takes every [`Committed`](itinera_core::engine::Committed)
//! event from the bus: the scope and title come with the event, and the row's cells from the
//! document the event carries, or else from the store. A list request is one pass over the rows
//! of its kind: access (`itinera_core::policy::access`), search and filters, then the first page
//! in sort order after the cursor, kept in a heap of the page's size, so it costs the same on
//! page 1 and page 2,000.
//!
//! Not to be confused with [`crate::read_model`], the report summaries.

mod cell;
mod list_entry;
mod list_kind;
mod list_model;
mod list_query;
mod refresher;
mod sort_key;
mod stored_entry;

pub use cell::Cell;
pub use list_entry::ListEntry;
pub use list_kind::{Column, ListKind};
pub use list_model::{DocumentEvent, ListModel, ListPage, ListRow};
pub use list_query::{Cursor, DEFAULT_LIMIT, ListQuery, ListQueryError, MAX_LIMIT};
pub use refresher::spawn_refresher;
pub use sort_key::SortKey;

//! The read model head office's lists answer from: one row per document, with the document's
//! access scope, kept in memory and current through the change feed.
//!
//! At start-up a thread takes the rows it stored before for every document whose heads did not
//! change since, and reads the other documents; after that it reads again only the documents the
//! [`ChangeFeed`] names, and stores their new rows. A list request is one pass over the rows of its kind:
//! access (`itinera_core::policy::access`), search and filters, then the first page in sort
//! order after the cursor, kept in a heap of the page's size, so it costs the same on page 1
//! and page 2,000.

mod cell;
mod change_feed;
mod list_entry;
mod list_kind;
mod list_query;
#[allow(clippy::module_inception)]
mod read_model;
mod refresher;
mod sort_key;
mod stored_entry;

pub use cell::Cell;
pub use change_feed::{ChangeFeed, ChangeRelay, DocumentChanged};
pub use list_entry::ListEntry;
pub use list_kind::{Column, ListKind};
pub use list_query::{Cursor, DEFAULT_LIMIT, ListQuery, ListQueryError, MAX_LIMIT};
pub use read_model::{DocumentEvent, ListPage, ListRow, ReadModel};
pub use refresher::spawn_refresher;
pub use sort_key::SortKey;

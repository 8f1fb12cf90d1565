//! The store's layout version and the migrations that bring an older file up to it.
//!
//! The layout (which tables exist, how their keys and values are laid out) is a number kept in
//! the file itself, in the `store_info` table. Every open reads it:
//!
//! - a new file is created at layout 1 and migrated like any other, so that the path an
//!   upgrade takes is the path every test takes;
//! - an older file is migrated, every missing step of [`MIGRATIONS`] in one write transaction
//!   (a crash during an upgrade leaves the file at its old layout, and the next open starts
//!   again);
//! - a newer file is refused with [`StoreError::UnsupportedLayout`]: an older build never
//!   misreads what a newer one wrote.
//!
//! Each applied step is recorded in the `layout_history` table, so that an operator can see
//! which builds upgraded a store ([`RedbStore::layout_history`]).
//!
//! A new step: write its function and append it to [`MIGRATIONS`] with the layout it produces.
//! The tests below upgrade a layout-1 file built by hand; the end-to-end upgrade test opens a
//! store written by the first server release (`tests/fixtures/`).

use redb::{
    Database, ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction,
};

use crate::store::error::During;
use crate::store::tables::{
    CHANGE_OF_DOCUMENT, CHANGES, CHUNKS, METAS, STORE_INFO, SYNC_STATES, VALUES, meta_row,
};
use crate::store::{RedbStore, StoreError, StoreOperation, StoreResult};

/// The layout this build writes: the layout the last migration produces.
pub const LAYOUT: u64 = last_layout(MIGRATIONS);

/// Key of `store_info` holding the layout.
pub(crate) const LAYOUT_KEY: &str = "layout";

/// One line per layout step applied to the file: the layout reached, then what the step did and
/// which build applied it.
pub(crate) const LAYOUT_HISTORY: TableDefinition<'static, u64, &'static str> =
    TableDefinition::new("layout_history");

/// One step of the store's layout.
#[derive(Debug)]
pub struct Migration {
    /// The layout the step produces; the step runs on a file at layout `to - 1`.
    pub to: u64,
    /// What the step does, as the history records it.
    pub name: &'static str,
    /// The step itself, inside the upgrade's write transaction.
    apply: fn(&WriteTransaction) -> StoreResult<()>,
}

/// Every step from layout 1, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        to: 2,
        name: "keep a history of the layout steps applied to the store",
        apply: create_layout_history,
    },
    Migration {
        to: 3,
        name: "document metadata format 2: each document's scope (shares included) and title",
        apply: metadata_format_2,
    },
    Migration {
        to: 4,
        name: "the change sequence: every document at the number of its last write",
        apply: change_sequence,
    },
    Migration {
        to: 5,
        name: "each document's number in the change sequence kept in its metadata row",
        apply: sequence_in_meta_rows,
    },
];

/// Layout 5: each document's number in the change sequence moves from `change_of_document`
/// into the front of its metadata row, and that table goes: a write of a document then copies
/// the pages of one table fewer. A document layout 4 left without a number (none should be)
/// gets the next one.
fn sequence_in_meta_rows(write: &WriteTransaction) -> StoreResult<()> {
    let during = StoreOperation::Migrate;
    {
        let mut metas = write.open_table(METAS).during(during)?;
        let mut changes = write.open_table(CHANGES).during(during)?;
        let numbered = write.open_table(CHANGE_OF_DOCUMENT).during(during)?;
        let mut unnumbered = Vec::new();
        for entry in metas.iter().during(during)? {
            let (document, _) = entry.during(during)?;
            if numbered.get(document.value()).during(during)?.is_none() {
                unnumbered.push(*document.value());
            }
        }
        for entry in numbered.iter().during(during)? {
            let (document, sequence) = entry.during(during)?;
            let meta = metas
                .get(document.value())
                .during(during)?
                .map(|meta| meta.value().to_vec());
            match meta {
                Some(meta) => {
                    let row = meta_row(sequence.value(), &meta);
                    metas
                        .insert(document.value(), row.as_slice())
                        .during(during)?;
                }
                // A number without a document: nothing to list under it.
                None => {
                    changes.remove(sequence.value()).during(during)?;
                }
            }
        }
        for document in unnumbered {
            let next = match changes.last().during(during)? {
                Some((last, _)) => last.value().saturating_add(1),
                None => 1,
            };
            changes.insert(next, &document).during(during)?;
            let meta = metas
                .get(&document)
                .during(during)?
                .map(|meta| meta.value().to_vec())
                .unwrap_or_default();
            metas
                .insert(&document, meta_row(next, &meta).as_slice())
                .during(during)?;
        }
    }
    write.delete_table(CHANGE_OF_DOCUMENT).during(during)?;
    Ok(())
}

/// Layout 4: the change sequence, every stored document numbered once in id order (a device
/// that asks for everything since 0 gets them all; later writes number on from there).
fn change_sequence(write: &WriteTransaction) -> StoreResult<()> {
    let during = StoreOperation::Migrate;
    let metas = write.open_table(METAS).during(during)?;
    let mut changes = write.open_table(CHANGES).during(during)?;
    let mut change_of_document = write.open_table(CHANGE_OF_DOCUMENT).during(during)?;
    let mut sequence = 0u64;
    for entry in metas.iter().during(during)? {
        let (document, _) = entry.during(during)?;
        sequence += 1;
        changes.insert(sequence, document.value()).during(during)?;
        change_of_document
            .insert(document.value(), sequence)
            .during(during)?;
    }
    Ok(())
}

/// Layout 3 writes document metadata in format 2, which an older build cannot read; format 1
/// records stay readable and are rewritten as the server describes each document (its start-up
/// scan, or its next change), so the step itself moves nothing: the number it sets is what
/// makes an older build refuse the file instead of misreading it.
fn metadata_format_2(_: &WriteTransaction) -> StoreResult<()> {
    Ok(())
}

/// One step of a store's layout history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutStep {
    /// The layout reached.
    pub layout: u64,
    /// What the step did and which build applied it.
    pub note: String,
}

const fn last_layout(migrations: &[Migration]) -> u64 {
    match migrations.last() {
        Some(last) => last.to,
        None => 1,
    }
}

/// Brings the database to [`LAYOUT`]: creates the tables of a new file, migrates an older one,
/// refuses a newer one.
pub(crate) fn prepare(database: &Database) -> StoreResult<()> {
    let found = stored_layout(database)?;
    if found.is_some_and(|found| found == LAYOUT) {
        return Ok(());
    }
    if let Some(found) = found.filter(|found| *found > LAYOUT) {
        return Err(StoreError::UnsupportedLayout {
            found,
            supported: LAYOUT,
        });
    }
    let mut write = database.begin_write().during(StoreOperation::Migrate)?;
    write
        .set_durability(redb::Durability::Immediate)
        .during(StoreOperation::Migrate)?;
    let from = match found {
        Some(found) => found,
        None => {
            create_layout_1(&write)?;
            1
        }
    };
    for step in MIGRATIONS.iter().filter(|step| step.to > from) {
        (step.apply)(&write)?;
        let note = format!("{} (itinera-core {})", step.name, env!("CARGO_PKG_VERSION"));
        write
            .open_table(LAYOUT_HISTORY)
            .during(StoreOperation::Migrate)?
            .insert(step.to, note.as_str())
            .during(StoreOperation::Migrate)?;
        write
            .open_table(STORE_INFO)
            .during(StoreOperation::Migrate)?
            .insert(LAYOUT_KEY, step.to)
            .during(StoreOperation::Migrate)?;
    }
    // An error above drops the transaction: the file stays at its old layout.
    write.commit().during(StoreOperation::Migrate)
}

/// The layout recorded in the file; `None` for a new, empty file. A file from before the
/// layout was recorded is layout 1.
fn stored_layout(database: &Database) -> StoreResult<Option<u64>> {
    let read = database.begin_read().during(StoreOperation::Open)?;
    let info = match read.open_table(STORE_INFO) {
        Ok(info) => info,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(error) => return Err(StoreError::from_redb(StoreOperation::Open, error)),
    };
    let layout = info.get(LAYOUT_KEY).during(StoreOperation::Open)?;
    Ok(Some(layout.map_or(1, |layout| layout.value())))
}

/// The tables of layout 1, so that read transactions can always open them.
fn create_layout_1(write: &WriteTransaction) -> StoreResult<()> {
    let during = StoreOperation::Migrate;
    write.open_table(CHUNKS).during(during)?;
    write.open_table(METAS).during(during)?;
    write.open_table(SYNC_STATES).during(during)?;
    write.open_table(VALUES).during(during)?;
    write
        .open_table(STORE_INFO)
        .during(during)?
        .insert(LAYOUT_KEY, 1)
        .during(during)?;
    Ok(())
}

/// Layout 2: the history table itself.
fn create_layout_history(write: &WriteTransaction) -> StoreResult<()> {
    write
        .open_table(LAYOUT_HISTORY)
        .during(StoreOperation::Migrate)?;
    Ok(())
}

impl RedbStore {
    /// The layout of the open file (always [`LAYOUT`] once opened).
    pub fn layout(&self) -> StoreResult<u64> {
        self.with_database(|database| Ok(stored_layout(database)?.unwrap_or(1)))
    }

    /// The layout steps applied to the file, oldest first.
    pub fn layout_history(&self) -> StoreResult<Vec<LayoutStep>> {
        self.with_database(history)
    }
}

/// The layout steps recorded in the file, oldest first.
fn history(database: &Database) -> StoreResult<Vec<LayoutStep>> {
    let read = database.begin_read().during(StoreOperation::Open)?;
    let table = match read.open_table(LAYOUT_HISTORY) {
        Ok(table) => table,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(error) => return Err(StoreError::from_redb(StoreOperation::Open, error)),
    };
    let mut steps = Vec::new();
    for entry in table.iter().during(StoreOperation::Open)? {
        let (layout, note) = entry.during(StoreOperation::Open)?;
        steps.push(LayoutStep {
            layout: layout.value(),
            note: note.value().to_owned(),
        });
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use redb::backends::InMemoryBackend;

    use super::*;
    use crate::DocumentId;
    use crate::store::shared_backend::SharedBackend;
    use crate::store::tables::chunk_key;
    use crate::store::{DocumentMeta, DocumentStore};

    #[test]
    fn the_migrations_are_consecutive_from_layout_1() {
        let mut layout = 1;
        for step in MIGRATIONS {
            assert_eq!(step.to, layout + 1, "{}", step.name);
            layout = step.to;
        }
        assert_eq!(layout, LAYOUT);
    }

    /// A file exactly as layout 1 wrote it: its four tables and `store_info` at 1, no history.
    fn layout_1_file(backend: &SharedBackend, doc: DocumentId, chunk: &[u8], meta: &[u8]) {
        let database = redb::Builder::new()
            .create_with_backend(backend.clone())
            .expect("create");
        let write = database.begin_write().expect("write");
        write
            .open_table(CHUNKS)
            .expect("chunks")
            .insert(&chunk_key(doc, 0), chunk)
            .expect("insert");
        write
            .open_table(METAS)
            .expect("metas")
            .insert(doc.as_bytes(), meta)
            .expect("insert");
        write.open_table(SYNC_STATES).expect("states");
        write
            .open_table(VALUES)
            .expect("values")
            .insert("user:ana", b"{}".as_slice())
            .expect("insert");
        write
            .open_table(STORE_INFO)
            .expect("info")
            .insert(LAYOUT_KEY, 1)
            .expect("insert");
        write.commit().expect("commit");
        database.close().expect("close");
    }

    #[test]
    fn a_layout_1_file_is_upgraded_and_keeps_its_data() {
        let backend = SharedBackend(Arc::new(InMemoryBackend::new()));
        let doc = DocumentId::from_bytes([9; 16]);
        let chunk = automerge::AutoCommit::new().save();
        let meta = DocumentMeta {
            kind: Some("account".into()),
            creator: Some("ana".into()),
            ..DocumentMeta::default()
        };
        layout_1_file(&backend, doc, &chunk, &meta.encode());

        let store = RedbStore::with_backend(backend.clone()).expect("upgraded");
        assert_eq!(store.load(doc).expect("load"), Some(chunk));
        assert_eq!(store.meta(doc).expect("meta"), Some(meta));
        assert_eq!(
            store.value("user:ana").expect("value"),
            Some(b"{}".to_vec())
        );
        let history = store.layout_history().expect("history");
        assert_eq!(
            history.iter().map(|step| step.layout).collect::<Vec<_>>(),
            (2..=LAYOUT).collect::<Vec<_>>()
        );
        assert_eq!(store.layout().expect("layout"), LAYOUT);
        store.close().expect("close");

        // Opening again changes nothing.
        let store = RedbStore::with_backend(backend).expect("reopened");
        assert_eq!(store.layout_history().expect("history"), history);
    }

    #[test]
    fn a_layout_4_file_keeps_each_document_at_its_number_in_the_change_sequence() {
        let backend = SharedBackend(Arc::new(InMemoryBackend::new()));
        let (a, b) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        let meta = |kind: &str| DocumentMeta {
            kind: Some(kind.into()),
            ..DocumentMeta::default()
        };
        let chunk = automerge::AutoCommit::new().save();
        layout_1_file(&backend, a, &chunk, &meta("account").encode());
        let database = redb::Builder::new()
            .create_with_backend(backend.clone())
            .expect("open");
        let write = database.begin_write().expect("write");
        for step in MIGRATIONS.iter().filter(|step| step.to <= 4) {
            (step.apply)(&write).expect("step");
        }
        write
            .open_table(STORE_INFO)
            .expect("info")
            .insert(LAYOUT_KEY, 4)
            .expect("layout");
        // b was written later, at number 7, the way layout 4 numbers a write.
        write
            .open_table(CHUNKS)
            .expect("chunks")
            .insert(&chunk_key(b, 0), chunk.as_slice())
            .expect("chunk");
        write
            .open_table(METAS)
            .expect("metas")
            .insert(b.as_bytes(), meta("lead").encode().as_slice())
            .expect("meta");
        write
            .open_table(CHANGES)
            .expect("changes")
            .insert(7, b.as_bytes())
            .expect("change");
        write
            .open_table(CHANGE_OF_DOCUMENT)
            .expect("change of document")
            .insert(b.as_bytes(), 7)
            .expect("change");
        write.commit().expect("commit");
        database.close().expect("close");

        let store = RedbStore::with_backend(backend).expect("upgraded");
        let sequence = |store: &RedbStore| -> Vec<(u64, DocumentId, Option<String>)> {
            let changes = store.changes_since(0, 10).expect("changes");
            changes
                .into_iter()
                .map(|change| (change.sequence, change.document, change.meta.kind))
                .collect()
        };
        assert_eq!(
            sequence(&store),
            [(1, a, Some("account".into())), (7, b, Some("lead".into()))]
        );
        assert_eq!(store.meta(b).expect("meta"), Some(meta("lead")));
        store
            .with_database(|database| {
                let read = database.begin_read().during(StoreOperation::Open)?;
                assert!(matches!(
                    read.open_table(CHANGE_OF_DOCUMENT),
                    Err(TableError::TableDoesNotExist(_))
                ));
                Ok(())
            })
            .expect("read");
        // A later write moves the document to the end, once.
        let mut batch = crate::store::WriteBatch::new();
        batch.update_meta(a, meta("customer"));
        store
            .commit(batch, crate::store::Durability::Immediate)
            .expect("commit");
        assert_eq!(
            sequence(&store),
            [(7, b, Some("lead".into())), (8, a, Some("customer".into()))]
        );
    }

    #[test]
    fn a_new_file_goes_through_every_step() {
        let store = RedbStore::in_memory().expect("store");
        assert_eq!(store.layout().expect("layout"), LAYOUT);
        assert_eq!(
            store.layout_history().expect("history").len(),
            MIGRATIONS.len()
        );
    }
}

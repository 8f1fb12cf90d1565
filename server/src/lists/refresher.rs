//! The thread that fills the list model: at start-up every document's scope and title from the
//! store's metadata, the stored rows of unchanged documents and a read of every other listed one;
//! then every committed event from the bus. The event brings the scope and title; the row's
//! cells come from the document the event carries, or else from the store. New rows are stored
//! through the store writer for the next start.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use automerge::AutoCommit;
use itinera_core::engine::Committed;
use itinera_core::policy::DocumentScope;
use itinera_core::store::{DocumentMeta, DocumentStore, WriteBatch};
use itinera_core::{DocumentId, DocumentKind};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::list_entry::ListEntry;
use super::list_kind::ListKind;
use super::list_model::ListModel;
use super::stored_entry;
use crate::readiness::StartupWork;
use crate::store_writer::StoreWriter;

/// Rows stored per write at start-up.
const STORE_BATCH: usize = 2_048;
/// Committed events taken in before their rows are stored together.
const EVENT_BATCH: usize = 256;

/// A row to store: the entry and the heads of the document its cells were read from.
type Row = (ListEntry, Vec<String>);

struct Refresher {
    store: Arc<dyn DocumentStore>,
    writer: StoreWriter,
    model: Arc<ListModel>,
}

/// Starts the thread with `committed`, a receiver of the event bus taken before the server
/// started writing, so that nothing committed during the start-up scan is missed; `startup` is
/// dropped (the server becomes ready) once the scan is in. It rescans whenever it fell behind
/// the bus, and ends when the bus closes.
pub fn spawn_refresher(
    store: Arc<dyn DocumentStore>,
    writer: StoreWriter,
    mut committed: Receiver<Arc<Committed>>,
    model: Arc<ListModel>,
    startup: StartupWork,
) -> std::io::Result<JoinHandle<()>> {
    let refresher = Refresher {
        store,
        writer,
        model,
    };
    std::thread::Builder::new()
        .name("itinera-lists".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            // The first scan runs behind the devices: this thread follows the committed events
            // afterwards, at the normal priority.
            let (entries, read) = startup.read_behind_devices(|| refresher.scan());
            let documents = entries.len();
            refresher.model.load(entries);
            drop(startup);
            tracing::info!(elapsed = ?started.elapsed(), documents, read, "lists built");
            loop {
                match committed.blocking_recv() {
                    Ok(first) => refresher.take_burst(&first, &mut committed),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "the lists fell behind the committed events; rescanning"
                        );
                        refresher.model.load(refresher.scan().0);
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
}

impl Refresher {
    /// Takes `first` and whatever else is already waiting (up to [`EVENT_BATCH`]), then stores
    /// their rows in one write.
    fn take_burst(&self, first: &Committed, committed: &mut Receiver<Arc<Committed>>) {
        let mut rows = Vec::new();
        rows.extend(self.take(first));
        while rows.len() < EVENT_BATCH {
            match committed.try_recv() {
                Ok(next) => rows.extend(self.take(&next)),
                Err(TryRecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "the lists fell behind the committed events; rescanning"
                    );
                    self.model.load(self.scan().0);
                    return;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        self.store_rows(&rows);
    }

    /// Takes one committed event into the model; the row to store, if its cells were read.
    fn take(&self, committed: &Committed) -> Option<Row> {
        let kind = listed_kind(committed.kind)?;
        let (id, scope) = (committed.document, committed.scope.clone());
        if !committed.changed_content() {
            // Only who may see it changed: the cells stay.
            if let Some(entry) = self.model.entry(kind, &id) {
                self.model.upsert(entry.rescoped(scope));
                return None;
            }
        }
        if ListKind::of_kind(kind).is_none() {
            self.model
                .upsert(ListEntry::unlisted(id, scope, committed.title.clone()));
            return None;
        }
        let title = committed.title.clone();
        let from_record = committed
            .record
            .as_ref()
            .and_then(|record| ListEntry::with_record(id, scope.clone(), title.clone(), record));
        let read = match (from_record, &committed.content) {
            (Some(entry), _) => Ok((entry, stored_entry::heads_text(&committed.heads))),
            (None, Some(doc)) => ListEntry::with_document(id, scope, title, doc)
                .map(|entry| (entry, stored_entry::heads_text(&committed.heads)))
                .map_err(|err| err.to_string()),
            (None, None) => self.read_cells(id, scope, title),
        };
        match read {
            Ok((entry, heads)) => {
                self.model.upsert(entry.clone());
                Some((entry, heads))
            }
            Err(err) => {
                tracing::warn!(document = %id, error = %err, "not in the lists");
                None
            }
        }
    }

    /// Every document of the store with a kind, as entries, and how many had to be read.
    /// Documents that do not load are left out and logged (the `check` command names them).
    fn scan(&self) -> (Vec<ListEntry>, usize) {
        let documents = match self.store.documents() {
            Ok(documents) => documents,
            Err(err) => {
                tracing::error!(error = %err, "the lists could not read the store's documents");
                return (Vec::new(), 0);
            }
        };
        let mut stored: HashMap<DocumentId, Vec<u8>> = self
            .store
            .values_with_prefix(stored_entry::PREFIX)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(key, bytes)| {
                let id = DocumentId::parse(key.strip_prefix(stored_entry::PREFIX)?).ok()?;
                Some((id, bytes))
            })
            .collect();
        let mut entries = Vec::with_capacity(documents.len());
        let mut fresh = Vec::new();
        for (id, meta) in documents {
            let Some(kind) = listed_kind(meta.kind.as_deref().and_then(DocumentKind::parse)) else {
                continue;
            };
            match self.scanned(id, kind, meta, stored.remove(&id)) {
                Ok(Scanned::Kept(entry)) => entries.push(entry),
                Ok(Scanned::Read(row)) => fresh.push(row),
                Err(err) => tracing::warn!(document = %id, error = %err, "not in the lists"),
            }
        }
        let read = fresh.len();
        for chunk in fresh.chunks(STORE_BATCH) {
            self.store_rows(chunk);
        }
        entries.extend(fresh.into_iter().map(|(entry, _)| entry));
        (entries, read)
    }

    /// The entry of one stored document: from its metadata (and its stored row, if the heads
    /// match), or else read from the document.
    fn scanned(
        &self,
        id: DocumentId,
        kind: DocumentKind,
        meta: DocumentMeta,
        stored: Option<Vec<u8>>,
    ) -> Result<Scanned, String> {
        let Some(scope) = meta.scope else {
            // Stored before the metadata kept scopes: the document says who may see it.
            let doc = self.load(id)?;
            let entry = ListEntry::describe(id, &doc.1, meta.creator.as_deref())
                .map_err(|err| err.to_string())?;
            return Ok(Scanned::Read((entry, doc.0)));
        };
        if ListKind::of_kind(kind).is_none() {
            return Ok(Scanned::Kept(ListEntry::unlisted(id, scope, meta.title)));
        }
        let heads = stored_entry::heads_text(&meta.heads);
        if let Some((entry, stored_heads)) = stored
            .and_then(|bytes| stored_entry::decode(id, scope.clone(), meta.title.clone(), &bytes))
        {
            if stored_heads == heads {
                return Ok(Scanned::Kept(entry));
            }
        }
        self.read_cells(id, scope, meta.title).map(Scanned::Read)
    }

    /// The entry of a listed document whose scope and title are known, with its cells read
    /// from the stored document.
    fn read_cells(
        &self,
        id: DocumentId,
        scope: DocumentScope,
        title: String,
    ) -> Result<Row, String> {
        let (heads, doc) = self.load(id)?;
        let entry =
            ListEntry::with_document(id, scope, title, &doc).map_err(|err| err.to_string())?;
        Ok((entry, heads))
    }

    /// The stored document and its heads.
    fn load(&self, id: DocumentId) -> Result<(Vec<String>, AutoCommit), String> {
        let bytes = self
            .store
            .load(id)
            .map_err(|err| err.to_string())?
            .ok_or("the store no longer holds it")?;
        let mut doc = itinera_core::document::load_bytes(&bytes).map_err(|err| err.to_string())?;
        Ok((stored_entry::heads_text(&doc.get_heads()), doc))
    }

    /// Stores rows for the next start; a row that is not stored is only read again then.
    fn store_rows(&self, rows: &[Row]) {
        let mut batch = WriteBatch::new();
        for (entry, heads) in rows {
            if let Some(bytes) = stored_entry::encode(entry, heads) {
                batch.put_value(&stored_entry::key(&entry.id), bytes);
            }
        }
        if !batch.is_empty() {
            // The rows are a cache, and the store writer reports its own failures.
            self.writer.write_detached(batch);
        }
    }
}

/// What the scan found of one document.
enum Scanned {
    /// Its entry, from the metadata and the stored row; nothing to store.
    Kept(ListEntry),
    /// Its entry read from the document, to store.
    Read(Row),
}

/// The kind of a document the model keeps: every kind but the users' indexes (the server's
/// list of what their devices hold, which no page shows and which grows with every document).
/// Generic documents have no kind and no list.
fn listed_kind(kind: Option<DocumentKind>) -> Option<DocumentKind> {
    kind.filter(|kind| *kind != DocumentKind::Index)
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use autosurgeon::reconcile_prop;
    use itinera_core::engine::{Creation, EngineConfig, ServerEdit};
    use itinera_core::policy::{Principal, Role};
    use itinera_core::protocol::PeerId;
    use itinera_core::store::{Durability, RedbStore};

    use super::*;
    use crate::lists::ListQuery;
    use crate::metrics::Metrics;

    struct Fixture {
        refresher: Refresher,
        folder: std::path::PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.folder);
        }
    }

    fn fixture(name: &str) -> Fixture {
        let folder =
            std::env::temp_dir().join(format!("itinera-lists-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).expect("folder");
        let store: Arc<dyn DocumentStore> =
            Arc::new(RedbStore::open(folder.join("store.redb")).expect("store"));
        let metrics = Arc::new(Metrics::default());
        let (writer, _) =
            StoreWriter::spawn(store.clone(), Durability::Immediate, 64, metrics).expect("writer");
        let model = Arc::new(ListModel::default());
        Fixture {
            refresher: Refresher {
                store,
                writer,
                model,
            },
            folder,
        }
    }

    /// An account by `sam`, made as the engine makes it; the event carries the document when
    /// `carry` says so.
    fn account(n: u8, name: &'static str, carry: bool) -> Creation {
        let mut config = EngineConfig::new(PeerId::new("server"), ActorId::from([1u8; 16]));
        if carry {
            config.carry_content = |_| true;
        }
        let edit = ServerEdit::new(move |doc| {
            reconcile_prop(doc, automerge::ROOT, "name", name)?;
            reconcile_prop(doc, automerge::ROOT, "owner", "sam")?;
            Ok(())
        })
        .or_create(DocumentKind::Account);
        let sam = Principal::new("sam", Role::Sales);
        Creation::make(&config, DocumentId::from_bytes([n; 16]), &sam, edit, 1_000).expect("made")
    }

    fn names(model: &ListModel, reader: &Principal) -> Vec<String> {
        let query = ListQuery::parse(ListKind::Accounts, std::iter::empty()).expect("query");
        let page = model.list(reader, ListKind::Accounts, &query, 50);
        page.rows.into_iter().map(|row| row.title).collect()
    }

    /// Waits until the writer committed everything it was given before.
    fn flush(writer: &StoreWriter) {
        let barrier = writer.write_durably(WriteBatch::new());
        assert!(matches!(barrier.blocking_recv(), Ok(Ok(()))));
    }

    #[test]
    fn an_event_gives_the_scope_and_its_record_document_or_the_store_the_cells() {
        let fixture = fixture("events");
        let refresher = &fixture.refresher;
        let office = Principal::new("olga", Role::Office);
        // Carried: the store is not read (it does not even hold the document).
        let carried = account(1, "Lakeside Schools", true);
        assert!(refresher.take(&carried.committed).is_some());
        // Not carried: the cells come from the stored document.
        let stored = account(2, "Harbour Tours", false);
        refresher
            .store
            .commit(stored.writes, Durability::Immediate)
            .expect("stored");
        let (entry, heads) = refresher.take(&stored.committed).expect("a row to store");
        assert_eq!(heads, stored_entry::heads_text(&stored.committed.heads));
        assert_eq!(entry.scope, stored.committed.scope);
        assert_eq!(
            names(&refresher.model, &office),
            ["Harbour Tours", "Lakeside Schools"]
        );
        // The record the engine read for the summary: neither the document nor the store is read.
        let read_once = account(3, "Castle Coaches", false);
        assert!(read_once.committed.record.is_some());
        assert!(refresher.take(&read_once.committed).is_some());
        assert_eq!(names(&refresher.model, &office).len(), 3);
        // A document the store does not hold, carried neither whole nor as a record, is left out.
        let mut missing = account(4, "Dune Coaches", false);
        missing.committed.record = None;
        assert!(refresher.take(&missing.committed).is_none());
        assert_eq!(names(&refresher.model, &office).len(), 3);
    }

    #[test]
    fn a_share_moves_the_scope_and_keeps_the_cells_and_indexes_are_not_kept() {
        let fixture = fixture("share");
        let refresher = &fixture.refresher;
        let made = account(1, "Lakeside Schools", true);
        refresher.take(&made.committed);
        let mut events = refresher.model.subscribe();
        let mut moved = made.committed.clone();
        moved.previous_heads = moved.heads.clone();
        moved.content = None;
        moved.scope.owner = Some("sofia".into());
        assert!(refresher.take(&moved).is_none(), "no cells are read again");
        let event = events.try_recv().expect("the model tells its subscribers");
        assert!(
            event.concerns(&Principal::new("sam", Role::Sales)),
            "sam saw it before"
        );
        assert!(
            event.concerns(&Principal::new("sofia", Role::Sales)),
            "sofia sees it now"
        );
        assert!(names(&refresher.model, &Principal::new("sam", Role::Sales)).is_empty());
        assert_eq!(
            names(&refresher.model, &Principal::new("sofia", Role::Sales)),
            ["Lakeside Schools"]
        );
        let mut index = made.committed.clone();
        index.kind = Some(DocumentKind::Index);
        index.document = DocumentId::from_bytes([9; 16]);
        assert!(refresher.take(&index).is_none());
        assert!(events.try_recv().is_err(), "an index is not listed");
    }

    #[test]
    fn a_restart_reads_only_the_documents_whose_stored_rows_are_stale() {
        let fixture = fixture("restart");
        let refresher = &fixture.refresher;
        let (kept, stale) = (
            account(1, "Lakeside Schools", false),
            account(2, "Harbour Tours", false),
        );
        for made in [&kept, &stale] {
            let writes = made.writes.clone();
            refresher
                .store
                .commit(writes, Durability::Immediate)
                .expect("stored");
        }
        let (entries, read) = refresher.scan();
        assert_eq!(
            (entries.len(), read),
            (2, 2),
            "no rows stored yet: both are read"
        );
        flush(&refresher.writer);
        let (again, read) = refresher.scan();
        assert_eq!(read, 0, "both rows are stored now");
        let by_id = |entries: &[ListEntry], id| entries.iter().find(|e| e.id == id).cloned();
        assert_eq!(
            by_id(&again, kept.committed.document),
            by_id(&entries, kept.committed.document)
        );
        // The stale document changes; its stored row no longer matches its heads.
        let mut doc = itinera_core::document::load_bytes(
            &refresher
                .store
                .load(stale.committed.document)
                .expect("load")
                .expect("held"),
        )
        .expect("loads");
        reconcile_prop(&mut doc, automerge::ROOT, "name", "Harbour Tours Ltd").expect("renamed");
        doc.commit();
        let mut meta = refresher
            .store
            .meta(stale.committed.document)
            .expect("meta")
            .expect("held");
        meta.heads = doc.get_heads();
        let mut batch = WriteBatch::new();
        batch.append_changes(
            stale.committed.document,
            doc.save_after(&stale.committed.heads),
            meta,
        );
        refresher
            .store
            .commit(batch, Durability::Immediate)
            .expect("stored");
        let (entries, read) = refresher.scan();
        assert_eq!(read, 1, "only the changed document is read");
        let renamed = by_id(&entries, stale.committed.document).expect("listed");
        assert_eq!(
            renamed.cells[0],
            crate::lists::Cell::text("Harbour Tours Ltd")
        );
    }
}

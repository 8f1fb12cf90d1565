//! The thread that fills the read model: at start-up the stored rows of unchanged documents and
//! a read of every other one, then every document the change feed names, read again from the
//! store. New rows are stored through the store writer for the next start.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use itinera_core::store::{DocumentMeta, DocumentStore, WriteBatch};
use itinera_core::{DocumentId, DocumentKind};
use tokio::sync::broadcast::error::RecvError;

use super::change_feed::ChangeFeed;
use super::list_entry::ListEntry;
use super::read_model::ReadModel;
use super::stored_entry;
use crate::store_writer::StoreWriter;

/// Rows stored per write at start-up.
const STORE_BATCH: usize = 2_048;

struct Refresher {
    store: Arc<dyn DocumentStore>,
    writer: StoreWriter,
}

/// Starts the thread. It subscribes before it scans, so nothing changed during the scan is
/// missed, and it rescans whenever it fell behind the feed. It ends when the feed closes.
pub fn spawn_refresher(
    store: Arc<dyn DocumentStore>,
    writer: StoreWriter,
    feed: &ChangeFeed,
    model: Arc<ReadModel>,
) -> std::io::Result<JoinHandle<()>> {
    let mut changes = feed.subscribe();
    let refresher = Refresher { store, writer };
    std::thread::Builder::new()
        .name("read-model".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            let (entries, read) = refresher.scan();
            let documents = entries.len();
            model.load(entries);
            tracing::info!(elapsed = ?started.elapsed(), documents, read, "read model built");
            loop {
                match changes.blocking_recv() {
                    // A user's index is the server's list of what their devices hold: no page
                    // lists it, and reading it whole on each change grows with every document.
                    Ok(change) if change.kind == DocumentKind::Index => {}
                    Ok(change) => {
                        if let Some((entry, heads)) = refresher.describe(change.document) {
                            refresher.store_rows(&[(&entry, heads)]);
                            model.upsert(entry);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the read model fell behind; rescanning");
                        model.load(refresher.scan().0);
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
}

impl Refresher {
    /// Every document of the store with a kind, as entries, and how many had to be read.
    /// Documents that do not load are left out and logged (the `check` command names them).
    fn scan(&self) -> (Vec<ListEntry>, usize) {
        let documents = match self.store.documents() {
            Ok(documents) => documents,
            Err(err) => {
                tracing::error!(error = %err, "the read model could not list the store");
                return (Vec::new(), 0);
            }
        };
        let mut stored: HashMap<DocumentId, (ListEntry, Vec<String>)> = self
            .store
            .values_with_prefix(stored_entry::PREFIX)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(key, bytes)| {
                let id = DocumentId::parse(key.strip_prefix(stored_entry::PREFIX)?).ok()?;
                Some((id, stored_entry::decode(id, &bytes)?))
            })
            .collect();
        let mut entries = Vec::with_capacity(documents.len());
        let mut fresh = Vec::new();
        for (id, meta) in documents {
            if !listed(&meta) {
                continue;
            }
            match stored.remove(&id) {
                Some((entry, heads)) if heads == stored_entry::heads_text(&meta.heads) => {
                    entries.push(entry);
                }
                _ => {
                    if let Some(read) = self.describe(id) {
                        fresh.push(read);
                    }
                }
            }
        }
        let read = fresh.len();
        for chunk in fresh.chunks(STORE_BATCH) {
            let rows: Vec<(&ListEntry, Vec<String>)> = chunk
                .iter()
                .map(|(entry, heads)| (entry, heads.clone()))
                .collect();
            self.store_rows(&rows);
        }
        entries.extend(fresh.into_iter().map(|(entry, _)| entry));
        (entries, read)
    }

    /// The entry of one stored document, and the heads it was read at.
    fn describe(&self, id: DocumentId) -> Option<(ListEntry, Vec<String>)> {
        let read = || -> Result<Option<(ListEntry, Vec<String>)>, String> {
            let Some(meta) = self.store.meta(id).map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            let Some(bytes) = self.store.load(id).map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            let mut doc = itinera_core::document::load_bytes(&bytes).map_err(|e| e.to_string())?;
            let heads = stored_entry::heads_text(&doc.get_heads());
            let entry =
                ListEntry::describe(id, &doc, meta.owner.as_deref()).map_err(|e| e.to_string())?;
            Ok(Some((entry, heads)))
        };
        read().unwrap_or_else(|err| {
            tracing::warn!(document = %id, error = %err, "not in the read model");
            None
        })
    }

    /// Stores rows for the next start; a row that is not stored is only read again then.
    fn store_rows(&self, rows: &[(&ListEntry, Vec<String>)]) {
        let mut batch = WriteBatch::new();
        for (entry, heads) in rows {
            if let Some(bytes) = stored_entry::encode(entry, heads) {
                batch.put_value(&stored_entry::key(&entry.id), bytes);
            }
        }
        if !batch.is_empty() {
            // Not awaited: the rows are a cache, and the store writer reports its own failures.
            drop(self.writer.write(batch));
        }
    }
}

/// Whether a document has a row: every kind but the users' indexes.
fn listed(meta: &DocumentMeta) -> bool {
    meta.kind.is_some() && meta.kind.as_deref() != Some(DocumentKind::Index.as_str())
}

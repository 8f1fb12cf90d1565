//! The thread that fills the read model: a scan of the store at start-up, then every document
//! the change feed names, read again from the store.

use std::sync::Arc;
use std::thread::JoinHandle;

use itinera_core::store::DocumentStore;
use itinera_core::{DocumentId, DocumentKind};
use tokio::sync::broadcast::error::RecvError;

use super::change_feed::ChangeFeed;
use super::list_entry::ListEntry;
use super::read_model::ReadModel;

/// Starts the thread. It subscribes before it scans, so nothing changed during the scan is
/// missed, and it rescans whenever it fell behind the feed. It ends when the feed closes.
pub fn spawn_refresher(
    store: Arc<dyn DocumentStore>,
    feed: &ChangeFeed,
    model: Arc<ReadModel>,
) -> std::io::Result<JoinHandle<()>> {
    let mut changes = feed.subscribe();
    std::thread::Builder::new()
        .name("read-model".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            model.load(scan(&*store));
            tracing::info!(elapsed = ?started.elapsed(), "read model built");
            loop {
                match changes.blocking_recv() {
                    // A user's index is the server's list of what their devices hold: no page
                    // lists it, and reading it whole on each change grows with every document.
                    Ok(change) if change.kind == DocumentKind::Index => {}
                    Ok(change) => {
                        if let Some(entry) = describe(&*store, change.document) {
                            model.upsert(entry);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the read model fell behind; rescanning");
                        model.load(scan(&*store));
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
}

/// Every document of the store with a kind, as entries. Documents that do not load are left
/// out and logged (the `check` command names them).
fn scan(store: &dyn DocumentStore) -> Vec<ListEntry> {
    let documents = match store.documents() {
        Ok(documents) => documents,
        Err(err) => {
            tracing::error!(error = %err, "the read model could not list the store");
            return Vec::new();
        }
    };
    documents
        .into_iter()
        .filter(|(_, meta)| meta.kind.is_some() && meta.kind.as_deref() != Some("index"))
        .filter_map(|(id, _)| describe(store, id))
        .collect()
}

/// The entry of one stored document.
fn describe(store: &dyn DocumentStore, id: DocumentId) -> Option<ListEntry> {
    let read = || -> Result<Option<ListEntry>, String> {
        let Some(meta) = store.meta(id).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let Some(bytes) = store.load(id).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let doc = itinera_core::document::load_bytes(&bytes).map_err(|e| e.to_string())?;
        ListEntry::describe(id, &doc, meta.owner.as_deref())
            .map(Some)
            .map_err(|e| e.to_string())
    };
    read().unwrap_or_else(|err| {
        tracing::warn!(document = %id, error = %err, "not in the read model");
        None
    })
}

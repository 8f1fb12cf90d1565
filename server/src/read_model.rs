//! The read model: every document's report summary, in memory, kept current by the committed
//! events and loaded from the store (where each commit also writes its summary) at start-up.
//! Reports run over it without reading a document.

use std::collections::HashMap;
use std::sync::RwLock;

use itinera_core::DocumentId;
use itinera_core::engine::Committed;
use itinera_core::reports::Summary;
use itinera_core::store::{DocumentStore, StoreResult};

/// The summaries of every document that has one.
#[derive(Debug, Default)]
pub struct ReadModel {
    summaries: RwLock<HashMap<DocumentId, Summary>>,
}

impl ReadModel {
    /// Loads every summary the store holds; an unreadable one is left out (and logged).
    pub fn load(store: &dyn DocumentStore) -> StoreResult<Self> {
        let model = Self::default();
        model.load_from(store)?;
        Ok(model)
    }

    /// Adds every summary the store holds (after the demo company was seeded, say).
    pub fn load_from(&self, store: &dyn DocumentStore) -> StoreResult<()> {
        let mut summaries = HashMap::new();
        for (key, bytes) in store.values_with_prefix(itinera_core::reports::SUMMARY_PREFIX)? {
            let Some(id) = key
                .strip_prefix(itinera_core::reports::SUMMARY_PREFIX)
                .and_then(|id| DocumentId::parse(id).ok())
            else {
                continue;
            };
            match serde_json::from_slice::<Summary>(&bytes) {
                Ok(summary) => {
                    summaries.insert(id, summary);
                }
                Err(err) => {
                    tracing::warn!(document = %id, error = %err, "report summary unreadable")
                }
            }
        }
        if let Ok(mut current) = self.summaries.write() {
            current.extend(summaries);
        }
        Ok(())
    }

    /// Takes in a commit's summary.
    pub fn apply(&self, committed: &Committed) {
        if !committed.changed_content() {
            return;
        }
        if let Ok(mut summaries) = self.summaries.write() {
            match &committed.summary {
                Some(summary) => {
                    summaries.insert(committed.document, summary.clone());
                }
                None => {
                    summaries.remove(&committed.document);
                }
            }
        }
    }

    /// Adds or replaces one summary (the start-up backfill of documents stored without one).
    pub fn insert(&self, id: DocumentId, summary: Summary) {
        if let Ok(mut summaries) = self.summaries.write() {
            summaries.insert(id, summary);
        }
    }

    /// Every summary, for a report.
    pub fn summaries(&self) -> Vec<(DocumentId, Summary)> {
        self.summaries
            .read()
            .map(|summaries| {
                summaries
                    .iter()
                    .map(|(id, summary)| (*id, summary.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The summary of one document.
    pub fn summary(&self, id: &DocumentId) -> Option<Summary> {
        self.summaries.read().ok()?.get(id).cloned()
    }
}

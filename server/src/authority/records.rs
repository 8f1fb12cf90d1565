//! The documents the authority reads besides the one a committed event carries: a booking's
//! departure, a departure's bookings, a guide's departures, the catalog, the alerts, a journal.
//! They are read from the store, which holds every durable change.

use std::sync::Arc;

use itinera_core::store::DocumentStore;
use itinera_core::{Document, DocumentId, Record};

/// Reads typed records from the store.
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn DocumentStore>,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Records")
    }
}

impl Records {
    pub fn new(store: Arc<dyn DocumentStore>) -> Self {
        Self { store }
    }

    /// The record of document `id`, if the store holds one of kind `R` that reads.
    pub fn load<R: Record>(&self, id: &DocumentId) -> Option<R> {
        self.document::<R>(id)?.record().ok()
    }

    /// The typed document `id` (with its history), if the store holds one of kind `R`.
    pub fn document<R: Record>(&self, id: &DocumentId) -> Option<Document<R>> {
        let bytes = self.store.load(*id).ok()??;
        Document::<R>::load(&bytes).ok()
    }

    /// The last number used of a legal invoice number sequence.
    pub fn sequence(&self, key: &str) -> u64 {
        self.store
            .value(key)
            .ok()
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok()?.parse().ok())
            .unwrap_or(0)
    }
}

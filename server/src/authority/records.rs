//! The documents the authority reads besides the one a committed event carries: a booking's
//! departure, a departure's bookings, a guide's departures, the catalog, the alerts, a journal.
//! They are read from the store, which holds every durable change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use itinera_core::model::Booking;
use itinera_core::store::DocumentStore;
use itinera_core::{Document, DocumentId, Record};

/// Reads typed records from the store; bookings are kept once read, since deciding a departure
/// reads all of its bookings, and kept current by every committed change of one
/// ([`Records::booking_changed`]).
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn DocumentStore>,
    bookings: Arc<Mutex<HashMap<DocumentId, Booking>>>,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Records")
    }
}

impl Records {
    pub fn new(store: Arc<dyn DocumentStore>) -> Self {
        Self {
            store,
            bookings: Arc::default(),
        }
    }

    /// Booking `id` as it is now durable (from its committed event).
    pub fn booking_changed(&self, id: DocumentId, booking: Option<Booking>) {
        if let Ok(mut bookings) = self.bookings.lock() {
            match booking {
                Some(booking) => {
                    bookings.insert(id, booking);
                }
                None => {
                    bookings.remove(&id);
                }
            }
        }
    }

    /// Booking `id`, from memory or the store.
    pub fn booking(&self, id: &DocumentId) -> Option<Booking> {
        if let Some(booking) = self.bookings.lock().ok()?.get(id) {
            return Some(booking.clone());
        }
        let booking = self.load::<Booking>(id)?;
        if let Ok(mut bookings) = self.bookings.lock() {
            bookings.insert(*id, booking.clone());
        }
        Some(booking)
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

    /// The user document `id` belongs to (its rep, owner, custodian, employee's user), as its
    /// stored scope says.
    pub fn owner_of(&self, id: &DocumentId) -> Option<String> {
        self.store.meta(*id).ok()??.scope?.owner
    }

    /// The last number a sequence gave, and the value stored for it (`None`: none yet), which
    /// the write of the next number expects to find.
    pub fn sequence_stored(&self, key: &str) -> (u64, Option<Vec<u8>>) {
        let stored = self.store.value(key).ok().flatten();
        let last = stored
            .as_ref()
            .and_then(|bytes| std::str::from_utf8(bytes).ok()?.parse().ok())
            .unwrap_or(0);
        (last, stored)
    }
}

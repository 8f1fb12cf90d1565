//! What the app hears from the sync client, and the guarantee that hearing it never stops a
//! sync: events go through a queue to a thread of their own, which calls the app's listener
//! and catches whatever it throws. A listener that throws, blocks or is slow costs its own
//! events, never a sync, a report or the background loop.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::SyncStatus;

/// What the app hears from the sync client. Implemented by the app (Kotlin, Swift, Python).
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Records changed because of a sync; ids as `automerge:` URLs.
    fn records_changed(&self, documents: Vec<String>);
    /// Online, offline, syncing, or signed out.
    fn status_changed(&self, status: SyncStatus);
    /// The server refused this device's changes to a document.
    fn document_rejected(&self, document: String, reason: String);
}

/// One event for the listener.
#[derive(Debug, Clone)]
pub(crate) enum Heard {
    RecordsChanged(Vec<String>),
    Status(SyncStatus),
    Rejected(String, String),
    /// Ends the listener's thread.
    Close,
}

/// Hands events to the app's listener on a thread of its own.
pub(crate) struct Announcer {
    queue: mpsc::Sender<Heard>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer").finish_non_exhaustive()
    }
}

impl Announcer {
    /// An announcer calling whatever listener `listener` holds when an event comes.
    pub(crate) fn new(listener: Arc<Mutex<Option<Arc<dyn SyncListener>>>>) -> Self {
        let (queue, events) = mpsc::channel::<Heard>();
        let spawned = std::thread::Builder::new()
            .name("itinera-listener".into())
            .spawn(move || {
                for event in events {
                    if matches!(event, Heard::Close) {
                        return;
                    }
                    let current = listener.lock().ok().and_then(|slot| slot.clone());
                    if let Some(listener) = current {
                        tell(listener.as_ref(), event);
                    }
                }
            });
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(error) => {
                tracing::warn!(%error, "no thread for the sync listener; its events are dropped");
                None
            }
        };
        Self {
            queue,
            thread: Mutex::new(thread),
        }
    }

    /// Ends the listener's thread after the events queued before, and waits for it.
    pub(crate) fn close(&self) {
        let _ = self.queue.send(Heard::Close);
        if let Some(thread) = self.thread.lock().ok().and_then(|mut slot| slot.take()) {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    /// Queues an event; never blocks, never fails the caller.
    pub(crate) fn announce(&self, event: Heard) {
        let _ = self.queue.send(event);
    }
}

fn tell(listener: &dyn SyncListener, event: Heard) {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| match event {
        Heard::RecordsChanged(documents) => listener.records_changed(documents),
        Heard::Status(status) => listener.status_changed(status),
        Heard::Rejected(document, reason) => listener.document_rejected(document, reason),
        Heard::Close => {}
    }));
    if outcome.is_err() {
        tracing::warn!("the app's sync listener failed; the sync goes on");
    }
}

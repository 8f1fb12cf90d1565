//! Watches: what the app shows, now and after every change that touches it, whether the change
//! was made on this device or arrived by sync.
//!
//! A watch subscribes to the replica's writes when it is made and answers its first
//! [`next`](AccountsWatch::next) at once with the current value; every later `next` waits for
//! a write of a document of its kind (a burst of writes counts once) and answers the new value.
//! Since it is subscribed before it first reads, nothing written after it was made is missed,
//! whenever the sync started. Kotlin wraps a watch in a `Flow`, Swift in an `AsyncStream`,
//! Python in an async iterator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use itinera_core::DocumentId;
use itinera_core::model::DocumentKind;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::views::*;
use crate::{ItineraError, Replica};

/// Waits for the next write that touches `kinds` (or `document`); `Err` when the replica is
/// gone.
async fn next_write(
    receiver: &mut broadcast::Receiver<Arc<Vec<DocumentId>>>,
    replica: &Replica,
    kinds: &[DocumentKind],
    document: Option<DocumentId>,
) -> Result<(), ItineraError> {
    loop {
        let written = match receiver.recv().await {
            Ok(written) => written,
            // Missed some writes: read again, whatever they were.
            Err(RecvError::Lagged(_)) => return Ok(()),
            Err(RecvError::Closed) => {
                return Err(ItineraError::Other {
                    reason: "the replica is closed".into(),
                });
            }
        };
        let touches = written.iter().any(|id| match document {
            Some(document) => *id == document,
            None => replica
                .kind_of(*id)
                .is_none_or(|kind| kinds.contains(&kind)),
        });
        if touches {
            // Writes that came in the same burst are read in this answer.
            while receiver.try_recv().is_ok() {}
            return Ok(());
        }
    }
}

/// One watch object per view: a receiver of the replica's writes, and how to read the view.
macro_rules! watch {
    ($(#[$doc:meta])* $name:ident, $value:ty, kinds: $kinds:expr, read: $read:expr) => {
        $(#[$doc])*
        #[derive(uniffi::Object)]
        pub struct $name {
            replica: Arc<Replica>,
            receiver: tokio::sync::Mutex<broadcast::Receiver<Arc<Vec<DocumentId>>>>,
            document: Option<DocumentId>,
            first: AtomicBool,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        #[uniffi::export(async_runtime = "tokio")]
        impl $name {
            /// The current value the first time; then the value after the next write that
            /// touches it.
            pub async fn next(&self) -> Result<$value, ItineraError> {
                let mut receiver = self.receiver.lock().await;
                if !self.first.swap(false, Ordering::SeqCst) {
                    next_write(&mut receiver, &self.replica, &$kinds, self.document).await?;
                }
                let replica = self.replica.clone();
                let document = self.document;
                // Off the caller's thread: reading hydrates records.
                tokio::task::spawn_blocking(move || {
                    let read: fn(&Replica, Option<DocumentId>) -> Result<$value, ItineraError> =
                        $read;
                    read(&replica, document)
                })
                .await
                .map_err(|e| ItineraError::Other {
                    reason: e.to_string(),
                })?
            }
        }

        impl $name {
            pub(crate) fn new(replica: Arc<Replica>, document: Option<DocumentId>) -> Arc<Self> {
                let receiver = replica.written.subscribe();
                Arc::new(Self {
                    replica,
                    receiver: tokio::sync::Mutex::new(receiver),
                    document,
                    first: AtomicBool::new(true),
                })
            }
        }
    };
}

watch!(
    /// The user's accounts, not archived.
    AccountsWatch, Vec<AccountView>,
    kinds: [DocumentKind::Account],
    read: |replica, _| replica.my_accounts()
);
watch!(
    /// One account (`None` while the device does not hold it).
    AccountWatch, Option<AccountView>,
    kinds: [DocumentKind::Account],
    read: |replica, document| match document {
        Some(id) => replica.account(id.to_url()),
        None => Ok(None),
    }
);
watch!(
    /// The user's bookings.
    BookingsWatch, Vec<BookingView>,
    kinds: [DocumentKind::Booking],
    read: |replica, _| replica.my_bookings()
);
watch!(
    /// The departures on this device.
    DeparturesWatch, Vec<DepartureView>,
    kinds: [DocumentKind::Departure, DocumentKind::FieldLog, DocumentKind::Employee],
    read: |replica, _| replica.my_departures()
);
watch!(
    /// The user's open leads.
    LeadsWatch, Vec<LeadView>,
    kinds: [DocumentKind::Lead],
    read: |replica, _| replica.my_leads()
);

#[uniffi::export]
impl Replica {
    /// The user's accounts now and after every change.
    pub fn watch_my_accounts(self: Arc<Self>) -> Arc<AccountsWatch> {
        AccountsWatch::new(self, None)
    }

    /// One account now and after every change to it.
    pub fn watch_account(
        self: Arc<Self>,
        account: String,
    ) -> Result<Arc<AccountWatch>, ItineraError> {
        let id = DocumentId::parse(&account).map_err(|e| ItineraError::Invalid {
            reason: e.to_string(),
        })?;
        Ok(AccountWatch::new(self, Some(id)))
    }

    /// The user's bookings now and after every change.
    pub fn watch_my_bookings(self: Arc<Self>) -> Arc<BookingsWatch> {
        BookingsWatch::new(self, None)
    }

    /// The departures now and after every change.
    pub fn watch_my_departures(self: Arc<Self>) -> Arc<DeparturesWatch> {
        DeparturesWatch::new(self, None)
    }

    /// The user's leads now and after every change.
    pub fn watch_my_leads(self: Arc<Self>) -> Arc<LeadsWatch> {
        LeadsWatch::new(self, None)
    }
}

//! `itinera-bindings`: the phone SDK, exported to Kotlin, Swift and Python through UniFFI.
//!
//! Two objects: [`Replica`], the device's own store with the typed records and operations a
//! sales rep or a guide needs (it works with no network at all), and [`SyncClient`], which
//! syncs a replica with the server. Every exported function is a thin shell around
//! `itinera_core::replica` and the core sync engine; errors cross as one [`ItineraError`].
//!
//! ```no_run
//! # fn example() -> Result<(), itinera::ItineraError> {
//! use itinera::{Replica, SyncClient};
//! let replica = Replica::open("/data/itinera.redb".into(), "sam".into())?;
//! let account = replica.create_account("Lakeside Schools".into(), "north".into())?;
//! let client = SyncClient::new(replica.clone(), "ws://127.0.0.1:8080/sync".into(), "itn_…".into())?;
//! client.start();
//! # Ok(()) }
//! ```

mod error;
mod listener;
mod replica;
mod sync_client;
mod tls;
mod views;
mod watch;

pub use error::ItineraError;
pub use listener::SyncListener;
pub use replica::Replica;
pub use sync_client::{
    Rejection, StatusWatch, SyncClient, SyncOptions, SyncReport, SyncStatus, TokenProvider,
};
pub use views::*;
pub use watch::*;

uniffi::setup_scaffolding!();

//! `itinera-bindings`: the phone SDK, exported to Kotlin, Swift and Python through UniFFI.
//!
//! It re-exports nothing yet; the device replica and sync client are built on
//! [`itinera_core`] and land here.

pub use itinera_core as core;

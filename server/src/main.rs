//! `itinera-server`: the sync server head office runs and every phone syncs with.
//!
//! This build carries the shared core only; the sync service itself is not part of it yet, so
//! the binary says so instead of pretending to serve.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "itinera-server {}: this build has no sync service yet (itinera-core {} only)",
        env!("CARGO_PKG_VERSION"),
        itinera_core::DocumentKind::ALL.len()
    );
    ExitCode::FAILURE
}

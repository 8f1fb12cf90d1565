//! The server killed with SIGKILL at random moments while a rep posts invoices and submits
//! bookings: after every restart, with no other edit, every decision is made exactly once.
//!
//! `ITINERA_CRASH_SEED` replays a failing run (the seed is in the failure message).

use std::time::Duration;

use itinera_tests::decision_crash_loop::{self, Settings};
use itinera_tests::server::Backend;

fn seed(default: u64) -> u64 {
    std::env::var("ITINERA_CRASH_SEED")
        .ok()
        .and_then(|text| u64::from_str_radix(text.trim_start_matches("0x"), 16).ok())
        .unwrap_or(default)
}

/// Six SIGKILLs while invoices and bookings are posted, on `backend`.
fn decisions_survive_kills(backend: Backend) {
    let settings = Settings {
        cycles: 6,
        seed: seed(0x5eed_dec1_0001),
        min_uptime: Duration::from_millis(200),
        max_uptime: Duration::from_millis(900),
        capacity: 8,
        backend,
    };
    let report = decision_crash_loop::run(&settings, |line| eprintln!("{line}"));
    assert_eq!(report.cycles, 6);
    assert!(
        report.invoices >= 3 && report.bookings >= 3,
        "too few writes to prove anything: {report:?}"
    );
}

#[test]
fn decisions_survive_kills_and_are_made_exactly_once() {
    decisions_survive_kills(Backend::Redb);
}

#[test]
fn decisions_on_postgres_survive_kills_and_are_made_exactly_once() {
    decisions_survive_kills(Backend::postgres("decision_crash_loop"));
}

//! PostgreSQL for the end-to-end tests: the private cluster `tests/run.sh` starts, and a fresh
//! schema per test, so that tests run in parallel on one database.

use std::sync::atomic::{AtomicU64, Ordering};

use itinera_store_postgres::PgStore;

/// The test cluster's URL (`ITINERA_TEST_POSTGRES_URL`). A test that needs PostgreSQL fails
/// without it: nothing is skipped.
pub fn cluster_url() -> String {
    std::env::var("ITINERA_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "ITINERA_TEST_POSTGRES_URL is not set: run the tests through tests/run.sh, which \
             starts a private PostgreSQL, or `source tests/postgres.sh && \
             start_private_postgres` first"
        )
    })
}

/// A `--store` URL of a schema no other test uses, created and migrated: what a server given
/// this URL stores lands there and nowhere else.
pub fn fresh_store_url(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut schema = format!(
        "e{nanos}_{}_{}_",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let room = 63usize.saturating_sub(schema.len());
    schema.extend(
        test.chars()
            .filter(|c| c.is_ascii_lowercase() || *c == '_')
            .take(room),
    );
    PgStore::create_schema(&cluster_url(), &schema).expect("create the test schema")
}

//! What the store tests share: the test cluster's URL, a fresh schema per test, temporary
//! folders, and SQL run directly against the database.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The URL of the test cluster `tests/run.sh` starts. A test that needs PostgreSQL fails
/// without it: nothing is skipped.
pub fn postgres_url() -> String {
    std::env::var("ITINERA_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "ITINERA_TEST_POSTGRES_URL is not set: run the tests through tests/run.sh, which \
             starts a private PostgreSQL, or `source tests/postgres.sh && \
             start_private_postgres` first"
        )
    })
}

/// A schema name no other test (of this run or an earlier one on the same database) uses.
pub fn fresh_schema(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut name = format!(
        "t{nanos}_{}_{}_",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    name.extend(
        test.chars()
            .filter(|c| c.is_ascii_lowercase() || *c == '_')
            .take(63 - name.len().min(63)),
    );
    name
}

/// Runs `statements` (several, separated by `;`) in `schema`, for what no store call does:
/// injecting failures, reading the migration table.
pub fn execute(schema: &str, statements: &str) {
    query(schema, statements);
}

/// The rows of `statement` in `schema`, every column as text.
pub fn query(schema: &str, statement: &str) -> Vec<Vec<Option<String>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut config: tokio_postgres::Config = postgres_url().parse().expect("the test URL");
        config.options(format!("-c search_path={schema}"));
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect to the test cluster");
        let driver = tokio::spawn(connection);
        let messages = client
            .simple_query(statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error:?}"));
        drop(client);
        let _ = driver.await;
        messages
            .into_iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|index| row.get(index).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    })
}

/// A folder under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "itinera-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

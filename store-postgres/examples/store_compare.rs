//! The PostgreSQL store beside the embedded redb store on the same machine: commits per second
//! (durable and relaxed, 1 and 64 small changes per commit, and four concurrent writers as
//! four nodes would be), and the time to load a document, read its metadata and list them all.
//!
//! ```text
//! source tests/postgres.sh && start_private_postgres   # or any PostgreSQL you may write to
//! cargo run --release -p itinera-store-postgres --example store_compare [POSTGRES_URL]
//! ```
//!
//! The URL defaults to `ITINERA_TEST_POSTGRES_URL`. The PostgreSQL figures are taken in a fresh
//! schema, dropped at the end; the redb ones in a file under the system temp dir, removed too.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use itinera_core::DocumentId;
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use itinera_store_postgres::PgStore;

type Outcome<T = ()> = Result<T, Box<dyn Error>>;

/// Documents the commit runs write to, round robin: appends to existing documents, as a server
/// under load mostly does.
const DOCUMENTS: u64 = 1_000;
/// Documents for the load and listing figures.
const LOADED: u64 = 10_000;
/// How long each commit figure runs.
const BUDGET: Duration = Duration::from_secs(3);

fn main() -> Outcome {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ITINERA_TEST_POSTGRES_URL").ok())
        .ok_or(
            "give a PostgreSQL URL, or set ITINERA_TEST_POSTGRES_URL \
             (source tests/postgres.sh && start_private_postgres)",
        )?;
    let schema = format!(
        "figures_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let folder = std::env::temp_dir().join(format!("itinera-store-compare-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let outcome = compare(&url, &schema, &folder);
    let _ = std::fs::remove_dir_all(&folder);
    drop_schema(&url, &schema)?;
    outcome
}

fn compare(url: &str, schema: &str, folder: &std::path::Path) -> Outcome {
    let redb: Arc<dyn DocumentStore> = Arc::new(RedbStore::open(folder.join("figures.redb"))?);
    let postgres: Arc<dyn DocumentStore> = Arc::new(PgStore::open_in_schema(url, schema)?);
    println!(
        "Itinera's stores on this machine: redb (a file in {})",
        folder.display()
    );
    println!("and PostgreSQL (schema {schema}), both durable by default (fsync, WAL flush).");
    println!(
        "A small change: one account-like field edit, {} bytes of save_incremental().",
        small_change(&mut account(0)?)?.len()
    );
    println!();
    println!(
        "{:<52} {:>12} {:>12} {:>8}",
        "", "redb", "PostgreSQL", "pg/redb"
    );
    let rows: [(&str, Measure<'_>); 8] = [
        ("commits/s, durable, 1 change per commit", &|s| {
            commits(s, 1, Durability::Immediate, 1)
        }),
        ("changes/s, durable, 64 changes per commit", &|s| {
            Ok(commits(s, 64, Durability::Immediate, 1)? * 64.0)
        }),
        ("commits/s, relaxed, 1 change per commit", &|s| {
            commits(s, 1, Durability::Relaxed, 1)
        }),
        ("changes/s, relaxed, 64 changes per commit", &|s| {
            Ok(commits(s, 64, Durability::Relaxed, 1)? * 64.0)
        }),
        ("commits/s, durable, 1 change, 4 writers at once", &|s| {
            commits(s, 1, Durability::Immediate, 4)
        }),
        ("µs to load a document (snapshot + 3 increments)", &|s| {
            per_read(s, |s, id| s.load(id).map(|b| b.is_some()))
        }),
        ("µs to read a document's metadata", &|s| {
            per_read(s, |s, id| s.meta(id).map(|m| m.is_some()))
        }),
        ("ms to list 10,000 documents' metadata", &|s| listing_ms(s)),
    ];
    fill(&*redb)?;
    fill(&*postgres)?;
    for (label, measure) in rows {
        let on_redb = measure(&redb)?;
        let on_postgres = measure(&postgres)?;
        println!(
            "{label:<52} {on_redb:>12.1} {on_postgres:>12.1} {:>8.2}",
            on_postgres / on_redb
        );
    }
    Ok(())
}

type Measure<'a> = &'a dyn Fn(&Arc<dyn DocumentStore>) -> Outcome<f64>;

/// Commits per second of `writers` threads each committing batches of `changes` appends.
fn commits(
    store: &Arc<dyn DocumentStore>,
    changes: u64,
    durability: Durability,
    writers: u64,
) -> Outcome<f64> {
    let threads: Vec<_> = (0..writers)
        .map(|writer| {
            let store = Arc::clone(store);
            std::thread::spawn(move || -> Result<u64, String> {
                let mut doc = account(writer).map_err(|e| e.to_string())?;
                let meta = meta(&mut doc);
                let change = small_change(&mut doc).map_err(|e| e.to_string())?;
                let started = Instant::now();
                let mut committed = 0u64;
                let mut next = writer * 7;
                while started.elapsed() < BUDGET {
                    let mut batch = WriteBatch::new();
                    for _ in 0..changes {
                        next = (next + 1) % DOCUMENTS;
                        batch.append_changes(record_id(next), change.clone(), meta.clone());
                    }
                    store.commit(batch, durability).map_err(|e| e.to_string())?;
                    committed += 1;
                }
                Ok(committed)
            })
        })
        .collect();
    let mut committed = 0;
    for thread in threads {
        committed += thread.join().map_err(|_| "a writer panicked")??;
    }
    Ok(committed as f64 / BUDGET.as_secs_f64())
}

/// Mean microseconds of `read` over every loaded document, in a shuffled order.
fn per_read(
    store: &Arc<dyn DocumentStore>,
    read: impl Fn(&dyn DocumentStore, DocumentId) -> Result<bool, itinera_core::store::StoreError>,
) -> Outcome<f64> {
    let started = Instant::now();
    for n in 0..LOADED {
        // A stride coprime with LOADED visits every document once, out of order.
        let id = loaded_id((n * 7_919) % LOADED);
        if !read(&**store, id)? {
            return Err(format!("document {id} is missing").into());
        }
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / LOADED as f64)
}

fn listing_ms(store: &Arc<dyn DocumentStore>) -> Outcome<f64> {
    let started = Instant::now();
    let listed = store.documents()?.len() as u64;
    if listed < LOADED {
        return Err(format!("listed {listed} documents").into());
    }
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

/// The documents the commit runs append to, and those loaded: a snapshot and three increments
/// each, as a record a rep visited three times.
fn fill(store: &dyn DocumentStore) -> Outcome {
    let mut batch = WriteBatch::new();
    for n in 0..DOCUMENTS {
        let mut doc = account(n)?;
        batch.put_snapshot(record_id(n), doc.save(), meta(&mut doc));
    }
    store.commit(batch, Durability::Immediate)?;
    for start in (0..LOADED).step_by(1_000) {
        let mut batch = WriteBatch::new();
        for n in start..start + 1_000 {
            let mut doc = account(n)?;
            batch.put_snapshot(loaded_id(n), doc.save(), meta(&mut doc));
            for visit in 1..=3i64 {
                doc.put(ROOT, "visits", visit)?;
                doc.put(
                    ROOT,
                    "stage",
                    ["lead", "qualified", "proposal"][visit as usize - 1],
                )?;
                batch.append_changes(loaded_id(n), doc.save_incremental(), meta(&mut doc));
            }
        }
        store.commit(batch, Durability::Immediate)?;
    }
    Ok(())
}

fn record_id(n: u64) -> DocumentId {
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    DocumentId::from_bytes(bytes)
}

fn loaded_id(n: u64) -> DocumentId {
    let mut bytes = [1u8; 16];
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    DocumentId::from_bytes(bytes)
}

/// An account-like document of ten fields.
fn account(n: u64) -> Outcome<AutoCommit> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "account")?;
    doc.put(ROOT, "schema", 1)?;
    doc.put(ROOT, "name", format!("Account {n}"))?;
    doc.put(ROOT, "owner", "rep-7")?;
    doc.put(ROOT, "territory", "north")?;
    doc.put(ROOT, "city", "Lisbon")?;
    doc.put(ROOT, "phone", "+351 21 000 0000")?;
    doc.put(ROOT, "stage", "lead")?;
    doc.put(ROOT, "visits", 0)?;
    doc.put(ROOT, "created_at", 1_767_225_600_000i64)?;
    Ok(doc)
}

fn small_change(doc: &mut AutoCommit) -> Outcome<Vec<u8>> {
    doc.save_incremental();
    doc.put(ROOT, "visits", 1)?;
    Ok(doc.save_incremental())
}

fn meta(doc: &mut AutoCommit) -> DocumentMeta {
    DocumentMeta {
        kind: Some("account".into()),
        creator: Some("rep-7".into()),
        scope: Some(itinera_core::policy::DocumentScope {
            owner: Some("rep-7".into()),
            territory: Some("north".into()),
            ..Default::default()
        }),
        heads: doc.get_heads(),
        last_change_at: 1_767_225_600_000,
        ..DocumentMeta::default()
    }
}

/// Removes the schema of the figures, through the driver: the store has no call for it.
fn drop_schema(url: &str, schema: &str) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await?;
        drop(client);
        let _ = driver.await;
        Ok::<_, tokio_postgres::Error>(())
    })?;
    Ok(())
}

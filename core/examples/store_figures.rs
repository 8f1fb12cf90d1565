//! Figures for the redb document store: commit rates and bytes per record.
//!
//! ```text
//! cargo run --release -p itinera-core --features redb --example store_figures [RECORDS]
//! ```
//!
//! Works in a fresh folder under the system temp dir, removed at the end.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use itinera_core::DocumentId;
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};

type Outcome<T = ()> = Result<T, Box<dyn Error>>;

const DEFAULT_RECORDS: u64 = 5_000;
/// Records per commit while filling the store for the size figures.
const FILL_BATCH: u64 = 500;

fn main() -> Outcome {
    let records = match std::env::args().nth(1) {
        Some(records) => records.parse()?,
        None => DEFAULT_RECORDS,
    };
    let dir = ScratchDir::new()?;
    println!(
        "Itinera store figures (redb 4.6), scratch folder {}",
        dir.0.display()
    );
    println!(
        "one small record = an account-like Automerge document of 10 fields (~{} bytes saved)",
        account(0)?.save().len()
    );
    println!();
    commit_rates(&dir)?;
    println!();
    bytes_per_record(&dir, records)?;
    println!();
    listing(&dir, 100_000)?;
    Ok(())
}

fn listing(dir: &ScratchDir, documents: u64) -> Outcome {
    println!("(c) listing metadata without loading bodies");
    let path = dir.0.join("listing.redb");
    let store = RedbStore::open(&path)?;
    let mut sample = account(0)?;
    let snapshot = sample.save();
    let sample_meta = meta(&mut sample, 0);
    for chunk_start in (0..documents).step_by(1_000) {
        let mut batch = WriteBatch::new();
        for n in chunk_start..documents.min(chunk_start + 1_000) {
            batch.put_snapshot(record_id(n), snapshot.clone(), sample_meta.clone());
        }
        store.commit(batch, Durability::Relaxed)?;
    }
    store.close()?;
    let store = RedbStore::open(&path)?;
    let started = Instant::now();
    let listed = store.documents()?;
    let took = started.elapsed();
    println!(
        "  documents() over {} documents, after a reopen: {:.1} ms",
        listed.len(),
        took.as_secs_f64() * 1_000.0
    );
    store.close()?;
    Ok(())
}

fn commit_rates(dir: &ScratchDir) -> Outcome {
    println!("(a) commits per second");
    let store = RedbStore::open(dir.0.join("rates.redb"))?;
    // Built once: the figures are about the store, not about Automerge building documents.
    let mut sample = account(0)?;
    let changes = sample.save_incremental();
    let sample_meta = meta(&mut sample, 0);
    let mut next_id = 0u64;
    let mut run = |documents_per_commit: u64,
                   durability: Durability,
                   budget: Duration|
     -> Outcome<(u64, Duration)> {
        let started = Instant::now();
        let mut commits = 0u64;
        while started.elapsed() < budget {
            let mut batch = WriteBatch::new();
            for _ in 0..documents_per_commit {
                next_id += 1;
                batch.append_changes(record_id(next_id), changes.clone(), sample_meta.clone());
            }
            store.commit(batch, durability)?;
            commits += 1;
        }
        Ok((commits, started.elapsed()))
    };
    let budget = Duration::from_secs(3);
    let (commits, took) = run(1, Durability::Immediate, budget)?;
    let single = rate(commits, took);
    println!(
        "  durable (fsync), 1 document per commit:    {single:>9.0} commits/s   ({commits} commits in {:.2} s)",
        took.as_secs_f64()
    );
    let (commits, took) = run(100, Durability::Immediate, budget)?;
    let batched = rate(commits, took);
    println!(
        "  durable (fsync), 100 documents per commit: {batched:>9.0} commits/s = {:.0} documents/s   ({commits} commits)",
        batched * 100.0
    );
    let (commits, took) = run(1, Durability::Relaxed, budget)?;
    println!(
        "  relaxed (no fsync), 1 document per commit: {:>9.0} commits/s   ({commits} commits)",
        rate(commits, took)
    );
    let (commits, took) = run(100, Durability::Relaxed, budget)?;
    println!(
        "  relaxed, 100 documents per commit:         {:>9.0} commits/s = {:.0} documents/s",
        rate(commits, took),
        rate(commits, took) * 100.0
    );
    store.close()?;
    Ok(())
}

fn bytes_per_record(dir: &ScratchDir, records: u64) -> Outcome {
    println!(
        "(b) bytes on disk per small record, {records} records, each a snapshot then 3 increments"
    );
    let path = dir.0.join("records.redb");
    let started = Instant::now();
    {
        let store = RedbStore::open(&path)?;
        let mut docs: Vec<AutoCommit> = Vec::with_capacity(FILL_BATCH as usize);
        for chunk_start in (0..records).step_by(FILL_BATCH as usize) {
            let ids: Vec<u64> = (chunk_start..records.min(chunk_start + FILL_BATCH)).collect();
            docs.clear();
            let mut batch = WriteBatch::new();
            for &n in &ids {
                let mut doc = account(n)?;
                let snapshot = doc.save();
                batch.put_snapshot(record_id(n), snapshot, meta(&mut doc, 1));
                docs.push(doc);
            }
            store.commit(batch, Durability::Immediate)?;
            // Three later edits, as a rep would make them on three visits.
            for visit in 1..=3i64 {
                let mut batch = WriteBatch::new();
                for (&n, doc) in ids.iter().zip(docs.iter_mut()) {
                    doc.put(ROOT, "visits", visit)?;
                    doc.put(
                        ROOT,
                        "stage",
                        ["lead", "qualified", "proposal"][visit as usize - 1],
                    )?;
                    doc.put(
                        ROOT,
                        "last_visit_at",
                        1_767_225_600_000 + visit * 86_400_000,
                    )?;
                    let changes = doc.save_incremental();
                    batch.append_changes(record_id(n), changes, meta(doc, 1 + visit));
                }
                store.commit(batch, Durability::Immediate)?;
            }
        }
        store.close()?;
    }
    let fill_took = started.elapsed();
    let before = measure(&path, records)?;
    println!(
        "  before compaction: file {:>11} bytes = {:>6.0} per record; stored document bytes {:>6.1} per record (snapshot {:.1} + increments {:.1}); listing the metadata took {:.1} ms",
        before.file_bytes,
        before.file_bytes as f64 / records as f64,
        before.stored as f64 / records as f64,
        before.snapshot as f64 / records as f64,
        before.incremental as f64 / records as f64,
        before.listing.as_secs_f64() * 1_000.0,
    );
    let started = Instant::now();
    {
        let store = RedbStore::open(&path)?;
        for n in 0..records {
            store.compact(record_id(n))?;
        }
        store.close()?;
    }
    let compaction_took = started.elapsed();
    let after = measure(&path, records)?;
    println!(
        "  after compaction:  file {:>11} bytes = {:>6.0} per record; stored document bytes {:>6.1} per record (snapshot {:.1} + increments {:.1})",
        after.file_bytes,
        after.file_bytes as f64 / records as f64,
        after.stored as f64 / records as f64,
        after.snapshot as f64 / records as f64,
        after.incremental as f64 / records as f64,
    );
    // What redb's own file compaction (not exposed by the store) would give back on top.
    {
        let mut database = redb::Database::open(&path)?;
        while database.compact()? {}
    }
    let reclaimed = std::fs::metadata(&path)?.len();
    println!(
        "  after compaction and redb's Database::compact: file {reclaimed:>11} bytes = {:>6.0} per record",
        reclaimed as f64 / records as f64,
    );
    println!(
        "  filling took {:.2} s ({} durable commits); compacting one record at a time (one durable commit each) took {:.2} s = {:.0} compactions/s",
        fill_took.as_secs_f64(),
        records.div_ceil(FILL_BATCH) * 4,
        compaction_took.as_secs_f64(),
        rate(records, compaction_took),
    );
    Ok(())
}

struct Sizes {
    file_bytes: u64,
    stored: u64,
    snapshot: u64,
    incremental: u64,
    listing: Duration,
}

/// File size after a clean close, and the stored bytes the metadata accounts for.
fn measure(path: &Path, records: u64) -> Outcome<Sizes> {
    let file_bytes = std::fs::metadata(path)?.len();
    let store = RedbStore::open(path)?;
    let started = Instant::now();
    let documents = store.documents()?;
    let listing = started.elapsed();
    if documents.len() as u64 != records {
        return Err(format!("{} documents listed, {records} written", documents.len()).into());
    }
    let sizes = Sizes {
        file_bytes,
        stored: documents.iter().map(|(_, meta)| meta.stored_bytes()).sum(),
        snapshot: documents.iter().map(|(_, meta)| meta.snapshot_bytes).sum(),
        incremental: documents
            .iter()
            .map(|(_, meta)| meta.incremental_bytes)
            .sum(),
        listing,
    };
    store.close()?;
    Ok(sizes)
}

fn rate(count: u64, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64().max(f64::EPSILON)
}

fn record_id(n: u64) -> DocumentId {
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    DocumentId::from_bytes(bytes)
}

/// An account as a sales rep keeps it: ten short fields.
fn account(n: u64) -> Outcome<AutoCommit> {
    let mut doc = AutoCommit::new();
    let fields: [(&str, automerge::ScalarValue); 10] = [
        ("kind", "account".into()),
        ("schema", 1u64.into()),
        ("name", format!("Atlas Tours {n}").into()),
        ("email", format!("contact{n}@atlas-tours.example").into()),
        ("phone", "+351 21 000 0000".into()),
        ("city", "Lisbon".into()),
        ("owner", "rep-7".into()),
        ("stage", "lead".into()),
        ("visits", 0i64.into()),
        ("created_at", 1_767_225_600_000i64.into()),
    ];
    for (key, value) in fields {
        doc.put(ROOT, key, value)?;
    }
    Ok(doc)
}

fn meta(doc: &mut AutoCommit, at: i64) -> DocumentMeta {
    DocumentMeta {
        kind: Some("account".into()),
        creator: Some("rep-7".into()),
        scope: Some(itinera_core::policy::DocumentScope {
            owner: Some("rep-7".into()),
            territory: Some("lisbon".into()),
            ..Default::default()
        }),
        heads: doc.get_heads(),
        last_change_at: at,
        ..DocumentMeta::default()
    }
}

struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Outcome<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "itinera-store-figures-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

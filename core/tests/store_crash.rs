//! A store process killed with SIGKILL at random moments loses no commit it reported durable,
//! and never leaves half a batch.
//!
//! The test re-runs its own binary as a child that commits batches in a loop and prints
//! `committed {n}` after each `commit` returns; the parent kills it after a seeded-random number
//! of lines (and a seeded-random pause of under 2 ms, so the kill lands at varying points of the
//! commit in flight), reopens the store and checks every reported batch. Set
//! `ITINERA_STORE_CRASH_SEED` to replay a failure.
#![cfg(feature = "redb")]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use itinera_core::DocumentId;
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};

const TEST_NAME: &str = "batches_reported_committed_survive_sigkill";
/// Set in the child: the store file to write.
const CHILD_STORE: &str = "ITINERA_STORE_CRASH_CHILD_STORE";
/// Set in the child: the number of its first batch.
const CHILD_FIRST_BATCH: &str = "ITINERA_STORE_CRASH_CHILD_FIRST";
const CYCLES: usize = 5;
const DOCUMENTS: [u8; 3] = [1, 2, 3];
const DEFAULT_SEED: u64 = 0x1713_e4a5_0c0f_fee5;

#[test]
fn batches_reported_committed_survive_sigkill() {
    match (std::env::var(CHILD_STORE), std::env::var(CHILD_FIRST_BATCH)) {
        (Ok(store), Ok(first)) => commit_until_killed(Path::new(&store), &first),
        _ => kill_and_check(),
    }
}

fn doc_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// The child: commits batch after batch, each with an increment of every document (setting
/// `b{n}` and `last` to `n`) and the value `batch:{n}`, and every fifth batch compacts one
/// document, so that kills also land inside compactions.
fn commit_until_killed(path: &Path, first: &str) {
    let first: u64 = first.parse().expect("first batch number");
    let store = RedbStore::open(path).expect("child opens the store");
    let mut docs: Vec<AutoCommit> = DOCUMENTS
        .iter()
        .map(|&n| {
            let mut doc = match store.load(doc_id(n)).expect("load") {
                Some(bytes) => AutoCommit::load(&bytes).expect("stored document loads"),
                None => AutoCommit::new(),
            };
            // A fresh actor per run: a change made but never committed by a killed run must
            // not share its actor and sequence number with a different change of this run.
            let mut actor = [0u8; 16];
            actor[..8].copy_from_slice(&first.to_be_bytes());
            actor[15] = n;
            doc.set_actor(ActorId::from(actor));
            doc
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    // Bounded, in case the parent died without killing us.
    for n in first..first + 10_000 {
        let mut batch = WriteBatch::new();
        for (&id, doc) in DOCUMENTS.iter().zip(docs.iter_mut()) {
            doc.put(ROOT, format!("b{n}"), n).expect("put");
            doc.put(ROOT, "last", n).expect("put");
            let changes = doc.save_incremental();
            let meta = DocumentMeta {
                kind: Some("crash-test".into()),
                heads: doc.get_heads(),
                last_change_at: i64::try_from(n).expect("small"),
                ..DocumentMeta::default()
            };
            batch.append_changes(doc_id(id), changes, meta);
        }
        batch.put_value(&format!("batch:{n}"), n.to_be_bytes());
        store
            .commit(batch, Durability::Immediate)
            .expect("child commit");
        writeln!(stdout, "committed {n}").expect("parent reads");
        stdout.flush().expect("parent reads");
        if n % 5 == 4 {
            let target = DOCUMENTS[usize::try_from(n / 5).expect("small") % DOCUMENTS.len()];
            store.compact(doc_id(target)).expect("child compaction");
        }
    }
}

/// SplitMix64: a seeded generator, so a failing run can be replayed.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let path =
            std::env::temp_dir().join(format!("itinera-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The batch number of a `committed {n}` line. The first one shares its line with the test
/// harness's `test … ` (printed without a newline), hence the search.
fn parse_report(line: &str) -> Option<u64> {
    let (_, number) = line.split_once("committed ")?;
    number.trim().parse().ok()
}

fn kill_and_check() {
    let seed = std::env::var("ITINERA_STORE_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    eprintln!("store crash test seed: {seed} (set ITINERA_STORE_CRASH_SEED to replay)");
    let mut random = Seeded(seed);
    let dir = TempDir::new("store-crash");
    let path = dir.0.join("store.redb");
    let exe = std::env::current_exe().expect("test binary");
    let mut next_batch = 0u64;

    for cycle in 0..CYCLES {
        let kill_after = 2 + random.below(12);
        let pause = Duration::from_micros(random.below(2_000));
        let mut child = Command::new(&exe)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_STORE, &path)
            .env(CHILD_FIRST_BATCH, next_batch.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut reported = Vec::new();
        while (reported.len() as u64) < kill_after {
            match lines.next() {
                Some(Ok(line)) => reported.extend(parse_report(&line)),
                Some(Err(error)) => panic!("reading the child: {error}"),
                None => panic!("cycle {cycle}: the child stopped before being killed"),
            }
        }
        // Not a wait for anything: it moves the kill to a different point of the commit that
        // is in flight now.
        std::thread::sleep(pause);
        child.kill().expect("SIGKILL");
        child.wait().expect("reap child");
        // Lines already in the pipe were printed after their commit returned: also reported.
        for line in lines {
            reported.extend(parse_report(&line.expect("read the rest")));
        }
        let last_reported = *reported.last().expect("some batches reported");
        assert_eq!(
            reported,
            (next_batch..=last_reported).collect::<Vec<_>>(),
            "cycle {cycle}: the child reports batches in order"
        );

        let store = RedbStore::open(&path).expect("the store reopens after SIGKILL");
        let present: BTreeSet<u64> = store
            .values_with_prefix("batch:")
            .expect("list batches")
            .into_iter()
            .map(|(key, value)| {
                let n: u64 = key["batch:".len()..].parse().expect("batch key");
                assert_eq!(value, n.to_be_bytes(), "value of {key}");
                n
            })
            .collect();
        let last_present = *present.last().expect("batches present");
        assert!(
            last_present == last_reported || last_present == last_reported + 1,
            "cycle {cycle}: reported up to {last_reported}, stored up to {last_present}: \
             only the batch in flight may be stored unreported"
        );
        assert_eq!(
            present,
            (0..=last_present).collect::<BTreeSet<_>>(),
            "cycle {cycle}: a reported batch is missing"
        );
        for n in DOCUMENTS {
            let bytes = store
                .load(doc_id(n))
                .expect("load")
                .expect("document stored");
            let mut doc = AutoCommit::load(&bytes).expect("stored bytes load after SIGKILL");
            let number = |key: &str| {
                doc.get(ROOT, key)
                    .expect("get")
                    .and_then(|(value, _)| value.as_scalar().and_then(|scalar| scalar.as_u64()))
            };
            for batch in 0..=last_present {
                assert_eq!(
                    number(&format!("b{batch}")),
                    Some(batch),
                    "cycle {cycle}: document {n} lacks batch {batch}"
                );
            }
            assert_eq!(number(&format!("b{}", last_present + 1)), None);
            assert_eq!(number("last"), Some(last_present));
            let meta = store.meta(doc_id(n)).expect("meta").expect("meta stored");
            assert_eq!(
                meta.heads,
                doc.get_heads(),
                "cycle {cycle}: metadata and chunks agree"
            );
            assert_eq!(meta.stored_bytes(), bytes.len() as u64);
            assert_eq!(
                meta.last_change_at,
                i64::try_from(last_present).expect("small")
            );
        }
        store.close().expect("close");
        eprintln!(
            "cycle {cycle}: killed after {} reported batches; stored up to {last_present}",
            reported.len()
        );
        next_batch = last_present + 1;
    }
}

//! The redb document store across reopens and storage failures: what the server and the phones
//! rely on when they restart, run out of disk, or hit an I/O error.
#![cfg(feature = "redb")]

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ROOT, ReadDoc};
use itinera_core::DocumentId;
use itinera_core::policy::DocumentScope;
use itinera_core::store::{
    DocumentMeta, DocumentStore, Durability, RedbStore, StoreError, StoreOperation, WriteBatch,
};
use redb::backends::{FileBackend, InMemoryBackend};
use redb::{BackendError, StorageBackend};

/// A folder under the system temp dir, removed when dropped.
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

    fn file(&self) -> PathBuf {
        self.0.join("store.redb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

fn meta_of(doc: &mut AutoCommit, kind: &str, at: i64) -> DocumentMeta {
    DocumentMeta {
        kind: Some(kind.into()),
        creator: Some("rep-1".into()),
        scope: Some(DocumentScope {
            territory: Some("north".into()),
            ..DocumentScope::default()
        }),
        title: format!("{kind} title"),
        heads: doc.get_heads(),
        last_change_at: at,
        ..DocumentMeta::default()
    }
}

/// A small account-like document.
fn account(n: u8) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "name", format!("Account {n}")).expect("put");
    doc.put(ROOT, "city", "Lisbon").expect("put");
    doc.put(ROOT, "visits", i64::from(n)).expect("put");
    doc
}

fn text(doc: &AutoCommit, key: &str) -> Option<String> {
    doc.get(ROOT, key)
        .expect("get")
        .and_then(|(value, _)| value.into_string().ok())
}

fn number(doc: &AutoCommit, key: &str) -> Option<i64> {
    doc.get(ROOT, key)
        .expect("get")
        .and_then(|(value, _)| value.as_scalar().and_then(|scalar| scalar.as_i64()))
}

fn load(store: &RedbStore, doc: DocumentId) -> AutoCommit {
    let bytes = store.load(doc).expect("load").expect("stored");
    AutoCommit::load(&bytes).expect("stored bytes load")
}

fn commit(store: &RedbStore, build: impl FnOnce(&mut WriteBatch)) {
    let mut batch = WriteBatch::new();
    build(&mut batch);
    store
        .commit(batch, Durability::Immediate)
        .expect("commit succeeds");
}

fn reopen(path: &Path) -> RedbStore {
    RedbStore::open(path).expect("reopen")
}

#[test]
fn documents_survive_a_reopen_with_their_heads_and_metadata() {
    let dir = TempDir::new("store-reopen");
    let mut docs: Vec<AutoCommit> = (1..=6).map(account).collect();
    {
        let store = RedbStore::open(dir.file()).expect("open");
        commit(&store, |batch| {
            for (n, doc) in (1u8..).zip(docs.iter_mut()) {
                if n % 2 == 0 {
                    let snapshot = doc.save();
                    batch.put_snapshot(id(n), snapshot, meta_of(doc, "account", 1_000));
                } else {
                    let changes = doc.save_incremental();
                    batch.append_changes(id(n), changes, meta_of(doc, "account", 1_000));
                }
            }
        });
    }
    let store = reopen(&dir.file());
    for (n, doc) in (1u8..).zip(docs.iter_mut()) {
        let mut stored = load(&store, id(n));
        assert_eq!(stored.get_heads(), doc.get_heads(), "document {n}");
        assert_eq!(text(&stored, "name"), Some(format!("Account {n}")));
        assert_eq!(number(&stored, "visits"), Some(i64::from(n)));
    }
    let listed = store.documents().expect("list");
    assert_eq!(listed.len(), docs.len());
    for ((listed_id, meta), (n, doc)) in listed.iter().zip((1u8..).zip(docs.iter_mut())) {
        assert_eq!(*listed_id, id(n));
        assert_eq!(meta.heads, doc.get_heads());
        assert_eq!(meta.kind.as_deref(), Some("account"));
        assert_eq!(meta.creator.as_deref(), Some("rep-1"));
        assert_eq!(
            meta.scope
                .as_ref()
                .and_then(|scope| scope.territory.as_deref()),
            Some("north")
        );
        assert_eq!(meta.title, "account title");
        assert_eq!(meta.last_change_at, 1_000);
        let stored_len = store
            .load(id(n))
            .expect("load")
            .map_or(0, |bytes| bytes.len());
        assert_eq!(meta.stored_bytes(), stored_len as u64);
        assert_eq!(meta.incremental_chunks, u64::from(n % 2));
    }
}

#[test]
fn compaction_keeps_content_and_heads_across_reopens_and_does_not_grow() {
    let dir = TempDir::new("store-compact");
    let mut doc = account(1);
    let mut expected_heads;
    {
        let store = RedbStore::open(dir.file()).expect("open");
        let snapshot = doc.save();
        commit(&store, |batch| {
            batch.put_snapshot(id(1), snapshot, meta_of(&mut doc, "account", 1));
        });
        for visit in 0..12 {
            doc.put(ROOT, "visits", visit).expect("put");
            doc.put(ROOT, format!("note-{visit}"), "called, no answer")
                .expect("put");
            let changes = doc.save_incremental();
            commit(&store, |batch| {
                batch.append_changes(id(1), changes, meta_of(&mut doc, "account", 2 + visit));
            });
        }
        expected_heads = doc.get_heads();
    }
    let before = {
        let store = reopen(&dir.file());
        let before = store.meta(id(1)).expect("meta").expect("stored");
        assert_eq!(before.incremental_chunks, 12);
        let report = store.compact(id(1)).expect("compact");
        assert_eq!(report.chunks_folded, 12);
        assert_eq!(report.bytes_before, before.stored_bytes());
        assert!(
            report.bytes_after <= report.bytes_before,
            "compaction grew the document: {report:?}"
        );
        before
    };
    let store = reopen(&dir.file());
    let after = store.meta(id(1)).expect("meta").expect("stored");
    assert_eq!(after.incremental_chunks, 0);
    assert_eq!(after.incremental_bytes, 0);
    assert!(after.snapshot_bytes <= before.stored_bytes());
    assert_eq!(
        after.heads, expected_heads,
        "compaction keeps the caller's heads"
    );
    assert_eq!(after.last_change_at, 13);
    let bytes = store.load(id(1)).expect("load").expect("stored");
    assert_eq!(bytes.len() as u64, after.snapshot_bytes);
    let mut stored = AutoCommit::load(&bytes).expect("loads");
    assert_eq!(stored.get_heads(), expected_heads);
    assert_eq!(number(&stored, "visits"), Some(11));
    assert_eq!(
        text(&stored, "note-7").as_deref(),
        Some("called, no answer")
    );
    assert_eq!(text(&stored, "name").as_deref(), Some("Account 1"));

    // A compact document is left alone.
    let again = store.compact(id(1)).expect("compact");
    assert_eq!(again.chunks_folded, 0);
    assert_eq!(again.bytes_after, again.bytes_before);

    // And it keeps growing from the snapshot.
    doc.put(ROOT, "visits", 99).expect("put");
    let changes = doc.save_incremental();
    commit(&store, |batch| {
        batch.append_changes(id(1), changes, meta_of(&mut doc, "account", 20));
    });
    expected_heads = doc.get_heads();
    drop(store);
    let store = reopen(&dir.file());
    let mut stored = load(&store, id(1));
    assert_eq!(stored.get_heads(), expected_heads);
    assert_eq!(number(&stored, "visits"), Some(99));
}

#[test]
fn sync_states_and_values_survive_a_reopen() {
    let dir = TempDir::new("store-sync");
    let mut server = account(3);
    let mut phone = AutoCommit::new();
    // A real exchange, so the state holds the heads both sides share.
    let (mut server_state, mut phone_state) =
        (automerge::sync::State::new(), automerge::sync::State::new());
    for _ in 0..10 {
        let to_phone = server.sync().generate_sync_message(&mut server_state);
        if let Some(message) = &to_phone {
            phone
                .sync()
                .receive_sync_message(&mut phone_state, message.clone())
                .expect("phone receives");
        }
        let to_server = phone.sync().generate_sync_message(&mut phone_state);
        if let Some(message) = &to_server {
            server
                .sync()
                .receive_sync_message(&mut server_state, message.clone())
                .expect("server receives");
        }
        if to_phone.is_none() && to_server.is_none() {
            break;
        }
    }
    assert_eq!(phone.get_heads(), server.get_heads());
    assert!(!server_state.shared_heads.is_empty());
    {
        let store = RedbStore::open(dir.file()).expect("open");
        let snapshot = server.save();
        commit(&store, |batch| {
            batch
                .put_snapshot(id(3), snapshot, meta_of(&mut server, "account", 5))
                .put_sync_state(id(3), "phone-storage-1", server_state.encode())
                .put_sync_state(id(3), "phone-storage-2", [0u8; 0])
                .put_value("user:ana", b"guide".as_slice())
                .put_value("invoice-number:2026", 41u64.to_be_bytes());
        });
        commit(&store, |batch| {
            batch
                .put_value("invoice-number:2026", 42u64.to_be_bytes())
                .put_value("user:bo", b"office".as_slice());
        });
    }
    let store = reopen(&dir.file());
    let state = store
        .sync_state(id(3), "phone-storage-1")
        .expect("read")
        .expect("stored");
    let state = automerge::sync::State::decode(&state).expect("decodes");
    assert_eq!(state.shared_heads, server.get_heads());
    assert_eq!(
        store.sync_state(id(3), "phone-storage-2").expect("read"),
        Some(vec![])
    );
    assert_eq!(
        store.sync_state(id(3), "phone-storage-3").expect("read"),
        None
    );
    assert_eq!(
        store.sync_state(id(4), "phone-storage-1").expect("read"),
        None
    );
    assert_eq!(
        store.value("invoice-number:2026").expect("read"),
        Some(42u64.to_be_bytes().to_vec())
    );
    assert_eq!(
        store.values_with_prefix("user:").expect("list"),
        [
            ("user:ana".to_owned(), b"guide".to_vec()),
            ("user:bo".to_owned(), b"office".to_vec())
        ]
    );
}

#[test]
fn delete_removes_chunks_metadata_and_sync_states_for_good() {
    let dir = TempDir::new("store-delete");
    {
        let store = RedbStore::open(dir.file()).expect("open");
        let mut first = account(1);
        let mut second = account(2);
        let (first_bytes, second_bytes) = (first.save(), second.save_incremental());
        commit(&store, |batch| {
            batch
                .put_snapshot(id(1), first_bytes, meta_of(&mut first, "account", 1))
                .append_changes(id(2), second_bytes, meta_of(&mut second, "account", 1))
                .put_sync_state(id(1), "phone", [1, 2, 3])
                .put_sync_state(id(2), "phone", [4, 5, 6]);
        });
        commit(&store, |batch| {
            batch.delete_document(id(1));
        });
        assert_eq!(store.load(id(1)).expect("load"), None);
    }
    let store = reopen(&dir.file());
    assert_eq!(store.load(id(1)).expect("load"), None);
    assert_eq!(store.meta(id(1)).expect("meta"), None);
    assert_eq!(store.sync_state(id(1), "phone").expect("read"), None);
    assert_eq!(
        store
            .documents()
            .expect("list")
            .into_iter()
            .map(|(doc, _)| doc)
            .collect::<Vec<_>>(),
        [id(2)]
    );
    assert_eq!(
        store.sync_state(id(2), "phone").expect("read"),
        Some(vec![4, 5, 6])
    );
    assert_eq!(
        text(&load(&store, id(2)), "name").as_deref(),
        Some("Account 2")
    );
    let error = store.compact(id(1)).expect_err("deleted");
    assert!(
        matches!(error, StoreError::DocumentNotFound(doc) if doc == id(1)),
        "{error:?}"
    );
}

#[test]
fn open_creates_missing_folders_and_refuses_a_second_open() {
    let dir = TempDir::new("store-folders");
    let path = dir.0.join("data").join("nested").join("itinera.redb");
    let store = RedbStore::open(&path).expect("open creates folders");
    assert!(path.is_file());
    let error = RedbStore::open(&path).expect_err("the file is in use");
    assert!(
        matches!(&error, StoreError::AlreadyOpen { path: in_use } if *in_use == path),
        "{error:?}"
    );
    store.close().expect("close");
    RedbStore::open(&path).expect("open after close");
}

#[test]
fn relaxed_commits_are_visible_at_once_and_kept_by_a_clean_close() {
    let dir = TempDir::new("store-relaxed");
    {
        let store = RedbStore::open(dir.file()).expect("open");
        for n in 0..20u8 {
            let mut batch = WriteBatch::new();
            batch.put_value(&format!("relaxed:{n:02}"), [n]);
            store
                .commit(batch, Durability::Relaxed)
                .expect("relaxed commit");
            assert_eq!(
                store.value(&format!("relaxed:{n:02}")).expect("read"),
                Some(vec![n])
            );
        }
        store.close().expect("close");
    }
    let store = reopen(&dir.file());
    assert_eq!(
        store.values_with_prefix("relaxed:").expect("list").len(),
        20
    );
}

#[test]
fn readers_see_whole_commits_while_a_writer_commits() {
    let store = Arc::new(RedbStore::in_memory().expect("store"));
    let mut doc = account(1);
    let initial = doc.save_incremental();
    commit(&store, |batch| {
        batch.append_changes(id(1), initial, meta_of(&mut doc, "account", 0));
    });
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, done) = (Arc::clone(&store), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !done.load(Ordering::Acquire) || reads == 0 {
                let bytes = store.load(id(1)).expect("load").expect("stored");
                let mut stored = AutoCommit::load(&bytes).expect("a whole document");
                let visits = number(&stored, "visits").expect("visits");
                let mirror = store
                    .value("visits")
                    .expect("value")
                    .map(|bytes| bytes.len());
                // The value is written in the same batch as the change that sets visits, but
                // read in another transaction: it may only be ahead, never behind.
                assert!(mirror.unwrap_or(1) as i64 >= visits, "{visits} {mirror:?}");
                assert!(!stored.get_heads().is_empty());
                reads += 1;
            }
            reads
        })
    };
    for visits in 2..40i64 {
        doc.put(ROOT, "visits", visits).expect("put");
        let changes = doc.save_incremental();
        let mut batch = WriteBatch::new();
        batch
            .append_changes(id(1), changes, meta_of(&mut doc, "account", visits))
            .put_value("visits", vec![0u8; visits as usize]);
        store.commit(batch, Durability::Relaxed).expect("commit");
    }
    done.store(true, Ordering::Release);
    assert!(reader.join().expect("reader thread") > 0);
    assert_eq!(number(&load(&store, id(1)), "visits"), Some(39));
}

/// An in-memory disk whose writes start failing when told to: with "disk full" or with a
/// generic I/O error, at once or after a number of successful writes.
#[derive(Debug, Clone)]
struct FlakyDisk {
    inner: Arc<dyn StorageBackend>,
    /// Writes (and resizes) that will still succeed; `u64::MAX` for a healthy disk.
    writes_left: Arc<AtomicU64>,
    full: Arc<AtomicBool>,
}

impl FlakyDisk {
    fn new() -> Self {
        Self::on(InMemoryBackend::new())
    }

    fn on(inner: impl StorageBackend) -> Self {
        Self {
            inner: Arc::new(inner),
            writes_left: Arc::new(AtomicU64::new(u64::MAX)),
            full: Arc::new(AtomicBool::new(false)),
        }
    }

    fn fail_after(&self, writes: u64, full: bool) {
        self.full.store(full, Ordering::SeqCst);
        self.writes_left.store(writes, Ordering::SeqCst);
    }

    fn heal(&self) {
        self.writes_left.store(u64::MAX, Ordering::SeqCst);
    }

    fn spend_a_write(&self) -> std::io::Result<()> {
        let allowed = self
            .writes_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                (left > 0).then(|| if left == u64::MAX { left } else { left - 1 })
            })
            .is_ok();
        if allowed {
            Ok(())
        } else if self.full.load(Ordering::SeqCst) {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        } else {
            Err(std::io::Error::other("injected I/O error"))
        }
    }
}

impl StorageBackend for FlakyDisk {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.spend_a_write()?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        if self.writes_left.load(Ordering::SeqCst) == 0 {
            return self.spend_a_write();
        }
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.spend_a_write()?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), std::io::Error> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

/// A batch big enough to need new pages: several documents and values.
fn big_batch(tag: u8) -> (WriteBatch, Vec<(DocumentId, Vec<ChangeHash>)>) {
    let mut batch = WriteBatch::new();
    let mut heads = Vec::new();
    for n in 0..8u8 {
        let doc_id = DocumentId::from_bytes([tag, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut doc = account(n);
        doc.put(ROOT, "padding", "x".repeat(3_000)).expect("put");
        let changes = doc.save_incremental();
        batch.append_changes(doc_id, changes, meta_of(&mut doc, "account", 1));
        heads.push((doc_id, doc.get_heads()));
    }
    batch.put_value(&format!("batch:{tag}"), vec![tag; 5_000]);
    (batch, heads)
}

/// Whether the batch made by `big_batch(tag)` is stored: fully (`Some(true)`), not at all
/// (`Some(false)`), or in part (`None`, which must never happen).
fn batch_presence(
    store: &RedbStore,
    tag: u8,
    heads: &[(DocumentId, Vec<ChangeHash>)],
) -> Option<bool> {
    let mut present = Vec::new();
    present.push(
        store
            .value(&format!("batch:{tag}"))
            .expect("read")
            .is_some(),
    );
    for (doc, expected) in heads {
        match store.load(*doc).expect("load") {
            Some(bytes) => {
                let mut stored = AutoCommit::load(&bytes).expect("loads");
                assert_eq!(&stored.get_heads(), expected);
                let meta = store.meta(*doc).expect("meta").expect("meta with chunks");
                assert_eq!(&meta.heads, expected);
                present.push(true);
            }
            None => {
                assert_eq!(store.meta(*doc).expect("meta"), None);
                present.push(false);
            }
        }
    }
    if present.iter().all(|&p| p) {
        Some(true)
    } else if present.iter().all(|&p| !p) {
        Some(false)
    } else {
        None
    }
}

#[test]
fn a_full_disk_fails_the_commit_clearly_and_the_store_recovers_when_space_returns() {
    let disk = FlakyDisk::new();
    let store = RedbStore::with_backend(disk.clone()).expect("store");
    let (before, before_heads) = big_batch(1);
    store
        .commit(before, Durability::Immediate)
        .expect("healthy commit");

    disk.fail_after(0, true);
    let (failed, failed_heads) = big_batch(2);
    let error = store
        .commit(failed, Durability::Immediate)
        .expect_err("the disk is full");
    assert!(error.is_storage_full(), "{error:?}");
    assert!(
        matches!(
            error,
            StoreError::StorageFull {
                operation: StoreOperation::Commit,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("disk is full"), "{error}");
    // While the disk stays full, the store reports it rather than pretending.
    let mut small = WriteBatch::new();
    small.put_value("while-full", [1]);
    assert!(store.commit(small, Durability::Immediate).is_err());
    // Reopening after the failure has to write, so reads may be refused too, but only as
    // "disk full", never with wrong data.
    match store.value("batch:1") {
        Ok(value) => assert_eq!(value, Some(vec![1; 5_000])),
        Err(error) => assert!(error.is_storage_full(), "{error:?}"),
    }

    disk.heal();
    assert_eq!(batch_presence(&store, 1, &before_heads), Some(true));
    assert_eq!(batch_presence(&store, 2, &failed_heads), Some(false));
    assert_eq!(store.value("while-full").expect("read"), None);
    let (after, after_heads) = big_batch(3);
    store
        .commit(after, Durability::Immediate)
        .expect("commits work again");
    assert_eq!(batch_presence(&store, 3, &after_heads), Some(true));
    assert_eq!(batch_presence(&store, 1, &before_heads), Some(true));
}

#[test]
fn an_io_error_part_way_through_a_commit_leaves_all_or_nothing_of_the_batch() {
    // Fails the commit after 0, 1, 2, … successful writes, so that the failure lands at every
    // step of redb's commit in turn.
    let mut outcomes = Vec::new();
    for writes in 0..24u64 {
        let disk = FlakyDisk::new();
        let store = RedbStore::with_backend(disk.clone()).expect("store");
        let (before, before_heads) = big_batch(1);
        store
            .commit(before, Durability::Immediate)
            .expect("healthy commit");

        disk.fail_after(writes, false);
        let (batch, heads) = big_batch(2);
        let result = store.commit(batch, Durability::Immediate);
        if let Err(error) = &result {
            assert!(!error.is_storage_full(), "{error:?}");
            assert!(
                error.to_string().contains("could not commit a write batch"),
                "{error}"
            );
        }

        disk.heal();
        assert_eq!(
            batch_presence(&store, 1, &before_heads),
            Some(true),
            "after {writes} writes"
        );
        let presence = batch_presence(&store, 2, &heads);
        assert!(
            presence.is_some(),
            "half a batch stored after {writes} writes"
        );
        if result.is_ok() {
            assert_eq!(presence, Some(true), "a successful commit is stored");
        }
        outcomes.push(result.is_ok());

        let (after, after_heads) = big_batch(3);
        store
            .commit(after, Durability::Immediate)
            .expect("commits work again");
        assert_eq!(batch_presence(&store, 3, &after_heads), Some(true));
    }
    assert!(
        outcomes.contains(&false),
        "no injected failure hit a commit"
    );
}

#[test]
fn a_failed_commit_on_a_locked_file_releases_the_lock_reopens_and_recovers() {
    let dir = TempDir::new("store-file-failure");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.file())
        .expect("file");
    let disk = FlakyDisk::on(FileBackend::new(file).expect("file backend"));
    let store = RedbStore::with_backend(disk.clone()).expect("store");
    let (before, before_heads) = big_batch(1);
    store
        .commit(before, Durability::Immediate)
        .expect("healthy commit");
    // The file lock goes through the store's backend handle: a second opener is refused.
    assert!(matches!(
        RedbStore::open(dir.file()),
        Err(StoreError::AlreadyOpen { .. })
    ));

    disk.fail_after(3, true);
    let (failed, failed_heads) = big_batch(2);
    let error = store
        .commit(failed, Durability::Immediate)
        .expect_err("the disk is full");
    assert!(error.is_storage_full(), "{error:?}");

    disk.heal();
    // The reopen after the failure released and took the lock again, so reads work.
    assert_eq!(batch_presence(&store, 1, &before_heads), Some(true));
    assert_eq!(batch_presence(&store, 2, &failed_heads), Some(false));
    let (after, after_heads) = big_batch(3);
    store
        .commit(after, Durability::Immediate)
        .expect("commits work again");
    assert!(matches!(
        RedbStore::open(dir.file()),
        Err(StoreError::AlreadyOpen { .. })
    ));
    store.close().expect("close");

    let store = RedbStore::open(dir.file()).expect("the plain file opens");
    assert_eq!(batch_presence(&store, 1, &before_heads), Some(true));
    assert_eq!(batch_presence(&store, 3, &after_heads), Some(true));
}

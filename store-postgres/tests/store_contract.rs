//! The `DocumentStore` contract, written once against `&dyn Backend` and run on both stores:
//! `RedbStore` in a temporary file and `PgStore` in a fresh PostgreSQL schema per test (so
//! that the tests run in parallel). What the server relies on, whichever store it runs on.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use common::{TempDir, fresh_schema, postgres_url};
use itinera_core::DocumentId;
use itinera_core::store::{
    DocumentMeta, DocumentStore, Durability, RedbStore, StoreError, WriteBatch,
};
use itinera_store_postgres::PgStore;

/// A store that can be opened again on the same data: what a restart of the server sees.
trait Backend {
    fn open(&self) -> Box<dyn DocumentStore>;
}

struct Redb(TempDir);

impl Backend for Redb {
    fn open(&self) -> Box<dyn DocumentStore> {
        Box::new(RedbStore::open(self.0.0.join("store.redb")).expect("open the redb store"))
    }
}

struct Postgres {
    url: String,
    schema: String,
}

impl Backend for Postgres {
    fn open(&self) -> Box<dyn DocumentStore> {
        Box::new(
            PgStore::open_in_schema(&self.url, &self.schema).expect("open the PostgreSQL store"),
        )
    }
}

/// Each contract test once per store.
macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod redb {
            $(
                #[test]
                fn $test() {
                    super::$test(&super::Redb(super::TempDir::new(stringify!($test))));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $test() {
                    super::$test(&super::Postgres {
                        url: super::postgres_url(),
                        schema: super::fresh_schema(stringify!($test)),
                    });
                }
            )*
        }
    };
}

contract!(
    documents_survive_a_reopen_with_their_heads_and_metadata,
    appends_follow_each_other_and_the_store_keeps_the_sizes,
    updating_the_metadata_keeps_the_chunks_and_sizes,
    a_snapshot_replaces_every_chunk_and_later_appends_follow_it,
    delete_removes_the_document_and_nothing_of_its_neighbours,
    writes_apply_in_batch_order,
    values_with_prefix_returns_exactly_the_prefixed_keys,
    sync_states_and_values_survive_a_reopen,
    compaction_keeps_content_and_heads_across_reopens,
    compaction_refuses_what_does_not_load_and_changes_nothing,
    relaxed_commits_are_visible_at_once_and_kept_by_the_next_durable_one,
    readers_see_whole_commits_while_a_writer_commits,
    concurrent_writers_of_one_document_lose_nothing,
    a_compare_and_set_fails_the_whole_batch_when_the_value_moved,
);

fn id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

fn meta_of(doc: &mut AutoCommit, kind: &str, at: i64) -> DocumentMeta {
    DocumentMeta {
        kind: Some(kind.into()),
        creator: Some("rep-1".into()),
        scope: Some(itinera_core::policy::DocumentScope {
            kind: itinera_core::DocumentKind::parse(kind),
            owner: Some("rep-1".into()),
            territory: Some("north".into()),
            shared_with: ["ana".to_owned()].into(),
            ..Default::default()
        }),
        title: format!("{kind} title"),
        heads: doc.get_heads(),
        last_change_at: at,
        // Nonsense sizes: the store keeps its own.
        snapshot_bytes: 999,
        incremental_bytes: 999,
        incremental_chunks: 999,
    }
}

/// A small account-like document.
fn account(n: u8) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(ActorId::from([n; 16]));
    doc.put(ROOT, "name", format!("Account {n}")).expect("put");
    doc.put(ROOT, "city", "Lisbon").expect("put");
    doc.put(ROOT, "visits", i64::from(n)).expect("put");
    doc
}

fn set(doc: &mut AutoCommit, key: &str, value: i64) -> Vec<u8> {
    doc.put(ROOT, key, value).expect("put");
    doc.save_incremental()
}

fn number(doc: &AutoCommit, key: &str) -> Option<i64> {
    doc.get(ROOT, key)
        .expect("get")
        .and_then(|(value, _)| value.as_scalar().and_then(|scalar| scalar.as_i64()))
}

fn text(doc: &AutoCommit, key: &str) -> Option<String> {
    doc.get(ROOT, key)
        .expect("get")
        .and_then(|(value, _)| value.into_string().ok())
}

fn commit(store: &dyn DocumentStore, build: impl FnOnce(&mut WriteBatch)) {
    let mut batch = WriteBatch::new();
    build(&mut batch);
    store
        .commit(batch, Durability::Immediate)
        .expect("commit succeeds");
}

fn loaded(store: &dyn DocumentStore, doc: DocumentId) -> AutoCommit {
    let bytes = store.load(doc).expect("load").expect("stored");
    AutoCommit::load(&bytes).expect("stored bytes load")
}

fn listed_ids(store: &dyn DocumentStore) -> Vec<DocumentId> {
    store
        .documents()
        .expect("list")
        .into_iter()
        .map(|(doc, _)| doc)
        .collect()
}

fn documents_survive_a_reopen_with_their_heads_and_metadata(backend: &dyn Backend) {
    let mut docs: Vec<AutoCommit> = (1..=6).map(account).collect();
    {
        let store = backend.open();
        commit(&*store, |batch| {
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
    let store = backend.open();
    for (n, doc) in (1u8..).zip(docs.iter_mut()) {
        let mut stored = loaded(&*store, id(n));
        assert_eq!(stored.get_heads(), doc.get_heads(), "document {n}");
        assert_eq!(text(&stored, "name"), Some(format!("Account {n}")));
        assert_eq!(number(&stored, "visits"), Some(i64::from(n)));
    }
    let listed = store.documents().expect("list");
    assert_eq!(listed.len(), docs.len());
    for ((listed_id, meta), (n, doc)) in listed.iter().zip((1u8..).zip(docs.iter_mut())) {
        assert_eq!(*listed_id, id(n));
        assert_eq!(Some(meta), store.meta(id(n)).expect("meta").as_ref());
        assert_eq!(meta.heads, doc.get_heads());
        assert_eq!(meta.kind.as_deref(), Some("account"));
        assert_eq!(meta.creator.as_deref(), Some("rep-1"));
        let scope = meta.scope.as_ref().expect("the scope is kept");
        assert_eq!(scope.territory.as_deref(), Some("north"));
        assert!(scope.shared_with.contains("ana"));
        assert_eq!(meta.title, "account title");
        assert_eq!(meta.last_change_at, 1_000);
        let stored_len = store.load(id(n)).expect("load").map_or(0, |b| b.len());
        assert_eq!(meta.stored_bytes(), stored_len as u64);
        assert_eq!(meta.incremental_chunks, u64::from(n % 2));
    }
    assert_eq!(store.meta(id(9)).expect("meta"), None);
    assert_eq!(store.load(id(9)).expect("load"), None);
}

fn updating_the_metadata_keeps_the_chunks_and_sizes(backend: &dyn Backend) {
    let store = backend.open();
    let mut doc = AutoCommit::new();
    let first = set(&mut doc, "a", 1);
    commit(&*store, |batch| {
        batch.append_changes(id(1), first.clone(), meta_of(&mut doc, "account", 5));
    });
    let before = store.meta(id(1)).expect("meta").expect("stored");
    let mut shared = meta_of(&mut doc, "account", 6);
    if let Some(scope) = &mut shared.scope {
        scope.shared_with.insert("ben".into());
    }
    shared.title = "renamed".into();
    commit(&*store, |batch| {
        batch.update_meta(id(1), shared.clone());
        // A document the store does not hold stays absent.
        batch.update_meta(id(2), shared.clone());
    });
    let after = store.meta(id(1)).expect("meta").expect("stored");
    assert_eq!(after.title, "renamed");
    assert!(
        after
            .scope
            .as_ref()
            .is_some_and(|s| s.shared_with.contains("ben"))
    );
    assert_eq!(after.last_change_at, 6);
    assert_eq!(
        (
            after.snapshot_bytes,
            after.incremental_bytes,
            after.incremental_chunks
        ),
        (
            before.snapshot_bytes,
            before.incremental_bytes,
            before.incremental_chunks
        )
    );
    assert_eq!(store.load(id(1)).expect("load"), Some(first));
    assert_eq!(store.meta(id(2)).expect("meta"), None);
}

fn appends_follow_each_other_and_the_store_keeps_the_sizes(backend: &dyn Backend) {
    let store = backend.open();
    let mut doc = AutoCommit::new();
    let first = set(&mut doc, "a", 1);
    let second = set(&mut doc, "b", 2);
    commit(&*store, |batch| {
        batch.append_changes(id(1), first.clone(), DocumentMeta::default());
    });
    let mut meta = meta_of(&mut doc, "account", -5);
    meta.creator = None;
    meta.scope = None;
    commit(&*store, |batch| {
        batch.append_changes(id(1), second.clone(), meta);
    });

    assert_eq!(
        store.load(id(1)).expect("load"),
        Some([first.clone(), second.clone()].concat())
    );
    let stored = store.meta(id(1)).expect("meta").expect("stored");
    assert_eq!(stored.kind.as_deref(), Some("account"));
    assert_eq!(stored.creator, None);
    assert_eq!(stored.scope, None);
    assert_eq!(stored.heads, doc.get_heads());
    assert_eq!(stored.last_change_at, -5);
    assert_eq!(stored.snapshot_bytes, 0);
    assert_eq!(
        stored.incremental_bytes,
        (first.len() + second.len()) as u64
    );
    assert_eq!(stored.incremental_chunks, 2);
    assert_eq!(loaded(&*store, id(1)).get_heads(), doc.get_heads());
}

fn a_snapshot_replaces_every_chunk_and_later_appends_follow_it(backend: &dyn Backend) {
    let store = backend.open();
    let mut doc = AutoCommit::new();
    let early = set(&mut doc, "a", 1);
    commit(&*store, |batch| {
        batch.append_changes(id(1), early.clone(), DocumentMeta::default());
        batch.append_changes(id(1), early, DocumentMeta::default());
    });
    let snapshot = doc.save();
    let late = set(&mut doc, "b", 2);
    let heads = doc.get_heads();
    commit(&*store, |batch| {
        batch.put_snapshot(id(1), snapshot.clone(), DocumentMeta::default());
        batch.append_changes(id(1), late.clone(), meta_of(&mut doc, "x", 7));
    });

    assert_eq!(
        store.load(id(1)).expect("load"),
        Some([snapshot.clone(), late.clone()].concat())
    );
    let stored = store.meta(id(1)).expect("meta").expect("stored");
    assert_eq!(stored.snapshot_bytes, snapshot.len() as u64);
    assert_eq!(stored.incremental_bytes, late.len() as u64);
    assert_eq!(stored.incremental_chunks, 1);
    assert_eq!(loaded(&*store, id(1)).get_heads(), heads);

    // A snapshot of a document the store does not hold creates it.
    commit(&*store, |batch| {
        batch.put_snapshot(id(2), snapshot.clone(), DocumentMeta::default());
    });
    let created = store.meta(id(2)).expect("meta").expect("stored");
    assert_eq!(created.snapshot_bytes, snapshot.len() as u64);
    assert_eq!(
        (created.incremental_bytes, created.incremental_chunks),
        (0, 0)
    );
}

fn delete_removes_the_document_and_nothing_of_its_neighbours(backend: &dyn Backend) {
    let with_last = |last: u8| {
        let mut bytes = [4; 16];
        bytes[15] = last;
        DocumentId::from_bytes(bytes)
    };
    // Ids that differ by one in the last byte, so that an off-by-one in a range shows, and ids
    // with the high bit set, so that the listing's order is the bytes' order.
    let ids = [with_last(4), with_last(5), with_last(3), id(0xff), id(0x80)];
    {
        let store = backend.open();
        commit(&*store, |batch| {
            for doc in ids {
                batch.append_changes(doc, AutoCommit::new().save(), DocumentMeta::default());
                batch.put_sync_state(doc, "", [1]);
                batch.put_sync_state(doc, "phone", [2]);
            }
        });
        commit(&*store, |batch| {
            batch.delete_document(ids[0]);
        });
        assert_eq!(store.load(ids[0]).expect("load"), None);
    }
    let store = backend.open();
    assert_eq!(store.load(ids[0]).expect("load"), None);
    assert_eq!(store.meta(ids[0]).expect("meta"), None);
    assert_eq!(store.sync_state(ids[0], "").expect("state"), None);
    assert_eq!(store.sync_state(ids[0], "phone").expect("state"), None);
    for doc in &ids[1..] {
        assert!(store.load(*doc).expect("load").is_some());
        assert_eq!(store.sync_state(*doc, "").expect("state"), Some(vec![1]));
        assert_eq!(
            store.sync_state(*doc, "phone").expect("state"),
            Some(vec![2])
        );
    }
    assert_eq!(listed_ids(&*store), [ids[2], ids[1], ids[4], ids[3]]);
    let error = store.compact(ids[0]).expect_err("deleted");
    assert!(
        matches!(error, StoreError::DocumentNotFound(doc) if doc == ids[0]),
        "{error:?}"
    );
    // Deleting what is not there is no error.
    commit(&*store, |batch| {
        batch.delete_document(ids[0]).delete_value("never-written");
    });
}

fn writes_apply_in_batch_order(backend: &dyn Backend) {
    let store = backend.open();
    let mut doc = AutoCommit::new();
    let first = set(&mut doc, "a", 1);
    let second = set(&mut doc, "b", 2);
    commit(&*store, |batch| {
        batch
            .put_value("gone", [1])
            .delete_value("gone")
            .delete_value("kept")
            .put_value("kept", [2])
            .put_value("twice", [3])
            .put_value("twice", [4])
            .append_changes(id(1), first.clone(), DocumentMeta::default())
            .put_sync_state(id(1), "phone", [9])
            .delete_document(id(1))
            .append_changes(id(1), second.clone(), DocumentMeta::default())
            .put_sync_state(id(1), "phone", [8])
            .put_sync_state(id(1), "phone", [7]);
    });
    assert_eq!(store.value("gone").expect("value"), None);
    assert_eq!(store.value("kept").expect("value"), Some(vec![2]));
    assert_eq!(store.value("twice").expect("value"), Some(vec![4]));
    assert_eq!(store.load(id(1)).expect("load"), Some(second.clone()));
    let meta = store.meta(id(1)).expect("meta").expect("stored");
    assert_eq!(meta.incremental_chunks, 1);
    assert_eq!(meta.incremental_bytes, second.len() as u64);
    assert_eq!(
        store.sync_state(id(1), "phone").expect("state"),
        Some(vec![7])
    );
    store
        .commit(WriteBatch::new(), Durability::Immediate)
        .expect("an empty batch is fine");
}

fn values_with_prefix_returns_exactly_the_prefixed_keys(backend: &dyn Backend) {
    let store = backend.open();
    let keys = [
        "use",
        "user:",
        "user:b",
        "user:a",
        "user;",
        "users",
        "v",
        "é",
        "éa",
        "ê",
        "\u{10FFFF}",
        "\u{10FFFF}x",
    ];
    commit(&*store, |batch| {
        for key in keys {
            batch.put_value(key, key.as_bytes());
        }
    });
    let with_prefix = |prefix: &str| -> Vec<String> {
        store
            .values_with_prefix(prefix)
            .expect("list")
            .into_iter()
            .map(|(key, value)| {
                assert_eq!(key.as_bytes(), value);
                key
            })
            .collect()
    };
    assert_eq!(with_prefix("user:"), ["user:", "user:a", "user:b"]);
    assert_eq!(
        with_prefix("user"),
        ["user:", "user:a", "user:b", "user;", "users"]
    );
    assert_eq!(with_prefix("é"), ["é", "éa"]);
    assert_eq!(with_prefix("\u{10FFFF}"), ["\u{10FFFF}", "\u{10FFFF}x"]);
    assert_eq!(with_prefix("zzz"), Vec::<String>::new());
    let mut all: Vec<&str> = keys.to_vec();
    all.sort_unstable();
    assert_eq!(with_prefix(""), all);
}

fn sync_states_and_values_survive_a_reopen(backend: &dyn Backend) {
    let mut server = account(3);
    let mut phone = AutoCommit::new();
    // A real exchange, so that the state holds the heads both sides share.
    let (mut server_state, mut phone_state) =
        (automerge::sync::State::new(), automerge::sync::State::new());
    {
        use automerge::sync::SyncDoc;
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
    }
    assert!(!server_state.shared_heads.is_empty());
    {
        let store = backend.open();
        let snapshot = server.save();
        commit(&*store, |batch| {
            batch
                .put_snapshot(id(3), snapshot, meta_of(&mut server, "account", 5))
                .put_sync_state(id(3), "phone-storage-1", server_state.encode())
                .put_sync_state(id(3), "phone-storage-2", [0u8; 0])
                .put_value("user:ana", b"guide".as_slice())
                .put_value("invoice-number:2026", 41u64.to_be_bytes());
        });
        commit(&*store, |batch| {
            batch
                .put_value("invoice-number:2026", 42u64.to_be_bytes())
                .put_value("user:bo", b"office".as_slice())
                .put_value("empty", [0u8; 0]);
        });
    }
    let store = backend.open();
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
    assert_eq!(store.value("empty").expect("read"), Some(vec![]));
    assert_eq!(store.value("missing").expect("read"), None);
    assert_eq!(
        store.values_with_prefix("user:").expect("list"),
        [
            ("user:ana".to_owned(), b"guide".to_vec()),
            ("user:bo".to_owned(), b"office".to_vec())
        ]
    );
}

fn compaction_keeps_content_and_heads_across_reopens(backend: &dyn Backend) {
    let mut doc = account(1);
    let expected_heads;
    {
        let store = backend.open();
        let snapshot = doc.save();
        commit(&*store, |batch| {
            batch.put_snapshot(id(1), snapshot, meta_of(&mut doc, "account", 1));
        });
        for visit in 0..12 {
            doc.put(ROOT, "visits", visit).expect("put");
            doc.put(ROOT, format!("note-{visit}"), "called, no answer")
                .expect("put");
            let changes = doc.save_incremental();
            commit(&*store, |batch| {
                batch.append_changes(id(1), changes, meta_of(&mut doc, "account", 2 + visit));
            });
        }
        expected_heads = doc.get_heads();
    }
    let before = {
        let store = backend.open();
        let before = store.meta(id(1)).expect("meta").expect("stored");
        assert_eq!(before.incremental_chunks, 12);
        let report = store.compact(id(1)).expect("compact");
        assert_eq!(report.chunks_folded, 12);
        assert_eq!(report.bytes_before, before.stored_bytes());
        assert!(report.bytes_after <= report.bytes_before, "{report:?}");
        before
    };
    let store = backend.open();
    let after = store.meta(id(1)).expect("meta").expect("stored");
    assert_eq!((after.incremental_chunks, after.incremental_bytes), (0, 0));
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

    // A compact document is left alone.
    let again = store.compact(id(1)).expect("compact");
    assert_eq!(again.chunks_folded, 0);
    assert_eq!(again.bytes_after, again.bytes_before);

    // And it keeps growing from the snapshot.
    let changes = set(&mut doc, "visits", 99);
    commit(&*store, |batch| {
        batch.append_changes(id(1), changes, meta_of(&mut doc, "account", 20));
    });
    let heads = doc.get_heads();
    drop(store);
    let store = backend.open();
    let mut stored = loaded(&*store, id(1));
    assert_eq!(stored.get_heads(), heads);
    assert_eq!(number(&stored, "visits"), Some(99));
    assert_eq!(
        store
            .meta(id(1))
            .expect("meta")
            .expect("stored")
            .incremental_chunks,
        1
    );
}

fn compaction_refuses_what_does_not_load_and_changes_nothing(backend: &dyn Backend) {
    let store = backend.open();
    let mut doc = account(2);
    let good = doc.save_incremental();
    // Automerge's chunk magic bytes followed by garbage, and then plain garbage.
    let damaged = [0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 5, 6, 7, 8];
    commit(&*store, |batch| {
        batch
            .append_changes(id(2), good.clone(), meta_of(&mut doc, "account", 1))
            .append_changes(id(2), damaged.to_vec(), meta_of(&mut doc, "account", 2))
            .append_changes(id(3), vec![0xff; 40], DocumentMeta::default())
            .append_changes(id(3), vec![0x00; 40], DocumentMeta::default());
    });
    for doc_id in [id(2), id(3)] {
        let bytes_before = store.load(doc_id).expect("load");
        let meta_before = store.meta(doc_id).expect("meta");
        let error = store.compact(doc_id).expect_err("unloadable");
        assert!(
            matches!(&error, StoreError::Unloadable { doc, .. } if *doc == doc_id),
            "{error:?}"
        );
        assert!(error.to_string().contains("do not load"), "{error}");
        assert_eq!(store.load(doc_id).expect("load"), bytes_before);
        assert_eq!(store.meta(doc_id).expect("meta"), meta_before);
    }
    let error = store.compact(id(9)).expect_err("missing");
    assert!(
        matches!(error, StoreError::DocumentNotFound(doc) if doc == id(9)),
        "{error:?}"
    );
}

fn relaxed_commits_are_visible_at_once_and_kept_by_the_next_durable_one(backend: &dyn Backend) {
    {
        let store = backend.open();
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
        commit(&*store, |batch| {
            batch.put_value("relaxed:durable", [1]);
        });
    }
    let store = backend.open();
    assert_eq!(
        store.values_with_prefix("relaxed:").expect("list").len(),
        21
    );
}

fn readers_see_whole_commits_while_a_writer_commits(backend: &dyn Backend) {
    let store: Arc<dyn DocumentStore> = Arc::from(backend.open());
    let mut doc = account(1);
    let initial = doc.save_incremental();
    commit(&*store, |batch| {
        batch.append_changes(id(1), initial, meta_of(&mut doc, "account", 0));
    });
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, done) = (Arc::clone(&store), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !done.load(Ordering::Acquire) || reads == 0 {
                let mut stored = loaded(&*store, id(1));
                let visits = number(&stored, "visits").expect("visits");
                let mirror = store
                    .value("visits")
                    .expect("value")
                    .map(|bytes| bytes.len());
                // The value is written in the same batch as the change that sets visits, but
                // read after it: it may only be ahead, never behind.
                assert!(mirror.unwrap_or(1) as i64 >= visits, "{visits} {mirror:?}");
                let meta = store.meta(id(1)).expect("meta").expect("stored");
                assert!(meta.incremental_chunks >= 1);
                assert!(!stored.get_heads().is_empty());
                reads += 1;
            }
            reads
        })
    };
    for visits in 2..40i64 {
        let changes = set(&mut doc, "visits", visits);
        let mut batch = WriteBatch::new();
        batch
            .append_changes(id(1), changes, meta_of(&mut doc, "account", visits))
            .put_value("visits", vec![0u8; visits as usize]);
        store.commit(batch, Durability::Relaxed).expect("commit");
    }
    done.store(true, Ordering::Release);
    assert!(reader.join().expect("reader thread") > 0);
    assert_eq!(number(&loaded(&*store, id(1)), "visits"), Some(39));
}

fn concurrent_writers_of_one_document_lose_nothing(backend: &dyn Backend) {
    const WRITERS: u8 = 4;
    const CHANGES: i64 = 25;
    let store: Arc<dyn DocumentStore> = Arc::from(backend.open());
    let mut base = account(7);
    let base_bytes = base.save_incremental();
    commit(&*store, |batch| {
        batch.append_changes(id(7), base_bytes.clone(), DocumentMeta::default());
    });
    // Each writer edits its own fork, as devices (or server nodes) do, and appends its changes.
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = Arc::clone(&store);
            let mut fork = base.fork().with_actor(ActorId::from([100 + writer; 16]));
            std::thread::spawn(move || {
                let mut written = 0usize;
                for n in 0..CHANGES {
                    let changes = set(&mut fork, &format!("w{writer}-{n}"), n);
                    written += changes.len();
                    commit(&*store, |batch| {
                        batch.append_changes(id(7), changes, DocumentMeta::default());
                    });
                }
                written
            })
        })
        .collect();
    let written: usize = writers
        .into_iter()
        .map(|writer| writer.join().expect("writer thread"))
        .sum();
    let stored = loaded(&*store, id(7));
    for writer in 0..WRITERS {
        for n in 0..CHANGES {
            assert_eq!(number(&stored, &format!("w{writer}-{n}")), Some(n));
        }
    }
    let meta = store.meta(id(7)).expect("meta").expect("stored");
    assert_eq!(
        meta.incremental_chunks,
        1 + u64::from(WRITERS) * CHANGES as u64
    );
    assert_eq!(meta.incremental_bytes, (base_bytes.len() + written) as u64);
}

/// Two writers read the same sequence value and both try to take the next number: the second
/// transaction fails whole (its other writes are not stored), and the number is taken once.
fn a_compare_and_set_fails_the_whole_batch_when_the_value_moved(backend: &dyn Backend) {
    let store = backend.open();
    let mut first = WriteBatch::new();
    first.replace_value("sequence", None, b"1".to_vec());
    store
        .commit(first, Durability::Immediate)
        .expect("the first number");
    let read = store.value("sequence").expect("read");
    assert_eq!(read.as_deref(), Some(&b"1"[..]));

    let mut winner = WriteBatch::new();
    winner
        .replace_value("sequence", read.clone(), b"2".to_vec())
        .put_value("invoice:a", b"2".to_vec());
    store
        .commit(winner, Durability::Immediate)
        .expect("the winner");
    let mut stale = WriteBatch::new();
    stale
        .put_value("invoice:b", b"2".to_vec())
        .replace_value("sequence", read, b"2".to_vec());
    match store.commit(stale, Durability::Immediate) {
        Err(StoreError::ValueChanged { key }) => assert_eq!(key, "sequence"),
        other => panic!("a stale compare-and-set must fail naming its key: {other:?}"),
    }
    assert_eq!(
        store.value("invoice:b").expect("read"),
        None,
        "nothing of it stored"
    );
    assert_eq!(
        store.value("sequence").expect("read").as_deref(),
        Some(&b"2"[..])
    );

    // Expecting no value where there is one fails too; the right value passes.
    let mut absent = WriteBatch::new();
    absent.replace_value("sequence", None, b"9".to_vec());
    assert!(matches!(
        store.commit(absent, Durability::Immediate),
        Err(StoreError::ValueChanged { .. })
    ));
    let mut same = WriteBatch::new();
    same.replace_value("sequence", Some(b"2".to_vec()), b"2".to_vec());
    store
        .commit(same, Durability::Immediate)
        .expect("an unchanged value passes");
}

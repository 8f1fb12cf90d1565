//! What only the PostgreSQL store has: migrations shared by several nodes, durability settings,
//! failures the database reports, and callers inside an async runtime.

mod common;

use std::time::{Duration, Instant};

use common::{execute, fresh_schema, postgres_url, query};
use itinera_core::DocumentId;
use itinera_core::store::{
    DocumentMeta, DocumentStore, Durability, StoreError, StoreOperation, WriteBatch,
};
use itinera_store_postgres::PgStore;

fn open(schema: &str) -> PgStore {
    PgStore::open_in_schema(&postgres_url(), schema).expect("open the PostgreSQL store")
}

fn put(store: &PgStore, key: &str, durability: Durability) -> Result<(), StoreError> {
    let mut batch = WriteBatch::new();
    batch.put_value(key, key.as_bytes());
    store.commit(batch, durability)
}

fn versions(schema: &str) -> Vec<Vec<Option<String>>> {
    query(
        schema,
        "SELECT version, name FROM schema_migrations ORDER BY version",
    )
}

#[test]
fn the_schema_is_migrated_once_and_a_database_from_a_newer_build_is_refused() {
    let schema = fresh_schema("migrations");
    drop(open(&schema));
    let applied = versions(&schema);
    assert_eq!(
        applied,
        [
            [Some("1".to_owned()), Some("documents".to_owned())],
            [
                Some("2".to_owned()),
                Some("document scope and title".to_owned())
            ],
            [Some("3".to_owned()), Some("change sequence".to_owned())],
            [Some("4".to_owned()), Some("shared nodes".to_owned())]
        ]
    );
    let tables = query(
        &schema,
        &format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}' \
             ORDER BY table_name"
        ),
    );
    let tables: Vec<&str> = tables.iter().filter_map(|row| row[0].as_deref()).collect();
    assert_eq!(
        tables,
        [
            "change_counter",
            "document_chunks",
            "documents",
            "key_values",
            "schema_migrations",
            "sync_states"
        ]
    );
    // Opening again applies nothing new and keeps the data.
    put(&open(&schema), "kept", Durability::Immediate).expect("commit");
    assert_eq!(versions(&schema), applied);
    assert_eq!(
        open(&schema).value("kept").expect("read"),
        Some(b"kept".to_vec())
    );

    execute(
        &schema,
        "INSERT INTO schema_migrations (version, name) VALUES (7, 'future')",
    );
    let error = PgStore::open_in_schema(&postgres_url(), &schema).expect_err("newer");
    assert!(
        matches!(
            error,
            StoreError::UnsupportedLayout {
                found: 7,
                supported: 4
            }
        ),
        "{error:?}"
    );
    execute(&schema, "DELETE FROM schema_migrations WHERE version = 7");
    assert_eq!(
        open(&schema).value("kept").expect("read"),
        Some(b"kept".to_vec())
    );
}

#[test]
fn nodes_opening_a_fresh_schema_at_once_migrate_it_once() {
    let schema = fresh_schema("concurrent_open");
    let nodes: Vec<_> = (0..4)
        .map(|node| {
            let schema = schema.clone();
            std::thread::spawn(move || {
                let store = open(&schema);
                put(&store, &format!("node:{node}"), Durability::Immediate).expect("commit");
            })
        })
        .collect();
    for node in nodes {
        node.join().expect("node thread");
    }
    assert_eq!(versions(&schema).len(), 4);
    assert_eq!(
        open(&schema)
            .values_with_prefix("node:")
            .expect("list")
            .len(),
        4
    );
}

#[test]
fn two_nodes_on_one_schema_see_each_others_commits() {
    let schema = fresh_schema("two_nodes");
    let (first, second) = (open(&schema), open(&schema));
    let doc = DocumentId::from_bytes([5; 16]);
    let mut batch = WriteBatch::new();
    batch
        .append_changes(doc, vec![1, 2, 3], DocumentMeta::default())
        .put_value("from:first", [1]);
    first.commit(batch, Durability::Immediate).expect("commit");
    assert_eq!(second.load(doc).expect("load"), Some(vec![1, 2, 3]));
    assert_eq!(second.value("from:first").expect("read"), Some(vec![1]));

    let mut batch = WriteBatch::new();
    batch.append_changes(doc, vec![4], DocumentMeta::default());
    second.commit(batch, Durability::Relaxed).expect("commit");
    assert_eq!(first.load(doc).expect("load"), Some(vec![1, 2, 3, 4]));
    assert_eq!(
        first
            .meta(doc)
            .expect("meta")
            .expect("stored")
            .incremental_chunks,
        2
    );
}

#[test]
fn a_failed_write_rolls_back_the_whole_batch_and_a_full_disk_is_told_apart() {
    let schema = fresh_schema("failures");
    let store = open(&schema);
    // A trigger stands in for a database whose disk fills while it writes one of the values.
    execute(
        &schema,
        "CREATE FUNCTION fill_the_disk() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.key LIKE 'fill:%' THEN
                 RAISE EXCEPTION 'could not extend file: No space left on device'
                     USING ERRCODE = 'disk_full';
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER fill_the_disk BEFORE INSERT ON key_values
             FOR EACH ROW EXECUTE FUNCTION fill_the_disk();",
    );
    let doc = DocumentId::from_bytes([6; 16]);
    let batch_with = |bad_key: &str| {
        let mut batch = WriteBatch::new();
        batch
            .put_value("before", [1])
            .append_changes(doc, vec![1, 2], DocumentMeta::default())
            .put_sync_state(doc, "phone", [3])
            .put_value(bad_key, [1])
            .put_value("after", [1]);
        batch
    };
    let nothing_stored = |store: &PgStore| {
        assert_eq!(store.value("before").expect("read"), None);
        assert_eq!(store.load(doc).expect("load"), None);
        assert_eq!(store.meta(doc).expect("meta"), None);
        assert_eq!(store.sync_state(doc, "phone").expect("read"), None);
        assert_eq!(store.value("after").expect("read"), None);
    };

    let error = store
        .commit(batch_with("fill:1"), Durability::Immediate)
        .expect_err("the disk is full");
    assert!(error.is_storage_full(), "{error:?}");
    assert!(
        matches!(
            error,
            StoreError::Database {
                operation: StoreOperation::Commit,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("No space left on device"),
        "{error}"
    );
    nothing_stored(&store);

    // PostgreSQL text cannot hold NUL: refused, and not taken for a full disk.
    let error = store
        .commit(batch_with("nul:\0"), Durability::Relaxed)
        .expect_err("refused");
    assert!(!error.is_storage_full(), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("could not commit a write batch"),
        "{error}"
    );
    nothing_stored(&store);

    // The connections that saw the failures go on working.
    for n in 0..20 {
        put(&store, &format!("later:{n}"), Durability::Immediate).expect("commit");
    }
    assert_eq!(store.values_with_prefix("later:").expect("list").len(), 20);
}

#[test]
fn durable_commits_wait_for_the_flush_even_where_the_default_would_not() {
    let schema = fresh_schema("durability");
    drop(open(&schema));
    // Records the synchronous_commit each write ran under.
    execute(
        &schema,
        "CREATE TABLE seen (key text, setting text);
         CREATE FUNCTION record_setting() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO seen VALUES (NEW.key, current_setting('synchronous_commit'));
             RETURN NEW;
         END $$;
         CREATE TRIGGER record_setting BEFORE INSERT ON key_values
             FOR EACH ROW EXECUTE FUNCTION record_setting();",
    );
    let default_on = open(&schema);
    put(&default_on, "on:durable", Durability::Immediate).expect("commit");
    put(&default_on, "on:relaxed", Durability::Relaxed).expect("commit");
    let url = postgres_url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let default_off = PgStore::open_in_schema(
        &format!("{url}{separator}options=-c%20synchronous_commit%3Doff"),
        &schema,
    )
    .expect("open");
    put(&default_off, "off:durable", Durability::Immediate).expect("commit");
    put(&default_off, "off:relaxed", Durability::Relaxed).expect("commit");
    let seen = query(&schema, "SELECT key, setting FROM seen ORDER BY key");
    let seen: Vec<(String, String)> = seen
        .into_iter()
        .map(|row| {
            (
                row[0].clone().unwrap_or_default(),
                row[1].clone().unwrap_or_default(),
            )
        })
        .collect();
    let pairs = |key: &str, setting: &str| (key.to_owned(), setting.to_owned());
    assert_eq!(
        seen,
        [
            pairs("off:durable", "on"),
            pairs("off:relaxed", "off"),
            pairs("on:durable", "on"),
            pairs("on:relaxed", "off"),
        ]
    );
}

#[test]
fn the_store_is_used_and_dropped_inside_an_async_context() {
    let schema = fresh_schema("async_caller");
    // What an actix worker is: a current-thread runtime driving a task that calls the store.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = open(&schema);
        put(&store, "inside", Durability::Immediate).expect("commit");
        assert_eq!(
            store.value("inside").expect("read"),
            Some(b"inside".to_vec())
        );
        drop(store);
    });
}

#[test]
fn bad_urls_unreachable_servers_and_bad_schema_names_are_refused_clearly() {
    let open_error = |url: &str| {
        let error = PgStore::open(url).expect_err("refused");
        assert!(
            matches!(
                error,
                StoreError::Database {
                    operation: StoreOperation::Open,
                    ..
                }
            ),
            "{error:?}"
        );
        error.to_string()
    };
    let text = open_error("postgres://itinera@127.0.0.1:5432/x?sslmode=banana");
    assert!(text.contains("invalid connection string"), "{text}");

    // Nothing listens on port 1 of loopback: refused at once, not after a timeout.
    let started = Instant::now();
    let text = open_error("postgres://itinera:secret@127.0.0.1:1/itinera");
    assert!(text.contains("connect"), "{text}");
    assert!(!text.contains("secret"), "the password leaked: {text}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    let error =
        PgStore::open_in_schema(&postgres_url(), "Robert'); DROP TABLE x;--").expect_err("refused");
    assert!(error.to_string().contains("not a schema name"), "{error}");
}

#[test]
fn a_database_that_does_not_store_utf8_is_refused() {
    let database = fresh_schema("latin");
    execute(
        "public",
        &format!(
            "CREATE DATABASE {database} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        ),
    );
    let url = postgres_url();
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    let error = PgStore::open(&format!("{base}/{database}")).expect_err("refused");
    execute("public", &format!("DROP DATABASE {database}"));
    assert!(
        error
            .to_string()
            .contains("encoding is LATIN1; the store needs UTF8"),
        "{error}"
    );
}

#[test]
fn connections_the_database_drops_are_replaced_without_reopening_the_store() {
    let schema = fresh_schema("dropped_connections");
    let url = postgres_url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let store = PgStore::open_in_schema(
        &format!("{url}{separator}application_name={schema}"),
        &schema,
    )
    .expect("open");
    put(&store, "before", Durability::Immediate).expect("commit");
    let terminated = query(
        "public",
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{schema}'"
        ),
    );
    assert!(
        !terminated.is_empty(),
        "the store had no connection to drop"
    );
    // A call may fail on a connection whose end the pool has not noticed yet, never more
    // often than there are connections; then the store works again.
    let mut failures = 0;
    let recovered = (0..10).any(|_| match put(&store, "after", Durability::Immediate) {
        Ok(()) => true,
        Err(error) => {
            assert!(
                matches!(
                    error,
                    StoreError::Database {
                        operation: StoreOperation::Commit,
                        ..
                    }
                ),
                "{error:?}"
            );
            failures += 1;
            false
        }
    });
    assert!(
        recovered,
        "the store did not recover after {failures} failures"
    );
    assert!(failures <= terminated.len(), "{failures} failures");
    assert_eq!(
        store.value("before").expect("read"),
        Some(b"before".to_vec())
    );
    assert_eq!(store.value("after").expect("read"), Some(b"after".to_vec()));
}

/// Receives what a sink is given, for a test to wait on.
fn channel<T: Send + 'static>() -> (
    std::sync::Arc<dyn Fn(T) + Send + Sync>,
    std::sync::mpsc::Receiver<T>,
) {
    let (tell, heard) = std::sync::mpsc::channel();
    let tell = std::sync::Mutex::new(tell);
    let sink = move |value: T| {
        if let Ok(tell) = tell.lock() {
            let _ = tell.send(value);
        }
    };
    (std::sync::Arc::new(sink), heard)
}

#[test]
fn a_node_hears_the_documents_and_users_another_node_commits_and_not_its_own() {
    use itinera_core::store::{SharedStore, StoreNotice};
    let schema = fresh_schema("notices");
    let listener = open(&schema);
    let other = open(&schema);
    let (sink, heard) = channel();
    SharedStore::listen(&listener, sink).expect("listen");

    // Its own commit is not told to it.
    put(&listener, "user:own", Durability::Immediate).expect("commit");
    let doc = DocumentId::from_bytes([4; 16]);
    let head = automerge::ChangeHash([6; 32]);
    let mut batch = WriteBatch::new();
    let meta = DocumentMeta {
        heads: vec![head],
        ..DocumentMeta::default()
    };
    batch
        .append_changes(doc, vec![1, 2, 3], meta)
        .put_value("user:ana", b"{}".to_vec())
        .put_value("summary:x", b"{}".to_vec());
    other.commit(batch, Durability::Immediate).expect("commit");

    let wait = Duration::from_secs(10);
    let first = heard.recv_timeout(wait).expect("a notice");
    let second = heard.recv_timeout(wait).expect("a notice");
    let notices = [first, second];
    assert!(
        notices.iter().any(|notice| matches!(notice,
            StoreNotice::Documents { documents, sequence } if documents == &vec![(doc, vec![head])] && *sequence >= 1)),
        "{notices:?}"
    );
    assert!(
        notices.contains(&StoreNotice::Values {
            keys: vec!["user:ana".into()]
        }),
        "{notices:?}"
    );
    assert!(
        heard.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing more"
    );

    // A dropped connection is followed by a notice to catch up from the last sequence heard.
    execute(
        &schema,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'itinera-listener' AND pid <> pg_backend_pid()",
    );
    match heard
        .recv_timeout(wait)
        .expect("a notice after the reconnect")
    {
        StoreNotice::Resumed { after } => assert!(after >= 1, "{after}"),
        other => panic!("expected a resumption, got {other:?}"),
    }
}

#[test]
fn one_node_leads_at_a_time_and_the_next_takes_over_with_a_new_term() {
    use itinera_core::store::{Leadership, SharedStore};
    let schema = fresh_schema("leadership");
    let first = open(&schema);
    let (sink, first_heard) = channel();
    SharedStore::campaign(&first, sink).expect("campaign");
    let wait = Duration::from_secs(10);
    let Leadership::Leading { term_key, term } = first_heard.recv_timeout(wait).expect("leads")
    else {
        panic!("the only node must lead");
    };

    let second = open(&schema);
    let (sink, second_heard) = channel();
    SharedStore::campaign(&second, sink).expect("campaign");
    assert!(
        second_heard
            .recv_timeout(Duration::from_millis(1_500))
            .is_err(),
        "a second node leads while the first holds the lock"
    );
    // A write fenced by the first leader's term passes while it leads.
    let mut fenced = WriteBatch::new();
    fenced.replace_value(&term_key, Some(term.clone()), term.clone());
    first
        .commit(fenced.clone(), Durability::Immediate)
        .expect("the leader writes");

    drop(first);
    let Leadership::Leading { term: next, .. } = second_heard.recv_timeout(wait).expect("leads")
    else {
        panic!("the second node must take over");
    };
    assert_ne!(next, term, "the new leader has a term of its own");
    // The old leader's fenced write now fails whole, whoever commits it.
    assert!(matches!(
        second.commit(fenced, Durability::Immediate),
        Err(StoreError::ValueChanged { .. })
    ));
}

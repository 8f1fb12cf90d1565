//! A document that took in changes from elsewhere (a sync message, a merge, an incremental load)
//! holds them once: automerge 0.12 also appends an event per applied operation to the
//! document's patch log, even when nobody asked for patches, and never empties it, so a
//! long-lived server document kept every key and value it ever received a second time and cost
//! many times more to clone (2,000 fields: 87 µs against 5 µs). The log is private to automerge;
//! its `Debug` form shows it.

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use common::{Rng, Sim, doc_id};
use itinera_core::DocumentId;
use itinera_core::document::{Document, load_bytes};
use itinera_core::engine::{
    DocumentEngine, EditError, EngineConfig, Input, Output, ServerEdit, StoredDocument,
};
use itinera_core::model::{AccessLevel, Account, Contact, DocumentKind, IndexEntry};
use itinera_core::protocol::PeerId;
use itinera_core::store::WriteBatch;
use itinera_core::sync::NodeRole;

/// How an empty patch log begins in the `Debug` form of a document.
const EMPTY_LOG: &str = "patch_log: PatchLog { events: [],";

/// Asserts that `doc`'s patch log is as empty as that of the same document loaded from its bytes.
fn holds_changes_once(what: &str, doc: &mut AutoCommit) {
    let loaded = load_bytes(&doc.save()).expect("loads");
    assert!(
        format!("{loaded:?}").contains(EMPTY_LOG),
        "the Debug form of a loaded document no longer shows its patch log as expected"
    );
    let shown = format!("{doc:?}");
    let log = shown.find("patch_log: ").map_or("", |at| &shown[at..]);
    assert!(
        log.starts_with(EMPTY_LOG),
        "{what}: the patch log holds what was applied: {}…",
        &log[..log.len().min(300)]
    );
}

/// A document of `keys` fields written by actor 1.
fn big_document(keys: usize) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(ActorId::from([1; 16]));
    for n in 0..keys {
        doc.put(ROOT, format!("field_{n}"), format!("value number {n}"))
            .expect("put");
    }
    doc.commit();
    doc
}

#[test]
fn a_document_received_through_sync_holds_its_changes_once() {
    let mut rng = Rng::new(3);
    let mut sim = Sim::new();
    let server = sim.add("server", NodeRole::Server);
    let phone = sim.add("phone", NodeRole::Client);
    let mut started = AutoCommit::new().with_actor(ActorId::from([2; 16]));
    started.put(ROOT, "started", true).expect("put");
    started.commit();
    let mut on_server = started.fork().with_actor(ActorId::from([1; 16]));
    on_server.merge(&mut big_document(2_000)).expect("merge");
    sim.stores[server].insert(doc_id(1), on_server);
    sim.nodes[phone].insert(doc_id(1), started);
    sim.connect(phone, server);
    sim.nodes[phone].find(doc_id(1));
    sim.collect(phone);
    sim.run_until_quiet(&mut rng);
    assert_eq!(sim.heads(phone, &doc_id(1)), sim.heads(server, &doc_id(1)));
    let mut synced = sim.nodes[phone].document(&doc_id(1)).expect("held").clone();
    holds_changes_once("synced", &mut synced);
}

#[test]
fn a_merged_or_incrementally_loaded_record_holds_its_changes_once() {
    let lakeside = Account {
        name: "Lakeside Schools".into(),
        ..Account::default()
    };
    let mut mine = Document::create(ActorId::from([2; 16]), 1_000, &lakeside).expect("made");
    let mut theirs = mine.fork(ActorId::from([3; 16]));
    theirs
        .change(2_000, |account| {
            for n in 0..300 {
                let contact = Contact {
                    first_name: format!("Contact {n}"),
                    ..Contact::default()
                };
                account.contacts.insert(format!("c-{n}"), contact);
            }
            Ok(())
        })
        .expect("change");
    let mut merged = mine.fork(ActorId::from([4; 16]));
    merged.merge(&mut theirs).expect("merge");
    holds_changes_once("merged", &mut merged.into_automerge());

    let mut loaded = mine.fork(ActorId::from([5; 16]));
    loaded
        .load_incremental(&theirs.save_incremental())
        .expect("load");
    holds_changes_once("loaded incrementally", &mut loaded.into_automerge());
}

/// Runs `edit` through `engine` as the server and finishes its write; returns the document the
/// committed event carries.
fn edit_durably(engine: &mut DocumentEngine, now: i64, edit: ServerEdit) -> AutoCommit {
    engine.handle(
        now,
        Input::Edit {
            edit_id: 1,
            author: None,
            edit,
            with: WriteBatch::new(),
        },
    );
    let outputs = engine.take_outputs();
    let write = outputs
        .iter()
        .find_map(|output| match output {
            Output::Write { write, .. } => Some(*write),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the edit is written: {outputs:?}"));
    engine.handle(
        now,
        Input::WriteFinished {
            write,
            result: Ok(()),
        },
    );
    engine
        .take_outputs()
        .into_iter()
        .find_map(|output| match output {
            Output::Committed(committed) => committed.content.clone(),
            _ => None,
        })
        .map(|content| (*content).clone())
        .expect("the committed event carries the document")
}

#[test]
fn a_document_the_engine_edits_holds_its_changes_once() {
    let config = EngineConfig {
        carry_content: |_| true,
        ..EngineConfig::new(PeerId::new("server"), ActorId::from([1; 16]))
    };
    let mut engine = DocumentEngine::load(config, doc_id(7), StoredDocument::default());
    for round in 0..3_i64 {
        let edit = ServerEdit::new(move |doc| {
            let Some((_, documents)) = doc.get(ROOT, "documents")? else {
                return Err(EditError::Invalid("no documents map".into()));
            };
            for n in 0..500_u16 {
                let entry = IndexEntry {
                    kind: "account".into(),
                    title: format!("Account {n}, round {round}"),
                    access: AccessLevel::Read,
                };
                let id = DocumentId::from_bytes([u8::try_from(n % 200).unwrap_or(0); 16]);
                autosurgeon::reconcile_prop(doc, &documents, id.to_string().as_str(), &entry)?;
            }
            Ok(())
        })
        .or_create(DocumentKind::Index);
        let mut carried = edit_durably(&mut engine, 1_000 + round, edit);
        holds_changes_once(&format!("edit {round}"), &mut carried);
    }
}

//! Writes the seed corpora: real frames of a phone and a server engine syncing record documents
//! (each frame alone for `frame`, each side's sequence for `session`), and saved documents of
//! every kind for `document`.
//!
//! `cargo run --manifest-path tests/fuzz/Cargo.toml --bin seed_corpus -- tests/fuzz/corpus`

#![allow(clippy::print_stdout)]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::{Path, PathBuf};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use itinera_core::sync::{AllowAll, Event, Input, Node, NodeConfig, NodeRole, Output};
use itinera_core::{DocumentId, DocumentKind};

fn node(name: &str, role: NodeRole) -> Node<AllowAll> {
    Node::new(NodeConfig::named(name, role), AllowAll)
}

/// Moves frames between the two nodes until both are quiet; returns what each side sent.
fn exchange(
    phone: &mut Node<AllowAll>,
    server: &mut Node<AllowAll>,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut from_phone, mut from_server) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        let mut quiet = true;
        for output in phone.take_outputs() {
            match output {
                Output::Send { frame, .. } => {
                    quiet = false;
                    from_phone.push(frame.clone());
                    server.handle(Input::Frame(1, frame));
                }
                Output::Event(Event::LoadRequested(id)) => phone.handle(Input::Loaded(id, None)),
                _ => {}
            }
        }
        for output in server.take_outputs() {
            match output {
                Output::Send { frame, .. } => {
                    quiet = false;
                    from_server.push(frame.clone());
                    phone.handle(Input::Frame(1, frame));
                }
                Output::Event(Event::LoadRequested(id)) => server.handle(Input::Loaded(id, None)),
                _ => {}
            }
        }
        if quiet {
            break;
        }
    }
    (from_phone, from_server)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("corpus folder");
    std::fs::write(dir.join(name), bytes).expect("corpus file");
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "tests/fuzz/corpus".into()),
    );
    let mut documents = Vec::new();
    for (n, kind) in DocumentKind::ALL.iter().enumerate() {
        let actor = ActorId::from([u8::try_from(n).unwrap_or(0) + 1; 16]);
        let mut doc = itinera_core::document::new_record(*kind, actor, 1_764_000_000_000)
            .expect("a new record of every kind");
        documents.push((kind.as_str().to_owned(), doc.save()));
    }

    // A phone creates an account and a generic document, the server asks for one it lacks,
    // both edit, and an ephemeral message goes by.
    let mut phone = node("phone", NodeRole::Client);
    let mut server = node("server", NodeRole::Server);
    phone.handle(Input::Connected(1));
    server.handle(Input::Connected(1));
    let account = DocumentId::new_v7(1_764_000_000_100, [1; 10]);
    let generic = DocumentId::new_v7(1_764_000_000_200, [2; 10]);
    phone.insert(
        account,
        itinera_core::document::new_record(
            DocumentKind::Account,
            ActorId::from([9; 16]),
            1_764_000_000_000,
        )
        .expect("account"),
    );
    let mut notes = AutoCommit::new().with_actor(ActorId::from([8; 16]));
    notes.put(ROOT, "title", "pick-up list").expect("put");
    notes.commit();
    phone.insert(generic, notes);
    phone.find(DocumentId::new_v7(1_764_000_000_300, [3; 10]));
    let (mut phone_frames, mut server_frames) = exchange(&mut phone, &mut server);
    phone.change(&account, |doc| {
        doc.put(ROOT, "name", "Harbour Tours").expect("put")
    });
    phone.change(&generic, |doc| doc.put(ROOT, "seats", 12i64).expect("put"));
    phone.broadcast_ephemeral(&generic, b"\xa1\x66cursor\x03".to_vec());
    let (more_phone, more_server) = exchange(&mut phone, &mut server);
    phone_frames.extend(more_phone);
    server_frames.extend(more_server);

    for (n, frame) in phone_frames.iter().chain(&server_frames).enumerate() {
        write(&root.join("frame"), &format!("real-{n:03}"), frame);
    }
    let mut session = vec![1u8];
    session.extend(harness::join_frames(&phone_frames));
    write(&root.join("session"), "phone-to-server", &session);
    let mut session = vec![0u8];
    session.extend(harness::join_frames(&phone_frames[1..]));
    write(&root.join("session"), "after-join", &session);
    let mut session = vec![1u8];
    session.extend(harness::join_frames(&server_frames));
    write(&root.join("session"), "server-to-phone", &session);
    for (name, bytes) in &documents {
        write(&root.join("document"), name, bytes);
    }
    let mut account_doc = phone.document(&account).expect("account").clone();
    write(
        &root.join("document"),
        "account-edited",
        &account_doc.save(),
    );
    println!(
        "seed corpus in {}: {} frames, 3 sessions, {} documents",
        root.display(),
        phone_frames.len() + server_frames.len(),
        documents.len() + 1
    );
}

#![allow(dead_code)] // each includer (a fuzz target, the test suite) uses its part
//! What the fuzz targets run, shared with the test suite (`tests/tests/fuzz_targets.rs` includes
//! this file): each function takes arbitrary bytes and must neither panic nor hang; panics are
//! the bugs.
//!
//! - [`frame`]: one WebSocket frame through the strict decoder; a frame that decodes must encode
//!   back to one that decodes to the same message.
//! - [`session`]: a sequence of frames through the server's pipeline (handshake, routing, the
//!   sync engine with the access policy's check on a fork) and through a phone's engine.
//! - [`document`]: bytes loaded as a document, then everything the server does with a loaded
//!   document: validate, describe its scope, title it, summarise it for reports.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use automerge::{ActorId, AutoCommit};
use itinera_core::DocumentId;
use itinera_core::document::Touched;
use itinera_core::engine::{
    DocumentEngine, EngineConfig, EnginePeer, Input as EngineInput, Output as EngineOutput,
    StoredDocument,
};
use itinera_core::policy::{DocumentScope, Principal, Role, check_shared_change};
use itinera_core::protocol::{DecodeLimits, Message, PeerId, PeerMetadata, StorageId, SyncData};
use itinera_core::sync::{
    AllowAll, Connection, DocSync, Handshake, Incoming, Input, Node, NodeConfig, NodeRole,
};

/// For the fuzz targets: a panic Itinera catches (automerge's, inside `load_bytes` and the sync
/// engine) is reported on one line and is not a crash; one that escapes still ends the run, as
/// libFuzzer's shim aborts on it.
pub fn report_caught_panics() {
    std::panic::set_hook(Box::new(|info| eprintln!("panic (caught?): {info}")));
}

/// Limits small enough that a fuzzer reaches them.
fn limits() -> DecodeLimits {
    DecodeLimits {
        max_frame_bytes: 64 * 1024,
        ..DecodeLimits::default()
    }
}

/// One frame through the decoder, and a decoded frame round-tripped.
pub fn frame(data: &[u8]) {
    let limits = limits();
    if let Ok(message) = Message::decode(data, &limits) {
        let encoded = message.encode();
        let again = Message::decode(&encoded, &DecodeLimits::default())
            .expect("a message re-encodes to a frame that decodes");
        assert_eq!(again, message, "a frame round-trips");
    }
}

/// Splits fuzz input into frames: each frame is a little-endian u16 length and that many bytes.
pub fn split_frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while data.len() >= 2 && frames.len() < 64 {
        let len = usize::from(u16::from_le_bytes([data[0], data[1]]));
        let rest = &data[2..];
        let take = len.min(rest.len());
        frames.push(&rest[..take]);
        data = &rest[take..];
    }
    frames
}

/// Joins frames in the layout [`split_frames`] reads (for seed corpora).
pub fn join_frames(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        let len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&frame[..usize::from(len)]);
    }
    out
}

/// A join a real client sends first; [`session`] sends it itself when the input's first byte
/// is even, so that fuzzing spends its time past the handshake.
pub fn join_frame() -> Vec<u8> {
    Message::Join {
        sender_id: PeerId::new("fuzz-phone"),
        supported_protocol_versions: Some(vec!["1".into()]),
        peer_metadata: PeerMetadata {
            storage_id: Some(StorageId::new("fuzz-storage")),
            is_ephemeral: Some(false),
        },
    }
    .encode()
}

/// A sequence of frames through the server's pipeline and a phone's engine.
pub fn session(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut frames: Vec<Vec<u8>> = split_frames(rest).into_iter().map(<[u8]>::to_vec).collect();
    if mode % 2 == 0 {
        frames.insert(0, join_frame());
    }
    server_session(&frames);
    phone_session(&frames);
}

/// What `itinera-server`'s session and document actors do with frames, in one thread: the
/// frame decoder and handshake of a session, then each document's engine, with a store that
/// makes every write durable at once.
fn server_session(frames: &[Vec<u8>]) {
    let limits = limits();
    let server = PeerId::new("itinera-server");
    let mut connection = Connection::accept(server.clone(), PeerMetadata::default());
    let principal = Arc::new(Principal::new("ana", Role::Sales));
    let mut documents: BTreeMap<DocumentId, DocumentEngine> = BTreeMap::new();
    let mut peer = None;
    for frame in frames {
        let Ok(message) = Message::decode(frame, &limits) else {
            return; // the server closes the connection
        };
        let message = match connection.receive(message) {
            Ok(Handshake::Joined { remote, .. }) => {
                peer = Some(remote);
                continue;
            }
            Ok(Handshake::Message(message)) => message,
            Ok(_) => continue,
            Err(violation) if violation.close => return,
            Err(_) => continue,
        };
        let (Some(id), Some(peer_id)) = (message.document_id().copied(), peer.clone()) else {
            continue;
        };
        if documents.len() >= 8 && !documents.contains_key(&id) {
            continue;
        }
        let engine = documents.entry(id).or_insert_with(|| {
            let config = EngineConfig::new(server.clone(), ActorId::from([9u8; 16]));
            DocumentEngine::load(config, id, StoredDocument::default())
        });
        let from = EnginePeer {
            peer_id,
            session: 1,
            principal: principal.clone(),
            storage_id: None,
        };
        engine.handle(0, EngineInput::Message { from, message });
        carry_out(engine);
    }
}

/// Carries out an engine's outputs as the server would, the store accepting every write.
fn carry_out(engine: &mut DocumentEngine) {
    loop {
        let outputs = engine.take_outputs();
        if outputs.is_empty() {
            return;
        }
        for output in outputs {
            match output {
                EngineOutput::Write { write, .. } => engine.handle(
                    0,
                    EngineInput::WriteFinished {
                        write,
                        result: Ok(()),
                    },
                ),
                EngineOutput::Send { message, .. } => {
                    let _ = message.encode();
                }
                _ => {}
            }
        }
    }
}

/// A phone's engine taking the same frames as if the server sent them.
fn phone_session(frames: &[Vec<u8>]) {
    let config = NodeConfig {
        peer_id: PeerId::new("fuzz-phone"),
        metadata: PeerMetadata::default(),
        role: NodeRole::Client,
        limits: limits(),
        session_id: "fuzz".into(),
    };
    let mut phone = Node::new(config, AllowAll);
    phone.handle(Input::Connected(1));
    for frame in frames {
        phone.handle(Input::Frame(1, frame.clone()));
        let _ = phone.take_outputs();
    }
}

/// Bytes as Itinera meets untrusted document bytes: loaded as a stored document, then what the
/// server does with one; and as the changes of a sync message, which the server applies to a
/// fork under the policy check and a phone to its copy.
pub fn document(data: &[u8]) {
    let id = DocumentId::from_bytes([7; 16]);
    if let Ok(doc) = itinera_core::document::load_bytes(data) {
        let _ = itinera_core::document::validate(&doc);
        let _ = DocumentScope::describe(&id, &doc, Some("ana"));
        let _ = itinera_core::document::title_of(&doc);
        let _ = itinera_core::reports::summarize(&id, &doc);
    }
    let sync_data = changes_message(data);
    let principal = Principal::new("ana", Role::Sales);
    let shared = BTreeSet::new();
    let check = |before: &mut AutoCommit, after: &mut AutoCommit| {
        let written = Touched::since(after, &before.get_heads());
        check_shared_change(
            &principal,
            &id,
            Some(&*before),
            after,
            Some("ana"),
            &shared,
            &written,
        )
        .map_err(|refusal| refusal.to_string())
    };
    let phone = PeerId::new("fuzz-phone");
    let mut server = DocSync::empty(PeerId::new("itinera-server"), id);
    server.add_peer(phone.clone(), itinera_core::sync::Access::Write, None);
    let _ = server.receive(
        &phone,
        Incoming::Sync(SyncData::encoded(sync_data.clone())),
        Some(&check),
    );
    let _ = server.outgoing();
    let mut on_phone = DocSync::empty(phone, id);
    let from = PeerId::new("itinera-server");
    on_phone.add_peer(from.clone(), itinera_core::sync::Access::Write, None);
    let _ = on_phone.receive(&from, Incoming::Sync(SyncData::encoded(sync_data)), None);
    let _ = on_phone.outgoing();
}

/// A sync message whose one chunk of changes is `chunk`.
pub fn changes_message(chunk: &[u8]) -> Vec<u8> {
    automerge::sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: automerge::sync::ChunkList::from(vec![chunk.to_vec()]),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode()
}

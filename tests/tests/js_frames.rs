//! Frames made by the JS automerge-repo packages decode in Rust, and Rust's frames decode in JS
//! to the same messages.

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use itinera_core::DocumentId;
use itinera_core::protocol::{DecodeLimits, Message, PeerId, PeerMetadata, RemoteHeads, StorageId};
use itinera_tests::js::{hex, node, unhex};

#[test]
fn js_frames_decode_in_rust_and_reencode_to_what_js_reads_the_same() {
    let captured = node("js/frames.mjs", &["capture"], "");
    let frames: Vec<(String, Vec<u8>)> = captured
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(direction, hex)| (direction.to_owned(), unhex(hex)))
        .collect();
    assert!(frames.len() >= 8, "too few frames captured:\n{captured}");

    let mut seen = BTreeSet::new();
    let mut originals = Vec::new();
    let mut reencoded = Vec::new();
    for (direction, frame) in &frames {
        let message = Message::decode(frame, &DecodeLimits::default()).unwrap_or_else(|err| {
            panic!("{direction} frame {} does not decode: {err}", hex(frame))
        });
        seen.insert(message.type_name());
        originals.push(hex(frame));
        reencoded.push(hex(&message.encode()));
    }
    for expected in [
        "join",
        "peer",
        "sync",
        "request",
        "doc-unavailable",
        "ephemeral",
        "remote-subscription-change",
    ] {
        assert!(
            seen.contains(expected),
            "no {expected} frame among {seen:?}"
        );
    }

    let as_js_reads_originals = node("js/frames.mjs", &["decode"], &originals.join("\n"));
    let as_js_reads_ours = node("js/frames.mjs", &["decode"], &reencoded.join("\n"));
    let theirs: Vec<&str> = as_js_reads_originals.lines().collect();
    let ours: Vec<&str> = as_js_reads_ours.lines().collect();
    assert_eq!(theirs.len(), frames.len());
    for (theirs, ours) in theirs.iter().zip(&ours) {
        assert!(
            !ours.contains("\"$error\""),
            "JS cannot decode our frame: {ours}"
        );
        assert_eq!(theirs, ours);
    }
}

#[test]
fn messages_js_did_not_send_here_decode_in_js() {
    let id = DocumentId::from_bytes([9; 16]);
    let mut heads = BTreeMap::new();
    heads.insert(
        StorageId::new("st-1"),
        RemoteHeads {
            heads: vec!["3yDT".into()],
            timestamp: 1_764_000_000_123.0,
        },
    );
    let mut doc = AutoCommit::new();
    let data = doc
        .sync()
        .generate_sync_message(&mut sync::State::new())
        .expect("message")
        .encode();
    let messages = [
        Message::RemoteHeadsChanged {
            sender_id: PeerId::new("srv"),
            target_id: PeerId::new("ph"),
            document_id: id,
            new_heads: heads,
        },
        Message::Error {
            sender_id: PeerId::new("srv"),
            target_id: Some(PeerId::new("ph")),
            message: "read-only".into(),
            document_id: Some(id),
        },
        Message::Leave {
            sender_id: PeerId::new("ph"),
        },
        Message::Peer {
            sender_id: PeerId::new("srv"),
            target_id: PeerId::new("ph"),
            peer_metadata: PeerMetadata {
                storage_id: Some(StorageId::new("st-1")),
                is_ephemeral: Some(false),
            },
            selected_protocol_version: "1".into(),
        },
        Message::Sync {
            sender_id: PeerId::new("srv"),
            target_id: PeerId::new("ph"),
            document_id: id,
            data: itinera_core::protocol::SyncData::encoded(data.clone()),
        },
    ];
    let frames: Vec<String> = messages.iter().map(|m| hex(&m.encode())).collect();
    let decoded = node("js/frames.mjs", &["decode"], &frames.join("\n"));
    let lines: Vec<&str> = decoded.lines().collect();
    let id_text = id.to_string();
    assert_eq!(
        lines[0],
        format!(
            r#"{{"documentId":"{id_text}","newHeads":{{"st-1":{{"heads":["3yDT"],"timestamp":1764000000123}}}},"senderId":"srv","targetId":"ph","type":"remote-heads-changed"}}"#
        )
    );
    assert_eq!(
        lines[1],
        format!(
            r#"{{"documentId":"{id_text}","message":"read-only","senderId":"srv","targetId":"ph","type":"error"}}"#
        )
    );
    assert_eq!(lines[2], r#"{"senderId":"ph","type":"leave"}"#);
    assert_eq!(
        lines[3],
        r#"{"peerMetadata":{"isEphemeral":false,"storageId":"st-1"},"selectedProtocolVersion":"1","senderId":"srv","targetId":"ph","type":"peer"}"#
    );
    assert_eq!(
        lines[4],
        format!(
            r#"{{"data":{{"$bytes":"{}"}},"documentId":"{id_text}","senderId":"srv","targetId":"ph","type":"sync"}}"#,
            hex(&data)
        )
    );
}

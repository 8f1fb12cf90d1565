//! Bad frames give a typed error and never a panic; good frames survive a round trip.

use std::collections::BTreeMap;

use automerge::sync::SyncDoc;
use automerge::{AutoCommit, sync};
use itinera_core::DocumentId;
use itinera_core::protocol::{
    DecodeLimits, FrameError, Message, PeerId, PeerMetadata, RemoteHeads, StorageId, SyncData,
};
use proptest::prelude::*;

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

fn sync_data() -> SyncData {
    let mut doc = AutoCommit::new();
    let mut state = sync::State::new();
    SyncData::encoded(
        doc.sync()
            .generate_sync_message(&mut state)
            .expect("a first message")
            .encode(),
    )
}

/// Encodes a CBOR map of text keys to CBOR items given as raw bytes.
fn cbor_map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0xa0 | entries.len() as u8];
    for (key, value) in entries {
        out.extend(cbor_text(key));
        out.extend(value);
    }
    out
}

fn cbor_text(text: &str) -> Vec<u8> {
    assert!(text.len() < 256);
    let mut out = if text.len() < 24 {
        vec![0x60 | text.len() as u8]
    } else {
        vec![0x78, text.len() as u8]
    };
    out.extend_from_slice(text.as_bytes());
    out
}

fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    assert!(bytes.len() < 256);
    let mut out = vec![0x58, bytes.len() as u8];
    out.extend_from_slice(bytes);
    out
}

fn every_message() -> Vec<Message> {
    let id = DocumentId::from_bytes([9; 16]);
    let (me, you) = (PeerId::new("server-1"), PeerId::new("phone-7"));
    let metadata = PeerMetadata {
        storage_id: Some(StorageId::new("st-1")),
        is_ephemeral: Some(false),
    };
    let mut heads = BTreeMap::new();
    heads.insert(
        StorageId::new("st-1"),
        RemoteHeads {
            heads: vec!["abc".into()],
            timestamp: 1_764_000_000_123.0,
        },
    );
    vec![
        Message::Join {
            sender_id: you.clone(),
            peer_metadata: metadata.clone(),
            supported_protocol_versions: Some(vec!["1".into()]),
        },
        Message::Peer {
            sender_id: me.clone(),
            target_id: you.clone(),
            peer_metadata: metadata,
            selected_protocol_version: "1".into(),
        },
        Message::Leave {
            sender_id: you.clone(),
        },
        Message::Error {
            sender_id: me.clone(),
            target_id: Some(you.clone()),
            message: "read-only".into(),
            document_id: Some(id),
        },
        Message::Request {
            sender_id: you.clone(),
            target_id: me.clone(),
            document_id: id,
            data: sync_data(),
        },
        Message::Sync {
            sender_id: me.clone(),
            target_id: you.clone(),
            document_id: id,
            data: sync_data(),
        },
        Message::DocUnavailable {
            sender_id: me.clone(),
            target_id: you.clone(),
            document_id: id,
        },
        Message::Ephemeral {
            sender_id: you.clone(),
            target_id: me.clone(),
            document_id: id,
            count: 12,
            session_id: "s".into(),
            data: vec![1, 2, 3],
        },
        Message::RemoteSubscriptionChange {
            sender_id: you.clone(),
            target_id: me.clone(),
            add: vec![StorageId::new("a")],
            remove: vec![],
        },
        Message::RemoteHeadsChanged {
            sender_id: me,
            target_id: you,
            document_id: id,
            new_heads: heads,
        },
    ]
}

#[test]
fn every_message_type_round_trips() {
    for message in every_message() {
        let frame = message.encode();
        assert_eq!(
            Message::decode(&frame, &limits()),
            Ok(message.clone()),
            "{}",
            message.type_name()
        );
    }
}

#[test]
fn counts_and_timestamps_sent_as_floats_are_accepted() {
    let id = DocumentId::from_bytes([9; 16]).to_string();
    let mut count = vec![0xfb];
    count.extend_from_slice(&12.0f64.to_be_bytes());
    let frame = cbor_map(&[
        ("type", cbor_text("ephemeral")),
        ("senderId", cbor_text("a")),
        ("targetId", cbor_text("b")),
        ("count", count),
        ("sessionId", cbor_text("s")),
        ("documentId", cbor_text(&id)),
        ("data", cbor_bytes(&[1])),
    ]);
    assert!(matches!(
        Message::decode(&frame, &limits()),
        Ok(Message::Ephemeral { count: 12, .. })
    ));
}

#[test]
fn a_cbor_array_is_not_a_message() {
    assert_eq!(
        Message::decode(&[0x82, 0x01, 0x02], &limits()),
        Err(FrameError::NotAMap("an array"))
    );
}

#[test]
fn a_field_of_the_wrong_type_is_named() {
    let frame = cbor_map(&[("type", cbor_text("join")), ("senderId", vec![0x05])]);
    assert_eq!(
        Message::decode(&frame, &limits()),
        Err(FrameError::WrongFieldType {
            message_type: "join",
            field: "senderId",
            expected: "a text string",
            found: "an integer"
        })
    );
}

#[test]
fn a_missing_field_and_an_unknown_type_are_named() {
    let frame = cbor_map(&[("type", cbor_text("sync")), ("senderId", cbor_text("a"))]);
    assert_eq!(
        Message::decode(&frame, &limits()),
        Err(FrameError::MissingField {
            message_type: "sync",
            field: "targetId"
        })
    );
    let frame = cbor_map(&[
        ("type", cbor_text("teleport")),
        ("senderId", cbor_text("a")),
    ]);
    assert_eq!(
        Message::decode(&frame, &limits()),
        Err(FrameError::UnknownType("teleport".into()))
    );
    assert_eq!(
        Message::decode(&cbor_map(&[("senderId", cbor_text("a"))]), &limits()),
        Err(FrameError::MissingType)
    );
}

#[test]
fn an_oversize_frame_is_refused_before_decoding() {
    let small = DecodeLimits {
        max_frame_bytes: 64,
        ..DecodeLimits::default()
    };
    let frame = Message::Sync {
        sender_id: PeerId::new("a"),
        target_id: PeerId::new("b"),
        document_id: DocumentId::from_bytes([1; 16]),
        data: sync_data(),
    }
    .encode();
    assert_eq!(
        Message::decode(&frame, &small),
        Err(FrameError::TooLarge {
            size: frame.len(),
            max: 64
        })
    );
}

#[test]
fn sync_data_that_is_not_a_sync_message_is_refused() {
    let id = DocumentId::from_bytes([1; 16]).to_string();
    let frame = cbor_map(&[
        ("type", cbor_text("sync")),
        ("senderId", cbor_text("a")),
        ("targetId", cbor_text("b")),
        ("documentId", cbor_text(&id)),
        ("data", cbor_bytes(b"hello, not automerge")),
    ]);
    assert!(matches!(
        Message::decode(&frame, &limits()),
        Err(FrameError::NotASyncMessage {
            message_type: "sync",
            ..
        })
    ));
}

#[test]
fn a_document_id_that_is_not_bs58check_is_refused() {
    let frame = cbor_map(&[
        ("type", cbor_text("doc-unavailable")),
        ("senderId", cbor_text("a")),
        ("targetId", cbor_text("b")),
        ("documentId", cbor_text("not-an-id")),
    ]);
    assert!(matches!(
        Message::decode(&frame, &limits()),
        Err(FrameError::InvalidDocumentId { .. })
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let mut frame = cbor_map(&[("type", cbor_text("join")), ("senderId", cbor_text("a"))]);
    frame[0] += 1;
    frame.extend(cbor_text("peerMetadata"));
    frame.extend(std::iter::repeat_n(0xa1u8, 50).flat_map(|m| [m, 0x61, b'k']));
    frame.push(0x00);
    assert_eq!(
        Message::decode(&frame, &limits()),
        Err(FrameError::TooDeep {
            max: limits().max_depth
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn random_bytes_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Message::decode(&frame, &limits());
    }

    #[test]
    fn mutated_real_frames_never_panic(
        which in 0usize..10,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut frame = every_message()[which].encode();
        for (at, value) in flips {
            let at = at.index(frame.len());
            frame[at] = value;
        }
        frame.truncate(cut.index(frame.len() + 1));
        let _ = Message::decode(&frame, &limits());
    }
}

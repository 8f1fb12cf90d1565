//! Hostile input over real connections, one table: each row sends something a broken or
//! malicious client could send and states the server's answer. Meanwhile a bystander writes
//! and has every change acknowledged; afterwards nothing stored changed: the attacked documents
//! read the same and the store holds only the bystander's document more.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use futures_util::{SinkExt, StreamExt};
use itinera_core::model::Account;
use itinera_core::protocol::{DecodeLimits, Message, PeerId, PeerMetadata, StorageId};
use itinera_core::{Document, DocumentId};
use itinera_tests::device::Device;
use itinera_tests::server::{DataDir, TestServer, cli, user_with_token};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, http::HeaderValue};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(20);
const MAX_FRAME: usize = 64 * 1024;
const SERVER: &str = "itinera-server";

/// What the server did with a row's input.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// An `error` message saying this, then the connection closed.
    ErrorThenClose(&'static str),
    /// An `error` message saying this; the connection stays open and keeps working.
    ErrorStaysOpen(&'static str),
    /// The connection closed without a protocol answer (the WebSocket layer refused it).
    Closed,
    /// This many `doc-unavailable` answers, and the connection stays open.
    Unavailable(usize),
    /// This many ephemeral messages reached another reader of the document, no error.
    Relayed(usize),
    /// A `peer` message again (a client that missed the first may join again).
    PeerAgain,
}

/// A WebSocket client that sends whatever it is told.
struct Raw {
    runtime: tokio::runtime::Runtime,
    socket: Option<Socket>,
    received: Vec<Message>,
    closed: bool,
}

impl Raw {
    fn connect(url: &str, token: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "Authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_frame_size(Some(16 * 1024 * 1024))
            .max_message_size(Some(16 * 1024 * 1024));
        let (socket, _) = runtime
            .block_on(tokio_tungstenite::connect_async_with_config(
                request,
                Some(config),
                false,
            ))
            .expect("upgrade");
        Self {
            runtime,
            socket: Some(socket),
            received: Vec::new(),
            closed: false,
        }
    }

    /// Connects and joins as `peer`, waiting for the server's `peer` answer.
    fn joined(url: &str, token: &str, peer: &str) -> Self {
        let mut raw = Self::connect(url, token);
        raw.send(join(peer, "1"));
        assert!(
            raw.read_until(WAIT, |raw| raw
                .received
                .iter()
                .any(|m| matches!(m, Message::Peer { .. }))),
            "no peer answer"
        );
        raw.received.clear();
        raw
    }

    fn send_frame(&mut self, frame: tungstenite::Message) {
        if let Some(socket) = self.socket.as_mut() {
            let _ = self.runtime.block_on(socket.send(frame));
        }
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.send_frame(tungstenite::Message::Binary(bytes.into()));
    }

    /// Sends many frames with one flush.
    fn send_all(&mut self, frames: impl IntoIterator<Item = Vec<u8>>) {
        if let Some(socket) = self.socket.as_mut() {
            self.runtime.block_on(async {
                for frame in frames {
                    socket
                        .feed(tungstenite::Message::Binary(frame.into()))
                        .await
                        .expect("feed");
                }
                socket.flush().await.expect("flush");
            });
        }
    }

    /// Reads until `done` holds, the connection closes, or `timeout` passes.
    fn read_until(&mut self, timeout: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while !done(self) && !self.closed {
            let Some(wait) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            let Some(socket) = self.socket.as_mut() else {
                break;
            };
            match self
                .runtime
                .block_on(async { tokio::time::timeout(wait, socket.next()).await })
            {
                Ok(Some(Ok(tungstenite::Message::Binary(bytes)))) => {
                    let message = Message::decode(&bytes, &DecodeLimits::default())
                        .expect("the server sends only well-formed frames");
                    self.received.push(message);
                }
                Ok(Some(Ok(tungstenite::Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    self.closed = true;
                }
                Ok(Some(Ok(_))) => {}
                Err(_) => break,
            }
        }
        done(self)
    }

    fn errors(&self) -> Vec<&str> {
        self.received
            .iter()
            .filter_map(|m| match m {
                Message::Error { message, .. } => Some(message.as_str()),
                _ => None,
            })
            .collect()
    }

    fn count(&self, kind: &str) -> usize {
        self.received
            .iter()
            .filter(|m| m.type_name() == kind)
            .count()
    }

    /// Whether the connection still answers: a request for a document nobody has gets its
    /// `doc-unavailable`.
    fn still_answers(&mut self, peer: &str) -> bool {
        let before = self.count("doc-unavailable");
        let probe = DocumentId::new_v7(1_700_000_000_000, [0xee; 10]);
        self.send(request(peer, probe));
        self.read_until(WAIT, |raw| raw.count("doc-unavailable") > before)
    }

    /// What the server did, in the terms of [`Answer`].
    fn answer(mut self, peer: &str) -> Answer {
        self.read_until(WAIT, |raw| {
            !raw.errors().is_empty() || raw.count("peer") > 0
        });
        let first_error = self.errors().first().map(|e| (*e).to_owned());
        match first_error {
            Some(error) => {
                // Closed, or still open? Ask it something.
                if self.still_answers(peer) {
                    Answer::ErrorStaysOpen(leak(error))
                } else {
                    assert!(self.closed, "neither answers nor closes after {error:?}");
                    Answer::ErrorThenClose(leak(error))
                }
            }
            None if self.closed => Answer::Closed,
            None if self.count("peer") > 0 => Answer::PeerAgain,
            None => panic!("no answer at all: {:?}", self.received),
        }
    }
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn join(peer: &str, version: &str) -> Vec<u8> {
    Message::Join {
        sender_id: PeerId::new(peer),
        peer_metadata: PeerMetadata {
            storage_id: Some(StorageId::new(format!("{peer}-storage"))),
            is_ephemeral: Some(false),
        },
        supported_protocol_versions: Some(vec![version.to_owned()]),
    }
    .encode()
}

/// The sync message of a peer that has nothing of the document.
fn empty_sync_data() -> Vec<u8> {
    let mut doc = AutoCommit::new();
    let mut state = automerge::sync::State::new();
    automerge::sync::SyncDoc::generate_sync_message(&doc.sync(), &mut state)
        .expect("a first sync message")
        .encode()
}

fn request(peer: &str, id: DocumentId) -> Vec<u8> {
    Message::Request {
        sender_id: PeerId::new(peer),
        target_id: PeerId::new(SERVER),
        document_id: id,
        data: itinera_core::protocol::SyncData::encoded(empty_sync_data()),
    }
    .encode()
}

/// A sync message from a peer holding one change the server lacks, whose `have` filter says
/// 1 entry, 0 bits per entry, 7 probes (automerge divides by the bit count when it reads it).
fn bloom_without_bits() -> Vec<u8> {
    let mut doc = AutoCommit::new().with_actor(ActorId::from([0x66; 16]));
    doc.put(ROOT, "poison", true).expect("put");
    doc.commit();
    let mut state = automerge::sync::State::new();
    let honest = automerge::sync::SyncDoc::generate_sync_message(&doc.sync(), &mut state)
        .expect("a sync message")
        .encode();
    // The filter of one change: length 5, then entries 1, 10 bits each, 7 probes, 2 bytes.
    let at = honest
        .windows(4)
        .position(|window| window == [5, 1, 10, 7])
        .expect("the have filter is in the message");
    let mut poisoned = honest[..at].to_vec();
    poisoned.extend([3, 1, 0, 7]);
    poisoned.extend(&honest[at + 6..]);
    poisoned
}

fn sync(peer: &str, id: DocumentId, data: Vec<u8>) -> Vec<u8> {
    Message::Sync {
        sender_id: PeerId::new(peer),
        target_id: PeerId::new(SERVER),
        document_id: id,
        data: itinera_core::protocol::SyncData::encoded(data),
    }
    .encode()
}

fn ephemeral(peer: &str, id: DocumentId, count: u64) -> Vec<u8> {
    Message::Ephemeral {
        sender_id: PeerId::new(peer),
        target_id: PeerId::new(SERVER),
        document_id: id,
        count,
        session_id: format!("{peer}-session"),
        data: vec![0xa1, 0x61, b'x', 0x01],
    }
    .encode()
}

fn doc_id(n: u8) -> DocumentId {
    DocumentId::new_v7(1_764_300_000_000 + u64::from(n), [n; 10])
}

/// A frame whose document id has one character changed, so its bs58check checksum fails.
fn with_bad_checksum(id: DocumentId, frame: Vec<u8>) -> Vec<u8> {
    let text = id.to_string();
    let at = frame
        .windows(text.len())
        .position(|window| window == text.as_bytes())
        .expect("the id is in the frame");
    let mut frame = frame;
    let last = at + text.len() - 1;
    frame[last] = if frame[last] == b'2' { b'3' } else { b'2' };
    frame
}

/// The document as the server holds it; it must be there.
fn stored(server: &TestServer, token: &str, id: &DocumentId) -> serde_json::Value {
    let (status, view) = server.document(token, id);
    assert_eq!(status, 200, "{view}");
    view
}

/// The documents of the store other than the server's own per-user indexes (which appear as
/// users first connect), as `itinera-server check --list` lists them; the check must be clean.
fn documents_in_store(data: &DataDir) -> Vec<String> {
    let report = cli(data, &["check", "--list"]);
    assert!(report.contains(", 0 broken"), "{report}");
    report
        .lines()
        .skip(1)
        .filter(|line| !line.contains(" index "))
        .map(|line| line.trim().to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Reads from a plain TCP connection until the server closes it; whether it did in `timeout`.
fn closed_by_server(mut stream: TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buffer = [0u8; 4096];
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {} // pings, the close frame
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn hostile_input_gets_its_answer_and_changes_nothing() {
    let data = DataDir::new("bad-input");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ben = user_with_token(&data, "ben", "sales", &[]);
    let flags = [
        "--max-frame-bytes",
        "65536",
        "--ping-interval-ms",
        "300",
        "--client-timeout-ms",
        "1500",
    ];

    // Ben's account and a shared notes document, written while nobody misbehaves.
    let mut server = TestServer::start(&data, &flags);
    let account_id = doc_id(1);
    let notes_id = doc_id(2);
    let account = Account {
        name: "Harbour Tours".into(),
        owner: "ben".into(),
        territory: "north".into(),
        ..Default::default()
    };
    let mut bens_phone = Device::connect(&server.sync_url(), &ben, "bens-phone").expect("ben");
    bens_phone.node.insert(
        account_id,
        Document::create(ActorId::from([2; 16]), 0, &account)
            .expect("account")
            .into_automerge(),
    );
    assert!(bens_phone.run_until(WAIT, |d| d.acknowledged(&account_id)));
    let mut bystander = Device::connect(&server.sync_url(), &olga, "bystander").expect("olga");
    let mut notes = AutoCommit::new().with_actor(ActorId::from([3; 16]));
    notes.put(ROOT, "title", "Pick-up list").expect("put");
    notes.commit();
    bystander.node.insert(notes_id, notes);
    assert!(bystander.run_until(WAIT, |d| d.acknowledged(&notes_id)));
    bystander.disconnect();
    bens_phone.disconnect();
    server.terminate();
    let documents_before = documents_in_store(&data);

    let server = TestServer::start(&data, &flags);
    let url = server.sync_url();
    let account_before = stored(&server, &olga, &account_id);
    let notes_before = stored(&server, &olga, &notes_id);
    // The bystander writes to a document of its own, one acknowledged change after another,
    // for as long as the table runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bystander = {
        let (url, olga, stop) = (url.clone(), olga.clone(), stop.clone());
        std::thread::spawn(move || {
            let own = doc_id(3);
            let mut device = Device::connect(&url, &olga, "bystander").expect("olga");
            let mut doc = AutoCommit::new().with_actor(ActorId::from([4; 16]));
            doc.put(ROOT, "tick", 0i64).expect("put");
            doc.commit();
            device.node.insert(own, doc);
            let (mut acknowledged, mut missed) = (0u32, 0u32);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                device.node.change(&own, |doc| {
                    doc.put(ROOT, "tick", i64::from(acknowledged + missed + 1))
                        .expect("put")
                });
                if device.run_until(WAIT, |d| d.acknowledged(&own)) {
                    acknowledged += 1;
                } else {
                    missed += 1;
                }
            }
            (acknowledged, missed, device.closed)
        })
    };

    let mut rows: Vec<(&str, Answer, Answer)> = Vec::new();
    let mut check = |input: &'static str, expected: Answer, got: Answer| {
        rows.push((input, expected, got));
    };

    // Frames that are not protocol messages at all.
    let mut raw = Raw::connect(&url, &olga);
    raw.send(b"\xff\x00\x13 garbage, not CBOR".to_vec());
    check(
        "garbage bytes",
        Answer::ErrorThenClose("bad frame"),
        raw.answer("p"),
    );

    let mut raw = Raw::connect(&url, &olga);
    raw.send_frame(tungstenite::Message::Text(r#"{"type":"join"}"#.into()));
    check(
        "a text frame",
        Answer::ErrorThenClose("text frames"),
        raw.answer("p"),
    );

    let mut raw = Raw::connect(&url, &olga);
    raw.send(vec![0x83, 0x01, 0x02, 0x03]);
    check(
        "a CBOR array",
        Answer::ErrorThenClose("bad frame"),
        raw.answer("p"),
    );

    let mut raw = Raw::connect(&url, &olga);
    raw.send(b"\xa1\x64type\x64sync".to_vec());
    check(
        "a sync message without its fields",
        Answer::ErrorThenClose("bad frame"),
        raw.answer("p"),
    );

    let mut raw = Raw::connect(&url, &olga);
    let mut nested = b"\xa2\x64type\x64join\x61x".to_vec();
    nested.extend(std::iter::repeat_n(0x81u8, 2_000));
    nested.push(0x00);
    raw.send(nested);
    check(
        "2,000 nested arrays",
        Answer::ErrorThenClose("bad frame"),
        raw.answer("p"),
    );

    let mut raw = Raw::joined(&url, &olga, "big");
    raw.send(sync("big", notes_id, vec![0u8; MAX_FRAME + 1]));
    check(
        "a frame over the size limit",
        Answer::Closed,
        raw.answer("big"),
    );

    // The handshake.
    let mut raw = Raw::connect(&url, &olga);
    raw.send(join("p", "99"));
    check(
        "a join offering only version 99",
        Answer::ErrorThenClose("unsupported protocol version"),
        raw.answer("p"),
    );

    let mut raw = Raw::connect(&url, &olga);
    raw.send(sync("p", notes_id, empty_sync_data()));
    check(
        "sync before join",
        Answer::ErrorThenClose("sync before join"),
        raw.answer("p"),
    );

    let mut raw = Raw::joined(&url, &olga, "twice");
    raw.send(join("twice", "1"));
    check(
        "a second join as the same peer",
        Answer::PeerAgain,
        raw.answer("twice"),
    );

    let mut raw = Raw::joined(&url, &olga, "first");
    raw.send(join("someone-else", "1"));
    check(
        "a second join as another peer",
        Answer::ErrorThenClose("second join"),
        raw.answer("first"),
    );

    let mut raw = Raw::joined(&url, &olga, "spoof");
    raw.send(sync("not-me", notes_id, empty_sync_data()));
    check(
        "a message with another sender id",
        Answer::ErrorStaysOpen("on a connection joined as spoof"),
        raw.answer("spoof"),
    );

    // Documents.
    let mut raw = Raw::joined(&url, &olga, "junk");
    raw.send(sync(
        "junk",
        notes_id,
        b"not an automerge sync message".to_vec(),
    ));
    check(
        "sync data that is not a sync message",
        Answer::ErrorThenClose("not an Automerge sync message"),
        raw.answer("junk"),
    );

    let mut raw = Raw::joined(&url, &olga, "badid");
    raw.send(with_bad_checksum(notes_id, request("badid", notes_id)));
    check(
        "a document id that is not bs58check",
        Answer::ErrorThenClose("bad frame"),
        raw.answer("badid"),
    );

    // The input a fuzzer found that made automerge divide by zero (a Bloom filter with entries
    // but no bits), replayed over a real connection.
    let crasher = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/crashers/session/bloom-filter-without-bits"),
    )
    .expect("the kept crasher");
    let mut frames: Vec<Vec<u8>> = harness::split_frames(&crasher[1..])
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    if crasher[0] % 2 == 0 {
        frames.insert(0, harness::join_frame());
    }
    // Up to the poisoned frame only: the frames after it are the fuzzer's noise.
    let poisoned = frames
        .iter()
        .position(|frame| {
            Message::decode(frame, &DecodeLimits::default())
                .is_err_and(|err| err.to_string().contains("Bloom filter"))
        })
        .expect("the crasher holds the poisoned frame");
    frames.truncate(poisoned + 1);
    let joined_as = match Message::decode(&frames[0], &DecodeLimits::default()) {
        Ok(Message::Join { sender_id, .. }) => sender_id.to_string(),
        other => panic!("the crasher does not start with a join: {other:?}"),
    };
    // The join first, answered; then the rest.
    let mut raw = Raw::connect(&url, &olga);
    raw.send(frames.remove(0));
    assert!(raw.read_until(WAIT, |raw| raw.count("peer") > 0));
    raw.received.clear();
    raw.send_all(frames);
    check(
        "a sync message whose Bloom filter has entries but no bits",
        Answer::ErrorThenClose("Bloom filter"),
        raw.answer(&joined_as),
    );

    // The same poison built by hand, for a document the server holds (so that answering it
    // reads the filter): a peer's `have` claims one change in a filter of zero bits per entry.
    let mut raw = Raw::joined(&url, &olga, "poison");
    raw.send(request("poison", notes_id));
    assert!(raw.read_until(WAIT, |raw| raw.count("sync") > 0));
    raw.send(sync("poison", notes_id, bloom_without_bits()));
    check(
        "a sync message claiming changes in a Bloom filter of no bits",
        Answer::ErrorThenClose("Bloom filter"),
        raw.answer("poison"),
    );

    // The chunk a fuzzer found that makes automerge unwrap a failed decode (a bundle, which
    // Itinera refuses before automerge reads it), sent as changes to a document the server holds.
    let chunk = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/crashers/document/bundle-chunk-with-bad-delta-column"),
    )
    .expect("the kept crasher");
    let mut raw = Raw::joined(&url, &olga, "chunk");
    raw.send(sync("chunk", notes_id, harness::changes_message(&chunk)));
    check(
        "changes in a bundle chunk automerge panics on while reading it",
        Answer::ErrorThenClose("a bundle chunk, which Itinera does not accept"),
        raw.answer("chunk"),
    );

    // A deflate bomb: a compressed change of 32 kB that inflates to 32 MiB, which automerge
    // would inflate whole before reading it. (This server takes frames of 64 KiB, so one may
    // inflate to 512 KiB; with the default 32 MiB frames, 256 MiB.)
    let mut raw = Raw::joined(&url, &olga, "bomb");
    raw.send(sync(
        "bomb",
        notes_id,
        harness::changes_message(&compressed_change_of_zeros(32 << 20)),
    ));
    check(
        "a compressed change of 32 kB that inflates to 32 MiB",
        Answer::ErrorThenClose("inflates to more than 512 KiB"),
        raw.answer("bomb"),
    );

    // A change that breaks the account's schema (a number where the name is text), from its
    // owner.
    let mut phone = Device::connect(&url, &ben, "bens-phone").expect("ben");
    phone.node.find(account_id);
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&account_id)));
    phone.node.change(&account_id, |doc| {
        doc.put(ROOT, "name", 42i64).expect("put")
    });
    phone.run_until(WAIT, |d| !d.errors.is_empty());
    check(
        "a change with an invalid schema",
        Answer::ErrorStaysOpen("changes rejected: account document is malformed at /name"),
        match phone.errors.first() {
            Some(error) if !phone.closed => Answer::ErrorStaysOpen(leak(error.clone())),
            Some(error) => Answer::ErrorThenClose(leak(error.clone())),
            None => Answer::Closed,
        },
    );
    phone.disconnect();

    // Ana holds a copy of Ben's account (from before it was his) and edits it.
    let copy = Device::connect(&url, &olga, "olgas-laptop")
        .map(|mut laptop| {
            laptop.node.find(account_id);
            assert!(laptop.run_until(WAIT, |d| d.acknowledged(&account_id)));
            laptop.node.document(&account_id).expect("account").clone()
        })
        .expect("olga");
    let mut anas_phone = Device::connect(&url, &ana, "anas-phone").expect("ana");
    let mut copy = copy.with_actor(ActorId::from([9; 16]));
    copy.put(ROOT, "name", "Ana's now").expect("put");
    copy.commit();
    anas_phone.node.insert(account_id, copy);
    anas_phone.run_until(WAIT, |d| !d.errors.is_empty());
    check(
        "a change to another user's document",
        Answer::ErrorStaysOpen("may not"),
        match anas_phone.errors.first() {
            Some(error) if !anas_phone.closed => Answer::ErrorStaysOpen(leak(error.clone())),
            Some(error) => Answer::ErrorThenClose(leak(error.clone())),
            None => Answer::Closed,
        },
    );
    anas_phone.disconnect();

    // Volume.
    let mut raw = Raw::joined(&url, &olga, "many");
    let unknown: Vec<DocumentId> = (0..10_000u32)
        .map(|n| {
            let bytes = n.to_be_bytes();
            DocumentId::new_v7(
                1_600_000_000_000 + u64::from(n),
                [bytes[0], bytes[1], bytes[2], bytes[3], 1, 2, 3, 4, 5, 6],
            )
        })
        .collect();
    raw.send_all(unknown.iter().map(|id| request("many", *id)));
    raw.read_until(Duration::from_secs(120), |raw| {
        raw.count("doc-unavailable") >= unknown.len()
    });
    let answered = raw.count("doc-unavailable");
    let open = !raw.closed && raw.still_answers("many");
    check(
        "10,000 requests for unknown documents",
        Answer::Unavailable(10_000),
        if open {
            Answer::Unavailable(answered)
        } else {
            Answer::Closed
        },
    );

    let mut listener = Raw::joined(&url, &olga, "listener");
    listener.send(request("listener", notes_id));
    listener.read_until(WAIT, |raw| raw.count("sync") > 0);
    let mut flooder = Raw::joined(&url, &olga, "flooder");
    flooder.send(request("flooder", notes_id));
    flooder.read_until(WAIT, |raw| raw.count("sync") > 0);
    // 2,000 messages: counts 1 to 1,000, each sent twice.
    flooder.send_all((1..=1_000u64).flat_map(|count| {
        [
            ephemeral("flooder", notes_id, count),
            ephemeral("flooder", notes_id, count),
        ]
    }));
    listener.read_until(WAIT, |raw| raw.count("ephemeral") >= 1_000);
    // Anything beyond 1,000 would be a duplicate: give it the time a round trip takes.
    assert!(flooder.still_answers("flooder"));
    listener.read_until(Duration::from_millis(200), |raw| {
        raw.count("ephemeral") > 1_000
    });
    check(
        "2,000 ephemeral messages, each count twice",
        Answer::Relayed(1_000),
        if flooder.errors().is_empty() {
            Answer::Relayed(listener.count("ephemeral"))
        } else {
            Answer::ErrorStaysOpen(leak(flooder.errors()[0].to_owned()))
        },
    );

    // Connections that do nothing.
    let idle = Raw::connect(&url, &olga);
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut upgraded = TcpStream::connect(&address).expect("tcp");
    write!(
        upgraded,
        "GET /sync HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {olga}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("upgrade request");
    check(
        "a WebSocket opened and never used",
        Answer::Closed,
        if closed_by_server(upgraded, Duration::from_secs(15)) {
            Answer::Closed
        } else {
            Answer::Unavailable(0)
        },
    );
    drop(idle);
    let silent = TcpStream::connect(&address).expect("tcp");
    check(
        "a TCP connection that never sends a request",
        Answer::Closed,
        if closed_by_server(silent, Duration::from_secs(15)) {
            Answer::Closed
        } else {
            Answer::Unavailable(0)
        },
    );

    // Every row answered as expected (errors compared by the words they must contain).
    let mut table = String::from("| input | expected | answer |\n|---|---|---|\n");
    let mut wrong = Vec::new();
    for (input, expected, got) in &rows {
        let matches = match (expected, got) {
            (Answer::ErrorThenClose(want), Answer::ErrorThenClose(have))
            | (Answer::ErrorStaysOpen(want), Answer::ErrorStaysOpen(have)) => have.contains(want),
            _ => expected == got,
        };
        table.push_str(&format!("| {input} | {expected:?} | {got:?} |\n"));
        if !matches {
            wrong.push(format!("{input}: expected {expected:?}, got {got:?}"));
        }
    }
    eprintln!("{table}");
    assert!(
        wrong.is_empty(),
        "rows answered wrongly:\n{}",
        wrong.join("\n")
    );
    assert_eq!(rows.len(), 23);

    // The bystander synced throughout, and nothing stored changed.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acknowledged, missed, closed) = bystander.join().expect("bystander");
    assert!(
        acknowledged >= 10 && missed == 0 && !closed,
        "the bystander: {acknowledged} changes acknowledged, {missed} not, closed: {closed}"
    );
    eprintln!("the bystander wrote {acknowledged} acknowledged changes meanwhile");
    assert_eq!(stored(&server, &olga, &account_id), account_before);
    assert_eq!(stored(&server, &olga, &notes_id), notes_before);
    let mut server = server;
    server.terminate();
    // The bystander's document is the one more the store holds.
    let mut expected = documents_before;
    expected.push(format!("{} generic olga", doc_id(3)));
    expected.sort();
    assert_eq!(documents_in_store(&data), expected);
}

/// A compressed change chunk whose body is `size` zero bytes, deflated (about a thousandth of
/// that on the wire).
fn compressed_change_of_zeros(size: usize) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..size / zeros.len() {
        encoder.write_all(&zeros).expect("deflate");
    }
    let body = encoder.finish().expect("deflate");
    assert!(body.len() < MAX_FRAME / 2, "{} bytes deflated", body.len());
    // The magic bytes, a checksum (read only after inflating), chunk type 2, the length.
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut length = body.len();
    while length >= 0x80 {
        chunk.push((length & 0x7f) as u8 | 0x80);
        length >>= 7;
    }
    chunk.push(length as u8);
    chunk.extend(body);
    chunk
}

//! Two engines joined by an in-memory pipe converge on many documents, including documents only
//! one side had; ephemeral messages arrive once.

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use common::{Rng, Sim, doc_id};
use itinera_core::protocol::{Message, PeerId, SyncData};
use itinera_core::sync::{Access, DocSync, Incoming, Input, NodeRole};

fn doc_with(actor: u8, key: &str, value: i64) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(ActorId::from([actor; 16]));
    doc.put(ROOT, key, value).expect("put");
    doc.commit();
    doc
}

#[test]
fn a_client_and_a_server_converge_on_documents_either_side_had() {
    let mut rng = Rng::new(7);
    let mut sim = Sim::new();
    let server = sim.add("server", NodeRole::Server);
    let phone = sim.add("phone", NodeRole::Client);

    // 30 documents only the server has stored, 30 only the phone has, 10 both had and changed
    // apart.
    for n in 0..30u8 {
        sim.stores[server].insert(doc_id(n), doc_with(1, "from_server", i64::from(n)));
        sim.nodes[phone].insert(doc_id(100 + n), doc_with(2, "from_phone", i64::from(n)));
    }
    for n in 200..210u8 {
        let mut common = doc_with(3, "shared", 0);
        let mut on_phone = common.fork().with_actor(ActorId::from([2; 16]));
        on_phone.put(ROOT, "phone_edit", i64::from(n)).expect("put");
        common.put(ROOT, "server_edit", i64::from(n)).expect("put");
        sim.stores[server].insert(doc_id(n), common);
        sim.nodes[phone].insert(doc_id(n), on_phone);
    }
    sim.connect(phone, server);
    for n in 0..30u8 {
        sim.input(phone, Input::Frame(0, Vec::new())); // a frame on an unknown connection is ignored
        sim.nodes[phone].find(doc_id(n));
        sim.collect(phone);
    }
    sim.run_until_quiet(&mut rng);

    for n in (0..30u8).chain(100..130).chain(200..210) {
        let on_phone = sim.heads(phone, &doc_id(n));
        let on_server = sim.heads(server, &doc_id(n));
        assert!(on_phone.is_some(), "phone lacks document {n}");
        assert_eq!(on_phone, on_server, "document {n} differs");
    }
    for n in 200..210u8 {
        let doc = sim.stores[server].get(&doc_id(n)).expect("stored");
        assert!(doc.get(ROOT, "phone_edit").expect("get").is_some());
        assert!(doc.get(ROOT, "server_edit").expect("get").is_some());
    }
    assert!(sim.observed[phone].unavailable.is_empty());
    assert!(
        sim.observed[phone].protocol_errors.is_empty(),
        "{:?}",
        sim.observed[phone].protocol_errors
    );
}

#[test]
fn a_document_nobody_has_is_reported_unavailable() {
    let mut rng = Rng::new(8);
    let mut sim = Sim::new();
    let server = sim.add("server", NodeRole::Server);
    let phone = sim.add("phone", NodeRole::Client);
    sim.connect(phone, server);
    sim.nodes[phone].find(doc_id(42));
    sim.collect(phone);
    sim.run_until_quiet(&mut rng);
    assert_eq!(sim.observed[phone].unavailable, [doc_id(42)]);
    assert!(sim.heads(phone, &doc_id(42)).is_none());
}

#[test]
fn a_request_waits_for_a_document_another_peer_is_uploading() {
    let mut sim = Sim::new();
    let server = sim.add("server", NodeRole::Server);
    let creator = sim.add("creator", NodeRole::Client);
    let reader = sim.add("reader", NodeRole::Client);
    let up = sim.connect(creator, server);
    let down = sim.connect(reader, server);
    let mut rng = Rng::new(9);
    sim.run_until_quiet(&mut rng);

    // The creator's first sync message reaches the server; the reader's request arrives before
    // the changes do.
    sim.nodes[creator].insert(doc_id(5), doc_with(4, "title", 1));
    sim.collect(creator);
    sim.nodes[reader].find(doc_id(5));
    sim.collect(reader);
    assert!(sim.deliver(up, true), "creator's first message");
    assert!(sim.deliver(down, true), "reader's request");
    sim.run_until_quiet(&mut rng);

    assert!(
        sim.observed[reader].unavailable.is_empty(),
        "reader was told it does not exist"
    );
    assert_eq!(
        sim.heads(reader, &doc_id(5)),
        sim.heads(creator, &doc_id(5))
    );
}

#[test]
fn ephemeral_messages_arrive_once() {
    let mut rng = Rng::new(10);
    let mut sim = Sim::new();
    let server = sim.add("server", NodeRole::Server);
    let alice = sim.add("alice", NodeRole::Client);
    let bob = sim.add("bob", NodeRole::Client);
    let alice_link = sim.connect(alice, server);
    sim.connect(bob, server);
    sim.nodes[alice].insert(doc_id(1), doc_with(5, "title", 1));
    sim.collect(alice);
    sim.run_until_quiet(&mut rng);
    sim.nodes[bob].find(doc_id(1));
    sim.collect(bob);
    sim.run_until_quiet(&mut rng);

    sim.nodes[alice].broadcast_ephemeral(&doc_id(1), b"cursor at 4".to_vec());
    sim.collect(alice);
    // The same frame arrives at the server twice (a retransmission): relayed once.
    let frame = sim.links[alice_link]
        .to_hub
        .front()
        .cloned()
        .expect("ephemeral in flight");
    sim.links[alice_link].to_hub.push_back(frame);
    sim.run_until_quiet(&mut rng);

    assert_eq!(sim.observed[bob].ephemeral.len(), 1);
    let (document, sender, data) = &sim.observed[bob].ephemeral[0];
    assert_eq!(
        (document, sender.as_str(), data.as_slice()),
        (&doc_id(1), "alice", &b"cursor at 4"[..])
    );
    assert_eq!(sim.observed[server].ephemeral.len(), 1);
    assert!(
        sim.observed[alice].ephemeral.is_empty(),
        "not echoed to its sender"
    );
}

/// Exchanges messages between two engines until both fall silent.
fn exchange(phone: &mut DocSync, server: &mut DocSync) {
    for _ in 0..20 {
        let to_server = phone.outgoing();
        let to_phone = server.outgoing();
        if to_server.is_empty() && to_phone.is_empty() {
            return;
        }
        for message in to_server {
            if let Message::Sync { data, .. } | Message::Request { data, .. } = message {
                server
                    .receive(&PeerId::new("phone"), Incoming::Sync(data), None)
                    .expect("server receives");
            }
        }
        for message in to_phone {
            if let Message::Sync { data, .. } = message {
                phone
                    .receive(&PeerId::new("server"), Incoming::Sync(data), None)
                    .expect("phone receives");
            }
        }
    }
    panic!("the engines never fell silent");
}

#[test]
fn a_server_that_rewinds_after_a_failed_write_is_sent_the_dropped_change_again() {
    let id = doc_id(9);
    let mut server = DocSync::new(PeerId::new("server"), id, doc_with(1, "base", 1));
    let mut phone = DocSync::empty(PeerId::new("phone"), id);
    phone.want();
    server.add_peer(PeerId::new("phone"), Access::Write, None);
    phone.add_peer(PeerId::new("server"), Access::Write, None);
    exchange(&mut phone, &mut server);
    let stored = server.heads();
    assert_eq!(phone.heads(), stored);

    phone.document_mut().put(ROOT, "edit", 2i64).expect("put");
    phone.document_mut().commit();
    exchange(&mut phone, &mut server);
    assert_eq!(server.heads(), phone.heads(), "the change arrived");

    // The store refused the write: back to what is stored, and the phone is asked again.
    server.rewind(&stored).expect("rewind");
    assert_eq!(server.heads(), stored);
    assert!(server.document().get(ROOT, "edit").expect("get").is_none());
    exchange(&mut phone, &mut server);
    assert_eq!(
        server.heads(),
        phone.heads(),
        "the phone sent its change again"
    );
    assert!(server.document().get(ROOT, "edit").expect("get").is_some());
}

/// Delivers every message in `out` (from the hub) to its target among `phones`, and returns
/// what the phones answer.
fn deliver(out: Vec<Message>, phones: &mut [(PeerId, DocSync)]) -> Vec<(PeerId, SyncData)> {
    let mut answers = Vec::new();
    for message in out {
        let (Message::Sync {
            target_id, data, ..
        }
        | Message::Request {
            target_id, data, ..
        }) = message
        else {
            continue;
        };
        let (_, phone) = phones
            .iter_mut()
            .find(|(peer, _)| *peer == target_id)
            .expect("a message for a known phone");
        phone
            .receive(&PeerId::new("server"), Incoming::Sync(data), None)
            .expect("phone receives");
        for answer in phone.outgoing() {
            if let Message::Sync { data, .. } | Message::Request { data, .. } = answer {
                answers.push((target_id.clone(), data));
            }
        }
    }
    answers
}

#[test]
fn a_change_to_a_shared_document_is_generated_once_and_acknowledgements_not_at_all() {
    const PHONES: usize = 40;
    let id = doc_id(10);
    let mut server = DocSync::new(PeerId::new("server"), id, doc_with(1, "base", 1));
    let mut phones: Vec<(PeerId, DocSync)> = (0..PHONES)
        .map(|n| {
            let peer = PeerId::new(format!("phone-{n}"));
            let mut phone = DocSync::empty(peer.clone(), id);
            phone.want();
            phone.add_peer(PeerId::new("server"), Access::Write, None);
            server.add_peer(peer.clone(), Access::Write, None);
            (peer, phone)
        })
        .collect();

    // Every phone fetches the document and the conversation dies down.
    let mut answers: Vec<(PeerId, SyncData)> = Vec::new();
    for (peer, phone) in &mut phones {
        for message in phone.outgoing() {
            if let Message::Request { data, .. } | Message::Sync { data, .. } = message {
                answers.push((peer.clone(), data));
            }
        }
    }
    for _ in 0..20 {
        for (peer, data) in std::mem::take(&mut answers) {
            server
                .receive(&peer, Incoming::Sync(data), None)
                .expect("server receives");
        }
        let out = server.outgoing();
        answers = deliver(out, &mut phones);
        if answers.is_empty() {
            break;
        }
    }
    assert!(answers.is_empty(), "the fetch settled");
    for (_, phone) in &mut phones {
        assert_eq!(phone.heads(), server.heads());
    }

    // One change on the server reaches every phone; each answers on its own, and the server
    // takes each answer and flushes, as the doc actor does.
    server.document_mut().put(ROOT, "edit", 2i64).expect("put");
    server.document_mut().commit();
    let before = server.generations();
    let out = server.outgoing();
    assert_eq!(out.len(), PHONES, "the change goes to every phone");
    let answers = deliver(out, &mut phones);
    assert_eq!(answers.len(), PHONES, "every phone acknowledges");
    for (peer, data) in answers {
        server
            .receive(&peer, Incoming::Sync(data), None)
            .expect("server receives");
        assert!(
            server.outgoing().is_empty(),
            "an acknowledgement needs no answer"
        );
    }
    let generated = server.generations() - before;
    assert_eq!(
        generated, 1,
        "one generation for the change (every phone is in the same state) and none for the acknowledgements (each phone is caught up)"
    );
    for (_, phone) in &mut phones {
        assert_eq!(phone.heads(), server.heads());
    }
}

/// The one sync message in `out`.
fn only_message(out: Vec<Message>) -> SyncData {
    assert_eq!(out.len(), 1, "one message: {out:?}");
    let Some(Message::Sync { data, .. }) = out.into_iter().next() else {
        panic!("a sync message");
    };
    data
}

/// A server that holds back unacknowledged peers and a phone that synced with it.
fn holding_server_and_phone(n: u8) -> (DocSync, DocSync) {
    let id = doc_id(n);
    let mut server = DocSync::new(PeerId::new("server"), id, doc_with(1, "seats", 0));
    server.hold_unacknowledged();
    let mut phone = DocSync::empty(PeerId::new("phone"), id);
    phone.want();
    phone.add_peer(PeerId::new("server"), Access::Write, None);
    server.add_peer(PeerId::new("phone"), Access::Write, None);
    exchange(&mut phone, &mut server);
    (server, phone)
}

fn server_edit(server: &mut DocSync, value: i64) {
    server
        .document_mut()
        .put(ROOT, "seats", value)
        .expect("put");
    server.document_mut().commit();
}

#[test]
fn changes_made_while_a_peer_has_not_acknowledged_go_to_it_together_once_it_does() {
    let (mut server, mut phone) = holding_server_and_phone(11);
    assert_eq!(phone.heads(), server.heads());

    server_edit(&mut server, 1);
    let first = only_message(server.outgoing());
    // Two more changes before the phone answered: it is sent nothing yet.
    server_edit(&mut server, 2);
    assert!(server.outgoing().is_empty(), "held until it answers");
    server_edit(&mut server, 3);
    assert!(server.outgoing().is_empty(), "held until it answers");
    assert!(server.is_holding());

    phone
        .receive(&PeerId::new("server"), Incoming::Sync(first), None)
        .expect("phone receives");
    for answer in phone.outgoing() {
        if let Message::Sync { data, .. } = answer {
            server
                .receive(&PeerId::new("phone"), Incoming::Sync(data), None)
                .expect("server receives");
        }
    }
    let both = only_message(server.outgoing());
    assert!(!server.is_holding());
    phone
        .receive(&PeerId::new("server"), Incoming::Sync(both), None)
        .expect("phone receives");
    assert_eq!(
        phone.heads(),
        server.heads(),
        "the two held changes came in one message"
    );
}

#[test]
fn a_held_peer_that_never_answers_is_sent_its_changes_on_release() {
    let (mut server, mut phone) = holding_server_and_phone(12);

    server_edit(&mut server, 1);
    let unanswered = only_message(server.outgoing());
    // The phone takes the change in but, unlike an automerge peer, never answers.
    phone
        .receive(&PeerId::new("server"), Incoming::Sync(unanswered), None)
        .expect("phone receives");
    server_edit(&mut server, 2);
    assert!(server.outgoing().is_empty(), "held until it answers");
    server.release_held();
    let data = only_message(server.outgoing());
    assert!(!server.is_holding());
    phone
        .receive(&PeerId::new("server"), Incoming::Sync(data), None)
        .expect("phone receives");
    assert_eq!(phone.heads(), server.heads());
}

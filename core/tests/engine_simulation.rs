//! A seeded simulation of the server's document engine: phones editing one document offline and
//! online, a store whose writes finish late, fail or are lost when the server crashes, peers that
//! disconnect and come back with their stored sync states. Whatever the order, no phone is ever
//! sent a message whose heads or changes the store does not hold (nothing is acknowledged or
//! relayed before it is durable), and once the faults stop every phone and the store converge.
//!
//! A failing seed is printed; replay it with `ITINERA_SIM_SEED=<seed> cargo test -p itinera-core
//! --test engine_simulation`.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT, ReadDoc};
use common::{Rng, doc_id};
use itinera_core::DocumentId;
use itinera_core::engine::{
    CompactionPolicy, DocumentEngine, EngineConfig, EnginePeer, Input, Output, StoredDocument,
    StoredSize, WriteFailed, WriteId,
};
use itinera_core::policy::{Principal, Role};
use itinera_core::protocol::{Message, PeerId, StorageId};
use itinera_core::store::{WriteBatch, WriteOp};
use itinera_core::sync::{Access, DocSync, Incoming};

const PHONES: usize = 3;
const STEPS: usize = 600;

/// When the fake store answers a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreHonesty {
    /// Only once the batch is stored (what the server's store writer does).
    AfterStoring,
    /// At once, storing the batch later (the mutation the simulation must catch: a change
    /// acknowledged before its write finished).
    BeforeStoring,
}

/// What the store holds durably.
#[derive(Debug, Default, Clone)]
struct Durable {
    chunks: Vec<Vec<u8>>,
    creator: Option<String>,
    sync_states: BTreeMap<String, Vec<u8>>,
    size: StoredSize,
}

impl Durable {
    fn apply(&mut self, batch: WriteBatch) {
        for op in batch.into_operations() {
            match op {
                WriteOp::AppendChanges { changes, meta, .. } => {
                    self.size = self.size.appended(changes.len());
                    self.chunks.push(changes);
                    self.creator = meta.creator;
                }
                WriteOp::PutSnapshot { snapshot, meta, .. } => {
                    self.size = StoredSize::folded(snapshot.len());
                    self.chunks = vec![snapshot];
                    self.creator = meta.creator;
                }
                WriteOp::UpdateMeta { meta, .. } => self.creator = meta.creator,
                WriteOp::PutSyncState {
                    storage_id, state, ..
                } => {
                    self.sync_states.insert(storage_id, state);
                }
                WriteOp::DeleteDocument { .. } => *self = Durable::default(),
                WriteOp::PutValue { .. }
                | WriteOp::DeleteValue { .. }
                | WriteOp::ReplaceValue { .. } => {}
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        self.chunks.concat()
    }

    /// Every change hash the store holds.
    fn hashes(&self) -> BTreeSet<ChangeHash> {
        if self.chunks.is_empty() {
            return BTreeSet::new();
        }
        let mut doc = itinera_core::document::load_bytes(&self.bytes()).expect("the store loads");
        doc.get_changes(&[])
            .iter()
            .map(|change| change.hash())
            .collect()
    }
}

struct Phone {
    peer: PeerId,
    sync: DocSync,
    /// The session it is connected on, if it is.
    session: Option<u64>,
    inbox: VecDeque<Message>,
}

/// A write handed to the store, which commits them in order (as the store writer does).
enum Queued {
    /// The engine waits for its answer.
    Answered(WriteId, WriteBatch),
    /// Nobody waits (sync states, snapshots), or the answer was already given (a lying store).
    Unanswered(WriteBatch),
}

struct World {
    rng: Rng,
    honesty: StoreHonesty,
    id: DocumentId,
    engine: DocumentEngine,
    durable: Durable,
    /// Writes the engine asked for, in the order the store commits them.
    writes: VecDeque<Queued>,
    to_server: VecDeque<(usize, u64, Message)>,
    phones: Vec<Phone>,
    principal: Arc<Principal>,
    next_session: u64,
    now: i64,
    wake_at: Option<i64>,
    edits: i64,
    violations: Vec<String>,
}

fn config() -> EngineConfig {
    EngineConfig {
        compaction: CompactionPolicy {
            after_chunks: 5,
            ..CompactionPolicy::default()
        },
        ..EngineConfig::new(PeerId::new("server"), ActorId::from([0xee; 16]))
    }
}

impl World {
    fn new(seed: u64, honesty: StoreHonesty) -> Self {
        let id = doc_id(1);
        let phones = (0..PHONES)
            .map(|n| {
                let peer = PeerId::new(format!("phone-{n}"));
                let doc = if n == 0 {
                    let mut doc = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
                    doc.put(ROOT, "created_by", 0i64).expect("put");
                    doc.commit();
                    doc
                } else {
                    AutoCommit::new().with_actor(ActorId::from([n as u8 + 1; 16]))
                };
                let mut sync = DocSync::new(peer.clone(), id, doc);
                if n != 0 {
                    sync.want();
                }
                Phone {
                    peer,
                    sync,
                    session: None,
                    inbox: VecDeque::new(),
                }
            })
            .collect();
        Self {
            rng: Rng::new(seed),
            honesty,
            id,
            engine: DocumentEngine::load(config(), id, StoredDocument::default()),
            durable: Durable::default(),
            writes: VecDeque::new(),
            to_server: VecDeque::new(),
            phones,
            principal: Arc::new(Principal::new("ana", Role::Admin)),
            next_session: 1,
            now: 1_000,
            wake_at: None,
            edits: 0,
            violations: Vec::new(),
        }
    }

    fn engine_peer(&self, phone: usize, session: u64) -> EnginePeer {
        let peer = &self.phones[phone].peer;
        EnginePeer {
            peer_id: peer.clone(),
            session,
            principal: self.principal.clone(),
            storage_id: Some(StorageId::new(format!("{peer}-storage"))),
        }
    }

    fn input(&mut self, input: Input) {
        self.engine.handle(self.now, input);
        self.collect();
    }

    /// Takes the engine's outputs; checks every message to a phone against what is stored.
    fn collect(&mut self) {
        for output in self.engine.take_outputs() {
            match output {
                Output::Write { write, batch } => match self.honesty {
                    StoreHonesty::AfterStoring => {
                        self.writes.push_back(Queued::Answered(write, batch));
                    }
                    StoreHonesty::BeforeStoring => {
                        self.writes.push_back(Queued::Unanswered(batch));
                        self.engine.handle(
                            self.now,
                            Input::WriteFinished {
                                write,
                                result: Ok(()),
                            },
                        );
                        self.collect();
                    }
                },
                Output::WriteDetached { batch } => self.writes.push_back(Queued::Unanswered(batch)),
                Output::Send {
                    to,
                    session,
                    message,
                } => {
                    self.check_durable(&to, &message);
                    if let Some(phone) = self
                        .phones
                        .iter_mut()
                        .find(|phone| phone.peer == to && phone.session == Some(session))
                    {
                        phone.inbox.push_back(message);
                    }
                }
                Output::WakeAt(at) => self.wake_at = Some(at),
                Output::Committed(_)
                | Output::EditDone { .. }
                | Output::Rejected { .. }
                | Output::PeerPending { .. } => {}
            }
        }
    }

    /// The invariant: a message the server sends reveals only what the store holds.
    fn check_durable(&mut self, to: &PeerId, message: &Message) {
        let (Message::Sync { data, .. } | Message::Request { data, .. }) = message else {
            return;
        };
        let Ok(sync) = data.clone().into_message() else {
            self.violations.push(format!("undecodable message to {to}"));
            return;
        };
        let stored = self.durable.hashes();
        for head in &sync.heads {
            if !stored.contains(head) {
                self.violations.push(format!(
                    "{to} was told the server has {head}, which the store does not hold"
                ));
            }
        }
        for change in sync.changes.iter() {
            let Ok(change) = automerge::Change::try_from(change) else {
                continue;
            };
            if !stored.contains(&change.hash()) {
                self.violations.push(format!(
                    "{to} was sent change {}, which the store does not hold",
                    change.hash()
                ));
            }
        }
    }

    fn connect(&mut self, phone: usize) {
        let session = self.next_session;
        self.next_session += 1;
        let peer = self.engine_peer(phone, session);
        let stored_state = peer
            .storage_id
            .as_ref()
            .and_then(|storage| self.durable.sync_states.get(storage.as_str()).cloned());
        let server = PeerId::new("server");
        let p = &mut self.phones[phone];
        p.session = Some(session);
        p.sync.remove_peer(&server);
        p.sync.add_peer(server, Access::Write, None);
        self.input(Input::PeerJoined { peer, stored_state });
    }

    fn disconnect(&mut self, phone: usize) {
        let Some(session) = self.phones[phone].session.take() else {
            return;
        };
        self.phones[phone].inbox.clear();
        self.to_server
            .retain(|(p, s, _)| !(*p == phone && *s == session));
        let peer = self.phones[phone].peer.clone();
        self.input(Input::PeerLeft { peer, session });
    }

    /// The server dies: what was not stored is gone, every connection with it.
    fn crash(&mut self) {
        self.writes.clear();
        self.to_server.clear();
        self.wake_at = None;
        for phone in &mut self.phones {
            phone.session = None;
            phone.inbox.clear();
        }
        let stored = StoredDocument {
            bytes: Ok((!self.durable.chunks.is_empty()).then(|| self.durable.bytes())),
            creator: self.durable.creator.clone(),
            shared_with: BTreeSet::new(),
            size: self.durable.size,
        };
        self.engine = DocumentEngine::load(config(), self.id, stored);
    }

    fn phone_sends(&mut self, phone: usize) {
        let Some(session) = self.phones[phone].session else {
            return;
        };
        for message in self.phones[phone].sync.outgoing() {
            self.to_server.push_back((phone, session, message));
        }
    }

    fn edit(&mut self, phone: usize) {
        self.edits += 1;
        let key = format!("k{}", self.rng.below(4));
        let value = self.edits;
        let sync = &mut self.phones[phone].sync;
        if sync.is_present() {
            sync.document_mut()
                .put(ROOT, key.as_str(), value)
                .expect("put");
            sync.document_mut().commit();
        }
    }

    fn deliver_to_server(&mut self) {
        let Some((phone, session, message)) = self.to_server.pop_front() else {
            return;
        };
        let from = self.engine_peer(phone, session);
        self.input(Input::Message { from, message });
    }

    fn deliver_to_phone(&mut self, phone: usize) {
        let Some(message) = self.phones[phone].inbox.pop_front() else {
            return;
        };
        let server = PeerId::new("server");
        if let Some(incoming) = Incoming::from_message(message) {
            // A phone keeps what it has whatever the server says; errors are the server's.
            let _ = self.phones[phone].sync.receive(&server, incoming, None);
        }
        self.phone_sends(phone);
    }

    /// The store commits the oldest write it was given; `fail` makes it fail (a full disk).
    fn finish_write(&mut self, fail: bool) {
        match self.writes.pop_front() {
            None => {}
            Some(Queued::Unanswered(batch)) if !fail => self.durable.apply(batch),
            Some(Queued::Unanswered(_)) => {}
            Some(Queued::Answered(write, batch)) => {
                let result = if fail {
                    Err(WriteFailed("no space left on device".into()))
                } else {
                    self.durable.apply(batch);
                    Ok(())
                };
                self.input(Input::WriteFinished { write, result });
            }
        }
    }

    fn tick(&mut self) {
        self.now += 500;
        if self.wake_at.is_some_and(|at| at <= self.now) {
            self.wake_at = None;
            self.input(Input::Tick);
        }
    }

    fn step(&mut self) {
        let phone = self.rng.below(PHONES);
        match self.rng.below(20) {
            0..=2 => {
                self.edit(phone);
                self.phone_sends(phone);
            }
            3..=6 => self.deliver_to_server(),
            7..=10 => self.deliver_to_phone(phone),
            11..=14 => {
                let fail = self.rng.chance(20);
                self.finish_write(fail);
            }
            15 => self.tick(),
            16 => {
                if self.phones[phone].session.is_some() {
                    self.disconnect(phone);
                } else {
                    self.connect(phone);
                    self.phone_sends(phone);
                }
            }
            17 if self.rng.chance(15) => self.crash(),
            _ => {
                if self.phones[phone].session.is_none() {
                    self.connect(phone);
                    self.phone_sends(phone);
                }
            }
        }
    }

    /// Faults stop: everyone connects, every write succeeds, messages flow until quiet.
    fn settle(&mut self) -> Result<(), String> {
        for phone in 0..PHONES {
            if self.phones[phone].session.is_none() {
                self.connect(phone);
            }
            self.phone_sends(phone);
        }
        for _ in 0..10_000 {
            let busy = !self.to_server.is_empty()
                || !self.writes.is_empty()
                || self.phones.iter().any(|phone| !phone.inbox.is_empty());
            if !busy {
                if self.wake_at.is_some() {
                    self.now += 1_000;
                    self.tick();
                    continue;
                }
                return Ok(());
            }
            self.deliver_to_server();
            self.finish_write(false);
            for phone in 0..PHONES {
                self.deliver_to_phone(phone);
            }
        }
        Err("the simulation never fell quiet".into())
    }
}

fn run(seed: u64, honesty: StoreHonesty) -> Result<(), String> {
    let mut world = World::new(seed, honesty);
    for phone in 0..PHONES {
        world.connect(phone);
        world.phone_sends(phone);
    }
    for _ in 0..STEPS {
        world.step();
        if let Some(violation) = world.violations.first() {
            return Err(violation.clone());
        }
    }
    world.settle()?;
    if let Some(violation) = world.violations.first() {
        return Err(violation.clone());
    }
    let stored = world.durable.hashes();
    for phone in &mut world.phones {
        let mut doc = phone.sync.document().clone();
        let held: BTreeSet<ChangeHash> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
        if held != stored {
            return Err(format!(
                "{} holds {} changes, the store {}",
                phone.peer,
                held.len(),
                stored.len()
            ));
        }
    }
    let mut loaded =
        itinera_core::document::load_bytes(&world.durable.bytes()).map_err(|e| e.to_string())?;
    if loaded
        .get(ROOT, "created_by")
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err("the store lost the document".into());
    }
    let _ = loaded.get_heads();
    Ok(())
}

fn seeds() -> Vec<u64> {
    match std::env::var("ITINERA_SIM_SEED") {
        Ok(seed) => vec![seed.parse().expect("ITINERA_SIM_SEED is a number")],
        Err(_) => (1..=40).collect(),
    }
}

#[test]
fn nothing_unstored_is_ever_acknowledged_and_everyone_converges() {
    for seed in seeds() {
        if let Err(err) = run(seed, StoreHonesty::AfterStoring) {
            panic!("seed {seed}: {err}");
        }
    }
}

/// The check above can fail: with a store that answers before it stores, the engine
/// acknowledges changes before their write finished, and the simulation says so.
#[test]
fn acknowledging_before_the_write_finishes_is_caught() {
    let caught = seeds()
        .into_iter()
        .filter(|seed| {
            run(*seed, StoreHonesty::BeforeStoring)
                .is_err_and(|err| err.contains("which the store does not hold"))
        })
        .count();
    assert!(
        caught > 0,
        "no seed caught an acknowledgement before the write finished"
    );
}

impl World {
    /// No faults at all: phones edit and exchange messages, writes finish late but always.
    fn calm_step(&mut self) {
        let phone = self.rng.below(PHONES);
        match self.rng.below(12) {
            0..=2 => {
                self.edit(phone);
                self.phone_sends(phone);
            }
            3..=5 => self.deliver_to_server(),
            6..=8 => self.deliver_to_phone(phone),
            _ => self.finish_write(false),
        }
    }

    /// Delivers everything in flight, with no phone sending on its own: what is owed must
    /// arrive as answers.
    fn drain_quietly(&mut self) -> Result<(), String> {
        for _ in 0..10_000 {
            let busy = !self.to_server.is_empty()
                || !self.writes.is_empty()
                || self.phones.iter().any(|phone| !phone.inbox.is_empty());
            if !busy {
                return Ok(());
            }
            self.deliver_to_server();
            self.finish_write(false);
            for phone in 0..PHONES {
                self.deliver_to_phone(phone);
            }
        }
        Err("never fell quiet".into())
    }
}

/// Without faults, every phone learns that the server holds its changes without having to
/// send anything more: nothing owed to a phone is left unsent.
#[test]
fn without_faults_every_phone_hears_its_changes_acknowledged() {
    for seed in seeds().into_iter().take(8) {
        let mut world = World::new(seed, StoreHonesty::AfterStoring);
        for phone in 0..PHONES {
            world.connect(phone);
            world.phone_sends(phone);
        }
        for _ in 0..STEPS {
            world.calm_step();
        }
        world
            .drain_quietly()
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let stored = world.durable.hashes();
        for phone in &mut world.phones {
            let heads = phone.sync.heads();
            let told = phone
                .sync
                .sync_state(&PeerId::new("server"))
                .and_then(|state| state.their_heads.clone())
                .unwrap_or_default();
            assert!(
                heads
                    .iter()
                    .all(|head| stored.contains(head) && told.contains(head)),
                "seed {seed}: {} holds heads the server never confirmed (told {told:?}, holds {heads:?})",
                phone.peer
            );
        }
    }
}

/// A phone's changes and its "I have your heads" arrive together while an earlier write is in
/// flight: automerge counts the heads the phone says it shares as sent to it, though they are
/// not stored yet; once they are, the phone must still be told, or it waits for an
/// acknowledgement forever.
#[test]
fn heads_a_phone_shares_before_they_are_stored_are_still_acknowledged() {
    let id = doc_id(9);
    let server = PeerId::new("server");
    let mut engine = DocumentEngine::load(config(), id, StoredDocument::default());
    let phone = EnginePeer {
        peer_id: PeerId::new("phone"),
        session: 1,
        principal: Arc::new(Principal::new("ana", Role::Admin)),
        storage_id: None,
    };
    engine.handle(
        1_000,
        Input::PeerJoined {
            peer: phone.clone(),
            stored_state: None,
        },
    );
    let mut doc = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
    doc.put(ROOT, "created_by", 0i64).expect("put");
    doc.commit();
    let mut device = DocSync::new(PeerId::new("phone"), id, doc);
    device.add_peer(server.clone(), Access::Write, None);

    // Runs the exchange until quiet, finishing every write at once; returns the writes left
    // unfinished when `hold` is set (the first one), and what the phone was told.
    let mut now = 1_000;
    let mut exchange = |engine: &mut DocumentEngine, device: &mut DocSync, hold: bool| {
        let mut held = None;
        let mut told = Vec::new();
        for _ in 0..100 {
            let mut quiet = true;
            for message in device.outgoing() {
                quiet = false;
                now += 1;
                engine.handle(
                    now,
                    Input::Message {
                        from: phone.clone(),
                        message,
                    },
                );
            }
            for output in engine.take_outputs() {
                match output {
                    Output::Write { write, .. } if hold && held.is_none() => held = Some(write),
                    Output::Write { write, .. } => {
                        quiet = false;
                        now += 1;
                        engine.handle(
                            now,
                            Input::WriteFinished {
                                write,
                                result: Ok(()),
                            },
                        );
                    }
                    Output::Send { message, .. } => {
                        quiet = false;
                        if let Message::Sync { data, .. } = &message {
                            if let Ok(sync) = data.clone().into_message() {
                                told.push(sync.heads);
                            }
                        }
                        if let Some(incoming) = Incoming::from_message(message) {
                            let _ = device.receive(&server, incoming, None);
                        }
                    }
                    _ => {}
                }
            }
            if quiet {
                break;
            }
        }
        (held, told)
    };
    exchange(&mut engine, &mut device, false);
    assert_eq!(engine.take_outputs().len(), 0);

    // A change, whose write the store holds back.
    device.document_mut().put(ROOT, "k", 1i64).expect("put");
    device.document_mut().commit();
    let (held, _) = exchange(&mut engine, &mut device, true);
    let held = held.expect("the change is written");
    // Meanwhile a second change and a message saying the phone has it arrive.
    device.document_mut().put(ROOT, "k", 2i64).expect("put");
    device.document_mut().commit();
    for message in device.outgoing() {
        engine.handle(
            2_000,
            Input::Message {
                from: phone.clone(),
                message,
            },
        );
    }
    let heads = device.heads();
    let i_have = automerge::sync::Message {
        heads: heads.clone(),
        need: Vec::new(),
        have: Vec::new(),
        changes: Vec::<Vec<u8>>::new().into(),
        version: automerge::sync::MessageVersion::V1,
        flags: None,
    };
    let i_have = Message::sync_or_request(
        false,
        PeerId::new("phone"),
        server.clone(),
        id,
        itinera_core::protocol::SyncData::encoded(i_have.encode()),
    );
    engine.handle(
        2_001,
        Input::Message {
            from: phone.clone(),
            message: i_have,
        },
    );
    engine.handle(
        2_002,
        Input::WriteFinished {
            write: held,
            result: Ok(()),
        },
    );
    let (_, told) = exchange(&mut engine, &mut device, false);
    assert!(
        told.contains(&heads),
        "the phone was never told the server stored {heads:?} (told {told:?})"
    );
}

/// A phone asking for a stored document it lacks gets it in one message: the server's answer
/// waits until the phone's request is read (joining and the request arrive together), and the
/// phone's acknowledgement calls for nothing more.
#[test]
fn a_stored_document_reaches_a_phone_that_asks_in_one_message() {
    let id = doc_id(11);
    let server = PeerId::new("server");
    let mut stored = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
    stored.put(ROOT, "name", "Lakeside Schools").expect("put");
    stored.commit();
    let stored_document = StoredDocument {
        bytes: Ok(Some(stored.save())),
        ..StoredDocument::default()
    };
    let mut engine = DocumentEngine::load(config(), id, stored_document);
    let phone = EnginePeer {
        peer_id: PeerId::new("phone"),
        session: 1,
        principal: Arc::new(Principal::new("ana", Role::Admin)),
        storage_id: None,
    };
    let mut device = DocSync::empty(PeerId::new("phone"), id);
    device.add_peer(server.clone(), Access::Write, None);
    device.want();
    let mut request = device.outgoing();
    assert_eq!(request.len(), 1, "the phone asks once");
    engine.handle_together(
        1_000,
        [
            Input::PeerJoined {
                peer: phone.clone(),
                stored_state: None,
            },
            Input::Message {
                from: phone.clone(),
                message: request.remove(0),
            },
        ],
    );
    let sent: Vec<Message> = engine
        .take_outputs()
        .into_iter()
        .filter_map(|output| match output {
            Output::Send { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1, "one answer: {sent:?}");
    for message in sent {
        let incoming = Incoming::from_message(message).expect("a sync message");
        device.receive(&server, incoming, None).expect("taken in");
    }
    assert_eq!(
        device.heads(),
        stored.get_heads(),
        "the answer held the document"
    );
    for message in device.outgoing() {
        engine.handle(
            1_001,
            Input::Message {
                from: phone.clone(),
                message,
            },
        );
    }
    let more: Vec<Output> = engine
        .take_outputs()
        .into_iter()
        .filter(|output| matches!(output, Output::Send { .. }))
        .collect();
    assert!(more.is_empty(), "nothing more to say: {more:?}");
}

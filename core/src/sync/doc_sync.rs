use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, ChangeHash};

use super::{Access, SyncError};
use crate::DocumentId;
use crate::protocol::{Message, PeerId, SyncData};

/// What we know of a peer's copy of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerStatus {
    /// Nothing heard yet.
    Unknown,
    /// The peer has the document (it sent heads).
    Has,
    /// The peer asked for the document and has none.
    Wants,
    /// The peer said it does not have the document, or was told we do not.
    Unavailable,
}

/// A message about one document from one peer, as the engine needs it.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// `request`: a sync message from a peer that lacks the document.
    Request(SyncData),
    /// `sync`: a sync message.
    Sync(SyncData),
    /// `doc-unavailable`.
    Unavailable,
}

impl Incoming {
    /// The engine's view of a protocol message; `None` for messages that are not about syncing
    /// a document's content (ephemeral data, errors, handshakes).
    pub fn from_message(message: Message) -> Option<Self> {
        match message {
            Message::Request { data, .. } => Some(Self::Request(data)),
            Message::Sync { data, .. } => Some(Self::Sync(data)),
            Message::DocUnavailable { .. } => Some(Self::Unavailable),
            _ => None,
        }
    }
}

/// The outcome of a message that was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Whether the document took in new changes: the caller persists them, then calls
    /// [`DocSync::outgoing`] so the change is acknowledged only once it is durable.
    pub changed: bool,
    /// The heads after the message.
    pub heads: Vec<ChangeHash>,
}

/// A check of changes before they are accepted: `(before, after)` → `Err(reason)` to refuse.
pub type ChangeCheck<'a> = &'a dyn Fn(&mut AutoCommit, &mut AutoCommit) -> Result<(), String>;

#[derive(Debug)]
struct PeerState {
    sync: sync::State,
    status: PeerStatus,
    access: Access,
    /// Whether we told the peer we do not have the document (so we say it once).
    told_unavailable: bool,
}

impl PeerState {
    fn new(sync: sync::State, access: Access) -> Self {
        Self {
            sync,
            status: PeerStatus::Unknown,
            access,
            told_unavailable: false,
        }
    }
}

/// One document and the sync state of every peer that shares it.
///
/// Sans-IO: messages go in through [`DocSync::receive`], messages to send come out of
/// [`DocSync::outgoing`], and the caller decides when to call it (the server calls it after
/// the store has made received changes durable).
///
/// ```
/// use automerge::{AutoCommit, transaction::Transactable};
/// use itinera_core::DocumentId;
/// use itinera_core::protocol::{Message, PeerId};
/// use itinera_core::sync::{Access, DocSync, Incoming};
///
/// let id = DocumentId::from_bytes([7; 16]);
/// let mut doc = AutoCommit::new();
/// doc.put(automerge::ROOT, "title", "Danube bend, 3 days")?;
/// let mut phone = DocSync::new(PeerId::new("phone"), id, doc);
/// let mut server = DocSync::empty(PeerId::new("server"), id);
/// phone.add_peer(PeerId::new("server"), Access::Write, None);
/// server.add_peer(PeerId::new("phone"), Access::Write, None);
///
/// // Pass messages back and forth until both are quiet.
/// loop {
///     let to_server = phone.outgoing();
///     let to_phone = server.outgoing();
///     if to_server.is_empty() && to_phone.is_empty() { break; }
///     for m in to_server { if let Message::Sync { data, .. } = m { server.receive(&PeerId::new("phone"), Incoming::Sync(data), None)?; } }
///     for m in to_phone { if let Message::Sync { data, .. } = m { phone.receive(&PeerId::new("server"), Incoming::Sync(data), None)?; } }
/// }
/// assert_eq!(server.heads(), phone.heads());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DocSync {
    local: PeerId,
    id: DocumentId,
    doc: AutoCommit,
    /// Whether we asked peers for the document (we lack it and want it).
    wanted: bool,
    peers: BTreeMap<PeerId, PeerState>,
    /// Our heads at the last [`DocSync::outgoing`]. A peer whose sync state has not changed
    /// since, while the heads have not either, would get the same answer as then (automerge's
    /// generation is a function of the two), so only the peers in `to_visit` are looked at
    /// again, or all of them when the heads or something every peer depends on changed.
    visited_heads: Vec<ChangeHash>,
    to_visit: BTreeSet<PeerId>,
    visit_all: bool,
    /// How many times automerge was asked for a sync message (see [`DocSync::generations`]).
    generations: u64,
    /// Whether a peer that has not acknowledged the changes it was sent waits for them before
    /// it is sent more (see [`DocSync::hold_unacknowledged`]).
    hold: bool,
    /// The peers held back at their last visit.
    held: BTreeSet<PeerId>,
    /// Whether the next [`DocSync::outgoing`] sends to the held peers anyway.
    release: bool,
}

impl DocSync {
    /// A document we hold.
    pub fn new(local: PeerId, id: DocumentId, doc: AutoCommit) -> Self {
        Self {
            local,
            id,
            doc,
            wanted: false,
            peers: BTreeMap::new(),
            visited_heads: Vec::new(),
            to_visit: BTreeSet::new(),
            visit_all: true,
            generations: 0,
            hold: false,
            held: BTreeSet::new(),
            release: false,
        }
    }

    /// From now on, a peer that was sent changes and has not answered yet is sent nothing more
    /// until it does; its answer then brings it everything since in one message. Changes
    /// that arrive faster than a peer acknowledges them (a hundred devices following a
    /// document edited many times a second) cost one message and one acknowledgement per round
    /// trip instead of one per change. An automerge peer answers every message that brings it
    /// changes; [`DocSync::release_held`] is the way out for one that does not.
    pub fn hold_unacknowledged(&mut self) {
        self.hold = true;
    }

    /// Whether a peer was held back (see [`DocSync::hold_unacknowledged`]) and has not been
    /// sent its changes since.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Has the next [`DocSync::outgoing`] send the held peers what they are owed without
    /// waiting for their answers.
    pub fn release_held(&mut self) {
        self.release = true;
        self.to_visit.extend(self.held.iter().cloned());
    }

    /// A document we do not hold (yet): it arrives when a peer that has it syncs.
    pub fn empty(local: PeerId, id: DocumentId) -> Self {
        Self::new(local, id, AutoCommit::new())
    }

    /// The document's id.
    pub fn id(&self) -> &DocumentId {
        &self.id
    }

    /// Asks every peer for the document if we do not have it: `outgoing` sends `request`s.
    pub fn want(&mut self) {
        self.wanted = true;
        self.visit_all = true;
    }

    /// Whether we hold any of the document.
    pub fn is_present(&mut self) -> bool {
        !self.doc.get_heads().is_empty()
    }

    /// Our heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Whether we hold every change in `hashes` (a peer's heads, say). Cheap when they are
    /// among our heads, as a caught-up peer's are.
    pub fn holds(&mut self, hashes: &[ChangeHash]) -> bool {
        let heads = self.doc.get_heads();
        hashes.iter().all(|hash| {
            heads.contains(hash)
                || automerge::ReadDoc::get_change_by_hash(&self.doc, hash).is_some()
        })
    }

    /// The document as it was at `heads` (which must be ours).
    pub fn fork_at(
        &mut self,
        heads: &[ChangeHash],
    ) -> Result<AutoCommit, automerge::AutomergeError> {
        self.doc.fork_at(heads)
    }

    /// The document, saved whole.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes after `heads`, saved (what a store appends).
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// The document.
    pub fn document(&self) -> &AutoCommit {
        &self.doc
    }

    /// The document, to change locally; call [`DocSync::outgoing`] afterwards.
    pub fn document_mut(&mut self) -> &mut AutoCommit {
        self.visit_all = true;
        &mut self.doc
    }

    /// How many sync messages automerge was asked to generate so far, including the times it
    /// had nothing to send. Generating costs a Bloom filter and a walk of the change graph, so
    /// a document shared by many peers generates only for the peers whose answer can have
    /// changed (every peer after the document changes, only the sender after a message without
    /// changes), never for a peer that is caught up, and once for all the peers in the same
    /// sync state.
    pub fn generations(&self) -> u64 {
        self.generations
    }

    /// Goes back to the document as it was at `heads`, dropping every change after them, and
    /// starts every peer's sync over so that each one learns again what we hold.
    ///
    /// The server rewinds to its last durable heads when a write fails: nothing it could not
    /// store stays in memory to be acknowledged or relayed, and the peers that sent the dropped
    /// changes still hold them and send them again.
    pub fn rewind(&mut self, heads: &[ChangeHash]) -> Result<(), SyncError> {
        let actor = self.doc.get_actor().clone();
        self.doc = if heads.is_empty() {
            AutoCommit::new()
        } else {
            self.doc
                .fork_at(heads)
                .map_err(|err| SyncError::Malformed {
                    document: self.id,
                    reason: err.to_string(),
                })?
        }
        .with_actor(actor);
        for peer in self.peers.values_mut() {
            // `needs_reset` has our next message tell the peer to forget what it sent us
            // (automerge's sync reset), so it sends the dropped changes again.
            let mut fresh = sync::State::new();
            fresh.their_capabilities = peer.sync.their_capabilities.take();
            fresh.read_only = peer.access != Access::Write;
            fresh.needs_reset = true;
            peer.sync = fresh;
        }
        self.visit_all = true;
        Ok(())
    }

    /// Starts syncing with `peer`, resuming from `state` if one was persisted.
    ///
    /// A peer with read access gets a read-only sync state: we never ask it for changes, and
    /// automerge tells it we will not apply any.
    pub fn add_peer(&mut self, peer: PeerId, access: Access, state: Option<sync::State>) {
        if let Some(existing) = self.peers.get_mut(&peer) {
            existing.access = access;
            existing.sync.set_read_only(access != Access::Write);
            self.to_visit.insert(peer);
            return;
        }
        let mut sync = state.unwrap_or_default();
        sync.set_read_only(access != Access::Write);
        self.to_visit.insert(peer.clone());
        self.peers.insert(peer, PeerState::new(sync, access));
    }

    /// Sets the heads we count as last sent to `peer` (see the engine: automerge counts heads a
    /// peer says it shares as sent, which holds only for heads we would tell it).
    pub fn set_last_sent_heads(&mut self, peer: &PeerId, heads: Vec<ChangeHash>) {
        if let Some(state) = self.peers.get_mut(peer) {
            state.sync.last_sent_heads = heads;
        }
    }

    /// Changes what `peer` may do from now on (a grant or a revocation). A peer that may no
    /// longer see the document is told it is unavailable, once, and is sent nothing more; one
    /// that may see it again starts its sync over.
    pub fn set_access(&mut self, peer: &PeerId, access: Access) {
        if let Some(state) = self.peers.get_mut(peer) {
            let was = state.access;
            state.access = access;
            if access == Access::None && was != Access::None {
                state.status = PeerStatus::Wants;
                state.told_unavailable = false;
            } else if was == Access::None && access != Access::None {
                let mut fresh = sync::State::new();
                fresh.their_capabilities = state.sync.their_capabilities.take();
                state.sync = fresh;
                state.told_unavailable = false;
            }
            state.sync.set_read_only(access != Access::Write);
            self.to_visit.insert(peer.clone());
        }
    }

    /// Stops syncing with `peer`; returns its sync state to persist for its next visit.
    pub fn remove_peer(&mut self, peer: &PeerId) -> Option<sync::State> {
        // Who else has the document may have changed for the peers that want it.
        self.visit_all = true;
        self.held.remove(peer);
        self.peers.remove(peer).map(|state| state.sync)
    }

    /// The peers sharing this document.
    pub fn peers(&self) -> impl Iterator<Item = (&PeerId, Access)> {
        self.peers.iter().map(|(peer, state)| (peer, state.access))
    }

    /// What we know of `peer`'s copy.
    pub fn peer_status(&self, peer: &PeerId) -> Option<PeerStatus> {
        self.peers.get(peer).map(|state| state.status)
    }

    /// The sync state with `peer`.
    pub fn sync_state(&self, peer: &PeerId) -> Option<&sync::State> {
        self.peers.get(peer).map(|state| &state.sync)
    }

    /// Whether every peer said it lacks the document while we lack it too: a client can stop
    /// waiting.
    pub fn is_unavailable(&mut self) -> bool {
        !self.is_present()
            && !self.peers.is_empty()
            && self
                .peers
                .values()
                .all(|p| p.status == PeerStatus::Unavailable)
    }

    /// Takes one message from `from`.
    ///
    /// Changes are applied only if `from` may write; with a `check`, they are applied to a fork
    /// first and kept only if the check passes, so a refused message leaves no trace.
    pub fn receive(
        &mut self,
        from: &PeerId,
        incoming: Incoming,
        check: Option<ChangeCheck<'_>>,
    ) -> Result<Received, SyncError> {
        let Some(peer) = self.peers.get_mut(from) else {
            return Err(SyncError::UnknownPeer {
                document: self.id,
                peer: from.clone(),
            });
        };
        self.to_visit.insert(from.clone());
        let (data, is_request) = match incoming {
            Incoming::Unavailable => {
                peer.status = PeerStatus::Unavailable;
                return Ok(Received {
                    changed: false,
                    heads: self.doc.get_heads(),
                });
            }
            Incoming::Request(data) => (data, true),
            Incoming::Sync(data) => (data, false),
        };
        // Decoded and checked once, by the frame decoder, for what came from the network.
        let message = data
            .into_message()
            .map_err(|reason| SyncError::NotASyncMessage {
                document: self.id,
                reason,
            })?;
        if peer.access == Access::None {
            // Answered like a document we do not have; nothing else about it reaches the peer.
            peer.status = PeerStatus::Wants;
            // A peer that lost access (an account handed to another rep) may still hold the
            // document and have edited it offline: tell it its changes are refused, rather than
            // leave it waiting for an answer that never comes. Whether we hold the document or
            // not, the answer is the same, so it tells nobody which documents exist.
            let has_unknown_changes = message
                .heads
                .iter()
                .any(|head| self.doc.get_change_by_hash(head).is_none());
            if !message.changes.is_empty() || has_unknown_changes {
                return Err(SyncError::Forbidden { document: self.id });
            }
            return Ok(Received {
                changed: false,
                heads: Vec::new(),
            });
        }
        if !message.changes.is_empty() && peer.access == Access::Read {
            return Err(SyncError::ReadOnly { document: self.id });
        }
        if is_request && message.heads.is_empty() {
            peer.status = PeerStatus::Wants;
        }
        let carries_changes = !message.changes.is_empty();
        if !message.heads.is_empty() {
            peer.status = PeerStatus::Has;
        }
        let before = self.doc.get_heads();
        // Changes are applied with a copy of the state, kept only if they are accepted. A
        // message without changes (most are acknowledgements) cannot be refused by the check
        // and has nothing to undo, so its state is taken rather than copied.
        let mut state = if carries_changes {
            peer.sync.clone()
        } else {
            std::mem::take(&mut peer.sync)
        };
        match check {
            Some(check) if carries_changes => {
                let mut candidate = self.doc.fork().with_actor(self.doc.get_actor().clone());
                apply(&mut candidate, &mut state, message).map_err(|reason| {
                    SyncError::Malformed {
                        document: self.id,
                        reason,
                    }
                })?;
                check(&mut self.doc, &mut candidate).map_err(|reason| SyncError::Rejected {
                    document: self.id,
                    reason,
                })?;
                self.doc = candidate;
            }
            _ => {
                if let Err(reason) = apply(&mut self.doc, &mut state, message) {
                    if reason == PANICKED {
                        // Half-applied, perhaps: keep what still saves and loads, else start
                        // over and fetch the document again.
                        let actor = self.doc.get_actor().clone();
                        let saved = std::panic::catch_unwind(AssertUnwindSafe(|| self.doc.save()));
                        self.doc = saved
                            .ok()
                            .and_then(|bytes| crate::document::load_bytes(&bytes).ok())
                            .unwrap_or_default()
                            .with_actor(actor);
                        self.wanted = true;
                        self.visit_all = true;
                        peer.sync = sync::State::new();
                    } else if !carries_changes {
                        peer.sync = state;
                    }
                    return Err(SyncError::Malformed {
                        document: self.id,
                        reason,
                    });
                }
            }
        }
        peer.sync = state;
        if carries_changes {
            // Changes can fill in what another peer's sync was waiting for even when our heads
            // stay the same (changes queued for a missing dependency).
            self.visit_all = true;
        }
        let heads = self.doc.get_heads();
        Ok(Received {
            changed: heads != before,
            heads,
        })
    }

    /// The messages to send now, one per peer at most.
    pub fn outgoing(&mut self) -> Vec<Message> {
        let heads = self.doc.get_heads();
        let visit_all = std::mem::take(&mut self.visit_all) || heads != self.visited_heads;
        let to_visit = std::mem::take(&mut self.to_visit);
        let present = !heads.is_empty();
        let mut pass = Pass {
            local: &self.local,
            id: self.id,
            doc: &mut self.doc,
            present,
            wanted: self.wanted,
            someone_has: !present
                && self
                    .peers
                    .values()
                    .any(|p| p.status == PeerStatus::Has && p.access != Access::None),
            heads: &heads,
            hold: self.hold && !std::mem::take(&mut self.release),
            held: &mut self.held,
            generated: Vec::new(),
            generations: 0,
            out: Vec::new(),
        };
        if visit_all {
            for (peer_id, peer) in &mut self.peers {
                pass.visit(peer_id, peer);
            }
        } else {
            for peer_id in &to_visit {
                if let Some(peer) = self.peers.get_mut(peer_id) {
                    pass.visit(peer_id, peer);
                }
            }
        }
        let Pass {
            out, generations, ..
        } = pass;
        self.generations += generations;
        self.visited_heads = heads;
        out
    }
}

/// One [`DocSync::outgoing`]: what it needs of the document, and what it has made so far.
struct Pass<'a> {
    local: &'a PeerId,
    id: DocumentId,
    doc: &'a mut AutoCommit,
    present: bool,
    wanted: bool,
    /// Whether a peer that may see the document says it has it (computed only when we lack it).
    someone_has: bool,
    heads: &'a [ChangeHash],
    /// Whether peers awaiting an acknowledgement are held back, and those that were.
    hold: bool,
    held: &'a mut BTreeSet<PeerId>,
    /// Peers whose sync states are equal are sent the same message and move on to the same
    /// state (automerge's generation is a function of the document and the state alone), so
    /// each distinct state is generated for once: a change to a document that a hundred
    /// caught-up devices share costs one generation, not a hundred.
    generated: Vec<Generated>,
    generations: u64,
    out: Vec<Message>,
}

impl Pass<'_> {
    fn visit(&mut self, peer_id: &PeerId, peer: &mut PeerState) {
        self.held.remove(peer_id);
        let unavailable = |peer_id: &PeerId| Message::DocUnavailable {
            sender_id: self.local.clone(),
            target_id: peer_id.clone(),
            document_id: self.id,
        };
        if peer.access == Access::None {
            if peer.status == PeerStatus::Wants && !peer.told_unavailable {
                peer.told_unavailable = true;
                self.out.push(unavailable(peer_id));
            }
            return;
        }
        let send_as_request = match (self.present, peer.status) {
            (true, _) | (false, PeerStatus::Has) => false,
            (false, PeerStatus::Unknown) if self.wanted => true,
            (false, PeerStatus::Wants) if !self.someone_has => {
                // Nobody connected has it: say so, once. A peer that is uploading it would
                // have status `Has`, and then the requester waits for it instead.
                if !peer.told_unavailable {
                    peer.told_unavailable = true;
                    self.out.push(unavailable(peer_id));
                }
                return;
            }
            (false, _) => return,
        };
        if caught_up(&peer.sync, self.heads) {
            // The suite's debug builds check the shortcut against automerge every time.
            debug_assert!(
                self.doc
                    .sync()
                    .generate_sync_message(&mut peer.sync.clone())
                    .is_none(),
                "a caught-up peer would have been sent something"
            );
            return;
        }
        if self.hold && awaiting_acknowledgement(&peer.sync) {
            self.held.insert(peer_id.clone());
            return;
        }
        let data = match self.generated.iter().find(|done| done.before == peer.sync) {
            Some(done) => {
                debug_assert_eq!(
                    self.doc
                        .sync()
                        .generate_sync_message(&mut peer.sync.clone())
                        .map(|message| Arc::<[u8]>::from(message.encode())),
                    done.data,
                    "peers in the same state were sent different messages"
                );
                peer.sync.clone_from(&done.after);
                done.data.clone()
            }
            None => {
                self.generations += 1;
                let before = peer.sync.clone();
                let data = self
                    .doc
                    .sync()
                    .generate_sync_message(&mut peer.sync)
                    .map(|message| Arc::<[u8]>::from(message.encode()));
                self.generated.push(Generated {
                    before,
                    after: peer.sync.clone(),
                    data: data.clone(),
                });
                data
            }
        };
        let Some(data) = data else {
            return;
        };
        self.out.push(Message::sync_or_request(
            send_as_request,
            self.local.clone(),
            peer_id.clone(),
            self.id,
            SyncData::encoded(data),
        ));
    }
}

/// Whether automerge would have nothing to send a peer in `state` while our heads are `heads`,
/// without asking it: the peer said it has exactly our heads, needs nothing, and last synced
/// at our heads (so there is no change since to offer it), and was told our heads. An
/// acknowledgement from a device that is caught up, the most common message there is, then
/// costs no generation at all.
fn caught_up(state: &sync::State, heads: &[ChangeHash]) -> bool {
    // The changes automerge offers are those after the union of the `have`s' last syncs.
    let synced_at_our_heads = state.their_have.as_ref().is_none_or(|haves| {
        haves
            .iter()
            .all(|have| have.last_sync.iter().all(|hash| heads.contains(hash)))
            && (haves.is_empty()
                || heads
                    .iter()
                    .all(|head| haves.iter().any(|have| have.last_sync.contains(head))))
    });
    !heads.is_empty()
        && state.have_responded
        && !state.needs_reset
        && state.last_sent_heads == heads
        && state.their_heads.as_deref() == Some(heads)
        && state.their_need.as_ref().is_none_or(Vec::is_empty)
        && synced_at_our_heads
}

/// Whether the peer was sent changes and has not answered since (any answer clears automerge's
/// `in_flight`; one that holds them clears their hashes).
fn awaiting_acknowledgement(state: &sync::State) -> bool {
    state.in_flight && !state.sent_hashes.is_empty()
}

/// One sync message generated during [`DocSync::outgoing`], for reuse by peers in the same
/// state.
struct Generated {
    before: sync::State,
    after: sync::State,
    data: Option<Arc<[u8]>>,
}

/// Why [`apply`] failed when automerge panicked instead of returning an error.
const PANICKED: &str = "automerge could not apply these changes (it panicked)";

/// Applies a sync message to `doc`, turning a panic inside automerge (inputs it trusts but
/// should not) into an error.
fn apply(
    doc: &mut AutoCommit,
    state: &mut sync::State,
    message: sync::Message,
) -> Result<(), String> {
    // Most messages a shared document gets are acknowledgements, which need no walk of its
    // history.
    let Err(message) = super::acknowledgement::take(doc, state, message) else {
        return Ok(());
    };
    match std::panic::catch_unwind(AssertUnwindSafe(|| {
        doc.sync().receive_sync_message(state, message)
    })) {
        Ok(Ok(())) => {
            crate::document::forget_applied(doc);
            Ok(())
        }
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(PANICKED.to_owned()),
    }
}

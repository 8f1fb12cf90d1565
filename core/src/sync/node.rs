use std::collections::{BTreeMap, HashMap};

use automerge::AutoCommit;

use super::{
    Access, AccessPolicy, Connection, DocSync, EphemeralRelay, Handshake, Incoming, SyncError,
};
use crate::DocumentId;
use crate::protocol::{DecodeLimits, Message, PeerId, PeerMetadata, StorageId};

/// Identifies one transport connection; chosen by the caller.
pub type ConnectionId = u64;

/// Which end of connections a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Accepts connections, waits for `join`, and shares a document only with peers that ask
    /// for it (automerge-repo's sync server with `sharePolicy` false).
    Server,
    /// Opens connections, sends `join`, and offers every document it holds to each server.
    Client,
}

/// How a node presents itself.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub peer_id: PeerId,
    pub metadata: PeerMetadata,
    pub role: NodeRole,
    pub limits: DecodeLimits,
    /// The session id of the ephemeral messages this node originates (random, chosen by the
    /// caller so runs can be replayed).
    pub session_id: String,
}

impl NodeConfig {
    /// A node called `name`: its peer id, a storage id `{name}-storage` (not ephemeral), the
    /// default limits and the ephemeral session `{name}-session`; what tests and simulated
    /// devices use.
    pub fn named(name: &str, role: NodeRole) -> Self {
        Self {
            peer_id: PeerId::new(name),
            metadata: PeerMetadata {
                storage_id: Some(StorageId::new(format!("{name}-storage"))),
                is_ephemeral: Some(false),
            },
            role,
            limits: DecodeLimits::default(),
            session_id: format!("{name}-session"),
        }
    }
}

/// Something that happened, for the caller to act on.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// A peer completed the handshake.
    PeerJoined {
        connection: ConnectionId,
        peer: PeerId,
        metadata: PeerMetadata,
    },
    /// A connection ended.
    PeerLeft {
        connection: ConnectionId,
        peer: Option<PeerId>,
    },
    /// A peer spoke of a document this node has not loaded: look in storage and answer with
    /// [`Input::Loaded`]. Messages about it wait until then.
    LoadRequested(DocumentId),
    /// A document took in changes from a peer.
    DocumentChanged(DocumentId),
    /// Every peer said it does not have a document this node wanted.
    DocumentUnavailable(DocumentId),
    /// Ephemeral data arrived for a document.
    Ephemeral {
        document: DocumentId,
        sender: PeerId,
        data: Vec<u8>,
    },
    /// A peer's message about a document was refused; the peer was sent an `error`.
    Rejected {
        connection: ConnectionId,
        error: SyncError,
    },
    /// A frame broke the protocol; the peer was sent an `error`.
    ProtocolError {
        connection: ConnectionId,
        reason: String,
        closed: bool,
    },
}

/// An input to the node.
#[derive(Debug)]
pub enum Input {
    /// A transport connection opened.
    Connected(ConnectionId),
    /// A binary frame arrived.
    Frame(ConnectionId, Vec<u8>),
    /// A message arrived that the caller decoded already (a device that reads some messages
    /// itself, so that no frame is decoded twice).
    Message(ConnectionId, Message),
    /// A transport connection closed.
    Disconnected(ConnectionId),
    /// The answer to [`Event::LoadRequested`]: the stored document, or `None`.
    Loaded(DocumentId, Option<Box<AutoCommit>>),
}

/// What the caller must do.
#[derive(Debug, PartialEq)]
pub enum Output {
    /// Send a binary frame.
    Send {
        connection: ConnectionId,
        frame: Vec<u8>,
    },
    /// Close the connection.
    Close { connection: ConnectionId },
    /// Tell the application.
    Event(Event),
}

/// A sync peer with no IO: many connections, many documents, the protocol engine in between.
///
/// A phone runs one as a [`NodeRole::Client`] over its connection to the server; tests and
/// simulations run hubs as [`NodeRole::Server`]. The server process splits the same pieces
/// ([`Connection`], [`DocSync`], [`EphemeralRelay`]) across its actors instead.
pub struct Node<P: AccessPolicy> {
    config: NodeConfig,
    policy: P,
    connections: BTreeMap<ConnectionId, Connection>,
    /// Joined peers and the connection each speaks on.
    peers: HashMap<PeerId, ConnectionId>,
    documents: BTreeMap<DocumentId, DocSync>,
    /// Messages about documents being loaded, in arrival order.
    loading: BTreeMap<DocumentId, Vec<(ConnectionId, Message)>>,
    relay: EphemeralRelay,
    ephemeral_count: u64,
    outputs: Vec<Output>,
}

impl<P: AccessPolicy> std::fmt::Debug for Node<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("peer_id", &self.config.peer_id)
            .field("connections", &self.connections.len())
            .field("documents", &self.documents.len())
            .finish_non_exhaustive()
    }
}

impl<P: AccessPolicy> Node<P> {
    /// A node with no connections and no documents.
    pub fn new(config: NodeConfig, policy: P) -> Self {
        Self {
            config,
            policy,
            connections: BTreeMap::new(),
            peers: HashMap::new(),
            documents: BTreeMap::new(),
            loading: BTreeMap::new(),
            relay: EphemeralRelay::new(),
            ephemeral_count: 0,
            outputs: Vec::new(),
        }
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> &PeerId {
        &self.config.peer_id
    }

    /// Takes what the node wants done, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outputs)
    }

    /// The document, if this node holds any of it.
    pub fn document(&mut self, id: &DocumentId) -> Option<&AutoCommit> {
        let sync = self.documents.get_mut(id)?;
        if sync.is_present() {
            Some(sync.document())
        } else {
            None
        }
    }

    /// The heads of a document this node holds (without copying it).
    pub fn heads(&mut self, id: &DocumentId) -> Option<Vec<automerge::ChangeHash>> {
        self.documents.get_mut(id).map(DocSync::heads)
    }

    /// The ids of the documents this node holds.
    pub fn document_ids(&self) -> impl Iterator<Item = &DocumentId> {
        self.documents.keys()
    }

    /// The sync state of one document, for inspection.
    pub fn doc_sync(&self, id: &DocumentId) -> Option<&DocSync> {
        self.documents.get(id)
    }

    /// Adds a document this node holds (created here or loaded from storage) and offers it to
    /// the connected peers if this is a client.
    pub fn insert(&mut self, id: DocumentId, doc: AutoCommit) {
        let sync = DocSync::new(self.config.peer_id.clone(), id, doc);
        self.documents.insert(id, sync);
        if self.config.role == NodeRole::Client {
            let peers: Vec<PeerId> = self.peers.keys().cloned().collect();
            for peer in peers {
                self.attach(&id, &peer);
            }
        }
        self.flush(&id);
    }

    /// Adds a document this node holds with the sync state it last reached with `peer` (a
    /// device resuming where its last sync stopped), and offers it to the connected peers if
    /// this is a client.
    pub fn insert_resuming(
        &mut self,
        id: DocumentId,
        doc: AutoCommit,
        peer: PeerId,
        state: automerge::sync::State,
    ) {
        let mut sync = DocSync::new(self.config.peer_id.clone(), id, doc);
        let access = self.policy.access(&peer, &id);
        sync.add_peer(peer, access, Some(state));
        self.documents.insert(id, sync);
        if self.config.role == NodeRole::Client {
            let peers: Vec<PeerId> = self.peers.keys().cloned().collect();
            for peer in peers {
                self.attach(&id, &peer);
            }
        }
        self.flush(&id);
    }

    /// Stops syncing a document and hands it back with its sync states (a device drops what
    /// it finished syncing, so that memory holds only what is in flight).
    pub fn remove(&mut self, id: &DocumentId) -> Option<DocSync> {
        self.documents.remove(id)
    }

    /// The changes of a document after `heads`, saved (what a device appends to its store).
    /// Heads this node does not hold are left out, so the bytes may repeat changes the caller
    /// has (loading them again is harmless).
    pub fn save_after(
        &mut self,
        id: &DocumentId,
        heads: &[automerge::ChangeHash],
    ) -> Option<Vec<u8>> {
        let sync = self.documents.get_mut(id)?;
        let known: Vec<automerge::ChangeHash> = heads
            .iter()
            .filter(|head| sync.holds(std::slice::from_ref(head)))
            .copied()
            .collect();
        Some(sync.save_after(&known))
    }

    /// Asks the connected peers for a document this node lacks.
    pub fn find(&mut self, id: DocumentId) {
        let sync = self
            .documents
            .entry(id)
            .or_insert_with(|| DocSync::empty(self.config.peer_id.clone(), id));
        sync.want();
        let peers: Vec<PeerId> = self.peers.keys().cloned().collect();
        for peer in peers {
            self.attach(&id, &peer);
        }
        self.flush(&id);
    }

    /// Changes a document locally and syncs the change.
    pub fn change<T>(
        &mut self,
        id: &DocumentId,
        edit: impl FnOnce(&mut AutoCommit) -> T,
    ) -> Option<T> {
        let sync = self.documents.get_mut(id)?;
        let out = edit(sync.document_mut());
        sync.document_mut().commit();
        self.flush(id);
        Some(out)
    }

    /// Sends ephemeral data about a document to every peer sharing it.
    pub fn broadcast_ephemeral(&mut self, id: &DocumentId, data: Vec<u8>) {
        let Some(sync) = self.documents.get(id) else {
            return;
        };
        self.ephemeral_count += 1;
        let targets: Vec<PeerId> = sync
            .peers()
            .filter(|(_, a)| *a != Access::None)
            .map(|(p, _)| p.clone())
            .collect();
        for target in targets {
            let message = Message::Ephemeral {
                sender_id: self.config.peer_id.clone(),
                target_id: target.clone(),
                document_id: *id,
                count: self.ephemeral_count,
                session_id: self.config.session_id.clone(),
                data: data.clone(),
            };
            self.send_to_peer(&target, &message);
        }
    }

    /// Takes one input.
    pub fn handle(&mut self, input: Input) {
        match input {
            Input::Connected(connection) => self.connected(connection),
            Input::Frame(connection, frame) => self.frame(connection, &frame),
            Input::Message(connection, message) => self.message(connection, message),
            Input::Disconnected(connection) => self.disconnected(connection),
            Input::Loaded(id, doc) => self.loaded(id, doc.map(|doc| *doc)),
        }
    }

    fn connected(&mut self, connection: ConnectionId) {
        let local = self.config.peer_id.clone();
        let metadata = self.config.metadata.clone();
        match self.config.role {
            NodeRole::Server => {
                self.connections
                    .insert(connection, Connection::accept(local, metadata));
            }
            NodeRole::Client => {
                let (conn, join) = Connection::open(local, metadata);
                self.connections.insert(connection, conn);
                self.send(connection, &join);
            }
        }
    }

    fn disconnected(&mut self, connection: ConnectionId) {
        let Some(conn) = self.connections.remove(&connection) else {
            return;
        };
        let peer = conn.remote().cloned();
        if let Some(peer) = &peer {
            if self.peers.get(peer) == Some(&connection) {
                self.peers.remove(peer);
                self.relay.forget(peer);
                let ids: Vec<DocumentId> = self.documents.keys().copied().collect();
                for id in ids {
                    if let Some(sync) = self.documents.get_mut(&id) {
                        sync.remove_peer(peer);
                        if sync.is_unavailable() {
                            self.event(Event::DocumentUnavailable(id));
                        }
                    }
                }
            }
        }
        for queue in self.loading.values_mut() {
            queue.retain(|(c, _)| *c != connection);
        }
        self.event(Event::PeerLeft { connection, peer });
    }

    fn frame(&mut self, connection: ConnectionId, frame: &[u8]) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        let message = match Message::decode(frame, &self.config.limits) {
            Ok(message) => message,
            Err(err) => {
                let reply = Message::Error {
                    sender_id: self.config.peer_id.clone(),
                    target_id: conn.remote().cloned(),
                    message: format!("bad frame: {err}"),
                    document_id: None,
                };
                // A peer that has not joined gets no second chance: it is not speaking our protocol.
                let close = conn.remote().is_none();
                self.send(connection, &reply);
                self.protocol_error(connection, err.to_string(), close);
                return;
            }
        };
        self.message(connection, message);
    }

    fn message(&mut self, connection: ConnectionId, message: Message) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        match conn.receive(message) {
            Ok(Handshake::Joined {
                remote,
                metadata,
                reply,
            }) => {
                self.send(connection, &reply);
                self.joined(connection, remote, metadata);
            }
            Ok(Handshake::Accepted { remote, metadata }) => {
                self.joined(connection, remote, metadata)
            }
            Ok(Handshake::Left { .. }) => {
                self.outputs.push(Output::Close { connection });
                self.disconnected(connection);
            }
            Ok(Handshake::Message(message)) => self.route(connection, message),
            Err(violation) => {
                self.send(connection, &violation.reply);
                self.protocol_error(connection, violation.reason, violation.close);
            }
        }
    }

    fn joined(&mut self, connection: ConnectionId, remote: PeerId, metadata: PeerMetadata) {
        if let Some(previous) = self.peers.insert(remote.clone(), connection) {
            if previous != connection {
                // The same peer joined again on a new connection: the old one is stale.
                self.outputs.push(Output::Close {
                    connection: previous,
                });
                self.connections.remove(&previous);
                let ids: Vec<DocumentId> = self.documents.keys().copied().collect();
                for id in &ids {
                    if let Some(sync) = self.documents.get_mut(id) {
                        sync.remove_peer(&remote);
                    }
                }
            }
        }
        self.event(Event::PeerJoined {
            connection,
            peer: remote.clone(),
            metadata,
        });
        if self.config.role == NodeRole::Client {
            let ids: Vec<DocumentId> = self.documents.keys().copied().collect();
            for id in ids {
                self.attach(&id, &remote);
                self.flush(&id);
            }
        }
    }

    /// Adds `peer` to a document's peers with the access the policy gives it.
    fn attach(&mut self, id: &DocumentId, peer: &PeerId) {
        let access = self.policy.access(peer, id);
        if let Some(sync) = self.documents.get_mut(id) {
            if sync.peer_status(peer).is_none() {
                sync.add_peer(peer.clone(), access, None);
            }
        }
    }

    fn route(&mut self, connection: ConnectionId, message: Message) {
        let Some(id) = message.document_id().copied() else {
            // remote-subscription-change and the like: nothing to do for this engine.
            return;
        };
        if let Message::Error { message: text, .. } = &message {
            self.protocol_error(connection, format!("peer reported for {id}: {text}"), false);
            return;
        }
        if let Message::Ephemeral { .. } = message {
            self.ephemeral(message);
            return;
        }
        if let Some(queue) = self.loading.get_mut(&id) {
            queue.push((connection, message));
            return;
        }
        if !self.documents.contains_key(&id) {
            self.loading.insert(id, vec![(connection, message)]);
            self.event(Event::LoadRequested(id));
            return;
        }
        self.apply(connection, id, message);
    }

    fn loaded(&mut self, id: DocumentId, doc: Option<AutoCommit>) {
        let queued = self.loading.remove(&id).unwrap_or_default();
        if !self.documents.contains_key(&id) {
            let local = self.config.peer_id.clone();
            let sync = match doc {
                Some(doc) => DocSync::new(local, id, doc),
                None => DocSync::empty(local, id),
            };
            self.documents.insert(id, sync);
        }
        for (connection, message) in queued {
            self.apply(connection, id, message);
        }
    }

    fn apply(&mut self, connection: ConnectionId, id: DocumentId, message: Message) {
        let sender = message.sender_id().clone();
        if self.peers.get(&sender) != Some(&connection) {
            return;
        }
        self.attach(&id, &sender);
        let Some(sync) = self.documents.get_mut(&id) else {
            return;
        };
        let was_unavailable = matches!(message, Message::DocUnavailable { .. });
        let Some(incoming) = Incoming::from_message(message) else {
            return;
        };
        let result = sync.receive(&sender, incoming, None);
        let unavailable = sync.is_unavailable();
        match result {
            Ok(received) => {
                if received.changed {
                    self.event(Event::DocumentChanged(id));
                }
                if unavailable && was_unavailable {
                    self.event(Event::DocumentUnavailable(id));
                }
            }
            Err(error) => {
                let reply = Message::Error {
                    sender_id: self.config.peer_id.clone(),
                    target_id: Some(sender),
                    message: error.to_string(),
                    document_id: Some(id),
                };
                self.send(connection, &reply);
                self.event(Event::Rejected { connection, error });
            }
        }
        self.flush(&id);
    }

    fn ephemeral(&mut self, message: Message) {
        let Message::Ephemeral {
            sender_id,
            document_id,
            count,
            session_id,
            data,
            ..
        } = &message
        else {
            return;
        };
        if !self.relay.admit(sender_id, session_id, *count) {
            return;
        }
        if self.policy.access(sender_id, document_id) == Access::None {
            return;
        }
        let Some(sync) = self.documents.get(document_id) else {
            return;
        };
        // Servers relay to the document's other peers; a client's only peer is its server,
        // which sent the message.
        let relays = self.config.role == NodeRole::Server;
        let targets: Vec<PeerId> = sync
            .peers()
            .filter(|(peer, access)| relays && *peer != sender_id && *access != Access::None)
            .map(|(peer, _)| peer.clone())
            .collect();
        for target in targets {
            self.send_to_peer(&target, &message.retargeted(&target));
        }
        let event = Event::Ephemeral {
            document: *document_id,
            sender: sender_id.clone(),
            data: data.clone(),
        };
        self.event(event);
    }

    /// Sends whatever a document has to say to its peers.
    fn flush(&mut self, id: &DocumentId) {
        let Some(sync) = self.documents.get_mut(id) else {
            return;
        };
        for message in sync.outgoing() {
            if let Some(target) = message.target_id().cloned() {
                self.send_to_peer(&target, &message);
            }
        }
    }

    fn send_to_peer(&mut self, peer: &PeerId, message: &Message) {
        if let Some(connection) = self.peers.get(peer).copied() {
            self.send(connection, message);
        }
    }

    fn send(&mut self, connection: ConnectionId, message: &Message) {
        self.outputs.push(Output::Send {
            connection,
            frame: message.encode(),
        });
    }

    fn event(&mut self, event: Event) {
        self.outputs.push(Output::Event(event));
    }

    fn protocol_error(&mut self, connection: ConnectionId, reason: String, close: bool) {
        self.event(Event::ProtocolError {
            connection,
            reason,
            closed: close,
        });
        if close {
            self.outputs.push(Output::Close { connection });
            self.disconnected(connection);
        }
    }
}

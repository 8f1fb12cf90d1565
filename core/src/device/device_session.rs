//! [`DeviceSession`]: one connection of a device to the server, with no IO.

use std::collections::BTreeSet;

use automerge::ChangeHash;

use super::{SessionEvent, SessionOutput, SyncReport};
use crate::DocumentId;
use crate::protocol::{ChangedDocument, DecodeLimits, Message, PeerId, PeerMetadata, StorageId};
use crate::replica::{Replica, ReplicaResult, StoredBody, SyncProgress};
use crate::sync::{AllowAll, Event, Input, Node, NodeConfig, NodeRole, Output};

/// The only connection of a session, as the sync engine numbers it.
const CONNECTION: u64 = 1;

/// How a device presents itself and how long it stays.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// This connection's peer id (one per connection: the server gives a peer id to one
    /// session at a time).
    pub peer_id: PeerId,
    /// The device's storage id, the same on every connection, under which the server keeps
    /// its sync states for this device.
    pub storage_id: StorageId,
    /// Whether the session stays open after it settled and hears changes as they happen
    /// (the app in the foreground), or is done once settled (a background wake-up).
    pub live: bool,
    /// Bounds on what the device decodes.
    pub limits: DecodeLimits,
    /// The session id of the ephemeral messages this device originates.
    pub ephemeral_session: String,
}

/// One connection of a device to the server, as a state machine: frames go in, frames to send
/// and events for the app come out, and the replica is read and written along the way.
///
/// On connecting it asks the server's changes feed for what changed since its checkpoint (on a
/// first sync, for the stored documents themselves, in pages), and syncs with the automerge
/// protocol only the documents that need it: those the feed named whose heads it lacks, those
/// with local changes the server has not acknowledged, and those its index lists that it does
/// not hold. Each resumes from the sync state it last reached, loaded on demand from the
/// replica and dropped from memory once the server acknowledged it. With nothing changed, a
/// connection sends `join` and one `itinera-changes-since` and nothing else.
///
/// Time and randomness are the driver's: the peer id and ephemeral session come in the
/// [`SessionConfig`].
pub struct DeviceSession {
    node: Node<AllowAll>,
    config: SessionConfig,
    /// The server's peer id and storage id, once it answered `join`.
    server: Option<(PeerId, String)>,
    /// Whether the feed has said it has nothing more until something changes.
    caught_up: bool,
    /// Documents in the engine the server has not acknowledged yet.
    unsettled: BTreeSet<DocumentId>,
    /// Documents that took in changes not yet written to the replica.
    dirty: BTreeSet<DocumentId>,
    /// Documents the feed named as behind, until synced.
    behind: BTreeSet<DocumentId>,
    /// Documents with local changes when they entered the engine.
    sent: BTreeSet<DocumentId>,
    /// Whether the index changed, so that what it lists is checked once it is written.
    index_changed: bool,
    settled: bool,
    report: SyncReport,
    outputs: Vec<SessionOutput>,
}

impl std::fmt::Debug for DeviceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSession")
            .field("peer_id", &self.config.peer_id)
            .field("caught_up", &self.caught_up)
            .field("unsettled", &self.unsettled.len())
            .finish_non_exhaustive()
    }
}

impl DeviceSession {
    /// A session that has not connected yet.
    pub fn new(config: SessionConfig) -> Self {
        let node = Node::new(
            NodeConfig {
                peer_id: config.peer_id.clone(),
                metadata: PeerMetadata {
                    storage_id: Some(config.storage_id.clone()),
                    is_ephemeral: Some(false),
                },
                role: NodeRole::Client,
                limits: config.limits.clone(),
                session_id: config.ephemeral_session.clone(),
            },
            AllowAll,
        );
        Self {
            node,
            config,
            server: None,
            caught_up: false,
            unsettled: BTreeSet::new(),
            dirty: BTreeSet::new(),
            behind: BTreeSet::new(),
            sent: BTreeSet::new(),
            index_changed: false,
            settled: false,
            report: SyncReport::default(),
            outputs: Vec::new(),
        }
    }

    /// What the session did so far.
    pub fn report(&self) -> &SyncReport {
        &self.report
    }

    /// Whether everything known to have changed is synced.
    pub fn is_settled(&self) -> bool {
        self.settled
    }

    /// Takes what the session wants done, in order.
    pub fn take_outputs(&mut self) -> Vec<SessionOutput> {
        std::mem::take(&mut self.outputs)
    }

    /// The transport connected: sends `join`.
    pub fn connected(&mut self, replica: &mut Replica) -> ReplicaResult<()> {
        self.node.handle(Input::Connected(CONNECTION));
        self.pump(replica)
    }

    /// The transport closed: writes what arrived, so nothing received is lost.
    pub fn disconnected(&mut self, replica: &mut Replica) -> ReplicaResult<()> {
        self.node.handle(Input::Disconnected(CONNECTION));
        let result = self.write_back(replica);
        self.outputs.clear();
        result
    }

    /// A binary frame arrived from the server.
    pub fn frame(&mut self, replica: &mut Replica, frame: Vec<u8>) -> ReplicaResult<()> {
        self.report.frames_received += 1;
        self.report.bytes_received += frame.len() as u64;
        let message = match Message::decode(&frame, &self.config.limits) {
            Ok(message) => message,
            // The engine answers a bad frame with an error of its own.
            Err(_) => {
                self.node.handle(Input::Frame(CONNECTION, frame));
                return self.pump(replica);
            }
        };
        match message {
            Message::Changes {
                checkpoint,
                caught_up,
                page,
                ..
            } => self.take_page(replica, checkpoint, caught_up, page.entries)?,
            Message::Error {
                document_id: Some(document),
                message,
                ..
            } => {
                self.unsettled.remove(&document);
                self.report.rejected.insert(document, message.clone());
                self.event(SessionEvent::Rejected {
                    document,
                    reason: message,
                });
            }
            Message::Error { message, .. } => {
                let ended = message.starts_with("your access has ended")
                    || message.starts_with("this replica belongs to");
                self.event(if ended {
                    SessionEvent::AccessEnded(message)
                } else {
                    SessionEvent::ServerError(message)
                });
            }
            other => self.node.handle(Input::Message(CONNECTION, other)),
        }
        self.pump(replica)
    }

    /// The app changed records: what the server has not acknowledged goes out now.
    pub fn local_changes(&mut self, replica: &mut Replica) -> ReplicaResult<()> {
        if self.server.is_some() {
            self.write_back(replica)?;
            self.push_pending(replica)?;
        }
        self.pump(replica)
    }

    /// Writes what arrived and what the server acknowledged, in one durable commit. The
    /// driver calls it when no frame is waiting, so that a burst of messages costs one commit.
    pub fn write_back(&mut self, replica: &mut Replica) -> ReplicaResult<()> {
        let Some((_, server_storage)) = self.server.clone() else {
            return Ok(());
        };
        let mut progress = SyncProgress::default();
        for id in std::mem::take(&mut self.dirty) {
            let heads = replica.stored_heads(id).map(<[ChangeHash]>::to_vec);
            let bytes = match heads {
                Some(heads) => self.node.save_after(&id, &heads),
                None => self.node.document(&id).map(|doc| doc.clone().save()),
            };
            if let Some(bytes) = bytes {
                progress.arrived.push((id, bytes));
            }
            if id == replica.index_id() {
                self.index_changed = true;
            }
        }
        let mut settled = Vec::new();
        for id in self.unsettled.clone() {
            if self.acknowledged(&id) {
                settled.push(id);
            }
        }
        for id in settled {
            self.unsettled.remove(&id);
            if self.sent.remove(&id) {
                self.report.documents_sent += 1;
            }
            let heads = self.node.heads(&id).unwrap_or_default();
            progress.acknowledged.push((id, heads));
            if self.behind.remove(&id) {
                progress.caught_up.push(id);
            }
            // Dropped from memory with its sync state kept for the next connection.
            if let Some((server, _)) = &self.server {
                if let Some(state) = self
                    .node
                    .doc_sync(&id)
                    .and_then(|sync| sync.sync_state(server))
                {
                    progress.states.push((id, state.clone()));
                }
            }
            self.node.remove(&id);
        }
        if progress.is_empty() {
            return Ok(());
        }
        let changed = replica.take_sync_progress(&server_storage, progress)?;
        self.report.documents_received += changed.len();
        if !changed.is_empty() {
            self.event(SessionEvent::RecordsChanged(changed));
        }
        Ok(())
    }

    /// Everything the engine wants done, taken care of; then whether the session settled.
    fn pump(&mut self, replica: &mut Replica) -> ReplicaResult<()> {
        loop {
            let outputs = self.node.take_outputs();
            if outputs.is_empty() {
                break;
            }
            for output in outputs {
                self.engine_output(replica, output)?;
            }
        }
        self.check_settled(replica)
    }

    fn engine_output(&mut self, replica: &mut Replica, output: Output) -> ReplicaResult<()> {
        match output {
            Output::Send { frame, .. } => {
                self.report.frames_sent += 1;
                self.report.bytes_sent += frame.len() as u64;
                self.outputs.push(SessionOutput::Send(frame));
            }
            Output::Close { .. } => self.outputs.push(SessionOutput::Close),
            Output::Event(Event::PeerJoined { peer, metadata, .. }) => {
                self.joined(replica, peer, metadata)?;
            }
            Output::Event(Event::DocumentChanged(id)) => {
                self.dirty.insert(id);
            }
            Output::Event(Event::DocumentUnavailable(id)) => {
                self.unsettled.remove(&id);
                self.behind.remove(&id);
                self.node.remove(&id);
            }
            Output::Event(Event::LoadRequested(id)) => {
                // The server pushed a change to a document this session dropped: resume it.
                self.start(replica, id)?;
                self.node.handle(Input::Loaded(id, None));
            }
            Output::Event(_) => {}
        }
        Ok(())
    }

    /// The server answered `join`: ask the feed, and send what waits.
    fn joined(
        &mut self,
        replica: &mut Replica,
        server: PeerId,
        metadata: PeerMetadata,
    ) -> ReplicaResult<()> {
        let storage = metadata
            .storage_id
            .map_or_else(|| server.as_str().to_owned(), |id| id.as_str().to_owned());
        let checkpoint = replica.feed_checkpoint(&storage);
        let bodies = checkpoint == 0 && !replica.has_acknowledged_documents();
        self.server = Some((server.clone(), storage));
        let ask = Message::ChangesSince {
            sender_id: self.config.peer_id.clone(),
            target_id: server,
            checkpoint,
            bodies,
            live: self.config.live,
            user: Some(replica.user().to_owned()),
        };
        self.send(&ask);
        self.behind = replica.behind()?;
        for id in self.behind.clone() {
            self.start(replica, id)?;
        }
        self.push_pending(replica)
    }

    /// Puts every document with unacknowledged local changes in the engine, or hands the
    /// engine the newest local changes of one already there.
    fn push_pending(&mut self, replica: &mut Replica) -> ReplicaResult<()> {
        for id in replica.pending()? {
            if self.node.doc_sync(&id).is_some() {
                let heads = self.node.heads(&id).unwrap_or_default();
                if let Some(bytes) = replica.changes_after(id, &heads)? {
                    self.node.change(&id, |doc| {
                        let loaded = doc.load_incremental(&bytes);
                        crate::document::forget_applied(doc);
                        loaded
                    });
                }
                self.unsettled.insert(id);
                self.settled = false;
            } else {
                self.start(replica, id)?;
            }
            self.sent.insert(id);
        }
        Ok(())
    }

    /// Starts syncing `id`: from the replica with the sync state last reached, or asked for if
    /// the replica lacks it.
    fn start(&mut self, replica: &mut Replica, id: DocumentId) -> ReplicaResult<()> {
        let Some((server, storage)) = self.server.clone() else {
            return Ok(());
        };
        if self.node.doc_sync(&id).is_some() {
            return Ok(());
        }
        self.report.documents_synced += 1;
        self.unsettled.insert(id);
        self.settled = false;
        match replica.document_to_sync(id, &storage)? {
            Some((doc, state)) => self.node.insert_resuming(id, doc, server, state),
            None => self.node.find(id),
        }
        Ok(())
    }

    /// One page of the feed: bodies stored, changed documents synced, the checkpoint moved.
    fn take_page(
        &mut self,
        replica: &mut Replica,
        checkpoint: u64,
        caught_up: bool,
        entries: Vec<ChangedDocument>,
    ) -> ReplicaResult<()> {
        let Some((_, storage)) = self.server.clone() else {
            return Ok(());
        };
        let mut bodies = Vec::new();
        let mut behind = Vec::new();
        for entry in entries {
            match entry.body {
                Some(bytes) => bodies.push(StoredBody {
                    document: entry.document,
                    heads: entry.heads,
                    bytes,
                }),
                None if replica.holds_heads(entry.document, &entry.heads)? => {}
                None => behind.push(entry.document),
            }
        }
        let stored = replica.take_feed_page(&storage, bodies, behind.clone(), checkpoint)?;
        self.report.bodies_received += stored.len();
        self.report.documents_received += stored.len();
        if stored.contains(&replica.index_id()) {
            self.index_changed = true;
        }
        if !stored.is_empty() {
            self.event(SessionEvent::RecordsChanged(stored));
        }
        // What the page named and the replica still lacks (bodies that did not check, too).
        for id in replica.behind()? {
            if self.behind.insert(id) {
                self.start(replica, id)?;
            }
        }
        self.caught_up = caught_up;
        if caught_up {
            self.settled = false;
        }
        Ok(())
    }

    /// Reports `Settled` once everything known is synced, after writing it; checks what the
    /// index lists when the index changed.
    fn check_settled(&mut self, replica: &mut Replica) -> ReplicaResult<()> {
        if self.settled || !self.caught_up {
            return Ok(());
        }
        for id in self.unsettled.clone() {
            if !self.acknowledged(&id) {
                return Ok(());
            }
        }
        self.write_back(replica)?;
        if std::mem::take(&mut self.index_changed) {
            let missing: Vec<DocumentId> = replica
                .indexed_documents()?
                .into_iter()
                .filter(|id| !replica.contains(*id))
                .collect();
            for id in missing {
                self.start(replica, id)?;
            }
            if !self.unsettled.is_empty() {
                return Ok(());
            }
        }
        self.settled = true;
        self.event(SessionEvent::Settled);
        Ok(())
    }

    /// Whether the server holds every change of `id` this device holds.
    fn acknowledged(&mut self, id: &DocumentId) -> bool {
        let Some(ours) = self.node.heads(id) else {
            return true;
        };
        let Some((server, _)) = &self.server else {
            return false;
        };
        let theirs = self
            .node
            .doc_sync(id)
            .and_then(|sync| sync.sync_state(server))
            .and_then(|state| state.their_heads.clone());
        match theirs {
            Some(mut theirs) if !ours.is_empty() => {
                let mut ours = ours;
                ours.sort_unstable();
                theirs.sort_unstable();
                ours == theirs
            }
            _ => false,
        }
    }

    fn send(&mut self, message: &Message) {
        let frame = message.encode();
        self.report.frames_sent += 1;
        self.report.bytes_sent += frame.len() as u64;
        self.outputs.push(SessionOutput::Send(frame));
    }

    fn event(&mut self, event: SessionEvent) {
        self.outputs.push(SessionOutput::Event(event));
    }
}

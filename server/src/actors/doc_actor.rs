use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_web::web::Bytes;
use automerge::{AutoCommit, ChangeHash};
use itinera_core::DocumentId;
use itinera_core::policy::{DocumentScope, Principal, Role, access, check_shared_change};
use itinera_core::protocol::{Message as ProtocolMessage, PeerId};
use itinera_core::store::{DocumentMeta, WriteBatch};
use itinera_core::sync::{Access, DocSync, EphemeralRelay, Incoming, SyncError};

use super::messages::{
    Deliver, LocalChange, LocalChangeError, PeerHandle, PeerLeft, ReadDocument, Route,
    ShareDocument, Unload,
};
use crate::services::Services;
use crate::store_writer::WriteResult;

/// Stored changes after which a document's chunks are folded into one snapshot.
const COMPACT_AFTER_CHUNKS: u64 = 64;

/// How long a document waits after a write the store refused before it asks its peers again.
const RETRY_WRITE: Duration = Duration::from_secs(1);

/// One open document and everyone syncing it.
///
/// The document is changed only here, one message at a time. A peer's changes are applied to
/// a fork and checked against the access policy and the schema first; accepted changes are
/// written through the store writer, and only when the write is durable does the actor send
/// anything that reveals them (the heads in its replies, the changes to other peers).
pub struct DocActor {
    id: DocumentId,
    services: Arc<Services>,
    sync: DocSync,
    /// The user who first wrote the document (the owner of generic documents and invoices).
    creator: Option<String>,
    scope: DocumentScope,
    /// Users a generic document is shared with.
    shared_with: BTreeSet<String>,
    peers: HashMap<PeerId, PeerHandle>,
    /// The heads of the last durable write: changes after them are not yet safe.
    durable_heads: Vec<ChangeHash>,
    relay: EphemeralRelay,
    /// Why the stored document cannot be loaded; such a document is never written.
    broken: Option<String>,
    /// What the indexer was last told about this document.
    described: Option<(DocumentScope, String)>,
    /// Incremental chunks stored since the last snapshot.
    stored_chunks: u64,
}

impl std::fmt::Debug for DocActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocActor")
            .field("id", &self.id)
            .field("peers", &self.peers.len())
            .finish_non_exhaustive()
    }
}

fn share_key(id: &DocumentId) -> String {
    format!("share:{id}")
}

impl DocActor {
    /// An actor for `id`; it loads the document when it starts.
    pub fn new(id: DocumentId, services: Arc<Services>) -> Self {
        let local = PeerId::new(services.config.peer_id.clone());
        Self {
            id,
            services,
            sync: DocSync::empty(local, id),
            creator: None,
            scope: DocumentScope::default(),
            shared_with: BTreeSet::new(),
            peers: HashMap::new(),
            durable_heads: Vec::new(),
            relay: EphemeralRelay::new(),
            broken: None,
            described: None,
            stored_chunks: 0,
        }
    }

    fn load(&mut self) {
        let store = &self.services.store;
        match store.load(self.id) {
            Ok(None) => {}
            Ok(Some(bytes)) => match itinera_core::document::load_bytes(&bytes) {
                Ok(doc) => {
                    let local = PeerId::new(self.services.config.peer_id.clone());
                    self.sync = DocSync::new(local, self.id, doc);
                    self.durable_heads = self.sync.heads();
                }
                Err(err) => {
                    tracing::error!(document = %self.id, error = %err, "stored document does not load");
                    self.broken = Some(format!("the stored document does not load: {err}"));
                }
            },
            Err(err) => {
                tracing::error!(document = %self.id, error = %err, "store read failed");
                self.broken = Some(format!("the store could not be read: {err}"));
            }
        }
        match store.meta(self.id) {
            Ok(Some(meta)) => {
                self.stored_chunks = meta.incremental_chunks;
                self.creator = meta.owner;
            }
            Ok(None) => {}
            Err(err) => {
                tracing::error!(document = %self.id, error = %err, "document metadata unreadable")
            }
        }
        if let Ok(Some(shared)) = store.value(&share_key(&self.id)) {
            self.shared_with = serde_json::from_slice(&shared).unwrap_or_default();
        }
        self.rescope();
    }

    /// Recomputes what the document says about itself, and every peer's access with it.
    fn rescope(&mut self) {
        let scope = if self.sync.is_present() {
            DocumentScope::describe(&self.id, self.sync.document(), self.creator.as_deref())
        } else {
            Ok(DocumentScope::default())
        };
        match scope {
            Ok(mut scope) => {
                scope.shared_with.clone_from(&self.shared_with);
                self.scope = scope;
            }
            Err(err) => {
                tracing::warn!(document = %self.id, error = %err, "could not describe document")
            }
        }
        let present = self.sync.is_present();
        let updates: Vec<(PeerId, Access)> = self
            .peers
            .iter()
            .map(|(peer, handle)| {
                let access = if present {
                    access(&handle.principal, &self.scope)
                } else {
                    Access::Write
                };
                (peer.clone(), access)
            })
            .collect();
        for (peer, access) in updates {
            self.sync.set_access(&peer, access);
        }
    }

    /// A document nobody has created yet may be created by anyone signed in; the check of its
    /// first change decides whether the content is theirs to write.
    fn access_for(&mut self, principal: &Principal) -> Access {
        if !self.sync.is_present() {
            return Access::Write;
        }
        access(principal, &self.scope)
    }

    fn attach(&mut self, from: &PeerHandle) {
        if self.peers.contains_key(&from.peer_id) {
            return;
        }
        let state = from.storage_id.as_ref().and_then(|storage| {
            match self.services.store.sync_state(self.id, storage.as_str()) {
                Ok(Some(bytes)) => automerge::sync::State::decode(&bytes).ok(),
                _ => None,
            }
        });
        let access = self.access_for(&from.principal);
        self.sync.add_peer(from.peer_id.clone(), access, state);
        self.peers.insert(from.peer_id.clone(), from.clone());
    }

    /// Sends what the engine has to say to each peer.
    fn flush(&mut self) {
        let mut frames: HashMap<PeerId, Vec<Bytes>> = HashMap::new();
        let Some(outgoing) = self.guarded(DocSync::outgoing) else {
            return;
        };
        for message in outgoing {
            let Some(target) = message.target_id().cloned() else {
                continue;
            };
            frames
                .entry(target)
                .or_default()
                .push(Bytes::from(message.encode()));
        }
        for (peer, frames) in frames {
            if let Some(handle) = self.peers.get(&peer) {
                handle.outbox.do_send(Deliver { frames });
            }
        }
    }

    fn send_error(&self, to: &PeerHandle, text: String) {
        let message = ProtocolMessage::Error {
            sender_id: PeerId::new(self.services.config.peer_id.clone()),
            target_id: Some(to.peer_id.clone()),
            message: text,
            document_id: Some(self.id),
        };
        to.outbox.do_send(Deliver {
            frames: vec![Bytes::from(message.encode())],
        });
    }

    fn meta(&mut self) -> DocumentMeta {
        DocumentMeta {
            kind: self.scope.kind.map(|kind| kind.as_str().to_owned()),
            owner: self.creator.clone(),
            scope: None,
            heads: self.sync.heads(),
            last_change_at: self.services.now_ms(),
            ..DocumentMeta::default()
        }
    }

    /// Writes the changes made since the last durable write; `then` runs once they are durable
    /// (or the write failed) with the outcome. The actor takes no other message meanwhile, so
    /// nothing can be acknowledged before it is safe.
    fn persist(
        &mut self,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, &mut Context<Self>, &WriteResult) + 'static,
    ) {
        self.persist_with(ctx, WriteBatch::new(), false, then);
    }

    /// [`Self::persist`], with other writes made durable in the same transaction, and whether
    /// the change is the server's own (the authority is told either way).
    fn persist_with(
        &mut self,
        ctx: &mut Context<Self>,
        extra: WriteBatch,
        by_server: bool,
        then: impl FnOnce(&mut Self, &mut Context<Self>, &WriteResult) + 'static,
    ) {
        let heads = self.sync.heads();
        if heads == self.durable_heads {
            then(self, ctx, &Ok(()));
            return;
        }
        let changes = self.sync.save_after(&self.durable_heads);
        let mut batch = WriteBatch::new();
        batch.append_changes(self.id, changes, self.meta());
        // The document's summary for reports changes in the same transaction as the document.
        match itinera_core::reports::summarize(&self.id, self.sync.document()) {
            Ok(Some(summary)) => {
                if let Ok(bytes) = serde_json::to_vec(&summary) {
                    batch.put_value(&crate::authority::summary_key(&self.id), bytes);
                }
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(document = %self.id, error = %err, "no summary for reports"),
        }
        for op in extra.into_operations() {
            crate::store_writer::push(&mut batch, op);
        }
        let written = self.services.writer.write(batch);
        ctx.wait(async move { written.await.unwrap_or(Err(crate::store_writer::WriteError::Stopped)) }.into_actor(self).map(
            move |result, actor, ctx| {
                match &result {
                    Ok(()) => {
                        actor.durable_heads = heads;
                        actor.describe();
                        actor.tell_authority(by_server);
                        actor.stored_chunks += 1;
                        if actor.stored_chunks >= COMPACT_AFTER_CHUNKS {
                            actor.stored_chunks = 0;
                            actor.services.writer.compact(actor.id);
                        }
                    }
                    Err(err) => {
                        tracing::error!(document = %actor.id, error = %err, "change not stored; dropped until its sender sends it again");
                        actor.forget_unstored();
                        ctx.run_later(RETRY_WRITE, |actor, _| actor.flush());
                    }
                }
                then(actor, ctx, &result);
            },
        ));
    }

    /// Runs the sync engine, turning a panic inside it (automerge trusting a value it should
    /// not) into `None`: the document goes back to what the store holds and every peer's sync
    /// starts over, so one poisoned message costs its sender an error, not the document.
    fn guarded<T>(&mut self, work: impl FnOnce(&mut DocSync) -> T) -> Option<T> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut self.sync))) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::error!(document = %self.id, "the sync engine panicked; reloading the stored document");
                self.services.metrics.reject("engine_panic");
                self.reload();
                None
            }
        }
    }

    /// Reloads the document from the store and attaches the peers again with fresh sync states.
    fn reload(&mut self) {
        let local = PeerId::new(self.services.config.peer_id.clone());
        self.sync = DocSync::empty(local, self.id);
        self.durable_heads = Vec::new();
        self.broken = None;
        self.load();
        let peers: Vec<PeerHandle> = self.peers.values().cloned().collect();
        for handle in peers {
            let access = self.access_for(&handle.principal);
            self.sync.add_peer(handle.peer_id.clone(), access, None);
        }
    }

    /// Tells the indexer when what the document says about itself changed.
    fn describe(&mut self) {
        if !self.sync.is_present() {
            return;
        }
        let current = (
            self.scope.clone(),
            itinera_core::document::title_of(self.sync.document()),
        );
        if self.described.as_ref() == Some(&current) {
            return;
        }
        if let Some(indexer) = self.services.indexer.get() {
            indexer.do_send(crate::index_documents::Described {
                document: self.id,
                scope: current.0.clone(),
                title: current.1.clone(),
            });
        }
        self.described = Some(current);
    }

    /// Tells the hub whether `peer` still holds changes of this document the server lacks (they
    /// were refused, or are still arriving), for the sync-health report.
    fn report_pending(&mut self, peer: &PeerId) {
        let their_heads = self
            .sync
            .sync_state(peer)
            .and_then(|state| state.their_heads.clone())
            .unwrap_or_default();
        let pending = !self.sync.holds(&their_heads);
        if let Some(devices) = self.services.devices.get() {
            devices.do_send(super::messages::DevicePending {
                peer_id: peer.clone(),
                document: self.id,
                pending,
            });
        }
    }

    fn tell_authority(&self, by_server: bool) {
        if let (Some(authority), Some(kind)) = (self.services.authority.get(), self.scope.kind) {
            authority.do_send(super::messages::Changed {
                document: self.id,
                kind,
                by_server,
            });
        }
    }

    /// Goes back to the last durable version after a failed write. Nothing the store refused
    /// stays in memory, so nothing of it can be acknowledged or relayed; the devices that sent
    /// it still hold it, and the sync that restarts after [`RETRY_WRITE`] has them send it again
    /// (refused again, with the same error, until the store accepts writes).
    fn forget_unstored(&mut self) {
        let durable = self.durable_heads.clone();
        if durable.is_empty() {
            // The document was never stored: whoever sent it first is not its creator yet.
            self.creator = None;
        }
        if let Err(err) = self.sync.rewind(&durable) {
            tracing::error!(document = %self.id, error = %err, "could not go back to the stored version");
            self.broken = Some(format!(
                "the document could not go back to its stored version: {err}"
            ));
        }
        self.rescope();
    }

    fn receive(&mut self, route: Route, ctx: &mut Context<Self>) {
        let from = route.from;
        if let Some(reason) = &self.broken {
            let reason = reason.clone();
            self.send_error(&from, reason);
            return;
        }
        self.attach(&from);
        let incoming = match &route.message {
            ProtocolMessage::Request { data, .. } => Incoming::Request(data),
            ProtocolMessage::Sync { data, .. } => Incoming::Sync(data),
            ProtocolMessage::DocUnavailable { .. } => Incoming::Unavailable,
            ProtocolMessage::Ephemeral { .. } => {
                self.ephemeral(&from, route.message);
                return;
            }
            _ => return,
        };
        let principal = from.principal.clone();
        let existed = self.sync.is_present();
        let creator = self
            .creator
            .clone()
            .unwrap_or_else(|| principal.user.clone());
        let (id, shared) = (self.id, self.shared_with.clone());
        let check = move |before: &AutoCommit, after: &AutoCommit| {
            check_shared_change(
                &principal,
                &id,
                existed.then_some(before),
                after,
                Some(&creator),
                &shared,
            )
            .map_err(|refusal| refusal.to_string())
        };
        let Some(result) = self.guarded(|sync| sync.receive(&from.peer_id, incoming, Some(&check)))
        else {
            self.send_error(
                &from,
                "the server could not process your message and dropped it".into(),
            );
            return;
        };
        self.report_pending(&from.peer_id);
        match result {
            Ok(received) if received.changed => {
                if self.creator.is_none() {
                    self.creator = Some(from.principal.user.clone());
                }
                self.rescope();
                self.persist(ctx, move |actor, _, result| match result {
                    Ok(()) => actor.flush(),
                    Err(err) => {
                        actor.services.metrics.reject("store_failed");
                        actor.send_error(&from, format!("the server could not store your changes ({err}); keep them: the server asks for them again until it can store them"));
                    }
                });
            }
            Ok(_) => self.flush(),
            Err(error) => {
                let reason = match &error {
                    SyncError::ReadOnly { .. } => "read_only",
                    SyncError::Forbidden { .. } => "forbidden",
                    SyncError::Rejected { .. } => "rejected",
                    SyncError::NotASyncMessage { .. } | SyncError::Malformed { .. } => "malformed",
                    _ => "other",
                };
                self.services.metrics.reject(reason);
                tracing::info!(document = %self.id, user = %from.principal.user, %error, "change refused");
                self.send_error(&from, error.to_string());
                self.flush();
            }
        }
    }

    fn ephemeral(&mut self, from: &PeerHandle, message: ProtocolMessage) {
        let ProtocolMessage::Ephemeral {
            sender_id,
            count,
            session_id,
            ..
        } = &message
        else {
            return;
        };
        if sender_id != &from.peer_id || !self.relay.admit(sender_id, session_id, *count) {
            return;
        }
        if self.access_for(&from.principal) == Access::None || !self.sync.is_present() {
            return;
        }
        let targets: Vec<PeerHandle> = self
            .peers
            .values()
            .filter(|peer| &peer.peer_id != sender_id)
            .cloned()
            .collect();
        for target in targets {
            if self.access_for(&target.principal) == Access::None {
                continue;
            }
            let relayed = message.retargeted(&target.peer_id);
            target.outbox.do_send(Deliver {
                frames: vec![Bytes::from(relayed.encode())],
            });
        }
    }
}

impl Actor for DocActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        self.services
            .metrics
            .open_documents
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.load();
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.services
            .metrics
            .open_documents
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Handler<Route> for DocActor {
    type Result = ();

    fn handle(&mut self, route: Route, ctx: &mut Self::Context) {
        self.receive(route, ctx);
    }
}

impl Handler<PeerLeft> for DocActor {
    type Result = ();

    fn handle(&mut self, left: PeerLeft, _: &mut Self::Context) {
        let Some(handle) = self.peers.get(&left.peer_id) else {
            return;
        };
        if handle.session != left.session {
            return;
        }
        let handle = self.peers.remove(&left.peer_id);
        let state = self.sync.remove_peer(&left.peer_id);
        if let (Some(handle), Some(state)) = (handle, state) {
            if let Some(storage) = handle.storage_id.filter(|_| !state.shared_heads.is_empty()) {
                let mut batch = WriteBatch::new();
                batch.put_sync_state(self.id, storage.as_str(), state.encode());
                self.services.writer.write_detached(batch);
            }
        }
    }
}

impl Handler<Unload> for DocActor {
    type Result = ();

    fn handle(&mut self, _: Unload, ctx: &mut Self::Context) {
        if self.sync.heads() != self.durable_heads {
            // A write is still failing: stay loaded rather than drop changes.
            return;
        }
        ctx.stop();
    }
}

impl Handler<LocalChange> for DocActor {
    type Result = ResponseActFuture<Self, Result<Vec<ChangeHash>, LocalChangeError>>;

    fn handle(&mut self, change: LocalChange, ctx: &mut Self::Context) -> Self::Result {
        if let Some(reason) = &self.broken {
            return Box::pin(fut::ready(Err(LocalChangeError::Refused(reason.clone()))));
        }
        let existed = self.sync.is_present();
        if let Some(author) = &change.author {
            // A document the author may not see does not exist for them, for writes as for reads.
            if existed && access(author, &self.scope) == Access::None {
                return Box::pin(fut::ready(Err(LocalChangeError::NotFound)));
            }
        }
        let mut candidate = self.sync.document().clone();
        candidate.set_actor(self.services.actor.clone());
        if let Err(reason) = (change.edit)(&mut candidate) {
            return Box::pin(fut::ready(Err(LocalChangeError::Refused(reason))));
        }
        candidate.commit_with(
            automerge::transaction::CommitOptions::default().with_time(self.services.now_ms()),
        );
        if let Some(author) = &change.author {
            let creator = self.creator.clone().unwrap_or_else(|| author.user.clone());
            if let Err(refusal) = check_shared_change(
                author,
                &self.id,
                existed.then(|| self.sync.document()),
                &candidate,
                Some(&creator),
                &self.shared_with,
            ) {
                return Box::pin(fut::ready(Err(LocalChangeError::Refused(
                    refusal.to_string(),
                ))));
            }
            if self.creator.is_none() {
                self.creator = Some(author.user.clone());
            }
        } else if self.scope.kind != Some(itinera_core::DocumentKind::Index) {
            // The server's own writes are validated too, but for the per-user indexes: the
            // indexer writes typed entries only, and checking an index whole on every entry cost
            // time in proportion to the square of the user's documents (an admin's index lists
            // every document).
            if let Err(err) = itinera_core::document::validate(&candidate) {
                return Box::pin(fut::ready(Err(LocalChangeError::Refused(err.to_string()))));
            }
        }
        // The edit ran on a copy; take in its changes.
        if let Err(err) = self.sync.document_mut().merge(&mut candidate) {
            return Box::pin(fut::ready(Err(LocalChangeError::Refused(err.to_string()))));
        }
        self.rescope();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let by_server = change.author.is_none();
        let extra = change.with.unwrap_or_default();
        self.persist_with(ctx, extra, by_server, move |actor, _, result| {
            let outcome = match result {
                Ok(()) => {
                    actor.flush();
                    Ok(actor.sync.heads())
                }
                Err(err) => Err(LocalChangeError::Store(err.to_string())),
            };
            let _ = tx.send(outcome);
        });
        Box::pin(
            async move { rx.await.unwrap_or(Err(LocalChangeError::Unavailable)) }.into_actor(self),
        )
    }
}

impl Handler<ReadDocument> for DocActor {
    type Result = Result<Vec<u8>, LocalChangeError>;

    fn handle(&mut self, read: ReadDocument, _: &mut Self::Context) -> Self::Result {
        if !self.sync.is_present() || self.broken.is_some() {
            return Err(LocalChangeError::NotFound);
        }
        if access(&read.reader, &self.scope) == Access::None {
            return Err(LocalChangeError::NotFound);
        }
        Ok(self.sync.save())
    }
}

impl Handler<ShareDocument> for DocActor {
    type Result = ResponseActFuture<Self, Result<(), LocalChangeError>>;

    fn handle(&mut self, share: ShareDocument, _: &mut Self::Context) -> Self::Result {
        let allowed = self.sync.is_present()
            && self.scope.kind.is_none()
            && (share.by.role == Role::Admin
                || self.creator.as_deref() == Some(share.by.user.as_str()));
        if !allowed {
            return Box::pin(fut::ready(Err(LocalChangeError::NotFound)));
        }
        if share.share {
            self.shared_with.insert(share.user);
        } else {
            self.shared_with.remove(&share.user);
        }
        let bytes = serde_json::to_vec(&self.shared_with).unwrap_or_default();
        let mut batch = WriteBatch::new();
        batch.put_value(&share_key(&self.id), bytes);
        let written = self.services.writer.write(batch);
        self.rescope();
        Box::pin(
            async move {
                match written.await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(err)) => Err(LocalChangeError::Store(err.to_string())),
                    Err(_) => Err(LocalChangeError::Unavailable),
                }
            }
            .into_actor(self)
            .map(|result, actor, _| {
                actor.flush();
                result
            }),
        )
    }
}

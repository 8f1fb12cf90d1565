//! One open document: the shell that runs its [`DocumentEngine`]'s IO.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_web::web::Bytes;
use automerge::ChangeHash;
use itinera_core::DocumentId;
use itinera_core::engine::{
    DocumentEngine, EditError, EditId, EnginePeer, Input, Output, StoredDocument, StoredSize,
    WriteFailed, WriteId,
};
use itinera_core::protocol::{Message as ProtocolMessage, PeerId};
use itinera_core::store::WriteBatch;
use itinera_core::sync::SyncError;
use tokio::sync::oneshot;

use super::messages::{
    Deliver, DevicePending, EditDocument, PeerLeft, PeerUpdated, ReadDocument, Route, SessionId,
    ShareDocument, Stop, StoredElsewhere, Unload,
};
use crate::services::Services;

type Answer = oneshot::Sender<Result<Vec<ChangeHash>, EditError>>;

/// One open document and everyone syncing it.
///
/// The rules (check a peer's changes on a fork, persist before acknowledging, rewind after a
/// failed write, fan out, compact) are the engine's; this actor reads what the store holds when
/// it starts, hands the engine its inputs with the time, and carries out what comes back: writes
/// through the store writer, frames to the sessions, committed events to the bus, answers to the
/// callers.
pub struct DocActor {
    id: DocumentId,
    services: Arc<Services>,
    engine: DocumentEngine,
    clients_may_create: bool,
    hub: Recipient<DevicePending>,
    /// Where each peer's frames go.
    outboxes: HashMap<(PeerId, SessionId), Recipient<Deliver>>,
    answers: HashMap<EditId, Answer>,
    next_edit: EditId,
    /// Durable writes since the store last compacted the document, on a store several nodes
    /// share (see [`COMPACT_AFTER_WRITES`]).
    writes_since_compaction: u64,
}

/// On a store several nodes share, the engine writes no snapshot in place of the increments
/// (another node may have appended one it does not hold yet): every this many durable writes
/// the actor asks the store to compact, which folds exactly what it holds.
const COMPACT_AFTER_WRITES: u64 = 64;

impl std::fmt::Debug for DocActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocActor")
            .field("id", &self.id)
            .field("peers", &self.outboxes.len())
            .finish_non_exhaustive()
    }
}

impl DocActor {
    /// An actor for `id`, loaded from the store now; `hub` hears which devices hold changes the
    /// server lacks. `clients_may_create` is false for the ids the server reserves.
    pub fn new(
        id: DocumentId,
        services: Arc<Services>,
        hub: Recipient<DevicePending>,
        clients_may_create: bool,
    ) -> Self {
        let engine = Self::load_engine(&services, id, clients_may_create);
        Self {
            id,
            services,
            engine,
            clients_may_create,
            hub,
            outboxes: HashMap::new(),
            answers: HashMap::new(),
            next_edit: 1,
            writes_since_compaction: 0,
        }
    }

    fn load_engine(
        services: &Services,
        id: DocumentId,
        clients_may_create: bool,
    ) -> DocumentEngine {
        let store = &services.store;
        let meta = store.meta(id).unwrap_or_else(|err| {
            tracing::error!(document = %id, error = %err, "document metadata unreadable");
            None
        });
        let shared_with = match meta.as_ref().and_then(|meta| meta.scope.as_ref()) {
            Some(scope) => scope.shared_with.clone(),
            None => legacy_shares(services, &id),
        };
        let stored = StoredDocument {
            bytes: store.load(id).map_err(|err| err.to_string()),
            creator: meta.as_ref().and_then(|meta| meta.creator.clone()),
            shared_with,
            size: meta
                .as_ref()
                .map_or_else(StoredSize::default, |meta| StoredSize {
                    snapshot_bytes: meta.snapshot_bytes,
                    incremental_bytes: meta.incremental_bytes,
                    incremental_chunks: meta.incremental_chunks,
                }),
        };
        if let Err(reason) = &stored.bytes {
            tracing::error!(document = %id, error = %reason, "store read failed");
        }
        let config = itinera_core::engine::EngineConfig {
            clients_may_create,
            ..services.engine.clone()
        };
        DocumentEngine::load(config, id, stored)
    }

    /// Hands the engine one input and carries out what it asks for. A panic inside the engine
    /// (automerge trusting a value it should not) costs the input's sender an error: the
    /// document goes back to what the store holds and every peer's sync starts over.
    fn step(&mut self, input: Input, ctx: &mut Context<Self>) {
        self.step_together(vec![input], ctx);
    }

    /// Hands the engine inputs that arrived together (see
    /// [`DocumentEngine::handle_together`]), then runs what it asks for.
    fn step_together(&mut self, inputs: Vec<Input>, ctx: &mut Context<Self>) {
        let sender = inputs.iter().find_map(|input| match input {
            Input::Message { from, .. } => Some(from.clone()),
            _ => None,
        });
        let now = self.services.now_ms();
        let engine = &mut self.engine;
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.handle_together(now, inputs)
        }));
        if handled.is_err() {
            self.recover(sender);
        }
        self.run(ctx);
    }

    fn recover(&mut self, sender: Option<EnginePeer>) {
        tracing::error!(document = %self.id, "the document engine panicked; reloading the stored document");
        self.services.metrics.reject("engine_panic");
        self.engine = Self::load_engine(&self.services, self.id, self.clients_may_create);
        // Edits in flight are lost with the engine; their callers hear so.
        self.answers.clear();
        if let Some(sender) = sender {
            self.deliver(
                &sender.peer_id,
                sender.session,
                vec![error_frame(
                    &self.services,
                    &sender,
                    self.id,
                    "the server could not process your message and dropped it",
                )],
            );
        }
    }

    /// Carries out the engine's outputs, in order.
    fn run(&mut self, ctx: &mut Context<Self>) {
        let mut frames: Vec<((PeerId, SessionId), Vec<Bytes>)> = Vec::new();
        for output in self.engine.take_outputs() {
            match output {
                Output::Write { write, batch } => self.write(write, batch, ctx),
                Output::WriteDetached { batch } => self.services.writer.write_detached(batch),
                Output::Send {
                    to,
                    session,
                    message,
                } => {
                    let frame = Bytes::from(message.encode());
                    match frames
                        .iter_mut()
                        .find(|(key, _)| key.0 == to && key.1 == session)
                    {
                        Some((_, queued)) => queued.push(frame),
                        None => frames.push(((to, session), vec![frame])),
                    }
                }
                Output::Committed(committed) => {
                    if committed.changed_content() {
                        self.count_write_for_compaction();
                    }
                    self.services.events.publish(committed);
                }
                Output::EditDone { edit_id, result } => {
                    if let Some(answer) = self.answers.remove(&edit_id) {
                        let _ = answer.send(result);
                    }
                }
                Output::Rejected { peer, user, error } => self.rejected(&peer, &user, &error),
                Output::PeerPending { peer, pending } => self.hub.do_send(DevicePending {
                    peer_id: peer,
                    document: self.id,
                    pending,
                }),
                Output::WakeAt(at) => {
                    let wait = u64::try_from(at - self.services.now_ms()).unwrap_or(0);
                    ctx.run_later(Duration::from_millis(wait), |actor, ctx| {
                        actor.step(Input::Tick, ctx);
                    });
                }
            }
        }
        for ((peer, session), frames) in frames {
            self.deliver(&peer, session, frames);
        }
    }

    fn write(&mut self, write: WriteId, batch: WriteBatch, ctx: &mut Context<Self>) {
        tracing::trace!(document = %self.id, write, writes = batch.len(), "write");
        let written = self.services.writer.write(batch);
        ctx.spawn(
            async move {
                match written.await {
                    Ok(result) => result.map_err(|err| WriteFailed(err.to_string())),
                    Err(_) => Err(WriteFailed("the store writer has stopped".into())),
                }
            }
            .into_actor(self)
            .map(move |result, actor, ctx| {
                if let Err(err) = &result {
                    actor.services.metrics.reject("store_failed");
                    tracing::error!(document = %actor.id, error = %err, "change not stored; dropped until its sender sends it again");
                }
                tracing::trace!(document = %actor.id, write, ok = result.is_ok(), "written");
                actor.step(Input::WriteFinished { write, result }, ctx);
            }),
        );
    }

    /// On a shared store, compacts through the store every [`COMPACT_AFTER_WRITES`] writes, off
    /// the actor's thread.
    fn count_write_for_compaction(&mut self) {
        if self.services.store.shared().is_none() {
            return;
        }
        self.writes_since_compaction += 1;
        if self.writes_since_compaction < COMPACT_AFTER_WRITES {
            return;
        }
        self.writes_since_compaction = 0;
        let (store, id) = (self.services.store.clone(), self.id);
        tokio::task::spawn_blocking(move || {
            if let Err(error) = store.compact(id) {
                tracing::warn!(document = %id, %error, "compaction failed; the increments stay");
            }
        });
    }

    fn deliver(&self, peer: &PeerId, session: SessionId, frames: Vec<Bytes>) {
        match self.outboxes.get(&(peer.clone(), session)) {
            Some(outbox) => {
                tracing::trace!(document = %self.id, %peer, session, frames = frames.len(), "deliver");
                outbox.do_send(Deliver { frames });
            }
            None => {
                tracing::debug!(document = %self.id, %peer, session, frames = frames.len(), "no outbox for the peer's session; frames dropped");
            }
        }
    }

    fn rejected(&self, peer: &PeerId, user: &str, error: &SyncError) {
        let reason = match error {
            SyncError::ReadOnly { .. } => "read_only",
            SyncError::Forbidden { .. } => "forbidden",
            SyncError::Rejected { .. } => "rejected",
            SyncError::NotASyncMessage { .. } | SyncError::Malformed { .. } => "malformed",
            _ => "other",
        };
        self.services.metrics.reject(reason);
        let error = itinera_core::engine::clip(error.to_string(), 500);
        tracing::info!(document = %self.id, %peer, user, %error, "change refused");
    }

    /// Registers a caller's answer and returns the id the engine will answer under.
    fn expect_answer(
        &mut self,
    ) -> (
        EditId,
        oneshot::Receiver<Result<Vec<ChangeHash>, EditError>>,
    ) {
        let edit_id = self.next_edit;
        self.next_edit += 1;
        let (answer, answered) = oneshot::channel();
        self.answers.insert(edit_id, answer);
        (edit_id, answered)
    }
}

/// The users a generic document was shared with, as stores kept them before its metadata held
/// them.
fn legacy_shares(services: &Services, id: &DocumentId) -> BTreeSet<String> {
    match services.store.value(&format!("share:{id}")) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
        _ => BTreeSet::new(),
    }
}

fn error_frame(services: &Services, to: &EnginePeer, document: DocumentId, text: &str) -> Bytes {
    let message = ProtocolMessage::Error {
        sender_id: services.engine.local.clone(),
        target_id: Some(to.peer_id.clone()),
        message: text.to_owned(),
        document_id: Some(document),
    };
    Bytes::from(message.encode())
}

impl Actor for DocActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        self.services
            .metrics
            .open_documents
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
        let from = route.from;
        tracing::trace!(document = %self.id, peer = %from.peer_id, session = from.session, "route");
        let key = (from.peer_id.clone(), from.session);
        self.outboxes
            .entry(key)
            .or_insert_with(|| from.outbox.clone());
        let peer = from.engine_peer();
        let mut inputs = Vec::with_capacity(2);
        if !self.engine.has_peer(&peer.peer_id, peer.session) {
            let stored_state = peer.storage_id.as_ref().and_then(|storage| {
                self.services
                    .store
                    .sync_state(self.id, storage.as_str())
                    .ok()
                    .flatten()
            });
            inputs.push(Input::PeerJoined {
                peer: peer.clone(),
                stored_state,
            });
        }
        inputs.push(Input::Message {
            from: peer,
            message: route.message,
        });
        self.step_together(inputs, ctx);
    }
}

impl Handler<PeerLeft> for DocActor {
    type Result = ();

    fn handle(&mut self, left: PeerLeft, ctx: &mut Self::Context) {
        self.outboxes.remove(&(left.peer_id.clone(), left.session));
        self.step(
            Input::PeerLeft {
                peer: left.peer_id,
                session: left.session,
            },
            ctx,
        );
    }
}

impl Handler<PeerUpdated> for DocActor {
    type Result = ();

    fn handle(&mut self, updated: PeerUpdated, ctx: &mut Self::Context) {
        self.step(Input::PeerUpdated { peer: updated.peer }, ctx);
    }
}

impl Handler<StoredElsewhere> for DocActor {
    type Result = ();

    fn handle(&mut self, stored: StoredElsewhere, ctx: &mut Self::Context) {
        let heads = stored.committed.heads.clone();
        if self.engine.holds(&heads) {
            // This node holds them already: it stored them too, or is storing them now.
            return;
        }
        match self.services.store.load(self.id) {
            Ok(Some(bytes)) => self.step(
                Input::StoredElsewhere {
                    bytes,
                    heads,
                    creator: stored.creator,
                },
                ctx,
            ),
            Ok(None) => {}
            Err(error) => {
                tracing::error!(document = %self.id, %error, "changes stored by another node unreadable");
            }
        }
        self.services.events.publish_elsewhere(stored.committed);
    }
}

impl Handler<Unload> for DocActor {
    type Result = bool;

    fn handle(&mut self, _: Unload, _: &mut Self::Context) -> bool {
        // A write still failing or in flight keeps the document loaded rather than drop changes.
        self.engine.is_idle()
    }
}

impl Handler<Stop> for DocActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<EditDocument> for DocActor {
    type Result = ResponseFuture<Result<Vec<ChangeHash>, EditError>>;

    fn handle(&mut self, edit: EditDocument, ctx: &mut Self::Context) -> Self::Result {
        let (edit_id, answered) = self.expect_answer();
        self.step(
            Input::Edit {
                edit_id,
                author: edit.author,
                edit: edit.edit,
                with: edit.with,
            },
            ctx,
        );
        Box::pin(async move { answered.await.unwrap_or(Err(EditError::Unavailable)) })
    }
}

impl Handler<ReadDocument> for DocActor {
    type Result = Result<Vec<u8>, EditError>;

    fn handle(&mut self, read: ReadDocument, _: &mut Self::Context) -> Self::Result {
        self.engine.read(&read.reader)
    }
}

impl Handler<ShareDocument> for DocActor {
    type Result = ResponseFuture<Result<(), EditError>>;

    fn handle(&mut self, share: ShareDocument, ctx: &mut Self::Context) -> Self::Result {
        let (edit_id, answered) = self.expect_answer();
        self.step(
            Input::Share {
                edit_id,
                by: share.by,
                user: share.user,
                share: share.share,
            },
            ctx,
        );
        Box::pin(async move {
            answered
                .await
                .unwrap_or(Err(EditError::Unavailable))
                .map(|_| ())
        })
    }
}

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_web::web::Bytes;
use itinera_core::DocumentId;
use itinera_core::protocol::Message as ProtocolMessage;

use super::DocActor;
use super::messages::{
    Deliver, DevicePending, DeviceSeen, Devices, EditDocument, PeerLeft, PeerUpdated,
    PrincipalChanged, ReadDocument, Route, SessionClosed, SessionId, ShareDocument, Stop,
    StoredElsewhere, Unload,
};
use crate::services::Services;

/// The directory of open documents.
///
/// Every message about a document passes through here on its way to the document's actor, so
/// the hub knows which documents are in use: one that no session has touched for
/// `idle_unload` is stopped, and the next message loads it again from the store.
pub struct Hub {
    services: Arc<Services>,
    /// Threads the doc actors run on, chosen by document id so one busy document does not stall
    /// the others.
    arbiters: Vec<ArbiterHandle>,
    documents: HashMap<DocumentId, Entry>,
    sessions: HashMap<SessionId, HashSet<DocumentId>>,
    tick: Duration,
    /// Every device seen since start, by peer id, for the sync-health report.
    devices: HashMap<String, DeviceSeen>,
    /// Where doc actors report the devices' pending documents (this hub, once started).
    pending: Option<Recipient<DevicePending>>,
}

struct Entry {
    addr: Addr<DocActor>,
    sessions: HashSet<SessionId>,
    idle_ticks: u32,
    /// Whether the actor was asked whether it can stop and has not answered yet.
    asked_to_unload: bool,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("documents", &self.documents.len())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub that starts doc actors on `arbiters`.
    pub fn new(services: Arc<Services>, arbiters: Vec<ArbiterHandle>) -> Self {
        let tick = (services.config.idle_unload / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(5));
        Self {
            services,
            arbiters,
            documents: HashMap::new(),
            sessions: HashMap::new(),
            tick,
            devices: HashMap::new(),
            pending: None,
        }
    }

    fn entry(&mut self, document: DocumentId, ctx: &mut Context<Self>) -> &mut Entry {
        let services = &self.services;
        let arbiters = &self.arbiters;
        let hub = self
            .pending
            .get_or_insert_with(|| ctx.address().recipient())
            .clone();
        self.documents.entry(document).or_insert_with(|| {
            let index = document.as_bytes().iter().fold(0usize, |h, b| {
                h.wrapping_mul(31).wrapping_add(usize::from(*b))
            });
            let services = services.clone();
            // Only the server creates documents at the ids it reserves for its own.
            let clients_may_create = !document.is_reserved();
            let start = move |_: &mut Context<DocActor>| {
                DocActor::new(document, services, hub, clients_may_create)
            };
            let addr = match arbiters.get(index % arbiters.len().max(1)) {
                Some(arbiter) => DocActor::start_in_arbiter(arbiter, start),
                None => DocActor::create(start),
            };
            Entry {
                addr,
                sessions: HashSet::new(),
                idle_ticks: 0,
                asked_to_unload: false,
            }
        })
    }

    fn idle_limit(&self) -> u32 {
        let ticks = self.services.config.idle_unload.as_millis() / self.tick.as_millis().max(1);
        u32::try_from(ticks).unwrap_or(u32::MAX).max(1)
    }

    /// Asks the documents nobody has used for `idle_unload` whether they can stop; one that
    /// says yes and is still unused when the answer comes is stopped and forgotten (a message
    /// that came meanwhile keeps it), so a document never has two actors.
    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let limit = self.idle_limit();
        let mut candidates = Vec::new();
        for (id, entry) in &mut self.documents {
            if entry.sessions.is_empty() {
                entry.idle_ticks += 1;
                if entry.idle_ticks >= limit && !entry.asked_to_unload {
                    entry.asked_to_unload = true;
                    candidates.push((*id, entry.addr.clone()));
                }
            }
        }
        for (id, addr) in candidates {
            ctx.spawn(addr.send(Unload).into_actor(self).map(move |idle, hub, _| {
                let Some(entry) = hub.documents.get_mut(&id) else {
                    return;
                };
                entry.asked_to_unload = false;
                let still_unused = entry.sessions.is_empty() && entry.idle_ticks >= limit;
                if idle.unwrap_or(false) && still_unused {
                    if let Some(entry) = hub.documents.remove(&id) {
                        entry.addr.do_send(Stop);
                    }
                }
            }));
        }
    }

    /// Answers a request for a document that nobody holds (not in the store, no actor for it)
    /// with `doc-unavailable` at once, creating nothing: requests for ids that do not exist
    /// cost the server nothing that outlives the answer.
    fn answer_unknown(&self, route: &Route) -> bool {
        let ProtocolMessage::Request { .. } = route.message else {
            return false;
        };
        if self.documents.contains_key(&route.document) {
            return false;
        }
        if !matches!(self.services.store.meta(route.document), Ok(None)) {
            return false;
        }
        let unavailable = ProtocolMessage::DocUnavailable {
            sender_id: self.services.engine.local.clone(),
            target_id: route.from.peer_id.clone(),
            document_id: route.document,
        };
        route.from.outbox.do_send(Deliver {
            frames: vec![Bytes::from(unavailable.encode())],
        });
        true
    }

    /// Refuses a message that would open one document more than a connection may hold.
    fn over_document_cap(&self, route: &Route) -> bool {
        let cap = self.services.config.max_documents_per_session;
        let open = self
            .sessions
            .get(&route.from.session)
            .map_or(0, HashSet::len);
        let known = self
            .sessions
            .get(&route.from.session)
            .is_some_and(|documents| documents.contains(&route.document));
        if known || open < cap {
            return false;
        }
        self.services.metrics.reject("too_many_documents");
        let error = ProtocolMessage::Error {
            sender_id: self.services.engine.local.clone(),
            target_id: Some(route.from.peer_id.clone()),
            message: format!(
                "this connection already has {open} documents open, the most one may; \
                 reconnect to sync others"
            ),
            document_id: Some(route.document),
        };
        route.from.outbox.do_send(Deliver {
            frames: vec![Bytes::from(error.encode())],
        });
        true
    }
}

impl Actor for Hub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.tick, |hub, ctx| hub.sweep(ctx));
    }
}

impl Handler<Route> for Hub {
    type Result = ();

    fn handle(&mut self, route: Route, ctx: &mut Self::Context) {
        let now = self.services.now_ms();
        let device = self
            .devices
            .entry(route.from.peer_id.to_string())
            .or_default();
        device.user.clone_from(&route.from.principal.user);
        device.peer_id = route.from.peer_id.to_string();
        device.storage_id = route
            .from
            .storage_id
            .as_ref()
            .map(|s| s.as_str().to_owned());
        device.last_seen = now;
        if self.answer_unknown(&route) || self.over_document_cap(&route) {
            return;
        }
        let session = route.from.session;
        self.sessions
            .entry(session)
            .or_default()
            .insert(route.document);
        let entry = self.entry(route.document, ctx);
        entry.sessions.insert(session);
        entry.idle_ticks = 0;
        entry.addr.do_send(route);
    }
}

impl Handler<SessionClosed> for Hub {
    type Result = ();

    fn handle(&mut self, closed: SessionClosed, _: &mut Self::Context) {
        for document in self.sessions.remove(&closed.session).unwrap_or_default() {
            if let Some(entry) = self.documents.get_mut(&document) {
                entry.sessions.remove(&closed.session);
                entry.idle_ticks = 0;
                if let Some(peer_id) = &closed.peer_id {
                    entry.addr.do_send(PeerLeft {
                        session: closed.session,
                        peer_id: peer_id.clone(),
                    });
                }
            }
        }
    }
}

impl Handler<PrincipalChanged> for Hub {
    type Result = ();

    fn handle(&mut self, changed: PrincipalChanged, _: &mut Self::Context) {
        let documents = self
            .sessions
            .get(&changed.session)
            .cloned()
            .unwrap_or_default();
        let storage_id = self
            .devices
            .get(changed.peer_id.as_str())
            .and_then(|device| device.storage_id.clone())
            .map(itinera_core::protocol::StorageId::new);
        for document in documents {
            if let Some(entry) = self.documents.get(&document) {
                entry.addr.do_send(PeerUpdated {
                    peer: itinera_core::engine::EnginePeer {
                        peer_id: changed.peer_id.clone(),
                        session: changed.session,
                        principal: changed.principal.clone(),
                        storage_id: storage_id.clone(),
                    },
                });
            }
        }
    }
}

impl Handler<StoredElsewhere> for Hub {
    type Result = ();

    fn handle(&mut self, stored: StoredElsewhere, _: &mut Self::Context) {
        match self.documents.get(&stored.committed.document) {
            // The actor publishes once it merged, so that a device told of the change finds it.
            Some(entry) => entry.addr.do_send(stored),
            None => self.services.events.publish_elsewhere(stored.committed),
        }
    }
}

/// Forwards a request to a document's actor, loading it first.
macro_rules! forward {
    ($message:ty, $output:ty) => {
        impl Handler<$message> for Hub {
            type Result = ResponseFuture<$output>;

            fn handle(&mut self, message: $message, ctx: &mut Self::Context) -> Self::Result {
                let entry = self.entry(message.document, ctx);
                entry.idle_ticks = 0;
                let sent = entry.addr.send(message);
                Box::pin(async move {
                    sent.await
                        .unwrap_or(Err(itinera_core::engine::EditError::Unavailable))
                })
            }
        }
    };
}

forward!(
    EditDocument,
    Result<Vec<automerge::ChangeHash>, itinera_core::engine::EditError>
);
forward!(
    ReadDocument,
    Result<Vec<u8>, itinera_core::engine::EditError>
);
forward!(ShareDocument, Result<(), itinera_core::engine::EditError>);

impl Handler<DevicePending> for Hub {
    type Result = ();

    fn handle(&mut self, pending: DevicePending, _: &mut Self::Context) {
        let device = self.devices.entry(pending.peer_id.to_string()).or_default();
        if pending.pending {
            device.pending.insert(pending.document.to_string());
        } else {
            device.pending.remove(&pending.document.to_string());
        }
    }
}

impl Handler<Devices> for Hub {
    type Result = Vec<DeviceSeen>;

    fn handle(&mut self, _: Devices, _: &mut Self::Context) -> Self::Result {
        self.devices.values().cloned().collect()
    }
}

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::prelude::*;
use std::pin::Pin;
use std::task::Poll;

use actix_web::HttpResponse;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use itinera_core::policy::Principal;
use itinera_core::protocol::{
    DecodeLimits, Message as ProtocolMessage, PeerId, PeerMetadata, StorageId,
};
use itinera_core::sync::{Connection, Handshake};
use tokio::sync::mpsc;

use super::Hub;
use super::changes_feed::{ChangesFeed, FeedRequest};
use super::messages::{Deliver, PeerHandle, PrincipalChanged, Route, SessionClosed, SessionId};
use crate::services::Services;
use crate::sessions::{Reauthenticate, Superseded};

/// What the writer task sends on the socket.
enum Outbound {
    Frame(Bytes),
    Ping,
    Pong(Bytes),
    Close(CloseReason),
}

/// One WebSocket connection: its handshake, its peer, and the frames queued for it.
///
/// Frames for the peer go through a queue drained by a writer task into the WebSocket layer.
/// Every byte is counted ([`OutgoingBytes`]) from the moment it is queued until the HTTP layer
/// has written it to the socket, and a client that does not read fast enough to keep them under
/// `max_outgoing_bytes` is disconnected instead of growing the server's memory.
pub struct Session {
    id: SessionId,
    principal: Arc<Principal>,
    /// The token the session was opened with, checked again whenever its user changes and at
    /// every heartbeat (it may expire). Never logged.
    token: String,
    services: Arc<Services>,
    hub: Addr<Hub>,
    connection: Connection,
    peer_id: Option<PeerId>,
    storage_id: Option<StorageId>,
    limits: DecodeLimits,
    outbound: mpsc::UnboundedSender<Outbound>,
    queued: Arc<AtomicUsize>,
    /// Heartbeats since the client last sent anything.
    silent_ticks: u32,
    /// Messages the client may still send now (refilled at the configured rate).
    budget: f64,
    /// When the budget was last refilled (unix ms).
    refilled_at: i64,
    closing: bool,
    /// The changes feed the device asked for, if any (stopped with the session).
    feed: Option<ChangesFeed>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user", &self.principal.user)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session for an authenticated user, writing to `socket`, whose queued bytes `queued`
    /// counts.
    ///
    /// Spawns the writer task on the current (worker) thread: `actix_ws::Session` is not meant
    /// to leave it.
    pub fn new(
        id: SessionId,
        principal: Principal,
        token: String,
        services: Arc<Services>,
        hub: Addr<Hub>,
        (socket, queued): (actix_ws::Session, OutgoingBytes),
        server_metadata: PeerMetadata,
    ) -> Self {
        let (outbound, receiver) = mpsc::unbounded_channel();
        let queued = queued.0;
        actix_web::rt::spawn(write_frames(socket, receiver, services.clone()));
        let local = PeerId::new(services.config.peer_id.clone());
        let limits = DecodeLimits {
            max_frame_bytes: services.config.max_frame_bytes,
            // A frame may inflate to eight times the largest frame: 256 MiB by default.
            max_inflated_bytes: (services.config.max_frame_bytes as u64).saturating_mul(8),
            ..DecodeLimits::default()
        };
        let (burst, now) = (services_burst(&services), services.now_ms());
        Self {
            id,
            principal: Arc::new(principal),
            token,
            services,
            hub,
            connection: Connection::accept(local, server_metadata),
            peer_id: None,
            storage_id: None,
            limits,
            outbound,
            queued,
            silent_ticks: 0,
            budget: f64::from(burst),
            refilled_at: now,
            closing: false,
            feed: None,
        }
    }

    /// Takes one message from the budget; `false` when the client sends faster than allowed.
    fn within_rate(&mut self) -> bool {
        let now = self.services.now_ms();
        let rate = f64::from(self.services.config.max_messages_per_second);
        let elapsed = (now - self.refilled_at).max(0) as f64 / 1_000.0;
        self.refilled_at = now;
        self.budget = (self.budget + elapsed * rate).min(f64::from(services_burst(&self.services)));
        if self.budget < 1.0 {
            return false;
        }
        self.budget -= 1.0;
        true
    }

    fn send(&mut self, frame: Bytes, ctx: &mut Context<Self>) {
        let queued = self.queued.fetch_add(frame.len(), Ordering::Relaxed) + frame.len();
        if queued > self.services.config.max_outgoing_bytes {
            self.services
                .metrics
                .slow_clients_disconnected
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(session = self.id, user = %self.principal.user, queued, "client too slow; disconnecting");
            self.close(
                CloseCode::Policy,
                "outgoing queue full: the client reads too slowly",
                ctx,
            );
            return;
        }
        self.services
            .metrics
            .messages_out
            .fetch_add(1, Ordering::Relaxed);
        let _ = self.outbound.send(Outbound::Frame(frame));
    }

    fn send_message(&mut self, message: &ProtocolMessage, ctx: &mut Context<Self>) {
        self.send(Bytes::from(message.encode()), ctx);
    }

    fn close(&mut self, code: CloseCode, description: &str, ctx: &mut Context<Self>) {
        if !self.closing {
            self.closing = true;
            // A close frame's reason holds at most 123 bytes.
            let mut reason = String::new();
            for c in description.chars() {
                if reason.len() + c.len_utf8() > 120 {
                    break;
                }
                reason.push(c);
            }
            let _ = self.outbound.send(Outbound::Close(CloseReason {
                code,
                description: Some(reason),
            }));
        }
        ctx.stop();
    }

    fn frame(&mut self, bytes: &[u8], ctx: &mut Context<Self>) {
        if !self.within_rate() {
            self.services.metrics.reject("too_many_messages");
            tracing::warn!(session = self.id, user = %self.principal.user, "client sends too fast; disconnecting");
            let reply = ProtocolMessage::Error {
                sender_id: self.connection.local().clone(),
                target_id: self.peer_id.clone(),
                message: format!(
                    "more than {} messages a second; slow down and reconnect",
                    self.services.config.max_messages_per_second
                ),
                document_id: None,
            };
            self.send_message(&reply, ctx);
            self.close(CloseCode::Policy, "too many messages", ctx);
            return;
        }
        let metrics = &self.services.metrics;
        metrics.messages_in.fetch_add(1, Ordering::Relaxed);
        metrics
            .bytes_in
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let message = match ProtocolMessage::decode(bytes, &self.limits) {
            Ok(message) => message,
            Err(err) => {
                // One bad frame ends this connection only; the peer is told why first.
                metrics.reject("bad_frame");
                let reply = ProtocolMessage::Error {
                    sender_id: self.connection.local().clone(),
                    target_id: self.peer_id.clone(),
                    message: itinera_core::engine::clip(
                        format!("bad frame: {err}"),
                        itinera_core::engine::MAX_ERROR_CHARS,
                    ),
                    document_id: None,
                };
                self.send_message(&reply, ctx);
                self.close(CloseCode::Invalid, "bad frame", ctx);
                return;
            }
        };
        match self.connection.receive(message) {
            Ok(Handshake::Joined {
                remote,
                metadata,
                reply,
            }) => {
                let claimed = self.services.sessions.claim_peer(
                    &remote,
                    &self.principal.user,
                    self.id,
                    ctx.address().recipient(),
                );
                if let Err(taken) = claimed {
                    metrics.reject("peer_id_taken");
                    let refusal = ProtocolMessage::Error {
                        sender_id: self.connection.local().clone(),
                        target_id: Some(remote),
                        message: taken.to_string(),
                        document_id: None,
                    };
                    self.send_message(&refusal, ctx);
                    self.close(CloseCode::Policy, "peer id in use", ctx);
                    return;
                }
                self.peer_id = Some(remote);
                self.storage_id = metadata.storage_id;
                self.send_message(&reply, ctx);
            }
            Ok(Handshake::Accepted { .. }) => {}
            Ok(Handshake::Left { .. }) => self.close(CloseCode::Normal, "leave", ctx),
            Ok(Handshake::Message(message)) => self.route(message, ctx),
            Err(violation) => {
                metrics.reject("protocol");
                self.send_message(&violation.reply, ctx);
                if violation.close {
                    self.close(CloseCode::Protocol, &violation.reason, ctx);
                }
            }
        }
    }

    fn route(&mut self, message: ProtocolMessage, ctx: &mut Context<Self>) {
        if let ProtocolMessage::ChangesSince {
            sender_id,
            checkpoint,
            bodies,
            live,
            user,
            ..
        } = message
        {
            if let Some(user) = user.filter(|user| *user != self.principal.user) {
                // Another user's replica: its documents must not be synced with these rights.
                self.services.metrics.reject("replica_of_another_user");
                let refusal = ProtocolMessage::Error {
                    sender_id: self.connection.local().clone(),
                    target_id: Some(sender_id),
                    message: itinera_core::engine::clip(
                        format!(
                            "this replica belongs to {user}, but the token is {}'s: open {}'s \
                             replica, or sign in as {user}",
                            self.principal.user, self.principal.user
                        ),
                        itinera_core::engine::MAX_ERROR_CHARS,
                    ),
                    document_id: None,
                };
                self.send_message(&refusal, ctx);
                self.close(CloseCode::Policy, "replica of another user", ctx);
                return;
            }
            let request = FeedRequest {
                local: self.connection.local().clone(),
                device: sender_id,
                checkpoint,
                bodies,
                live,
            };
            // A second request replaces the first.
            self.feed = Some(ChangesFeed::start(
                self.services.clone(),
                self.principal.clone(),
                request,
                ctx.address().recipient(),
            ));
            return;
        }
        let (Some(document), Some(peer_id)) =
            (message.document_id().copied(), self.peer_id.clone())
        else {
            return;
        };
        if let ProtocolMessage::Error { .. } = message {
            return;
        }
        let from = PeerHandle {
            session: self.id,
            peer_id,
            principal: self.principal.clone(),
            storage_id: self.storage_id.clone(),
            outbox: ctx.address().recipient(),
        };
        self.hub.do_send(Route {
            document,
            from,
            message,
        });
    }

    /// Checks the session's token again: a revoked or expired token or a disabled user closes
    /// the session with an error; another role or other grants apply to it from now on.
    fn reauthenticate(&mut self, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let now = self.services.now_ms();
        match self.services.directory.authenticate(&self.token, now) {
            Ok(principal) => {
                if principal == *self.principal {
                    return;
                }
                tracing::info!(session = self.id, user = %principal.user, "rights changed");
                self.principal = Arc::new(principal);
                if let Some(feed) = &self.feed {
                    feed.set_principal(self.principal.clone());
                }
                if let Some(peer_id) = self.peer_id.clone() {
                    self.hub.do_send(PrincipalChanged {
                        session: self.id,
                        peer_id,
                        principal: self.principal.clone(),
                    });
                }
            }
            Err(refused) => {
                tracing::info!(session = self.id, user = %self.principal.user, %refused, "access ended");
                self.services.metrics.reject("access_ended");
                let reply = ProtocolMessage::Error {
                    sender_id: self.connection.local().clone(),
                    target_id: self.peer_id.clone(),
                    message: format!("your access has ended: {refused}"),
                    document_id: None,
                };
                self.send_message(&reply, ctx);
                self.close(CloseCode::Policy, "access ended", ctx);
            }
        }
    }

    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let config = &self.services.config;
        let limit = config.client_timeout.as_millis() / config.ping_interval.as_millis().max(1);
        self.silent_ticks += 1;
        if u128::from(self.silent_ticks) > limit {
            tracing::info!(session = self.id, user = %self.principal.user, "client timed out");
            self.close(CloseCode::Away, "timeout", ctx);
            return;
        }
        let _ = self.outbound.send(Outbound::Ping);
        self.reauthenticate(ctx);
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.services
            .sessions
            .register(&self.principal.user, self.id, ctx.address().recipient());
        self.services
            .metrics
            .connections
            .fetch_add(1, Ordering::Relaxed);
        self.services
            .metrics
            .connections_total
            .fetch_add(1, Ordering::Relaxed);
        ctx.run_interval(self.services.config.ping_interval, |session, ctx| {
            session.heartbeat(ctx)
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.services
            .sessions
            .unregister(&self.principal.user, self.id);
        if let Some(peer) = &self.peer_id {
            self.services.sessions.release_peer(peer, self.id);
        }
        self.services
            .metrics
            .connections
            .fetch_sub(1, Ordering::Relaxed);
        self.hub.do_send(SessionClosed {
            session: self.id,
            peer_id: self.peer_id.clone(),
        });
    }
}

impl StreamHandler<Result<AggregatedMessage, actix_ws::ProtocolError>> for Session {
    fn handle(
        &mut self,
        item: Result<AggregatedMessage, actix_ws::ProtocolError>,
        ctx: &mut Self::Context,
    ) {
        self.silent_ticks = 0;
        match item {
            Ok(AggregatedMessage::Binary(bytes)) => self.frame(&bytes, ctx),
            Ok(AggregatedMessage::Text(_)) => {
                self.services.metrics.reject("text_frame");
                let reply = ProtocolMessage::Error {
                    sender_id: self.connection.local().clone(),
                    target_id: self.peer_id.clone(),
                    message: "text frames are not part of the protocol; send CBOR in binary frames"
                        .into(),
                    document_id: None,
                };
                self.send_message(&reply, ctx);
                self.close(CloseCode::Unsupported, "text frame", ctx);
            }
            Ok(AggregatedMessage::Ping(bytes)) => {
                let _ = self.outbound.send(Outbound::Pong(bytes));
            }
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Close(_)) => ctx.stop(),
            Err(err) => {
                self.services.metrics.reject("bad_frame");
                tracing::info!(session = self.id, error = %err, "websocket protocol error");
                self.close(CloseCode::Protocol, "websocket protocol error", ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<Deliver> for Session {
    type Result = ();

    fn handle(&mut self, deliver: Deliver, ctx: &mut Self::Context) {
        for frame in deliver.frames {
            if self.closing {
                return;
            }
            self.send(frame, ctx);
        }
    }
}

impl Handler<Superseded> for Session {
    type Result = ();

    fn handle(&mut self, _: Superseded, ctx: &mut Self::Context) {
        tracing::info!(session = self.id, user = %self.principal.user, "superseded by a newer connection of the same peer");
        self.close(CloseCode::Normal, "superseded by a newer connection", ctx);
    }
}

impl Handler<Reauthenticate> for Session {
    type Result = ();

    fn handle(&mut self, _: Reauthenticate, ctx: &mut Self::Context) {
        self.reauthenticate(ctx);
    }
}

/// The most messages a client may send in one burst: ten seconds' worth.
fn services_burst(services: &Services) -> u32 {
    services.config.max_messages_per_second.saturating_mul(10)
}

/// Drains a session's queue into the socket, one frame at a time.
async fn write_frames(
    mut socket: actix_ws::Session,
    mut frames: mpsc::UnboundedReceiver<Outbound>,
    services: Arc<Services>,
) {
    while let Some(outbound) = frames.recv().await {
        let sent = match outbound {
            Outbound::Frame(frame) => {
                let len = frame.len();
                let sent = socket.binary(frame).await;
                services
                    .metrics
                    .bytes_out
                    .fetch_add(len as u64, Ordering::Relaxed);
                sent
            }
            Outbound::Ping => socket.ping(b"").await,
            Outbound::Pong(bytes) => socket.pong(&bytes).await,
            Outbound::Close(reason) => {
                let _ = socket.close(Some(reason)).await;
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
    let _ = socket.close(None).await;
}

/// The bytes queued for one client and not yet written to its socket: counted up when a frame
/// is queued, and down only when the HTTP layer asks for more of the response body, which it
/// does once what it took before has (nearly all) gone out. Frames waiting in the WebSocket
/// layer's own channel, in its encoder and in the HTTP layer's write buffer are all counted.
#[derive(Debug, Clone, Default)]
pub struct OutgoingBytes(Arc<AtomicUsize>);

impl OutgoingBytes {
    /// The WebSocket response, its body counted out as the HTTP layer takes it.
    pub fn count_sent(&self, response: HttpResponse) -> HttpResponse {
        let queued = self.0.clone();
        response.map_body(|_, body| {
            BoxBody::new(CountedBody {
                body,
                queued,
                handed: 0,
            })
        })
    }
}

struct CountedBody {
    body: BoxBody,
    queued: Arc<AtomicUsize>,
    /// Bytes of the last chunk handed to the HTTP layer, counted out at its next request.
    handed: usize,
}

impl MessageBody for CountedBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if this.handed > 0 {
            let handed = std::mem::take(&mut this.handed);
            // Frame headers, pings and closes are written too but were never counted in.
            let _ = this
                .queued
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |queued| {
                    Some(queued.saturating_sub(handed))
                });
        }
        let next = Pin::new(&mut this.body).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            this.handed = chunk.len();
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of two chunks, as the WebSocket layer's would yield them.
    fn counted(queued: &OutgoingBytes) -> HttpResponse {
        let chunks = futures_util::stream::iter([
            Ok::<_, std::io::Error>(Bytes::from_static(&[1; 300])),
            Ok(Bytes::from_static(&[2; 200])),
        ]);
        queued.count_sent(HttpResponse::Ok().streaming(chunks))
    }

    async fn next(body: &mut BoxBody) -> Option<Result<Bytes, Box<dyn std::error::Error>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)).await
    }

    #[actix_web::test]
    async fn bytes_stay_counted_until_the_http_layer_asks_for_more() {
        let queued = OutgoingBytes::default();
        queued.0.store(500, Ordering::Relaxed);
        let mut body = counted(&queued).into_body();
        let first = next(&mut body)
            .await
            .and_then(Result::ok)
            .expect("first chunk");
        assert_eq!(first.len(), 300);
        // Handed to the HTTP layer, not yet written: still counted.
        assert_eq!(queued.0.load(Ordering::Relaxed), 500);
        let second = next(&mut body)
            .await
            .and_then(Result::ok)
            .expect("second chunk");
        assert_eq!(second.len(), 200);
        assert_eq!(queued.0.load(Ordering::Relaxed), 200);
        assert!(next(&mut body).await.is_none());
        assert_eq!(queued.0.load(Ordering::Relaxed), 0);
    }

    #[actix_web::test]
    async fn bytes_never_counted_in_do_not_wrap_the_count() {
        let queued = OutgoingBytes::default();
        queued.0.store(100, Ordering::Relaxed);
        let mut body = counted(&queued).into_body();
        while next(&mut body).await.is_some() {}
        assert_eq!(queued.0.load(Ordering::Relaxed), 0);
    }
}

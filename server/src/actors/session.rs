//! One WebSocket connection's actor: the automerge-repo handshake, frame decoding and routing,
//! the bounded outgoing queue, heartbeats and re-authentication.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::prelude::*;
use actix_web::web::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt, StreamExt};
use itinera_core::policy::Principal;
use itinera_core::protocol::{
    DecodeLimits, Message as ProtocolMessage, PeerId, PeerMetadata, StorageId,
};
use itinera_core::sync::{Connection, Handshake};
use local_channel::mpsc;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as SocketError, Message as SocketMessage};

use super::Hub;
use super::changes_feed::{ChangesFeed, FeedRequest};
use super::messages::{Deliver, PeerHandle, PrincipalChanged, Route, SessionClosed, SessionId};
use super::socket::{CLOSE_WAIT, Socket, SocketReader};
use crate::services::Services;
use crate::sessions::{Reauthenticate, Superseded};

/// What the writer task sends on the socket.
enum Outbound {
    Frame(Bytes),
    Ping,
    Close(CloseFrame),
}

/// One WebSocket connection: its handshake, its peer, and the frames queued for it.
///
/// Frames for the peer go through a queue drained by a writer task into the socket. Every byte
/// is counted from the moment it is queued until the socket has taken all of it (written to the
/// connection, nothing left in the WebSocket layer), and a client that does not read fast enough
/// to keep them under `max_outgoing_bytes` is disconnected instead of growing the server's
/// memory.
pub struct Session {
    id: SessionId,
    principal: Arc<Principal>,
    /// The token (or the browser's session cookie) the session was opened with, checked again
    /// whenever its user changes and at every heartbeat (it may expire). Never logged.
    token: String,
    services: Arc<Services>,
    hub: Addr<Hub>,
    connection: Connection,
    peer_id: Option<PeerId>,
    storage_id: Option<StorageId>,
    limits: DecodeLimits,
    outbound: mpsc::Sender<Outbound>,
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

/// Who a session serves and what it shares with the rest of the server.
pub struct SessionStart {
    pub id: SessionId,
    pub principal: Principal,
    /// The token the connection was opened with.
    pub token: String,
    pub services: Arc<Services>,
    pub hub: Addr<Hub>,
    pub server_metadata: PeerMetadata,
}

impl std::fmt::Debug for SessionStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStart")
            .field("id", &self.id)
            .field("user", &self.principal.user)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Runs a session for an authenticated user over `socket`: the actor reads it, a writer
    /// task on the current (worker) thread writes it.
    pub fn start(start: SessionStart, socket: Socket) -> Addr<Self> {
        let (sink, stream) = socket.split();
        let reader = SocketReader::new(stream);
        // A queue that allocates nothing until something is queued: most sessions are idle.
        let (outbound, receiver) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        actix::spawn(write_frames(sink, reader.clone(), receiver, queued.clone()));
        let session = Self::new(start, outbound, queued);
        Session::create(move |ctx| {
            ctx.add_stream(reader);
            session
        })
    }

    fn new(
        start: SessionStart,
        outbound: mpsc::Sender<Outbound>,
        queued: Arc<AtomicUsize>,
    ) -> Self {
        let services = start.services;
        let local = PeerId::new(services.config.peer_id.clone());
        let limits = DecodeLimits {
            max_frame_bytes: services.config.max_frame_bytes,
            // A frame may inflate to eight times the largest frame: 256 MiB by default.
            max_inflated_bytes: (services.config.max_frame_bytes as u64).saturating_mul(8),
            ..DecodeLimits::default()
        };
        let (burst, now) = (services_burst(&services), services.now_ms());
        Self {
            id: start.id,
            principal: Arc::new(start.principal),
            token: start.token,
            services,
            hub: start.hub,
            connection: Connection::accept(local, start.server_metadata),
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
        let metrics = &self.services.metrics;
        metrics.messages_out.fetch_add(1, Ordering::Relaxed);
        metrics
            .bytes_out
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
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
            let _ = self.outbound.send(Outbound::Close(CloseFrame {
                code,
                reason: reason.into(),
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

impl StreamHandler<Result<SocketMessage, SocketError>> for Session {
    fn handle(&mut self, item: Result<SocketMessage, SocketError>, ctx: &mut Self::Context) {
        self.silent_ticks = 0;
        match item {
            Ok(SocketMessage::Binary(bytes)) => self.frame(&bytes, ctx),
            Ok(SocketMessage::Text(_)) => {
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
            // tungstenite answers pings itself.
            Ok(SocketMessage::Ping(_) | SocketMessage::Pong(_) | SocketMessage::Frame(_)) => {}
            Ok(SocketMessage::Close(_)) => ctx.stop(),
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

/// Drains a session's queue into the socket, one message at a time, each written out (flushed)
/// before its bytes leave the session's count; then closes the socket.
async fn write_frames(
    mut socket: SplitSink<Socket, SocketMessage>,
    reader: SocketReader,
    frames: mpsc::Receiver<Outbound>,
    queued: Arc<AtomicUsize>,
) {
    let reason = send_frames(&mut socket, frames, queued).await;
    // A client that reads nothing gets no more time to take the close frame than to answer it.
    let closed = async {
        if let Some(reason) = reason {
            let _ = socket.send(SocketMessage::Close(Some(reason))).await;
        }
        let _ = socket.close().await;
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, closed).await;
    reader.drain_until_closed().await;
}

/// Writes what the session queues until it says to close (returning why), ends, or the socket
/// fails.
async fn send_frames(
    socket: &mut SplitSink<Socket, SocketMessage>,
    mut frames: mpsc::Receiver<Outbound>,
    queued: Arc<AtomicUsize>,
) -> Option<CloseFrame> {
    while let Some(first) = frames.recv().await {
        let (written, then) = write_batch(socket, first, &mut frames).await;
        queued.fetch_sub(written, Ordering::Relaxed);
        match then {
            AfterBatch::Next => {}
            AfterBatch::Close(reason) => return Some(reason),
            AfterBatch::Failed => return None,
        }
    }
    // The session ended without saying why: the close frame has no code.
    None
}

/// What a writer does once a batch is written.
enum AfterBatch {
    Next,
    Close(CloseFrame),
    Failed,
}

/// Writes `first` and whatever else is queued already as one batch: the messages go into the
/// socket's write buffer and are flushed together (a burst of small frames costs one system
/// call, not one each). Returns the frame bytes written and what comes next.
async fn write_batch(
    socket: &mut SplitSink<Socket, SocketMessage>,
    first: Outbound,
    frames: &mut mpsc::Receiver<Outbound>,
) -> (usize, AfterBatch) {
    let mut written = 0;
    let mut then = AfterBatch::Next;
    let mut next = Some(first);
    while let Some(outbound) = next {
        let fed = match outbound {
            Outbound::Frame(frame) => {
                written += frame.len();
                socket.feed(SocketMessage::Binary(frame)).await
            }
            Outbound::Ping => socket.feed(SocketMessage::Ping(Bytes::new())).await,
            Outbound::Close(reason) => {
                then = AfterBatch::Close(reason);
                break;
            }
        };
        if fed.is_err() {
            return (written, AfterBatch::Failed);
        }
        next = frames.next().now_or_never().flatten();
    }
    match socket.flush().await {
        Ok(()) => (written, then),
        Err(_) => (written, AfterBatch::Failed),
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::protocol::Role;

    use super::*;
    use crate::actors::{ByteStream, socket_config};

    const FRAME: usize = 100 * 1024;
    /// A server frame of `FRAME` bytes: two bytes of header and eight of length.
    const ON_THE_WIRE: usize = FRAME + 10;
    /// A pipe that holds less than half a frame: the writer blocks in the middle of the first.
    const PIPE: usize = 16 * 1024;

    #[actix_web::test]
    async fn bytes_stay_counted_until_the_socket_has_written_them() {
        let (server, mut client) = tokio::io::duplex(PIPE);
        let io: Box<dyn ByteStream> = Box::new(server);
        let config = socket_config(&crate::config::ServerConfig::default());
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        let (sink, stream) = socket.split();
        let (outbound, frames) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        for n in 0..3u8 {
            queued.fetch_add(FRAME, Ordering::Relaxed);
            let frame = Bytes::from(vec![n; FRAME]);
            assert!(outbound.send(Outbound::Frame(frame)).is_ok());
        }
        let writer = actix_web::rt::spawn(write_frames(
            sink,
            SocketReader::new(stream),
            frames,
            queued.clone(),
        ));
        // The writer fills the pipe and waits for the client to read.
        let mut first = vec![0; PIPE];
        client
            .read_exact(&mut first)
            .await
            .expect("the first bytes");
        assert_eq!(queued.load(Ordering::Relaxed), 3 * FRAME);

        // The session ends; the client answers the close by closing too.
        drop(outbound);
        client.shutdown().await.expect("the client closes");
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.expect("the rest");
        writer.await.expect("the writer ends");
        assert_eq!(queued.load(Ordering::Relaxed), 0);
        // Three frames, then a close frame without a code (two bytes).
        assert_eq!(PIPE + rest.len(), 3 * ON_THE_WIRE + 2);
    }
}

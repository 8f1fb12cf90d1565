//! One simulated device: core's sync engine ([`Node`] as a client) over a tokio-tungstenite
//! WebSocket, counting the bytes it sends and receives.
//!
//! ```ignore
//! let mut client = Client::connect(&url, "device-1", wire.clone()).await?;
//! client.find(id);
//! client.run_until(deadline, |c| c.is_present(&id)).await;
//! ```

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use automerge::{AutoCommit, ChangeHash};
use futures_util::{FutureExt, SinkExt, StreamExt};
use itinera_core::DocumentId;
use itinera_core::sync::{AllowAll, Event, Input, Node, NodeConfig, NodeRole, Output};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The one connection of every client.
const CONNECTION: u64 = 1;

/// How long a client waits before connecting again after the server dropped it.
const REDIAL_AFTER: Duration = Duration::from_secs(1);

/// How long a client waits on a silent socket before it checks its predicate again.
const QUIET_WAKE: Duration = Duration::from_millis(100);

/// How often a predicate is checked while frames keep arriving.
const CHECK_EVERY: Duration = Duration::from_millis(10);

/// Bytes on the wire, WebSocket payloads in both directions, shared by the clients of a run.
#[derive(Debug, Default)]
pub struct Wire {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    /// Connections the server dropped, after which a client connected again.
    pub dropped: AtomicU64,
}

impl Wire {
    pub fn total(&self) -> u64 {
        self.sent.load(Ordering::Relaxed) + self.received.load(Ordering::Relaxed)
    }
}

/// A simulated device.
pub struct Client {
    pub node: Node<AllowAll>,
    socket: Option<Socket>,
    wire: Arc<Wire>,
    /// Documents that arrived or changed from the server since the client started.
    present: HashSet<DocumentId>,
    /// Documents changed by the server, in order, until taken.
    changed: Vec<DocumentId>,
    /// Documents the server said it does not have.
    pub unavailable: HashSet<DocumentId>,
    /// Protocol errors the server reported, and the socket's failures (after which the client
    /// dials again).
    pub errors: Vec<String>,
    /// What the server refused or reported as an error: waiting on will not change it.
    pub refused: Vec<String>,
    /// How often a `run_until` predicate is checked while frames keep arriving (zero: after
    /// every frame, for clients that time arrivals).
    pub check_every: Duration,
    /// How long a `run_until` waits on a silent socket before it checks its predicate again
    /// (clients whose predicates only depend on what arrives may wait until the deadline).
    pub quiet_wake: Duration,
    /// Whether the server completed the handshake.
    pub joined: bool,
    /// Where to connect again when the server drops the connection, as automerge-repo's
    /// WebSocket client does; `None` after [`Client::disconnect`].
    url: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Opens a connection to `url` as `peer` and starts the handshake.
    pub async fn connect(url: &str, peer: &str, wire: Arc<Wire>) -> Result<Self, String> {
        let socket = open(url).await?;
        let config = NodeConfig::named(peer, NodeRole::Client);
        let mut client = Self {
            node: Node::new(config, AllowAll),
            socket: Some(socket),
            wire,
            present: HashSet::new(),
            changed: Vec::new(),
            unavailable: HashSet::new(),
            errors: Vec::new(),
            refused: Vec::new(),
            check_every: CHECK_EVERY,
            quiet_wake: QUIET_WAKE,
            joined: false,
            url: Some(url.to_string()),
        };
        client.node.handle(Input::Connected(CONNECTION));
        client.pump().await;
        Ok(client)
    }

    /// Connects again after [`Client::disconnect`], keeping the documents and offline edits.
    pub async fn reconnect(&mut self, url: &str) -> Result<(), String> {
        self.socket = Some(open(url).await?);
        self.url = Some(url.to_string());
        self.node.handle(Input::Connected(CONNECTION));
        self.pump().await;
        Ok(())
    }

    /// Closes the connection; the documents stay for offline edits.
    pub async fn disconnect(&mut self) {
        self.url = None;
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
        self.node.handle(Input::Disconnected(CONNECTION));
        let _ = self.node.take_outputs();
    }

    /// Holds a document created here and offers it to the server.
    pub fn insert(&mut self, id: DocumentId, doc: AutoCommit) {
        self.node.insert(id, doc);
    }

    /// Asks the server for a document.
    pub fn find(&mut self, id: DocumentId) {
        self.node.find(id);
    }

    pub fn present_count(&self) -> usize {
        self.present.len()
    }

    /// Takes the documents the server changed since the last call, in arrival order.
    pub fn take_changed(&mut self) -> Vec<DocumentId> {
        std::mem::take(&mut self.changed)
    }

    /// The heads the server last said it has of `id`.
    pub fn server_heads(&self, id: &DocumentId) -> Vec<ChangeHash> {
        let Some(sync) = self.node.doc_sync(id) else {
            return Vec::new();
        };
        sync.peers()
            .filter_map(|(peer, _)| sync.sync_state(peer))
            .find_map(|state| state.their_heads.clone())
            .unwrap_or_default()
    }

    /// Whether the server said it has every change this client has of `id` (its heads are ours
    /// or descend from them).
    pub fn acknowledged(&mut self, id: &DocumentId) -> bool {
        let ours = self.node.heads(id).unwrap_or_default();
        let theirs = self.server_heads(id);
        !ours.is_empty() && ours.iter().all(|h| theirs.contains(h))
    }

    /// Whether the server said it has exactly the heads this client has of `id`.
    pub fn in_sync(&mut self, id: &DocumentId) -> bool {
        let ours = self.node.heads(id).unwrap_or_default();
        !ours.is_empty() && sorted(self.server_heads(id)) == sorted(ours)
    }

    /// Sends whatever the engine wants sent.
    pub async fn pump(&mut self) {
        loop {
            let outputs = self.node.take_outputs();
            if outputs.is_empty() {
                break;
            }
            let mut frames = Vec::new();
            for output in outputs {
                match output {
                    Output::Send { frame, .. } => frames.push(frame),
                    Output::Close { .. } => {
                        self.socket = None;
                        self.node.handle(Input::Disconnected(CONNECTION));
                    }
                    Output::Event(Event::LoadRequested(id)) => {
                        self.node.handle(Input::Loaded(id, None));
                    }
                    Output::Event(Event::DocumentChanged(id)) => {
                        self.present.insert(id);
                        self.changed.push(id);
                    }
                    Output::Event(Event::DocumentUnavailable(id)) => {
                        self.unavailable.insert(id);
                    }
                    Output::Event(Event::Rejected { error, .. }) => {
                        self.errors.push(error.to_string());
                        self.refused.push(error.to_string());
                    }
                    Output::Event(Event::ProtocolError { reason, .. }) => {
                        self.errors.push(reason.clone());
                        self.refused.push(reason);
                    }
                    Output::Event(Event::PeerJoined { .. }) => self.joined = true,
                    Output::Event(_) => {}
                }
            }
            if frames.is_empty() {
                continue;
            }
            let Some(socket) = self.socket.as_mut() else {
                continue;
            };
            let mut failed = false;
            for frame in frames {
                self.wire
                    .sent
                    .fetch_add(frame.len() as u64, Ordering::Relaxed);
                if socket
                    .feed(tungstenite::Message::Binary(frame.into()))
                    .await
                    .is_err()
                {
                    failed = true;
                    break;
                }
            }
            if failed || socket.flush().await.is_err() {
                self.errors.push("send failed".into());
                self.lost();
            }
        }
    }

    fn lost(&mut self) {
        self.socket = None;
        self.node.handle(Input::Disconnected(CONNECTION));
    }

    fn take_frame(&mut self, next: Option<Result<tungstenite::Message, tungstenite::Error>>) {
        match next {
            Some(Ok(tungstenite::Message::Binary(frame))) => {
                self.wire
                    .received
                    .fetch_add(frame.len() as u64, Ordering::Relaxed);
                self.node.handle(Input::Frame(CONNECTION, frame.to_vec()));
            }
            Some(Ok(tungstenite::Message::Close(frame))) => {
                self.errors.push(format!("closed by the server: {frame:?}"));
                self.lost();
            }
            Some(Err(err)) => {
                self.errors.push(format!("socket: {err}"));
                self.lost();
            }
            None => {
                self.errors.push("socket ended".into());
                self.lost();
            }
            Some(Ok(_)) => {}
        }
    }

    /// Exchanges frames until `done` holds or `deadline` passes; returns whether it held.
    /// While frames keep arriving `done` is checked every few milliseconds, and always when the
    /// socket falls quiet.
    pub async fn run_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        let mut checked = Instant::now() - self.check_every;
        loop {
            self.pump().await;
            let now = Instant::now();
            if now >= checked + self.check_every {
                if done(self) {
                    return true;
                }
                checked = now;
            }
            if now >= deadline {
                return done(self);
            }
            if self.socket.is_none() {
                if !self.redial(deadline).await {
                    return done(self);
                }
                continue;
            }
            let Some(socket) = self.socket.as_mut() else {
                return done(self);
            };
            // Take what is already there without waiting; wait only when the socket is quiet.
            let ready = socket.next().now_or_never();
            match ready {
                Some(next) => self.take_frame(next),
                None => {
                    self.pump().await;
                    if done(self) {
                        return true;
                    }
                    checked = Instant::now();
                    let wake = deadline.min(Instant::now() + self.quiet_wake);
                    let Some(socket) = self.socket.as_mut() else {
                        return false;
                    };
                    // Wake now and then even on a silent socket, so `done` sees outside news
                    // (a stop flag) on servers that send no pings.
                    match tokio::time::timeout_at(wake, socket.next()).await {
                        Ok(next) => self.take_frame(next),
                        Err(_) if wake >= deadline => return done(self),
                        Err(_) => {}
                    }
                }
            }
        }
    }

    /// After the server dropped the connection: waits a little and connects again, as an
    /// automerge-repo client does. Returns whether it is connected again before `deadline`.
    async fn redial(&mut self, deadline: Instant) -> bool {
        let Some(url) = self.url.clone() else {
            return false;
        };
        self.wire.dropped.fetch_add(1, Ordering::Relaxed);
        while Instant::now() + REDIAL_AFTER < deadline {
            tokio::time::sleep(REDIAL_AFTER).await;
            if let Ok(socket) = open(&url).await {
                self.socket = Some(socket);
                self.node.handle(Input::Connected(CONNECTION));
                self.pump().await;
                return self.socket.is_some();
            }
        }
        false
    }

    /// Exchanges frames for `period`, whatever arrives.
    pub async fn run_for(&mut self, period: Duration) {
        let deadline = Instant::now() + period;
        self.run_until(deadline, |_| false).await;
    }
}

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

/// Opens a WebSocket with a small read buffer, so thousands of clients fit in one process.
async fn open(url: &str) -> Result<Socket, String> {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(256 << 20))
        .max_frame_size(Some(256 << 20));
    tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map(|(socket, _)| socket)
        .map_err(|err| format!("cannot connect to {url}: {err}"))
}

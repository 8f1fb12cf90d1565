//! A device in Rust: the core sync engine over a real WebSocket, as the phone SDK runs it.

use std::time::{Duration, Instant};

use automerge::{ActorId, AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use itinera_core::protocol::{DecodeLimits, Message};
use itinera_core::sync::{AllowAll, Event, Input, Node, NodeConfig, NodeRole, Output};
use itinera_core::{Document, DocumentId, Record};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, http::HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `invoice` with the one line the tests bill: `seats` seats of the Danube Bend tour at 390.00,
/// 27 % VAT.
pub fn with_tour_line(
    mut invoice: itinera_core::model::Invoice,
    seats: i64,
) -> itinera_core::model::Invoice {
    invoice.lines.insert(
        "l1".into(),
        itinera_core::model::InvoiceLine {
            description: "Danube Bend".into(),
            quantity: seats,
            unit_price_minor: 39_000,
            vat_rate_bp: 2_700,
        },
    );
    invoice
}

/// A new document holding `record`, written by the actor `[actor; 16]`: what a device inserts
/// to create it on the server.
pub fn record<R: Record>(actor: u8, record: &R) -> AutoCommit {
    Document::create(ActorId::from([actor; 16]), 0, record)
        .expect("create")
        .into_automerge()
}

/// One connection of one device; drive it with [`Device::run_until`].
pub struct Device {
    pub node: Node<AllowAll>,
    socket: Option<Socket>,
    runtime: tokio::runtime::Runtime,
    /// Every event the node reported.
    pub events: Vec<Event>,
    /// Every protocol `error` text the server sent.
    pub errors: Vec<String>,
    pub closed: bool,
    /// How many pings the server sent (tungstenite answers them).
    pub pings: usize,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// Why a connection attempt failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The server answered the upgrade with this HTTP status.
    Status(u16),
    Other(String),
}

impl Device {
    /// Connects to `url` with `token` in the Authorization header, as `peer`.
    pub fn connect(url: &str, token: &str, peer: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, &Credential::Bearer(token), peer, None)
    }

    /// Connects to `url` as a browser signed in with `cookie` (`name=value`), as `peer`.
    pub fn connect_with_cookie(url: &str, cookie: &str, peer: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, &Credential::Cookie(cookie), peer, None)
    }

    /// Connects to a `wss://` `url`, trusting the authorities of `tls` only.
    pub fn connect_tls(
        url: &str,
        token: &str,
        peer: &str,
        tls: std::sync::Arc<rustls::ClientConfig>,
    ) -> Result<Self, ConnectError> {
        Self::connect_with(url, &Credential::Bearer(token), peer, Some(tls))
    }

    fn connect_with(
        url: &str,
        credential: &Credential<'_>,
        peer: &str,
        tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    ) -> Result<Self, ConnectError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let socket = open_socket(&runtime, url, credential, tls)?;
        let config = NodeConfig::named(peer, NodeRole::Client);
        let mut device = Self {
            node: Node::new(config, AllowAll),
            socket: Some(socket),
            runtime,
            events: Vec::new(),
            errors: Vec::new(),
            closed: false,
            pings: 0,
        };
        device.node.handle(Input::Connected(1));
        Ok(device)
    }

    /// Connects again after [`Device::disconnect`], keeping the documents (and offline edits).
    pub fn reconnect(&mut self, url: &str, token: &str) -> Result<(), ConnectError> {
        self.socket = Some(open_socket(
            &self.runtime,
            url,
            &Credential::Bearer(token),
            None,
        )?);
        self.closed = false;
        self.node.handle(Input::Connected(1));
        Ok(())
    }

    /// Sends raw bytes as one binary frame (for hostile-input tests).
    pub fn send_raw(&mut self, frame: Vec<u8>) {
        if let Some(socket) = self.socket.as_mut() {
            let _ = self
                .runtime
                .block_on(socket.send(tungstenite::Message::Binary(frame.into())));
        }
    }

    fn pump_outputs(&mut self) {
        for output in self.node.take_outputs() {
            match output {
                Output::Send { frame, .. } => self.send_raw(frame),
                Output::Close { .. } => self.closed = true,
                Output::Event(Event::LoadRequested(id)) => {
                    self.node.handle(Input::Loaded(id, None));
                    self.pump_outputs();
                }
                Output::Event(event) => self.events.push(event),
            }
        }
    }

    /// Exchanges frames until `done` holds or `timeout` passes; returns whether it held.
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            self.pump_outputs();
            if done(self) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || self.closed {
                return done(self);
            }
            let Some(socket) = self.socket.as_mut() else {
                return done(self);
            };
            let wait = deadline - now;
            let next = self
                .runtime
                .block_on(async { tokio::time::timeout(wait, socket.next()).await });
            match next {
                Ok(Some(Ok(tungstenite::Message::Binary(frame)))) => {
                    if let Ok(Message::Error { message, .. }) =
                        Message::decode(&frame, &DecodeLimits::default())
                    {
                        self.errors.push(message);
                    }
                    self.node.handle(Input::Frame(1, frame.to_vec()));
                }
                Ok(Some(Ok(tungstenite::Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    self.closed = true;
                    self.node.handle(Input::Disconnected(1));
                }
                Ok(Some(Ok(tungstenite::Message::Ping(_)))) => self.pings += 1,
                Ok(Some(Ok(_))) => {}
                Err(_) => return done(self),
            }
        }
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

    /// Whether the server has acknowledged every change of `id` this device holds.
    pub fn acknowledged(&mut self, id: &DocumentId) -> bool {
        let ours = self
            .node
            .document(id)
            .map(|doc| doc.clone().get_heads())
            .unwrap_or_default();
        !ours.is_empty() && self.server_heads(id) == ours
    }

    /// Closes the connection.
    pub fn disconnect(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = self.runtime.block_on(socket.close(None));
        }
        self.node.handle(Input::Disconnected(1));
        self.closed = true;
    }
}

/// How a device signs in: a phone's token, or a browser's session cookie.
enum Credential<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
}

fn open_socket(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    credential: &Credential<'_>,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
) -> Result<Socket, ConnectError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ConnectError::Other(e.to_string()))?;
    let (header, value) = match credential {
        Credential::Bearer(token) => ("Authorization", format!("Bearer {token}")),
        Credential::Cookie(cookie) => ("Cookie", (*cookie).to_owned()),
    };
    let value = HeaderValue::from_str(&value).map_err(|e| ConnectError::Other(e.to_string()))?;
    request.headers_mut().insert(header, value);
    // A small read buffer: phones hold one connection, servers under test many.
    let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let connector = tls.map(tokio_tungstenite::Connector::Rustls);
    // Frames leave at once (`TCP_NODELAY`), as the phone SDK's do.
    let disable_nagle = true;
    match runtime.block_on(tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        disable_nagle,
        connector,
    )) {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            Err(ConnectError::Status(response.status().as_u16()))
        }
        Err(err) => Err(ConnectError::Other(err.to_string())),
    }
}

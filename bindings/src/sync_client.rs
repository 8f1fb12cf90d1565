//! The device's sync client: a shell around core's [`DeviceSession`] that owns a tokio runtime
//! and one WebSocket (`ws://` or `wss://` with rustls), and moves frames between them.
//!
//! Three ways to run: [`SyncClient::sync_now`] (connect, sync what changed, close: what an app
//! woken in the background does), [`SyncClient::start`] (stay connected while the app is in the
//! foreground: changes arrive as they happen, local edits leave at once, and a dropped
//! connection is retried with exponential backoff and jitter), and
//! [`SyncClient::start_background`] (a `sync_now` on every local change and every interval).
//! A token the server refuses or revokes is handed to the app's [`TokenProvider`] for a new
//! one instead of being retried.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{FutureExt, SinkExt, StreamExt};
use itinera_core::device::{
    DeviceSession, SessionConfig, SessionEvent, SessionOutput, SyncReport as CoreReport,
};
use itinera_core::protocol::{DecodeLimits, PeerId, StorageId};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::listener::{Announcer, Heard};
use crate::{ItineraError, Replica, SyncListener};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Whether the device is talking to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncStatus {
    /// The last attempt failed; the next one is scheduled.
    Offline,
    /// A sync is running.
    Syncing,
    /// Everything known to have changed is synced (and, when started, the connection is open).
    Online,
    /// The server refused the token and the app gave no new one: nothing is tried until
    /// [`SyncClient::set_token`].
    SignedOut,
}

/// A document the server refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Rejection {
    pub document: String,
    pub reason: String,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Documents whose local changes the server now has.
    pub documents_sent: u32,
    /// Documents that took in changes from the server.
    pub documents_received: u32,
    /// Documents that went through the automerge sync protocol (changed, pending or missing
    /// ones only; an unchanged document costs nothing).
    pub documents_synced: u32,
    /// Documents the server refused this device's changes to (see `discard_local_changes`).
    pub rejected: Vec<Rejection>,
    /// Bytes sent and received on the WebSocket.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Unix ms.
    pub finished_at: i64,
}

/// How the client connects.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncOptions {
    /// A certificate authority (PEM) to trust instead of the platform's roots, for a server
    /// whose certificate the company signs itself.
    pub pinned_ca_pem: Option<String>,
}

/// Asked for a new token when the server refuses the current one (expired, revoked, the user
/// disabled). Implemented by the app, which signs in again or returns `None` to stay signed
/// out.
#[uniffi::export(with_foreign)]
pub trait TokenProvider: Send + Sync {
    /// Why the server refused; the app returns a new token, or `None`.
    fn refresh_token(&self, reason: String) -> Option<String>;
}

/// Syncs one replica with one server.
#[derive(uniffi::Object)]
pub struct SyncClient {
    shared: Arc<Shared>,
    /// `None` once closed.
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    running: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// What the client's tasks share.
struct Shared {
    replica: Arc<Replica>,
    url: String,
    token: Mutex<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    listener: Arc<Mutex<Option<Arc<dyn SyncListener>>>>,
    announcer: Announcer,
    token_provider: Mutex<Option<Arc<dyn TokenProvider>>>,
    status: tokio::sync::watch::Sender<SyncStatus>,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("url", &self.shared.url)
            .finish_non_exhaustive()
    }
}

/// How long a sync waits for the server to say anything before it gives up.
const SILENCE_LIMIT: Duration = Duration::from_secs(30);
/// How long an open connection may stay silent (the server pings every few seconds) before
/// the client takes it for lost and reconnects.
const LIVE_SILENCE_LIMIT: Duration = Duration::from_secs(90);
/// The first wait after a failed attempt, and the longest.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[uniffi::export(async_runtime = "tokio")]
impl SyncClient {
    /// A client for `replica` that syncs with the server at `server_url` (`ws://host:port/sync`
    /// or `wss://…`, trusting the platform's roots) as the user whose `token` this is.
    #[uniffi::constructor]
    pub fn new(
        replica: Arc<Replica>,
        server_url: String,
        token: String,
    ) -> Result<Arc<Self>, ItineraError> {
        Self::with_options(replica, server_url, token, SyncOptions::default())
    }

    /// A client with options: a pinned certificate authority.
    #[uniffi::constructor]
    pub fn with_options(
        replica: Arc<Replica>,
        server_url: String,
        token: String,
        options: SyncOptions,
    ) -> Result<Arc<Self>, ItineraError> {
        let tls = if server_url.starts_with("wss://") {
            Some(crate::tls::client_config(options.pinned_ca_pem.as_deref())?)
        } else {
            None
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("itinera-sync")
            .enable_all()
            .build()
            .map_err(|e| ItineraError::Other {
                reason: format!("could not start the sync runtime: {e}"),
            })?;
        let listener = Arc::new(Mutex::new(None));
        let shared = Arc::new(Shared {
            replica,
            url: server_url,
            token: Mutex::new(token),
            tls,
            announcer: Announcer::new(listener.clone()),
            listener,
            token_provider: Mutex::new(None),
            status: tokio::sync::watch::channel(SyncStatus::Offline).0,
        });
        Ok(Arc::new(Self {
            shared,
            runtime: Mutex::new(Some(runtime)),
            running: Mutex::new(None),
        }))
    }

    /// Where sync events go (records changed, status, refusals). Events queued before a
    /// listener is set are dropped; [`status`](Self::status) and the replica's watches give the
    /// current state whenever the app asks.
    pub fn set_listener(&self, listener: Arc<dyn SyncListener>) {
        if let Ok(mut slot) = self.shared.listener.lock() {
            *slot = Some(listener);
        }
    }

    /// Who gives a new token when the server refuses this one.
    pub fn set_token_provider(&self, provider: Arc<dyn TokenProvider>) {
        if let Ok(mut slot) = self.shared.token_provider.lock() {
            *slot = Some(provider);
        }
    }

    /// Replaces the token (after the user signed in again).
    pub fn set_token(&self, token: String) {
        self.shared.set_token(token);
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        *self.shared.status.borrow()
    }

    /// The status now, then each time it changes: the first call answers at once, so an app
    /// that subscribes after starting misses nothing.
    pub fn watch_status(&self) -> Arc<StatusWatch> {
        Arc::new(StatusWatch {
            receiver: tokio::sync::Mutex::new(self.shared.status.subscribe()),
            first: std::sync::atomic::AtomicBool::new(true),
        })
    }

    /// Syncs now and closes: what changed on the server since the last sync (one small
    /// message when nothing did), then this device's unsent changes. Returns what was sent,
    /// received and refused.
    pub async fn sync_now(&self) -> Result<SyncReport, ItineraError> {
        let shared = self.shared.clone();
        self.spawn(async move { shared.run_once().await })?
            .await
            .map_err(|e| ItineraError::Other {
                reason: e.to_string(),
            })?
    }

    /// Stays connected (the app in the foreground): changes arrive as they happen, local
    /// changes leave at once, and a lost connection is retried after 0.5 s, 1 s, 2 s… (up to a
    /// minute, each wait drawn at random below its bound so that phones do not return
    /// together).
    pub fn start(&self) {
        self.stop();
        let shared = self.shared.clone();
        let handle = self.spawn(async move { shared.stay_connected().await });
        if let (Ok(handle), Ok(mut slot)) = (handle, self.running.lock()) {
            *slot = Some(handle);
        }
    }

    /// Syncs in the background: at once, after every local change, and every `interval_ms`;
    /// while offline it retries with backoff and jitter.
    pub fn start_background(&self, interval_ms: u64) {
        self.stop();
        let shared = self.shared.clone();
        let handle = self.spawn(async move {
            shared
                .wake_up_loop(Duration::from_millis(interval_ms.max(100)))
                .await;
        });
        if let (Ok(handle), Ok(mut slot)) = (handle, self.running.lock()) {
            *slot = Some(handle);
        }
    }

    /// Stops [`start`](Self::start) or [`start_background`](Self::start_background).
    pub fn stop(&self) {
        if let Some(handle) = self.running.lock().ok().and_then(|mut slot| slot.take()) {
            handle.abort();
        }
    }

    /// Stops everything the client runs, for good: its tasks, its runtime's threads and its
    /// listener's thread, which are joined; afterwards nothing of the client calls the app.
    /// Python's package calls it at exit (a thread calling into an interpreter that is
    /// finishing aborts the process); other apps may let the client go instead. (Not `close`:
    /// Kotlin's generated class has its own `close` that frees the handle.)
    pub fn shut_down(&self) {
        self.stop();
        if let Some(runtime) = self.runtime.lock().ok().and_then(|mut slot| slot.take()) {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
        self.shared.announcer.close();
    }

    /// Stops the background loop (the same as [`stop`](Self::stop)).
    pub fn stop_background(&self) {
        self.stop();
    }

    /// Throws away this device's changes to `document` that the server refused, going back to
    /// the last version the server acknowledged. Refuses a document the server never
    /// acknowledged (it would be deleted): see [`Replica::delete_unsynced_document`].
    pub fn discard_local_changes(&self, document: String) -> Result<(), ItineraError> {
        self.shared.replica.discard_local_changes(document)
    }
}

/// The status now, then each time it changes.
#[derive(uniffi::Object)]
pub struct StatusWatch {
    receiver: tokio::sync::Mutex<tokio::sync::watch::Receiver<SyncStatus>>,
    first: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for StatusWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusWatch").finish_non_exhaustive()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl StatusWatch {
    /// The current status the first time, then the next one that differs.
    pub async fn next(&self) -> SyncStatus {
        let mut receiver = self.receiver.lock().await;
        if !self.first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            // A closed channel (the client is gone) keeps answering its last status.
            let _ = receiver.changed().await;
        }
        *receiver.borrow_and_update()
    }
}

/// How one attempt ended.
enum Ended {
    /// The server or the network dropped the connection.
    Dropped(ItineraError),
    /// The token is refused: only a new one helps.
    Refused(String),
}

impl SyncClient {
    /// Runs `task` on the client's runtime; refused once the client is closed.
    fn spawn<T: Send + 'static>(
        &self,
        task: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<tokio::task::JoinHandle<T>, ItineraError> {
        let runtime = self.runtime.lock().map_err(|_| ItineraError::Other {
            reason: "the sync client is poisoned by an earlier failure".into(),
        })?;
        match runtime.as_ref() {
            Some(runtime) => Ok(runtime.spawn(task)),
            None => Err(ItineraError::Other {
                reason: "the sync client is closed".into(),
            }),
        }
    }
}

impl Shared {
    fn set_token(&self, token: String) {
        if let Ok(mut slot) = self.token.lock() {
            *slot = token;
        }
    }

    fn set_status(&self, status: SyncStatus) {
        let changed = self.status.send_if_modified(|current| {
            let changed = *current != status;
            *current = status;
            changed
        });
        if changed {
            self.announcer.announce(Heard::Status(status));
        }
    }

    /// One `sync_now`: connect, settle, close.
    async fn run_once(&self) -> Result<SyncReport, ItineraError> {
        self.set_status(SyncStatus::Syncing);
        let result = self.connect_and_run(false).await;
        match &result {
            Ok(_) => self.set_status(SyncStatus::Online),
            Err(ItineraError::Unauthorized { .. } | ItineraError::WrongUser { .. }) => {
                self.set_status(SyncStatus::SignedOut);
            }
            Err(_) => self.set_status(SyncStatus::Offline),
        }
        result
    }

    /// The foreground loop: connected until stopped, reconnecting with backoff.
    async fn stay_connected(&self) {
        let mut backoff = Backoff::new();
        loop {
            self.set_status(SyncStatus::Syncing);
            match self.connect_and_run(true).await {
                Ok(_) => backoff.reset(),
                Err(ItineraError::Unauthorized { reason }) => {
                    if !self.refresh_token(reason) {
                        self.set_status(SyncStatus::SignedOut);
                        return;
                    }
                    continue;
                }
                Err(ItineraError::WrongUser { reason }) => {
                    tracing::warn!(%reason, "the token is another user's");
                    self.set_status(SyncStatus::SignedOut);
                    return;
                }
                Err(error) => {
                    tracing::info!(%error, "connection lost");
                    self.set_status(SyncStatus::Offline);
                }
            }
            tokio::time::sleep(backoff.next_wait()).await;
        }
    }

    /// The background loop: a sync on every local change and every `interval`.
    async fn wake_up_loop(&self, interval: Duration) {
        let changed = self.replica.local_changes.clone();
        let mut backoff = Backoff::new();
        loop {
            let wait = match self.run_once().await {
                Ok(_) => {
                    backoff.reset();
                    interval
                }
                Err(ItineraError::Unauthorized { reason }) => {
                    if !self.refresh_token(reason) {
                        return;
                    }
                    Duration::ZERO
                }
                Err(ItineraError::WrongUser { .. }) => return,
                Err(_) => backoff.next_wait(),
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = changed.notified() => {}
            }
        }
    }

    /// Asks the app for a new token; whether it gave one.
    fn refresh_token(&self, reason: String) -> bool {
        let provider = self
            .token_provider
            .lock()
            .ok()
            .and_then(|slot| slot.clone());
        let Some(provider) = provider else {
            return false;
        };
        let fresh = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            provider.refresh_token(reason)
        }))
        .ok()
        .flatten();
        match fresh {
            Some(token) if !token.is_empty() => {
                self.set_token(token);
                true
            }
            _ => false,
        }
    }

    async fn connect_and_run(&self, live: bool) -> Result<SyncReport, ItineraError> {
        let token = self.token.lock().map(|t| t.clone()).unwrap_or_default();
        let socket = open_socket(&self.url, &token, self.tls.clone()).await?;
        let (user, storage_id) = self.replica.identity()?;
        let session = random_hex::<8>()?;
        let config = SessionConfig {
            peer_id: PeerId::new(format!("{user}-{session}")),
            storage_id: StorageId::new(storage_id),
            live,
            limits: DecodeLimits::default(),
            ephemeral_session: session,
        };
        let mut run = Run {
            client: self,
            socket,
            session: DeviceSession::new(config),
            live,
        };
        match run.run().await {
            Ok(report) => Ok(report),
            Err(Ended::Dropped(error)) => Err(error),
            Err(Ended::Refused(reason)) if reason.starts_with("this replica belongs to") => {
                Err(ItineraError::WrongUser { reason })
            }
            Err(Ended::Refused(reason)) => Err(ItineraError::Unauthorized { reason }),
        }
    }
}

impl Drop for SyncClient {
    fn drop(&mut self) {
        self.stop();
        // Without waiting: the last handle may go inside an async context.
        if let Some(runtime) = self.runtime.lock().ok().and_then(|mut slot| slot.take()) {
            runtime.shutdown_background();
        }
    }
}

/// One connection: the socket and the session, until the session settles (once) or the
/// connection ends (live).
struct Run<'a> {
    client: &'a Shared,
    socket: Socket,
    session: DeviceSession,
    live: bool,
}

impl Run<'_> {
    async fn run(&mut self) -> Result<SyncReport, Ended> {
        self.with_replica(|replica, session| session.connected(replica))?;
        let changed = self.client.replica.local_changes.clone();
        loop {
            if let Some(report) = self.carry_out().await? {
                let _ = self.socket.close(None).await;
                return Ok(report);
            }
            let (live, silence) = if self.live {
                (true, LIVE_SILENCE_LIMIT)
            } else {
                (false, SILENCE_LIMIT)
            };
            tokio::select! {
                next = tokio::time::timeout(silence, self.socket.next()) => {
                    let frame = next.map_err(|_| dropped("the server stopped answering"))?;
                    self.take(frame)?;
                }
                () = changed.notified(), if live => {
                    self.with_replica(|replica, session| session.local_changes(replica))?;
                }
            }
        }
    }

    /// A frame (and every frame already waiting), then one write to the replica.
    fn take(
        &mut self,
        mut next: Option<Result<tungstenite::Message, tungstenite::Error>>,
    ) -> Result<(), Ended> {
        loop {
            match next {
                Some(Ok(tungstenite::Message::Binary(frame))) => {
                    self.with_replica(|replica, session| session.frame(replica, frame.to_vec()))?;
                }
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                    return Err(self.ended(&format!("the server closed the connection {reason}")));
                }
                None => return Err(self.ended("the server closed the connection")),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(self.ended(&error.to_string())),
            }
            match self.socket.next().now_or_never() {
                Some(more) => next = more,
                None => break,
            }
        }
        self.with_replica(|replica, session| session.write_back(replica))
    }

    /// The connection ended: writes what arrived before, and says why it ended (the server's
    /// refusal if it sent one before closing).
    fn ended(&mut self, reason: &str) -> Ended {
        let refusal = self
            .session
            .take_outputs()
            .into_iter()
            .find_map(|output| match output {
                SessionOutput::Event(SessionEvent::AccessEnded(reason)) => Some(reason),
                _ => None,
            });
        let _ = self.with_replica(|replica, session| session.disconnected(replica));
        match refusal {
            Some(reason) => Ended::Refused(reason),
            None => dropped(reason),
        }
    }

    /// Sends what the session wants sent and tells the app what it reported; the report when a
    /// one-shot sync settled.
    async fn carry_out(&mut self) -> Result<Option<SyncReport>, Ended> {
        let mut finished = false;
        for output in self.session.take_outputs() {
            match output {
                SessionOutput::Send(frame) => {
                    self.socket
                        .send(tungstenite::Message::Binary(frame.into()))
                        .await
                        .map_err(|e| dropped(&e.to_string()))?;
                }
                SessionOutput::Close => return Err(dropped("the connection was closed")),
                SessionOutput::Event(event) => finished |= self.tell(event)?,
            }
        }
        if finished && !self.live {
            return Ok(Some(report(self.session.report())));
        }
        Ok(None)
    }

    /// Passes an event on; whether a one-shot sync is done.
    fn tell(&mut self, event: SessionEvent) -> Result<bool, Ended> {
        let client = self.client;
        match event {
            SessionEvent::RecordsChanged(documents) => {
                let urls = documents.iter().map(|id| id.to_url()).collect();
                client.announcer.announce(Heard::RecordsChanged(urls));
            }
            SessionEvent::Rejected { document, reason } => {
                client
                    .announcer
                    .announce(Heard::Rejected(document.to_url(), reason));
            }
            SessionEvent::Settled => {
                let _ = client.replica.record_sync(now_ms());
                client.set_status(SyncStatus::Online);
                return Ok(true);
            }
            SessionEvent::AccessEnded(reason) => return Err(Ended::Refused(reason)),
            SessionEvent::ServerError(reason) => {
                tracing::warn!(%reason, "the server reported an error");
            }
        }
        Ok(false)
    }

    fn with_replica(
        &mut self,
        work: impl FnOnce(
            &mut itinera_core::replica::Replica,
            &mut DeviceSession,
        ) -> itinera_core::replica::ReplicaResult<()>,
    ) -> Result<(), Ended> {
        let session = &mut self.session;
        self.client
            .replica
            .with_core(|replica| work(replica, session).map_err(ItineraError::from))
            .map_err(Ended::Dropped)
    }
}

fn dropped(reason: &str) -> Ended {
    Ended::Dropped(ItineraError::Offline {
        reason: reason.trim().to_owned(),
    })
}

fn report(core: &CoreReport) -> SyncReport {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    SyncReport {
        documents_sent: count(core.documents_sent),
        documents_received: count(core.documents_received),
        documents_synced: count(core.documents_synced),
        rejected: core
            .rejected
            .iter()
            .map(|(id, reason)| Rejection {
                document: id.to_url(),
                reason: reason.clone(),
            })
            .collect(),
        bytes_sent: core.bytes_sent,
        bytes_received: core.bytes_received,
        finished_at: now_ms(),
    }
}

/// Opens the WebSocket with the token as a bearer; a 401 is [`ItineraError::Unauthorized`],
/// a certificate the client does not trust an [`ItineraError::Offline`] that says so.
async fn open_socket(
    url: &str,
    token: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Socket, ItineraError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ItineraError::Invalid {
            reason: e.to_string(),
        })?;
    let bearer =
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| ItineraError::Invalid {
            reason: e.to_string(),
        })?;
    request.headers_mut().insert("Authorization", bearer);
    // A small read buffer: the phone holds one connection and little memory.
    let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(8 * 1024);
    let connector = tls.map(tokio_tungstenite::Connector::Rustls);
    // Frames leave at once (`TCP_NODELAY`, as the server's do): with Nagle's algorithm a frame
    // written while the last is unacknowledged waits for the server's delayed acknowledgement.
    let disable_nagle = true;
    match tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        disable_nagle,
        connector,
    )
    .await
    {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) if response.status().as_u16() == 401 => {
            Err(ItineraError::Unauthorized {
                reason: "the server refused the token".into(),
            })
        }
        Err(tungstenite::Error::Tls(error)) => Err(ItineraError::Offline {
            reason: format!("the server's certificate is not trusted: {error}"),
        }),
        Err(tungstenite::Error::Io(error)) if is_certificate_error(&error) => {
            Err(ItineraError::Offline {
                reason: format!("the server's certificate is not trusted: {error}"),
            })
        }
        Err(err) => Err(ItineraError::Offline {
            reason: err.to_string(),
        }),
    }
}

/// rustls reports a refused certificate as an I/O error wrapping its own.
fn is_certificate_error(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|inner| {
            matches!(
                inner,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        })
}

/// `N` random bytes in hex.
pub(crate) fn random_hex<const N: usize>() -> Result<String, ItineraError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ItineraError::Other {
        reason: format!("no random source: {e}"),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Exponential backoff with full jitter: each wait is drawn at random below a bound that
/// doubles after every failure, up to [`MAX_BACKOFF`].
struct Backoff {
    bound: Duration,
}

impl Backoff {
    fn new() -> Self {
        Self {
            bound: FIRST_BACKOFF,
        }
    }

    fn reset(&mut self) {
        self.bound = FIRST_BACKOFF;
    }

    fn next_wait(&mut self) -> Duration {
        let mut random = [0u8; 8];
        let _ = getrandom::fill(&mut random);
        let fraction = u64::from_le_bytes(random) as f64 / u64::MAX as f64;
        let wait = self.bound.mul_f64(fraction.clamp(0.05, 1.0));
        self.bound = (self.bound * 2).min(MAX_BACKOFF);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_its_bound_draws_below_it_and_resets() {
        let mut backoff = Backoff::new();
        let mut bound = FIRST_BACKOFF;
        for _ in 0..12 {
            let wait = backoff.next_wait();
            assert!(wait <= bound, "{wait:?} above {bound:?}");
            bound = (bound * 2).min(MAX_BACKOFF);
        }
        assert_eq!(backoff.bound, MAX_BACKOFF);
        backoff.reset();
        assert!(backoff.next_wait() <= FIRST_BACKOFF);
    }
}

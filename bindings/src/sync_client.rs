//! The device's sync client: a tokio runtime inside the library, one WebSocket to the server,
//! and the core sync engine in between. The app calls [`SyncClient::sync_now`] or starts the
//! background loop, which retries with exponential backoff while the phone is offline.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use itinera_core::DocumentId;
use itinera_core::model::UserIndex;
use itinera_core::protocol::{DecodeLimits, Message, PeerId, PeerMetadata, StorageId};
use itinera_core::sync::{AllowAll, Event, Input, Node, NodeConfig, NodeRole, Output};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};

use crate::{ItineraError, Replica};

/// Whether the device is talking to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncStatus {
    /// The last attempt failed; the next one is scheduled.
    Offline,
    /// A sync is running.
    Syncing,
    /// The last sync succeeded.
    Online,
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
    /// Documents whose changes the server refused (see `discard_local_changes`).
    pub rejected: Vec<Rejection>,
    /// Unix ms.
    pub finished_at: i64,
}

/// What the app hears from the sync client. Implemented by the app (Kotlin, Swift, Python).
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Records changed because of a sync; ids as `automerge:` URLs.
    fn records_changed(&self, documents: Vec<String>);
    /// Online, offline or syncing.
    fn status_changed(&self, status: SyncStatus);
    /// The server refused this device's changes to a document.
    fn document_rejected(&self, document: String, reason: String);
}

/// Syncs one replica with one server.
#[derive(uniffi::Object)]
pub struct SyncClient {
    replica: Arc<Replica>,
    url: String,
    token: String,
    runtime: tokio::runtime::Runtime,
    listener: Mutex<Option<Arc<dyn SyncListener>>>,
    background: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// How long a sync waits for the server to say anything before it gives up (the changes wait
/// for the next attempt).
const SILENCE_LIMIT: Duration = Duration::from_secs(30);
/// The longest wait between two attempts while offline.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[uniffi::export(async_runtime = "tokio")]
impl SyncClient {
    /// A client for `replica` that syncs with the server at `server_url` (`ws://host:port/sync`
    /// or `wss://…`) as the user whose `token` this is.
    #[uniffi::constructor]
    pub fn new(
        replica: Arc<Replica>,
        server_url: String,
        token: String,
    ) -> Result<Arc<Self>, ItineraError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("itinera-sync")
            .enable_all()
            .build()
            .map_err(|e| ItineraError::Other {
                reason: format!("could not start the sync runtime: {e}"),
            })?;
        Ok(Arc::new(Self {
            replica,
            url: server_url,
            token,
            runtime,
            listener: Mutex::new(None),
            background: Mutex::new(None),
        }))
    }

    /// Where sync events go.
    pub fn set_listener(&self, listener: Arc<dyn SyncListener>) {
        if let Ok(mut slot) = self.listener.lock() {
            *slot = Some(listener);
        }
    }

    /// Syncs now: the index document first, then everything it lists and everything this
    /// device holds. Returns what was sent, received and refused.
    pub async fn sync_now(&self) -> Result<SyncReport, ItineraError> {
        let job = Job {
            replica: self.replica.clone(),
            url: self.url.clone(),
            token: self.token.clone(),
            listener: self.listener(),
        };
        self.runtime
            .spawn(job.run())
            .await
            .map_err(|e| ItineraError::Other {
                reason: e.to_string(),
            })?
    }

    /// Syncs in the background: at once, after every local change, and every `interval_ms`;
    /// while offline it retries after 1 s, 2 s, 4 s… up to a minute.
    pub fn start_background(&self, interval_ms: u64) {
        self.stop_background();
        let job = Job {
            replica: self.replica.clone(),
            url: self.url.clone(),
            token: self.token.clone(),
            listener: self.listener(),
        };
        let changed = self.replica.local_changes.clone();
        let handle = self.runtime.spawn(async move {
            let interval = Duration::from_millis(interval_ms.max(100));
            let mut backoff = Duration::from_secs(1);
            loop {
                let wait = match job.clone().run().await {
                    Ok(_) => {
                        backoff = Duration::from_secs(1);
                        interval
                    }
                    Err(ItineraError::Unauthorized { .. }) => MAX_BACKOFF,
                    Err(_) => {
                        let wait = backoff;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        wait
                    }
                };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = changed.notified() => {}
                }
            }
        });
        if let Ok(mut slot) = self.background.lock() {
            *slot = Some(handle);
        }
    }

    /// Stops the background loop.
    pub fn stop_background(&self) {
        if let Some(handle) = self.background.lock().ok().and_then(|mut slot| slot.take()) {
            handle.abort();
        }
    }

    /// Throws away this device's changes to `document` that the server refused, going back to
    /// the last version the server acknowledged.
    pub fn discard_local_changes(&self, document: String) -> Result<(), ItineraError> {
        self.replica.discard_local_changes(document)
    }
}

impl SyncClient {
    fn listener(&self) -> Option<Arc<dyn SyncListener>> {
        self.listener.lock().ok().and_then(|slot| slot.clone())
    }
}

impl Drop for SyncClient {
    fn drop(&mut self) {
        self.stop_background();
    }
}

/// One sync, with everything it needs owned so it can run on the client's runtime.
#[derive(Clone)]
struct Job {
    replica: Arc<Replica>,
    url: String,
    token: String,
    listener: Option<Arc<dyn SyncListener>>,
}

impl Job {
    fn tell(&self, tell: impl FnOnce(&dyn SyncListener)) {
        if let Some(listener) = &self.listener {
            tell(listener.as_ref());
        }
    }

    async fn run(self) -> Result<SyncReport, ItineraError> {
        self.tell(|l| l.status_changed(SyncStatus::Syncing));
        let result = self.sync().await;
        match &result {
            Ok(report) => {
                for rejection in &report.rejected {
                    self.tell(|l| {
                        l.document_rejected(rejection.document.clone(), rejection.reason.clone())
                    });
                }
                self.tell(|l| l.status_changed(SyncStatus::Online));
            }
            Err(_) => self.tell(|l| l.status_changed(SyncStatus::Offline)),
        }
        result
    }

    async fn sync(&self) -> Result<SyncReport, ItineraError> {
        let (user, storage_id, documents, pending_before) = self.replica.snapshot_for_sync()?;
        let mut request =
            self.url
                .as_str()
                .into_client_request()
                .map_err(|e| ItineraError::Invalid {
                    reason: e.to_string(),
                })?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", self.token)).map_err(|e| {
            ItineraError::Invalid {
                reason: e.to_string(),
            }
        })?;
        request.headers_mut().insert("Authorization", bearer);
        // A small read buffer: the phone holds one connection and little memory.
        let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(8 * 1024);
        let (mut socket, _) = match tokio_tungstenite::connect_async_with_config(
            request,
            Some(config),
            false,
        )
        .await
        {
            Ok(connected) => connected,
            Err(tungstenite::Error::Http(response)) if response.status().as_u16() == 401 => {
                return Err(ItineraError::Unauthorized {
                    reason: "the server refused the token".into(),
                });
            }
            Err(err) => {
                return Err(ItineraError::Offline {
                    reason: err.to_string(),
                });
            }
        };

        let mut random = [0u8; 8];
        let _ = getrandom::fill(&mut random);
        let session: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let mut node = Node::new(
            NodeConfig {
                peer_id: PeerId::new(format!("{user}-{session}")),
                metadata: PeerMetadata {
                    storage_id: Some(StorageId::new(storage_id)),
                    is_ephemeral: Some(false),
                },
                role: NodeRole::Client,
                limits: DecodeLimits::default(),
                session_id: session,
            },
            AllowAll,
        );
        node.handle(Input::Connected(1));
        for (id, doc) in documents {
            node.insert(id, doc);
        }
        let index = DocumentId::index_of(&user);
        if node.document(&index).is_none() {
            node.find(index);
        }

        let mut received = BTreeSet::new();
        let mut unavailable = BTreeSet::new();
        let mut rejected: BTreeMap<DocumentId, String> = BTreeMap::new();
        // Documents not yet acknowledged, unavailable or refused; re-checked only when a frame
        // about them arrives, so a sync of thousands of documents stays linear.
        let mut unsettled: BTreeSet<DocumentId> = node.document_ids().copied().collect();
        unsettled.insert(index);
        let mut listed: Vec<DocumentId> = Vec::new();
        // The index this device already holds counts from the start.
        let mut index_changed = true;
        loop {
            for output in node.take_outputs() {
                match output {
                    Output::Send { frame, .. } => {
                        socket
                            .send(tungstenite::Message::Binary(frame.into()))
                            .await
                            .map_err(|e| ItineraError::Offline {
                                reason: e.to_string(),
                            })?;
                    }
                    Output::Close { .. } => {
                        return Err(ItineraError::Offline {
                            reason: "the server closed the connection".into(),
                        });
                    }
                    Output::Event(Event::DocumentChanged(id)) => {
                        index_changed |= id == index;
                        received.insert(id);
                    }
                    Output::Event(Event::DocumentUnavailable(id)) => {
                        unavailable.insert(id);
                        unsettled.remove(&id);
                    }
                    Output::Event(Event::LoadRequested(id)) => node.handle(Input::Loaded(id, None)),
                    Output::Event(_) => {}
                }
            }
            if std::mem::take(&mut index_changed) {
                // Everything the index lists is asked for.
                listed = listed_documents(&mut node, &index);
                let missing: Vec<DocumentId> = listed
                    .iter()
                    .filter(|id| node.doc_sync(id).is_none())
                    .copied()
                    .collect();
                if !missing.is_empty() {
                    for id in missing {
                        unsettled.insert(id);
                        node.find(id);
                    }
                    continue;
                }
            }
            if unsettled.is_empty()
                && listed
                    .iter()
                    .all(|id| unavailable.contains(id) || node.doc_sync(id).is_some())
            {
                break;
            }
            let next = tokio::time::timeout(SILENCE_LIMIT, socket.next()).await;
            match next {
                Ok(Some(Ok(tungstenite::Message::Binary(frame)))) => {
                    let about = match Message::decode(&frame, &DecodeLimits::default()) {
                        Ok(Message::Error {
                            document_id: Some(id),
                            message,
                            ..
                        }) => {
                            rejected.insert(id, message);
                            unsettled.remove(&id);
                            None
                        }
                        Ok(message) => message.document_id().copied(),
                        Err(_) => None,
                    };
                    node.handle(Input::Frame(1, frame.to_vec()));
                    if let Some(id) = about {
                        if acknowledged(&mut node, &id) {
                            unsettled.remove(&id);
                        } else if !rejected.contains_key(&id) && !unavailable.contains(&id) {
                            unsettled.insert(id);
                        }
                    }
                }
                Ok(Some(Ok(tungstenite::Message::Close(_)))) | Ok(None) => {
                    return Err(ItineraError::Offline {
                        reason: "the server closed the connection".into(),
                    });
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(err))) => {
                    return Err(ItineraError::Offline {
                        reason: err.to_string(),
                    });
                }
                Err(_) => {
                    return Err(ItineraError::Offline {
                        reason: "the server stopped answering".into(),
                    });
                }
            }
        }
        let _ = socket.close(None).await;

        // Write back what arrived and what the server now has.
        let mut acknowledged = BTreeMap::new();
        let ids: Vec<DocumentId> = node.document_ids().copied().collect();
        let mut arrived = Vec::new();
        for id in ids {
            let server_heads = server_heads(&node, &id);
            if let Some(doc) = node.document(&id) {
                if received.contains(&id) {
                    arrived.push((id, doc.clone()));
                }
                if !server_heads.is_empty() && !rejected.contains_key(&id) {
                    acknowledged.insert(id, server_heads);
                }
            }
        }
        let changed = self
            .replica
            .write_back(arrived, acknowledged.clone(), now_ms())?;
        if !changed.is_empty() {
            let urls: Vec<String> = changed.iter().map(DocumentId::to_url).collect();
            self.tell(|l| l.records_changed(urls));
        }
        let sent = pending_before
            .iter()
            .filter(|id| acknowledged.contains_key(id))
            .count();
        Ok(SyncReport {
            documents_sent: u32::try_from(sent).unwrap_or(u32::MAX),
            documents_received: u32::try_from(changed.len()).unwrap_or(u32::MAX),
            rejected: rejected
                .into_iter()
                .map(|(id, reason)| Rejection {
                    document: id.to_url(),
                    reason,
                })
                .collect(),
            finished_at: now_ms(),
        })
    }
}

/// The documents the user's index lists.
fn listed_documents(node: &mut Node<AllowAll>, index: &DocumentId) -> Vec<DocumentId> {
    let Some(doc) = node.document(index) else {
        return Vec::new();
    };
    let Ok(index) = autosurgeon::hydrate::<_, UserIndex>(doc) else {
        return Vec::new();
    };
    index
        .documents
        .keys()
        .filter_map(|id| DocumentId::parse(id).ok())
        .collect()
}

/// The heads the server said it has of `id`.
fn server_heads(node: &Node<AllowAll>, id: &DocumentId) -> Vec<automerge::ChangeHash> {
    let Some(sync) = node.doc_sync(id) else {
        return Vec::new();
    };
    sync.peers()
        .filter_map(|(peer, _)| sync.sync_state(peer))
        .find_map(|state| state.their_heads.clone())
        .unwrap_or_default()
}

/// Whether the server has every change of `id` this device holds.
fn acknowledged(node: &mut Node<AllowAll>, id: &DocumentId) -> bool {
    let ours = node.heads(id).unwrap_or_default();
    !ours.is_empty() && server_heads(node, id) == ours
}

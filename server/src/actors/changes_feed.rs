//! The changes feed: a device's reconnect in proportion to what changed.
//!
//! A device that sends `itinera-changes-since` (an extension plain automerge-repo peers never
//! send) is answered with the documents its user may read that were written after the
//! device's checkpoint, each with the heads the store holds, in pages of the store's change
//! sequence ([`DocumentStore::changes_since`]); on a first sync the pages carry the stored
//! documents themselves. The device then syncs only the documents whose heads it lacks, and
//! keeps the checkpoint of the last page: with nothing changed, a reconnect is one small
//! message each way and no document is loaded.
//!
//! With `live`, the feed stays open: a committed event the user may see (from the bus) makes
//! it read the store again from its checkpoint and send what is new, so changes reach an open
//! phone as they happen, with their place in the sequence. Events that arrive while a page is
//! being read are folded into the next read. The pages go through the session's own queue
//! (its outgoing cap counts them).
//!
//! The idea is Couchbase's changes feed (a sequence number per write, a client checkpoint, a
//! continuous mode) with PowerSync's rule that a checkpoint is only moved past what the
//! device has stored.

use std::sync::Arc;

use actix::Recipient;
use actix_web::web::Bytes;
use itinera_core::policy::{Principal, access};
use itinera_core::protocol::{ChangedDocument, ChangesPage, Message, PeerId};
use itinera_core::store::{DocumentChange, DocumentStore, StoreResult};
use itinera_core::sync::Access;
use tokio::sync::{broadcast, watch};

use super::Deliver;
use crate::services::Services;

/// How many rows of the change sequence one store read takes.
const SCAN_ROWS: usize = 1_000;
/// The most documents one page names.
const PAGE_ENTRIES: usize = 1_000;
/// The most stored bytes one page with bodies carries (before compression).
const PAGE_BODY_BYTES: usize = 1024 * 1024;

/// What a device asked for.
#[derive(Debug, Clone)]
pub struct FeedRequest {
    /// The server's peer id (the pages' sender).
    pub local: PeerId,
    /// The device's peer id.
    pub device: PeerId,
    /// The last position the device has stored everything up to.
    pub checkpoint: u64,
    /// Whether the pages carry the stored documents.
    pub bodies: bool,
    /// Whether the feed goes on after the device caught up.
    pub live: bool,
}

/// A running feed; dropping it stops it.
#[derive(Debug)]
pub struct ChangesFeed {
    task: tokio::task::JoinHandle<()>,
    principal: watch::Sender<Arc<Principal>>,
}

impl ChangesFeed {
    /// Starts a feed for `principal` that delivers its pages to `session`.
    pub fn start(
        services: Arc<Services>,
        principal: Arc<Principal>,
        request: FeedRequest,
        session: Recipient<Deliver>,
    ) -> Self {
        let (principal, watched) = watch::channel(principal);
        // Subscribed before the first read: nothing committed in between is missed.
        let events = services.events.feed();
        let task = actix_web::rt::spawn(run(services, watched, request, session, events));
        Self { task, principal }
    }

    /// The session's user has another role or other grants from now on.
    pub fn set_principal(&self, principal: Arc<Principal>) {
        let _ = self.principal.send(principal);
    }
}

impl Drop for ChangesFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    services: Arc<Services>,
    principal: watch::Receiver<Arc<Principal>>,
    mut request: FeedRequest,
    session: Recipient<Deliver>,
    mut events: broadcast::Receiver<Arc<itinera_core::engine::Committed>>,
) {
    loop {
        if !catch_up(&services, &principal, &mut request, &session).await {
            return;
        }
        if !request.live {
            return;
        }
        // Later pages name documents only: a document the device lacks is fetched by sync.
        request.bodies = false;
        if !next_relevant(&mut events, &principal).await {
            return;
        }
        // Whatever else arrived meanwhile is read in the same pass.
        while events.try_recv().is_ok() {}
    }
}

/// Sends pages until the device has everything up to the store's last write; `false` when
/// the session is gone or the store failed (the feed stops; the device reconnects).
async fn catch_up(
    services: &Arc<Services>,
    principal: &watch::Receiver<Arc<Principal>>,
    request: &mut FeedRequest,
    session: &Recipient<Deliver>,
) -> bool {
    loop {
        let store = services.store.clone();
        let reader = principal.borrow().clone();
        let (from, bodies) = (request.checkpoint, request.bodies);
        let read = actix_web::rt::task::spawn_blocking(move || {
            read_page(store.as_ref(), &reader, from, bodies)
        })
        .await;
        let page = match read {
            Ok(Ok(page)) => page,
            Ok(Err(error)) => {
                tracing::warn!(%error, "the changes feed could not read the store");
                return false;
            }
            Err(_) => return false,
        };
        let caught_up = page.caught_up;
        request.checkpoint = page.checkpoint;
        let message = Message::Changes {
            sender_id: request.local.clone(),
            target_id: request.device.clone(),
            checkpoint: page.checkpoint,
            caught_up,
            page: page.page,
        };
        let frames = vec![Bytes::from(message.encode())];
        if session.try_send(Deliver { frames }).is_err() {
            return false;
        }
        if caught_up {
            return true;
        }
    }
}

/// Waits for a committed document `principal` may read; `false` once the bus is gone.
async fn next_relevant(
    events: &mut broadcast::Receiver<Arc<itinera_core::engine::Committed>>,
    principal: &watch::Receiver<Arc<Principal>>,
) -> bool {
    loop {
        match events.recv().await {
            Ok(committed) => {
                if access(&principal.borrow(), &committed.scope) != Access::None {
                    return true;
                }
            }
            // Missed some: read the store, which has them all.
            Err(broadcast::error::RecvError::Lagged(_)) => return true,
            Err(broadcast::error::RecvError::Closed) => return false,
        }
    }
}

/// One page and where it ends.
#[derive(Debug)]
struct ReadPage {
    page: ChangesPage,
    /// The position after the last row read, visible or not.
    checkpoint: u64,
    caught_up: bool,
}

/// Reads the change sequence after `from` and keeps what `principal` may read, until a page
/// is full or the sequence ends.
fn read_page(
    store: &dyn DocumentStore,
    principal: &Principal,
    from: u64,
    bodies: bool,
) -> StoreResult<ReadPage> {
    let mut page = ChangesPage::default();
    let mut checkpoint = from;
    let mut body_bytes = 0usize;
    loop {
        let rows = store.changes_since(checkpoint, SCAN_ROWS)?;
        let exhausted = rows.len() < SCAN_ROWS;
        for change in rows {
            checkpoint = change.sequence;
            if let Some(entry) = visible_entry(store, principal, change, bodies)? {
                body_bytes += entry.body.as_ref().map_or(0, Vec::len);
                page.entries.push(entry);
            }
            if page.entries.len() >= PAGE_ENTRIES || body_bytes >= PAGE_BODY_BYTES {
                // The rest of this read is read again from the checkpoint.
                return Ok(ReadPage {
                    page,
                    checkpoint,
                    caught_up: false,
                });
            }
        }
        if exhausted {
            return Ok(ReadPage {
                page,
                checkpoint,
                caught_up: true,
            });
        }
    }
}

/// The page entry of a changed document `principal` may read, with its stored bytes if asked.
fn visible_entry(
    store: &dyn DocumentStore,
    principal: &Principal,
    change: DocumentChange,
    bodies: bool,
) -> StoreResult<Option<ChangedDocument>> {
    let Some(scope) = &change.meta.scope else {
        // Not described yet (a store older than scopes): the start-up scan describes it, and
        // that write puts it in the sequence again.
        return Ok(None);
    };
    if access(principal, scope) == Access::None {
        return Ok(None);
    }
    let body = if bodies {
        store.load(change.document)?
    } else {
        None
    };
    Ok(Some(ChangedDocument {
        document: change.document,
        heads: change.meta.heads,
        body,
    }))
}

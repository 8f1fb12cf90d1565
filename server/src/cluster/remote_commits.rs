//! [`RemoteCommits`]: the thread that takes what the other nodes committed to the shared store
//! and hands it to this node's hub, directory, sessions and leader.

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use actix::prelude::*;
use automerge::ChangeHash;
use itinera_core::document::Touched;
use itinera_core::engine::Committed;
use itinera_core::store::StoreNotice;
use itinera_core::{DocumentId, DocumentKind};

use super::{DecideStored, Leader};
use crate::actors::{Hub, StoredElsewhere};
use crate::services::Services;

/// How many documents one read of the changes feed returns while catching up.
const CATCH_UP_PAGE: usize = 500;

/// Takes the store's notices, in commit order, on a thread of its own (each one reads the
/// store).
pub struct RemoteCommits {
    services: Arc<Services>,
    hub: Addr<Hub>,
    leader: Addr<Leader>,
}

impl std::fmt::Debug for RemoteCommits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteCommits").finish_non_exhaustive()
    }
}

impl RemoteCommits {
    pub fn new(services: Arc<Services>, hub: Addr<Hub>, leader: Addr<Leader>) -> Self {
        Self {
            services,
            hub,
            leader,
        }
    }

    /// Takes `notices` until the store stops sending them.
    pub fn spawn(self, notices: Receiver<StoreNotice>) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("itinera-remote-commits".into())
            .spawn(move || {
                for notice in notices {
                    self.take(notice);
                }
            })
            .map(drop)
    }

    fn take(&self, notice: StoreNotice) {
        match notice {
            StoreNotice::Documents { documents, .. } => {
                for (document, heads) in documents {
                    self.document_stored(document, Some(heads));
                }
            }
            StoreNotice::Values { keys } => {
                let changed = self.services.directory.reload(&*self.services.store, &keys);
                for user in changed {
                    self.services.user_changed(&user);
                }
            }
            StoreNotice::Resumed { after } => self.catch_up(after),
        }
    }

    /// After a gap: every document written since `after` (this node's own too, which the
    /// actors find they hold), and every user and token.
    fn catch_up(&self, mut after: u64) {
        tracing::info!(
            after,
            "catching up with what other nodes committed meanwhile"
        );
        loop {
            let page = match self.services.store.changes_since(after, CATCH_UP_PAGE) {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(%error, "the changes feed is unreadable; catching up stopped");
                    break;
                }
            };
            let Some(last) = page.last().map(|change| change.sequence) else {
                break;
            };
            for change in page {
                self.document_stored(change.document, None);
            }
            after = last;
        }
        match self.services.directory.reload_all(&*self.services.store) {
            Ok(users) => {
                for user in users {
                    self.services.user_changed(&user);
                }
            }
            Err(error) => tracing::error!(%error, "users and tokens could not be read again"),
        }
    }

    /// Another node wrote `document` (with `heads`, or as the store holds it now).
    fn document_stored(&self, document: DocumentId, heads: Option<Vec<ChangeHash>>) {
        let meta = match self.services.store.meta(document) {
            Ok(Some(meta)) => meta,
            // Deleted since.
            Ok(None) => return,
            Err(error) => {
                tracing::error!(%document, %error, "a document another node wrote is unreadable");
                return;
            }
        };
        let kind = meta.kind.as_deref().and_then(DocumentKind::parse);
        let summary = self
            .services
            .store
            .value(&itinera_core::reports::summary_key(&document))
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let committed = Committed {
            document,
            kind,
            heads: heads.unwrap_or(meta.heads),
            // Not known here; the subscribers take the commit as a change of content.
            previous_heads: Vec::new(),
            authors: Vec::new(),
            written: Touched::Everything,
            scope: meta.scope.unwrap_or_default(),
            title: meta.title,
            summary,
            content: None,
            record: None,
            outbox: None,
        };
        self.hub.do_send(StoredElsewhere {
            committed: Arc::new(committed),
            creator: meta.creator,
        });
        self.leader.do_send(DecideStored { document, kind });
    }
}

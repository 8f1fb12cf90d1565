use std::sync::{Arc, OnceLock};

use actix::Recipient;
use automerge::ActorId;
use itinera_core::store::DocumentStore;

use crate::accounts::Directory;
use crate::config::ServerConfig;
use crate::index_documents::{Described, UserChanged};
use crate::metrics::Metrics;
use crate::store_writer::StoreWriter;

/// What every actor and HTTP handler shares: configuration, the store (read directly, written
/// only through the store writer), users, and counters.
pub struct Services {
    pub config: ServerConfig,
    pub store: Arc<dyn DocumentStore>,
    pub writer: StoreWriter,
    pub directory: Arc<Directory>,
    pub metrics: Arc<Metrics>,
    /// The actor id of the server's own changes in this process.
    pub actor: ActorId,
    /// Where documents report their scope, once the indexer runs.
    pub indexer: OnceLock<Recipient<Described>>,
    /// Where user changes are reported, once the indexer runs.
    pub user_changes: OnceLock<Recipient<UserChanged>>,
    /// Where durable changes are reported, once the authority runs.
    pub authority: OnceLock<Recipient<crate::actors::Changed>>,
    /// Where devices' pending documents are reported (the hub).
    pub devices: OnceLock<Recipient<crate::actors::DevicePending>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// The current time from the configured clock.
    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    /// Tells the indexer a user changed.
    pub fn user_changed(&self, user: &str) {
        if let Some(indexer) = self.user_changes.get() {
            indexer.do_send(UserChanged {
                user: user.to_owned(),
            });
        }
    }
}

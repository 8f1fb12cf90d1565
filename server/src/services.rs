//! What every actor and HTTP handler shares.

use std::sync::Arc;

use automerge::ActorId;
use itinera_core::engine::EngineConfig;
use itinera_core::store::DocumentStore;

use crate::accounts::{Directory, Logins};
use crate::config::ServerConfig;
use crate::events::Events;
use crate::metrics::Metrics;
use crate::read_model::ReadModel;
use crate::sessions::SessionRegistry;
use crate::store_writer::StoreWriter;

/// Configuration, the store (read directly, written only through the store writer), users,
/// counters, the event bus and the read model.
pub struct Services {
    pub config: ServerConfig,
    pub store: Arc<dyn DocumentStore>,
    pub writer: StoreWriter,
    pub directory: Arc<Directory>,
    pub metrics: Arc<Metrics>,
    /// The actor id of the server's own changes in this process.
    pub actor: ActorId,
    /// Committed documents and changed users, for whoever subscribed.
    pub events: Events,
    /// Every document's report summary, in memory.
    pub read_model: Arc<ReadModel>,
    /// Reports computed from the read model, kept while their input stays the same.
    pub report_cache: Arc<crate::report_cache::ReportCache>,
    /// How each document's engine is set up.
    pub engine: EngineConfig,
    /// The open WebSocket sessions of each user.
    pub sessions: SessionRegistry,
    /// Password logins, limited and hashed off the HTTP workers.
    pub logins: Logins,
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

    /// Tells the subscribers (the indexer) and the user's open sessions that a user changed
    /// (a token revoked, the account disabled, another role or other grants): the sessions
    /// check their token again at once.
    pub fn user_changed(&self, user: &str) {
        self.events.user_changed(user);
        self.sessions.reauthenticate(user);
    }
}

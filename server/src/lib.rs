//! `itinera-server`: the sync server head office runs and every phone syncs with.
//!
//! It speaks the automerge-repo WebSocket protocol on `/sync`, so any automerge-repo client can
//! use it, and adds what the Node sync server lacks: users and tokens, per-document access,
//! validation of every change against Itinera's records on a fork before it is merged, and
//! durability (a change is acknowledged only after fsync, many documents per fsync).
//!
//! ```no_run
//! # async fn example() -> itinera_server::Result<()> {
//! let config = itinera_server::ServerConfig::default();
//! itinera_server::serve(config, |address| println!("listening on {address}")).await
//! # }
//! ```

pub mod accounts;
pub mod actors;
pub mod authority;
pub mod clock;
pub mod config;
pub mod demo;
mod error;
pub mod http;
pub mod index_documents;
pub mod json_view;
pub mod metrics;
pub mod read_model;
pub mod services;
pub mod store_writer;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use actix::{Actor, Arbiter};
use actix_web::{App, HttpServer, web};
use itinera_core::protocol::{PeerMetadata, StorageId};
use itinera_core::store::{DocumentStore, Durability, RedbStore, WriteBatch};

pub use config::ServerConfig;
pub use error::{Error, Result};

use crate::accounts::Directory;
use crate::actors::Hub;
use crate::http::AppState;
use crate::index_documents::Indexer;
use crate::metrics::Metrics;
use crate::services::Services;
use crate::store_writer::StoreWriter;

/// The key under which the server keeps its automerge-repo storage id.
const STORAGE_ID_KEY: &str = "server:storage-id";

/// Opens (creating if needed) the store in the data folder.
pub fn open_store(config: &ServerConfig) -> Result<Arc<RedbStore>> {
    Ok(Arc::new(RedbStore::open(config.store_path())?))
}

/// The server's storage id, made once and kept in the store.
fn storage_id(store: &dyn DocumentStore) -> Result<StorageId> {
    if let Some(bytes) = store.value(STORAGE_ID_KEY)? {
        if let Ok(text) = String::from_utf8(bytes) {
            return Ok(StorageId::new(text));
        }
    }
    let random = accounts::random_id_bytes()?;
    let text: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut batch = WriteBatch::new();
    batch.put_value(STORAGE_ID_KEY, text.as_bytes().to_vec());
    store.commit(batch, Durability::Immediate)?;
    Ok(StorageId::new(text))
}

/// Runs the server until SIGINT or SIGTERM, then stops taking connections, lets the store
/// writer finish what it was given, and closes the store.
///
/// `on_listening` is called with the bound address (useful with port 0) before serving.
pub async fn serve(config: ServerConfig, on_listening: impl FnOnce(SocketAddr)) -> Result<()> {
    let listener = TcpListener::bind(config.listen).map_err(|source| Error::Io {
        context: format!("could not listen on {}", config.listen),
        source,
    })?;
    let address = listener.local_addr().map_err(|source| Error::Io {
        context: "local address".into(),
        source,
    })?;
    let store = open_store(&config)?;
    let store_dyn: Arc<dyn DocumentStore> = store.clone();
    let directory = Arc::new(Directory::load(store_dyn.clone())?);
    let metrics = Arc::new(Metrics::default());
    let (writer, writer_thread) = StoreWriter::spawn(
        store_dyn.clone(),
        config.durability,
        config.max_batch,
        metrics.clone(),
    )
    .map_err(|source| Error::Io {
        context: "could not start the store writer".into(),
        source,
    })?;
    let server_metadata = PeerMetadata {
        storage_id: Some(storage_id(&*store_dyn)?),
        is_ephemeral: Some(false),
    };
    let workers = config.workers.max(1);
    let services = Arc::new(Services {
        config,
        store: store_dyn,
        writer,
        directory,
        metrics,
        actor: automerge::ActorId::random(),
        indexer: OnceLock::new(),
        user_changes: OnceLock::new(),
        authority: OnceLock::new(),
        devices: OnceLock::new(),
    });

    let arbiters: Vec<Arbiter> = (0..workers).map(|_| Arbiter::new()).collect();
    let hub = Hub::new(
        services.clone(),
        arbiters.iter().map(Arbiter::handle).collect(),
    )
    .start();
    let indexer = Indexer::new(services.clone(), hub.clone()).start();
    let _ = services.indexer.set(indexer.clone().recipient());
    let _ = services.user_changes.set(indexer.recipient());
    let _ = services.devices.set(hub.clone().recipient());
    let authority_thread = Arbiter::new();
    let authority = {
        let (services, hub) = (services.clone(), hub.clone());
        authority::Authority::start_in_arbiter(&authority_thread.handle(), move |_| {
            authority::Authority::new(services, hub)
        })
    };
    // The read model hears of every durable change through the relay in front of the
    // authority; a committed-event bus can publish into the same feed instead.
    let change_feed = read_model::ChangeFeed::new();
    let read_model = read_model::ReadModel::new();
    read_model::spawn_refresher(
        services.store.clone(),
        services.writer.clone(),
        &change_feed,
        read_model.clone(),
    )
    .map_err(|source| Error::Io {
        context: "could not start the read model".into(),
        source,
    })?;
    let relay = read_model::ChangeRelay::new(authority.recipient(), change_feed).start();
    let _ = services.authority.set(relay.recipient());

    let state = web::Data::new(AppState {
        services: services.clone(),
        hub,
        server_metadata,
        next_session: AtomicU64::new(1),
        read_model,
        imports: http::ImportJobs::default(),
    });
    let max_body = services.config.max_frame_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::JsonConfig::default().limit(max_body))
            .configure(http::configure)
    })
    .workers(workers)
    .shutdown_timeout(5)
    .listen(listener)
    .map_err(|source| Error::Io {
        context: "could not serve".into(),
        source,
    })?
    .run();

    tracing::info!(%address, "listening");
    on_listening(address);
    let served = server.await;

    // Everything handed to the writer before this barrier is committed once it returns, and
    // durably, even under relaxed durability.
    let mut last = WriteBatch::new();
    last.put_value(
        "server:stopped-at",
        services.now_ms().to_string().into_bytes(),
    );
    if let Ok(Err(err)) = services.writer.write_durably(last).await {
        tracing::error!(error = %err, "the final flush failed");
    }
    for arbiter in arbiters {
        arbiter.stop();
    }
    authority_thread.stop();
    // The writer thread ends by itself when the last handle goes; the barrier above already
    // made every acknowledged change durable.
    drop(writer_thread);
    tracing::info!("stopped; the store is flushed");
    served.map_err(|source| Error::Io {
        context: "server error".into(),
        source,
    })
}

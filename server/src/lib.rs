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
//! itinera_server::serve(config, |started| println!("listening on {}", started.address)).await
//! # }
//! ```

pub mod account_admin;
pub mod accounts;
pub mod actors;
pub mod admin_client;
pub mod audit;
pub mod authority;
pub mod backup;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod config_file;
pub mod demo;
mod error;
pub mod events;
pub mod export;
pub mod freed_memory;
pub mod history_budget;
pub mod http;
pub mod index_digest;
pub mod index_documents;
pub mod init;
pub mod json_view;
pub mod lists;
pub mod logging;
pub mod metrics;
pub mod operation_error;
mod process_metrics;
pub mod rate;
pub mod read_model;
pub mod readiness;
pub mod report_cache;
pub mod secret_input;
pub mod server_documents;
pub mod services;
pub mod sessions;
pub mod store_writer;
pub mod tls;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::Poll;

use actix::{Actor, Arbiter};
use actix_web::web;
use itinera_core::engine::EngineConfig;
use itinera_core::protocol::{PeerId, PeerMetadata, StorageId};
use itinera_core::store::{DocumentStore, QuietMoment, RedbStore, WriteBatch};

pub use config::{ServerConfig, StoreLocation};
pub use error::{Error, Result};

use crate::accounts::Directory;
use crate::actors::Hub;
use crate::events::Events;
use crate::http::AppState;
use crate::index_documents::Indexer;
use crate::lists::ListModel;
use crate::metrics::Metrics;
use crate::read_model::ReadModel;
use crate::services::Services;
use crate::store_writer::StoreWriter;

/// The key under which the server keeps its automerge-repo storage id.
const STORAGE_ID_KEY: &str = "server:storage-id";
/// How long a stop waits for the indexes' last writes (see `index_documents::FlushBeforeStop`).
const INDEX_FLUSH_AT_STOP: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens (creating if needed) the store the configuration names: the redb file in the data
/// folder, or a PostgreSQL database.
pub fn open_store(config: &ServerConfig) -> Result<Arc<dyn DocumentStore>> {
    Ok(match &config.store {
        StoreLocation::DataFolder => Arc::new(RedbStore::open_with_cache(
            config.store_path(),
            config.store_cache_bytes,
        )?),
        StoreLocation::Postgres(url) => Arc::new(itinera_store_postgres::PgStore::open(url)?),
    })
}

/// What the server's start finds to report, and the other nodes' commits heard since (on a
/// store several nodes share).
type StartReport = (
    Arc<Services>,
    Vec<demo::DemoUser>,
    Vec<itinera_core::rules::Finding>,
    Option<std::sync::mpsc::Receiver<itinera_core::store::StoreNotice>>,
);

/// Opens the store, starts the store writer, loads users, repairs the server's documents of
/// older stores, and seeds the demo if asked to (returning its users); also returns the alerts
/// the repair raises. The read model is left to load after the server listens.
fn start_services(config: ServerConfig) -> Result<StartReport> {
    let store: Arc<dyn DocumentStore> = open_store(&config)?;
    let notices = cluster::listen(&*store)?;
    let metrics = Arc::new(Metrics::default());
    let (writer, _writer_thread) = StoreWriter::spawn(
        store.clone(),
        config.durability,
        config.max_batch,
        metrics.clone(),
    )
    .map_err(|source| Error::Io {
        context: "could not start the store writer".into(),
        source,
    })?;
    let directory = Arc::new(Directory::load(&*store, Arc::new(writer.clone()))?);
    let repaired = repair_server_documents(&*store, &writer, &directory)?;
    // Loaded once the server listens (see `serve`); its readers wait until then.
    let read_model = Arc::new(ReadModel::loading());
    let actor = automerge::ActorId::random();
    let engine = EngineConfig {
        // On a shared store the doc actors have the store compact instead (see `DocActor`).
        compaction: if store.shared().is_some() {
            itinera_core::engine::CompactionPolicy::NEVER
        } else {
            itinera_core::engine::CompactionPolicy::default()
        },
        carry_content: authority::carries_content,
        history: Some(Arc::new(history_budget::UserHistory::default())),
        decides: authority::decides,
        ..EngineConfig::new(PeerId::new(config.peer_id.clone()), actor.clone())
    };
    let services = Arc::new(Services {
        config,
        store,
        writer,
        logins: accounts::Logins::new(directory.clone()),
        directory,
        metrics,
        actor,
        events: Events::default(),
        read_model,
        report_cache: Arc::default(),
        engine,
        sessions: sessions::SessionRegistry::default(),
    });
    let demo_users = if services.config.seed_demo {
        demo::seed(&services)?
    } else {
        Vec::new()
    };
    Ok((services, demo_users, repaired, notices))
}

/// Subscribes the read model and the indexer to the committed events, and starts the
/// authority (see [`cluster`]: at once when the node is alone, whenever it leads when several
/// share the store); returns the leader and the indexer. The company's settings are checked
/// here (an unknown time zone stops the server with its name).
///
/// The indexer runs on `indexer_thread`, not beside the hub: rebuilding an admin's index after
/// a restart (every document) or taking in a burst of commits would otherwise hold up every
/// session's requests the hub routes meanwhile.
fn start_subscribers(
    services: &Arc<Services>,
    hub: &actix::Addr<Hub>,
    indexer_thread: &actix::ArbiterHandle,
    notices: Option<std::sync::mpsc::Receiver<itinera_core::store::StoreNotice>>,
) -> Result<(actix::Addr<cluster::Leader>, actix::Addr<Indexer>)> {
    let read_model = services.read_model.clone();
    services
        .events
        .observe_committed(Arc::new(move |committed| read_model.apply(committed)));
    let indexer = {
        let (services, hub) = (services.clone(), hub.clone());
        Indexer::start_in_arbiter(indexer_thread, move |_| Indexer::new(services, hub))
    };
    services
        .events
        .subscribe_committed(indexer.clone().recipient());
    services.events.subscribe_users(indexer.clone().recipient());
    Ok((cluster::start(services, hub, notices)?, indexer))
}

/// Starts the lists head office browses: a thread that reads them from the store and then
/// follows the committed events, subscribed before anything is written.
fn start_lists(services: &Services) -> Result<Arc<ListModel>> {
    let model = Arc::new(ListModel::default());
    lists::spawn_refresher(
        services.store.clone(),
        services.writer.clone(),
        services.events.feed(),
        model.clone(),
        services.metrics.readiness.begin_startup("list scan"),
    )
    .map_err(|source| Error::Io {
        context: "could not start the lists".into(),
        source,
    })?;
    Ok(model)
}

/// Reads the report summaries into the read model on a thread of its own; whatever reads it
/// (reports, the authority's relations, the index scan) waits until it is whole, and
/// `/readyz` says not ready meanwhile.
fn start_read_model(services: &Services) -> Result<()> {
    read_model::load_in_background(
        services.read_model.clone(),
        services.store.clone(),
        services.metrics.readiness.begin_startup("read model"),
    )
    .map_err(|source| Error::Io {
        context: "could not start loading the read model".into(),
        source,
    })
}

/// Moves the server's documents from the ids older stores kept them under, removing those a
/// client had created there; returns an alert for each of those.
fn repair_server_documents(
    store: &dyn DocumentStore,
    writer: &StoreWriter,
    directory: &Directory,
) -> Result<Vec<itinera_core::rules::Finding>> {
    let users: Vec<String> = directory
        .users()
        .into_iter()
        .map(|user| user.name)
        .collect();
    let repair = server_documents::repair_legacy_ids(store, &users)?;
    if !repair.batch.is_empty() {
        store_writer::DurableWrites::write_and_wait(writer, repair.batch)
            .map_err(|_| Error::WriterStopped)?;
    }
    Ok(repair.findings)
}

/// The server's storage id, made once and kept in the store.
fn storage_id(services: &Services) -> Result<StorageId> {
    if let Some(bytes) = services.store.value(STORAGE_ID_KEY)? {
        if let Ok(text) = String::from_utf8(bytes) {
            return Ok(StorageId::new(text));
        }
    }
    let random = accounts::random_id_bytes()?;
    let text: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut batch = WriteBatch::new();
    batch.put_value(STORAGE_ID_KEY, text.as_bytes().to_vec());
    store_writer::DurableWrites::write_and_wait(&services.writer, batch)
        .map_err(|_| Error::WriterStopped)?;
    Ok(StorageId::new(text))
}

/// What a server that has started tells its caller.
#[derive(Debug, Clone)]
pub struct Started {
    /// The bound address (useful with port 0).
    pub address: SocketAddr,
    /// Whether it serves TLS (`https://`, `wss://`).
    pub tls: bool,
    /// The demo users and their tokens, when the demo was seeded.
    pub demo_users: Vec<demo::DemoUser>,
}

/// Runs the server until SIGINT or SIGTERM, then stops taking connections, lets the store
/// writer finish what it was given, and closes the store.
///
/// `on_listening` is called once the server listens, before it serves.
pub async fn serve(config: ServerConfig, on_listening: impl FnOnce(&Started)) -> Result<()> {
    let listener = TcpListener::bind(config.listen).map_err(|source| Error::Io {
        context: format!("could not listen on {}", config.listen),
        source,
    })?;
    let address = listener.local_addr().map_err(|source| Error::Io {
        context: "local address".into(),
        source,
    })?;
    let (services, demo_users, repaired, notices) = start_services(config)?;
    // The start-up reads of the lists, the indexes and the read model begin once it listens.
    services.metrics.readiness.listening_later();
    let lists = start_lists(&services)?;
    let workers = services.config.workers.max(1);
    let arbiters: Vec<Arbiter> = (0..workers).map(|_| Arbiter::new()).collect();
    let hub = Hub::new(
        services.clone(),
        arbiters.iter().map(Arbiter::handle).collect(),
    )
    .start();
    let indexer_thread = Arbiter::new();
    let (leader, indexer) = start_subscribers(&services, &hub, &indexer_thread.handle(), notices)?;
    if !repaired.is_empty() {
        let edit = server_documents::raise_alerts(repaired, services.now_ms());
        hub.do_send(actors::EditDocument::by_server(
            server_documents::alerts_document_id(),
            edit,
        ));
    }
    let server_metadata = PeerMetadata {
        storage_id: Some(storage_id(&services)?),
        is_ephemeral: Some(false),
    };

    let state = web::Data::new(AppState {
        services: services.clone(),
        hub,
        server_metadata,
        next_session: AtomicU64::new(1),
        lists,
        imports: http::ImportJobs::default(),
    });
    let tls = match &services.config.tls {
        Some(files) => Some(files.server_config().map_err(Error::Tls)?),
        None => None,
    };
    let could_not_serve = |source| Error::Io {
        context: "could not serve".into(),
        source,
    };
    let server = http::serve_http(listener, state, tls, workers).map_err(could_not_serve)?;
    // actix-server starts its workers (each building the application) and its accept loop at
    // the server's first poll. Polled here, before it says it listens: a connection made as
    // soon as it says so is accepted at once, and the start-up reads released below do not
    // compete with the workers' start.
    let mut server = Box::pin(server);
    if let Poll::Ready(ended) =
        std::future::poll_fn(|cx| Poll::Ready(server.as_mut().poll(cx))).await
    {
        let source = ended
            .err()
            .unwrap_or_else(|| std::io::Error::other("the HTTP server ended as it started"));
        return Err(could_not_serve(source));
    }

    tracing::info!(%address, "listening");
    services.metrics.readiness.now_listening();
    on_listening(&Started {
        address,
        tls: services.config.tls.is_some(),
        demo_users,
    });
    start_read_model(&services)?;
    let served = server.await;

    // What the indexer gathered is written, and what the authority looked at is settled, first,
    // so that the barrier below holds them. A stop does not wait long for an index write.
    let indexed = indexer.send(index_documents::FlushBeforeStop);
    if tokio::time::timeout(INDEX_FLUSH_AT_STOP, indexed)
        .await
        .is_err()
    {
        tracing::warn!(
            "the indexes' last writes did not finish in time; the next start writes them"
        );
    }
    let _ = leader.send(cluster::Settle).await;
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
    indexer_thread.stop();
    leader.do_send(cluster::LeadershipChanged(
        itinera_core::store::Leadership::Following,
    ));
    // The writer thread ends by itself when the last handle goes; the barrier above already
    // made every acknowledged change durable. Threads still holding the store keep it from
    // being dropped, so it is closed here: a file left open is checked page by page (every
    // checksum) by the next start.
    // The final flush grew the file by a commit's copies: give them back, so that a stopped
    // server's file holds what it stores (as an idle one's does; see `store_writer`).
    if let Err(err) = services.store.reclaim_free_pages(QuietMoment::Stopping) {
        tracing::warn!(error = %err, "giving back the store file's free pages failed");
    }
    if let Err(err) = services.store.close_cleanly() {
        tracing::error!(error = %err, "the store did not close cleanly");
    }
    tracing::info!("stopped; the store is flushed");
    served.map_err(|source| Error::Io {
        context: "server error".into(),
        source,
    })
}

//! [`PgStore`]: the trait's methods over a pool of connections, each call's work run on the
//! store's runtime; opening checks the database and applies the migrations it lacks.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use itinera_core::DocumentId;
use itinera_core::store::{
    CompactionReport, DocumentChange, DocumentMeta, DocumentStore, Durability, LeadershipSink,
    NoticeSink, SharedStore, StoreError, StoreOperation, StoreResult, WriteBatch,
};
use tokio_postgres::{NoTls, Row};

use crate::batch_writer::{self, Announcer};
use crate::compaction::{self, SnapshotBuild, Swap};
use crate::error::PgError;
use crate::io_runtime::IoRuntime;
use crate::key_range::prefix_end;
use crate::meta_row::{document_id, meta_from_row};
use crate::migrations::{self, SchemaVersion};
use crate::settings::{self, Settings};
use crate::sql;
use crate::{leadership, listener};

/// Connections per store: one for the server's store writer, the rest for reads from the
/// worker threads, the authority and the HTTP API. Ten nodes stay well under PostgreSQL's
/// default of 100 connections.
const POOL_SIZE: usize = 8;
/// How long opening a connection may take before the caller gets an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a caller waits for a free connection before it gets an error.
const POOL_WAIT: Duration = Duration::from_secs(30);
/// How often [`DocumentStore::compact`] retries when the document was replaced (not merely
/// appended to) while its snapshot was being built.
const COMPACTION_ATTEMPTS: usize = 3;
/// The `application_name` the store's connections show in `pg_stat_activity`, unless the URL
/// names one.
const APPLICATION_NAME: &str = "itinera";

/// The document store on PostgreSQL: the same promises as
/// [`RedbStore`](itinera_core::store::RedbStore), in tables several server nodes can share.
///
/// Opening it connects, checks the database and applies the migrations the database lacks;
/// every call then borrows a connection from a small pool. Safe to share between threads:
/// reads run concurrently on their own connections, commits too, and PostgreSQL orders commits
/// that touch the same document by its row lock.
pub struct PgStore {
    pool: Pool,
    runtime: IoRuntime,
    settings: Settings,
    /// For the connections of its own the listener and the leadership take.
    config: tokio_postgres::Config,
    /// Where commits tell the other nodes what they wrote.
    announcer: Announcer,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pool's configuration holds the password.
        f.debug_struct("PgStore")
            .field("pool_size", &self.pool.status().max_size)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Opens the store in the database at `url`, a libpq connection URL
    /// (`postgres://user:password@host:port/database`, `?host=/run/postgresql` for a unix
    /// socket) or key=value string, in the first schema of the connection's `search_path`.
    pub fn open(url: &str) -> StoreResult<Self> {
        Self::connect(url, None)
    }

    /// Opens the store in `schema` of the database at `url`, creating the schema if missing:
    /// several stores (tenants, or tests running in parallel) in one database. The name is a
    /// plain lower-case identifier.
    pub fn open_in_schema(url: &str, schema: &str) -> StoreResult<Self> {
        if !migrations::is_plain_identifier(schema) {
            return Err(PgError::SchemaName(schema.to_owned()).during(StoreOperation::Open));
        }
        Self::connect(url, Some(schema))
    }

    /// Creates and migrates `schema` in the database at `url`, and returns the URL that keeps a
    /// store there: what `serve --store` takes for one of several stores in one database (a
    /// tenant, a test, a benchmark run).
    pub fn create_schema(url: &str, schema: &str) -> StoreResult<String> {
        drop(Self::open_in_schema(url, schema)?);
        let separator = if url.contains('?') { '&' } else { '?' };
        Ok(format!("{url}{separator}options=-csearch_path%3D{schema}"))
    }

    fn connect(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        let open = |error: PgError| error.during(StoreOperation::Open);
        let config = connection_config(url, schema).map_err(open)?;
        let pool = pool(config.clone()).map_err(open)?;
        let runtime = IoRuntime::new().map_err(open)?;
        let (settings, version, channel) = {
            let pool = pool.clone();
            let schema = schema.map(str::to_owned);
            runtime
                .run(async move {
                    let mut client = pool.get().await?;
                    // Settings first: a database that is not UTF-8 is refused before it is
                    // written to.
                    let settings = settings::read(&client).await?;
                    let version = migrations::migrate(&mut client, schema.as_deref()).await?;
                    let channel: String = client.query_one(sql::CHANNEL, &[]).await?.try_get(0)?;
                    Ok((settings, version, channel))
                })
                .map_err(open)?
        };
        if let SchemaVersion::Newer { found } = version {
            return Err(StoreError::UnsupportedLayout {
                found: u64::try_from(found).unwrap_or(0),
                supported: u64::try_from(migrations::latest()).unwrap_or(0),
            });
        }
        Ok(Self {
            pool,
            runtime,
            settings,
            config,
            announcer: Announcer {
                channel,
                node: node_name(),
            },
        })
    }

    /// This process's name among the nodes, in the notifications its commits send.
    pub fn node(&self) -> &str {
        &self.announcer.node
    }

    /// Runs `work` with a connection of the pool, on the store's runtime.
    pub(crate) fn with_client<T, F, W>(&self, operation: StoreOperation, work: W) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, PgError>> + Send + 'static,
        W: FnOnce(Object) -> F + Send + 'static,
    {
        let pool = self.pool.clone();
        self.runtime
            .run(async move { work(pool.get().await?).await })
            .map_err(|error| error.during(operation))
    }

    /// The rows of a read-only statement, prepared once per connection.
    fn rows(
        &self,
        operation: StoreOperation,
        statement: &'static str,
        params: Params,
    ) -> StoreResult<Vec<Row>> {
        self.with_client(operation, move |client| async move {
            let prepared = client.prepare_cached(statement).await?;
            let params = params.as_sql();
            Ok(client.query(&prepared, &params).await?)
        })
    }
}

/// The URL's connection settings, with the store's defaults where the URL says nothing, and
/// `schema` first on the search path.
fn connection_config(url: &str, schema: Option<&str>) -> Result<tokio_postgres::Config, PgError> {
    let mut config: tokio_postgres::Config = url.parse()?;
    if let Some(schema) = schema {
        // After any options of the URL, so that this one wins.
        let options = match config.get_options() {
            Some(given) => format!("{given} -c search_path={schema}"),
            None => format!("-c search_path={schema}"),
        };
        config.options(options);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    Ok(config)
}

/// The pool; it connects when a connection is first wanted.
fn pool(config: tokio_postgres::Config) -> Result<Pool, PgError> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(PgError::BuildPool)
}

/// The parameters of a read, owned so that they can move to the store's runtime.
enum Params {
    None,
    /// A document id's bytes.
    Document(Vec<u8>),
    DocumentAndText(Vec<u8>, String),
    Text(String),
    TwoTexts(String, String),
    TwoNumbers(i64, i64),
}

impl Params {
    fn as_sql(&self) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
        match self {
            Self::None => vec![],
            Self::Document(doc) => vec![doc],
            Self::DocumentAndText(doc, text) => vec![doc, text],
            Self::Text(text) => vec![text],
            Self::TwoTexts(first, second) => vec![first, second],
            Self::TwoNumbers(first, second) => vec![first, second],
        }
    }
}

impl DocumentStore for PgStore {
    fn commit(&self, batch: WriteBatch, durability: Durability) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let setting = match durability {
            Durability::Immediate => self.settings.immediate,
            Durability::Relaxed => Some(sql::SYNCHRONOUS_COMMIT_OFF),
        };
        let announcer = self.announcer.clone();
        self.with_client(StoreOperation::Commit, move |client| {
            batch_writer::commit(client, batch, setting, announcer)
        })
    }

    fn load(&self, doc: DocumentId) -> StoreResult<Option<Vec<u8>>> {
        let rows = self.rows(
            StoreOperation::Load,
            sql::LOAD,
            Params::Document(doc.as_bytes().to_vec()),
        )?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        for row in &rows {
            let chunk: &[u8] = row
                .try_get(0)
                .map_err(|error| PgError::Postgres(error).during(StoreOperation::Load))?;
            bytes.extend_from_slice(chunk);
        }
        Ok(Some(bytes))
    }

    fn meta(&self, doc: DocumentId) -> StoreResult<Option<DocumentMeta>> {
        let rows = self.rows(
            StoreOperation::ReadMeta,
            sql::META,
            Params::Document(doc.as_bytes().to_vec()),
        )?;
        rows.first()
            .map(|row| meta_from_row(doc, row, StoreOperation::ReadMeta))
            .transpose()
    }

    fn documents(&self) -> StoreResult<Vec<(DocumentId, DocumentMeta)>> {
        let operation = StoreOperation::ListDocuments;
        let rows = self.rows(operation, sql::DOCUMENTS, Params::None)?;
        rows.iter()
            .map(|row| {
                // The id follows the nine metadata columns.
                let doc = document_id(row, 9).map_err(|error| error.during(operation))?;
                Ok((doc, meta_from_row(doc, row, operation)?))
            })
            .collect()
    }

    fn compact(&self, doc: DocumentId) -> StoreResult<CompactionReport> {
        let operation = StoreOperation::Compact;
        for _ in 0..COMPACTION_ATTEMPTS {
            let folded = self
                .with_client(operation, move |client| compaction::read(client, doc))?
                .ok_or(StoreError::DocumentNotFound(doc))?;
            let pending = match compaction::build(doc, folded)? {
                SnapshotBuild::Built(pending) => pending,
                SnapshotBuild::AlreadyCompact(report) => return Ok(report),
            };
            // A compaction is durable whatever the commits around it are.
            let setting = self.settings.immediate;
            let swap = self.with_client(operation, move |client| {
                compaction::swap_in(client, doc, pending, setting)
            })?;
            if let Swap::Done(report) = swap {
                return Ok(report);
            }
        }
        Err(StoreError::CompactionConflict { doc })
    }

    fn shared(&self) -> Option<&dyn SharedStore> {
        Some(self)
    }

    fn changes_since(&self, after: u64, limit: usize) -> StoreResult<Vec<DocumentChange>> {
        let operation = StoreOperation::ListChanges;
        let params = Params::TwoNumbers(
            i64::try_from(after).unwrap_or(i64::MAX),
            i64::try_from(limit).unwrap_or(i64::MAX),
        );
        let rows = self.rows(operation, sql::CHANGES_SINCE, params)?;
        rows.iter()
            .map(|row| {
                // The id and the sequence number follow the nine metadata columns.
                let document = document_id(row, 9).map_err(|error| error.during(operation))?;
                let sequence: i64 = row
                    .try_get(10)
                    .map_err(|error| PgError::Postgres(error).during(operation))?;
                Ok(DocumentChange {
                    sequence: u64::try_from(sequence).unwrap_or(0),
                    document,
                    meta: meta_from_row(document, row, operation)?,
                })
            })
            .collect()
    }

    fn sync_state(&self, doc: DocumentId, storage_id: &str) -> StoreResult<Option<Vec<u8>>> {
        let params = Params::DocumentAndText(doc.as_bytes().to_vec(), storage_id.to_owned());
        let operation = StoreOperation::ReadSyncState;
        let rows = self.rows(operation, sql::SYNC_STATE, params)?;
        first_bytes(&rows, operation)
    }

    fn value(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let operation = StoreOperation::ReadValue;
        let rows = self.rows(operation, sql::VALUE, Params::Text(key.to_owned()))?;
        first_bytes(&rows, operation)
    }

    fn values_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let operation = StoreOperation::ListValues;
        let rows = match prefix_end(prefix) {
            Some(end) => self.rows(
                operation,
                sql::VALUES_BETWEEN,
                Params::TwoTexts(prefix.to_owned(), end),
            )?,
            None => self.rows(operation, sql::VALUES_FROM, Params::Text(prefix.to_owned()))?,
        };
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(|error| PgError::Postgres(error).during(operation))
    }
}

impl SharedStore for PgStore {
    fn listen(&self, sink: NoticeSink) -> StoreResult<()> {
        let (config, channel) = (self.config.clone(), self.announcer.channel.clone());
        let listening = self
            .runtime
            .run(async move { listener::listen(&config, &channel).await })
            .map_err(|error| error.during(StoreOperation::Open))?;
        self.runtime.spawn(listener::hear_forever(
            self.config.clone(),
            self.announcer.channel.clone(),
            self.announcer.node.clone(),
            listening,
            sink,
        ));
        Ok(())
    }

    fn campaign(&self, sink: LeadershipSink) -> StoreResult<()> {
        self.runtime
            .spawn(leadership::campaign_forever(self.config.clone(), sink));
        Ok(())
    }
}

/// A name for this process no other node takes: the host's process id and the time, hashed
/// with the standard library's random keys.
fn node_name() -> String {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    std::process::id().hash(&mut hasher);
    std::time::SystemTime::now().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The bytes in the first column of the first row, if there is a row.
fn first_bytes(rows: &[Row], operation: StoreOperation) -> StoreResult<Option<Vec<u8>>> {
    rows.first()
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(|error| PgError::Postgres(error).during(operation))
}

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use itinera_core::store::Durability;

use crate::clock::{Clock, SystemClock};

/// The store's page cache by default, in MiB ([`ServerConfig::store_cache_bytes`]).
pub const DEFAULT_STORE_CACHE_MB: usize = 64;

/// Everything the server needs to run, with the defaults of `itinera-server serve`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The peer id the server announces in `peer` messages.
    pub peer_id: String,
    /// Where the redb file lives.
    pub data_dir: PathBuf,
    /// Which store holds the documents: the redb file in `data_dir`, or PostgreSQL.
    pub store: StoreLocation,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The largest WebSocket frame accepted; a first sync of a large document can be MiBs.
    pub max_frame_bytes: usize,
    /// Bytes queued for one slow client before it is disconnected instead of growing memory.
    pub max_outgoing_bytes: usize,
    /// How often the server pings each client.
    pub ping_interval: Duration,
    /// A client silent (no frame, no pong) for this long is disconnected.
    pub client_timeout: Duration,
    /// A document no peer has touched for this long is unloaded from memory.
    pub idle_unload: Duration,
    /// Whether commits wait for fsync. Relaxed is for benchmarks against peers that do not fsync.
    pub durability: Durability,
    /// The most document writes folded into one store transaction.
    pub max_batch: usize,
    /// HTTP worker threads.
    pub workers: usize,
    /// The most bytes of the store's pages kept in memory (redb's cache; the operating
    /// system's page cache holds the file besides). Under redb's own default, 1 GiB, the cache
    /// grows toward the file's size with the pages the start-up scans read: 98 MB of a 174 MB
    /// store of 100,000 accounts, against 67 MB under this default.
    pub store_cache_bytes: usize,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The certificate and key to serve TLS with; `None` serves plain HTTP (behind a reverse
    /// proxy that terminates TLS, or on loopback).
    pub tls: Option<crate::tls::TlsFiles>,
    /// Seed the demo company into an empty data folder at start (`serve --demo`).
    pub seed_demo: bool,
    /// The most documents one connection may have open at once.
    pub max_documents_per_session: usize,
    /// The most messages one connection may send per second (a burst of ten seconds' worth is
    /// allowed: a first sync asks for thousands of documents at once); a client over it is
    /// disconnected with an error.
    pub max_messages_per_second: u32,
    /// The largest REST request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a document's title must stay unchanged before a new one is written again into
    /// the users' indexes (the latest title waits until then).
    pub index_title_quiet: Duration,
    /// The most WebSocket connections one user may hold open at once (phones, tablets, browser
    /// tabs); one more is answered 429.
    pub max_sessions_per_user: usize,
    /// Whether a reverse proxy stands in front: a client's address (for the login limits) is
    /// then the last one in `X-Forwarded-For`, the one the proxy appended.
    pub behind_proxy: bool,
    /// How the authority keeps the company's books and lists.
    pub company: CompanySettings,
}

/// The company's conventions the authority decides by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanySettings {
    /// The IANA time zone the company keeps its books in (`Europe/Budapest`): an invoice's
    /// legal year and a journal period follow the day there.
    pub time_zone: String,
    /// The invoice number series the company uses (`A`, `CN` for credit notes…); an invoice
    /// posted in another series gets no legal number and an alert.
    pub invoice_series: Vec<String>,
    /// The ISO 3166 region a phone number written without a country code is read in (`HU`).
    pub phone_region: String,
    /// An issue or payment date more than this many days before the server receives it needs
    /// office's approval before it is numbered or booked.
    pub backdate_limit_days: i64,
}

impl Default for CompanySettings {
    fn default() -> Self {
        Self {
            time_zone: "Europe/Budapest".into(),
            invoice_series: vec![String::new(), "A".into(), "B".into(), "CN".into()],
            phone_region: "HU".into(),
            backdate_limit_days: 60,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            peer_id: "itinera-server".into(),
            data_dir: PathBuf::from("./itinera-data"),
            store: StoreLocation::DataFolder,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_frame_bytes: 32 * 1024 * 1024,
            max_outgoing_bytes: 64 * 1024 * 1024,
            ping_interval: Duration::from_secs(5),
            client_timeout: Duration::from_secs(30),
            idle_unload: Duration::from_secs(60),
            durability: Durability::Immediate,
            max_batch: 512,
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            store_cache_bytes: DEFAULT_STORE_CACHE_MB * 1024 * 1024,
            clock: Arc::new(SystemClock),
            tls: None,
            seed_demo: false,
            max_documents_per_session: 20_000,
            max_messages_per_second: 5_000,
            max_body_bytes: 1024 * 1024,
            max_sessions_per_user: 32,
            index_title_quiet: Duration::from_secs(60),
            behind_proxy: false,
            company: CompanySettings::default(),
        }
    }
}

impl ServerConfig {
    /// The redb file inside the data folder.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("itinera.redb")
    }
}

/// Which store holds the documents, users and tokens.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded redb file in the data folder.
    #[default]
    DataFolder,
    /// A PostgreSQL database, by its connection URL (`postgres://user@host:port/database`),
    /// which several nodes may share.
    Postgres(String),
}

impl StoreLocation {
    /// What `--store` takes: a `postgres://` or `postgresql://` URL.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Self::Postgres(text.to_owned()))
        } else {
            Err(format!(
                "{:?} is not a store: give a postgres:// URL, or leave --store out for the redb \
                 file in the data folder",
                without_secrets(text)
            ))
        }
    }
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DataFolder => f.write_str("DataFolder"),
            Self::Postgres(url) => f
                .debug_tuple("Postgres")
                .field(&without_secrets(url))
                .finish(),
        }
    }
}

/// The URL without its user, password and query, which may hold secrets: what a log or a
/// message may show.
fn without_secrets(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split('?').next().unwrap_or_default();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_a_postgres_url_and_its_secrets_stay_out_of_messages() {
        let url = "postgres://ana:s3cret@db.internal:5432/itinera?password=other";
        let store = StoreLocation::parse(url).expect("a postgres URL");
        assert_eq!(store, StoreLocation::Postgres(url.to_owned()));
        let shown = format!("{store:?}");
        assert_eq!(shown, r#"Postgres("postgres://db.internal:5432/itinera")"#);
        assert!(StoreLocation::parse("postgresql:///itinera?host=/run/postgresql").is_ok());
        let error = StoreLocation::parse("mysql://root:pw@db/x").expect_err("refused");
        assert!(
            error.contains("not a store") && !error.contains("pw"),
            "{error}"
        );
        assert!(StoreLocation::parse("./itinera.redb").is_err());
    }
}

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use itinera_core::store::Durability;

use crate::clock::{Clock, SystemClock};

/// Everything the server needs to run, with the defaults of `itinera-server serve`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The peer id the server announces in `peer` messages.
    pub peer_id: String,
    /// Where the redb file lives.
    pub data_dir: PathBuf,
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
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Seed the demo company into an empty data folder at start (`serve --demo`).
    pub seed_demo: bool,
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
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_frame_bytes: 32 * 1024 * 1024,
            max_outgoing_bytes: 64 * 1024 * 1024,
            ping_interval: Duration::from_secs(5),
            client_timeout: Duration::from_secs(30),
            idle_unload: Duration::from_secs(60),
            durability: Durability::Immediate,
            max_batch: 512,
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            clock: Arc::new(SystemClock),
            seed_demo: false,
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

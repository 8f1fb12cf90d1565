//! The server's figures for `/metrics`, in the OpenMetrics text format Prometheus scrapes.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: it follows the naming
//! rules (counters end in `_total`, units are suffixes) and the exposition format, so nothing
//! here writes metric text by hand. Hot counters stay plain atomics that actors bump without a
//! lock; they are read into constant metrics at each scrape, with the labelled families, the
//! histograms and the process figures beside them.
//!
//! ```
//! use itinera_server::metrics::Metrics;
//!
//! let metrics = Metrics::default();
//! metrics.reject("bad_frame");
//! metrics.commit(3, 1_500, true);
//! let text = metrics.render();
//! assert!(text.contains("itinera_rejected_messages_total{reason=\"bad_frame\"} 1"));
//! assert!(text.contains("itinera_store_commit_duration_seconds_count 1"));
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::process_metrics::ProcessCollector;
use crate::readiness::Readiness;

/// Bounds, in seconds, of the store commit histogram: 100 µs to about 6.5 s.
fn commit_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.000_1, 3.0, 11)
}

/// Bounds, in seconds, of the HTTP request histogram: 1 ms to about 16 s.
fn request_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.001, 4.0, 8)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// One HTTP route: the method and the route's template (`/api/v1/documents/{id}`), never the
/// path itself, so that the number of series stays bounded.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResponseLabels {
    method: String,
    route: String,
    status: u16,
}

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

/// The server's figures. Cheap to update from any thread.
#[derive(Debug)]
pub struct Metrics {
    pub connections: AtomicU64,
    pub connections_total: AtomicU64,
    pub open_documents: AtomicU64,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub slow_clients_disconnected: AtomicU64,
    pub commits: AtomicU64,
    pub commit_failures: AtomicU64,
    pub commit_micros_sum: AtomicU64,
    pub batch_writes_sum: AtomicU64,
    rejected: Family<ReasonLabel, Counter>,
    commit_seconds: Histogram,
    http_requests: Family<ResponseLabels, Counter>,
    http_seconds: HistogramFamily<RouteLabels>,
    /// The changes the authority has still to look at: `itinera_authority_lag_seconds`.
    pub authority_backlog: AuthorityBacklog,
    store_bytes: Gauge,
    disk_free_bytes: Gauge,
    /// Whether the server can take traffic (`/readyz`); commits report to it.
    pub readiness: Readiness,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            connections: AtomicU64::new(0),
            connections_total: AtomicU64::new(0),
            open_documents: AtomicU64::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            slow_clients_disconnected: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            commit_failures: AtomicU64::new(0),
            commit_micros_sum: AtomicU64::new(0),
            batch_writes_sum: AtomicU64::new(0),
            rejected: Family::default(),
            commit_seconds: Histogram::new(commit_buckets()),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(|| Histogram::new(request_buckets())),
            authority_backlog: AuthorityBacklog::default(),
            store_bytes: Gauge::default(),
            disk_free_bytes: Gauge::default(),
            readiness: Readiness::default(),
        }
    }
}

impl Metrics {
    /// Counts a message refused, by reason (`read_only`, `rejected`, `bad_frame`, …).
    pub fn reject(&self, reason: &'static str) {
        self.rejected.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// Records one store commit of `writes` batched writes that took `micros`. A failed commit
    /// makes the server unready until a commit succeeds again.
    pub fn commit(&self, writes: usize, micros: u64, ok: bool) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.commit_failures.fetch_add(1, Ordering::Relaxed);
        }
        self.commit_micros_sum.fetch_add(micros, Ordering::Relaxed);
        self.batch_writes_sum
            .fetch_add(writes as u64, Ordering::Relaxed);
        self.commit_seconds.observe(micros as f64 / 1e6);
        self.readiness.commit_finished(ok);
    }

    /// Messages refused with `reason` so far.
    pub fn rejected(&self, reason: &'static str) -> u64 {
        self.rejected
            .get(&ReasonLabel { reason })
            .map_or(0, |counter| counter.get())
    }

    /// Records one answered HTTP request. `route` is the matched route's template.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.http_seconds
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.http_requests
            .get_or_create(&ResponseLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Reads the store file's size and the free space of its file system, for the next scrape.
    pub fn observe_store(&self, store_file: &Path) {
        if let Ok(metadata) = std::fs::metadata(store_file) {
            self.store_bytes
                .set(i64::try_from(metadata.len()).unwrap_or(i64::MAX));
        }
        if let Some(free) = store_file.parent().and_then(crate::readiness::free_bytes) {
            self.disk_free_bytes
                .set(i64::try_from(free).unwrap_or(i64::MAX));
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ProcessCollector));
        self.register(registry.sub_registry_with_prefix("itinera"));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    fn register(&self, registry: &mut Registry) {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let gauge =
            |counter: &AtomicU64| ConstGauge::new(i64::try_from(get(counter)).unwrap_or(i64::MAX));
        registry.register(
            "build",
            "The running build.",
            Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION").to_owned()),
                ("store_layout", itinera_core::store::LAYOUT.to_string()),
            ]),
        );
        registry.register(
            "connections",
            "Open WebSocket connections.",
            gauge(&self.connections),
        );
        let counters = [
            (
                "connections_accepted",
                "WebSocket connections accepted.",
                &self.connections_total,
            ),
            (
                "messages_in",
                "Protocol messages received.",
                &self.messages_in,
            ),
            (
                "messages_out",
                "Protocol messages sent.",
                &self.messages_out,
            ),
            (
                "bytes_in",
                "WebSocket payload bytes received.",
                &self.bytes_in,
            ),
            (
                "bytes_out",
                "WebSocket payload bytes sent.",
                &self.bytes_out,
            ),
            (
                "slow_clients_disconnected",
                "Clients disconnected because their outgoing queue overflowed.",
                &self.slow_clients_disconnected,
            ),
            (
                "store_commit_failures",
                "Store commits that failed.",
                &self.commit_failures,
            ),
            (
                "store_batch_writes",
                "Writes folded into store commits.",
                &self.batch_writes_sum,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, ConstCounter::new(get(counter)));
        }
        registry.register(
            "open_documents",
            "Documents loaded in memory.",
            gauge(&self.open_documents),
        );
        registry.register(
            "rejected_messages",
            "Messages refused, by reason.",
            self.rejected.clone(),
        );
        registry.register_with_unit(
            "store_commit_duration",
            "Store commit latency (a group commit of many documents).",
            Unit::Seconds,
            self.commit_seconds.clone(),
        );
        self.register_server(registry);
    }

    fn register_server(&self, registry: &mut Registry) {
        registry.register_with_unit(
            "store_size",
            "Size of the store file.",
            Unit::Bytes,
            self.store_bytes.clone(),
        );
        registry.register_with_unit(
            "store_disk_free",
            "Free space of the file system holding the store.",
            Unit::Bytes,
            self.disk_free_bytes.clone(),
        );
        registry.register(
            "store_writable",
            "1 while the store commits, 0 after a failed commit until one succeeds.",
            ConstGauge::new(i64::from(self.readiness.store_writable())),
        );
        registry.register_with_unit(
            "authority_lag",
            "How long the oldest change the authority has not looked at yet has waited.",
            Unit::Seconds,
            ConstGauge::new(self.authority_backlog.lag().as_secs_f64()),
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status.",
            self.http_requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "HTTP request latency, by method and route template.",
            Unit::Seconds,
            self.http_seconds.clone(),
        );
    }
}

/// The changes the authority has still to look at, while this node leads: each is added as it
/// is committed (by its outbox key) and taken out once the authority has looked at it. The
/// lag is how long the oldest has waited; 0 with none waiting, and on a node that does not
/// lead (its changes wait for another node's authority, which reports them).
#[derive(Debug, Default)]
pub struct AuthorityBacklog {
    /// `None` while this node does not lead.
    waiting: Mutex<Option<HashMap<String, Instant>>>,
}

impl AuthorityBacklog {
    fn waiting(&self) -> std::sync::MutexGuard<'_, Option<HashMap<String, Instant>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This node leads: count the changes committed from now on.
    pub fn open(&self) {
        *self.waiting() = Some(HashMap::new());
    }

    /// This node no longer leads: forget what was waiting.
    pub fn close(&self) {
        *self.waiting() = None;
    }

    /// The change of outbox entry `key`, committed `waited` ago, waits for the authority.
    pub fn add(&self, key: &str, waited: Duration) {
        if let Some(waiting) = self.waiting().as_mut() {
            let since = Instant::now()
                .checked_sub(waited)
                .unwrap_or_else(Instant::now);
            waiting.entry(key.to_owned()).or_insert(since);
        }
    }

    /// The authority has looked at the change of outbox entry `key`.
    pub fn looked_at(&self, key: &str) {
        if let Some(waiting) = self.waiting().as_mut() {
            waiting.remove(key);
        }
    }

    /// How long the oldest change waiting has waited.
    pub fn lag(&self) -> Duration {
        self.waiting()
            .as_ref()
            .and_then(|waiting| waiting.values().min().map(Instant::elapsed))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample `name` (labels included) in `text`.
    #[test]
    fn the_authority_lag_is_the_wait_of_the_oldest_change_not_looked_at_on_a_leading_node() {
        let backlog = AuthorityBacklog::default();
        backlog.add("outbox:a", Duration::from_secs(60));
        assert_eq!(backlog.lag(), Duration::ZERO, "a node that does not lead");
        backlog.open();
        assert_eq!(backlog.lag(), Duration::ZERO, "nothing waiting");
        backlog.add("outbox:old", Duration::from_secs(600));
        backlog.add("outbox:new", Duration::from_secs(5));
        assert!(backlog.lag() >= Duration::from_secs(600));
        // Added again (a commit heard twice), it keeps its first time.
        backlog.add("outbox:old", Duration::ZERO);
        assert!(backlog.lag() >= Duration::from_secs(600));
        backlog.looked_at("outbox:old");
        let lag = backlog.lag();
        assert!(
            lag >= Duration::from_secs(5) && lag < Duration::from_secs(600),
            "{lag:?}"
        );
        backlog.looked_at("outbox:new");
        assert_eq!(backlog.lag(), Duration::ZERO);
        backlog.add("outbox:later", Duration::from_secs(30));
        backlog.close();
        assert_eq!(backlog.lag(), Duration::ZERO, "no longer leading");
    }

    fn sample(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .find(|line| line.rsplit_once(' ').is_some_and(|(left, _)| left == name))
            .and_then(|line| line.rsplit_once(' ')?.1.parse().ok())
    }

    #[test]
    fn the_names_follow_the_prometheus_conventions() {
        let metrics = Metrics::default();
        metrics.connections.fetch_add(2, Ordering::Relaxed);
        metrics.bytes_out.fetch_add(10, Ordering::Relaxed);
        metrics.commit(4, 2_000, false);
        metrics.http_request(
            "GET",
            "/api/v1/documents/{id}",
            200,
            Duration::from_millis(3),
        );
        metrics.authority_backlog.open();
        metrics
            .authority_backlog
            .add("outbox:a", Duration::from_millis(1_500));
        let text = metrics.render();

        assert_eq!(sample(&text, "itinera_connections"), Some(2.0));
        assert_eq!(sample(&text, "itinera_bytes_out_total"), Some(10.0));
        assert_eq!(
            sample(&text, "itinera_store_commit_failures_total"),
            Some(1.0)
        );
        assert_eq!(sample(&text, "itinera_store_writable"), Some(0.0));
        let lag = sample(&text, "itinera_authority_lag_seconds").unwrap_or_default();
        assert!(lag >= 1.5, "{lag}");
        assert_eq!(
            sample(
                &text,
                "itinera_http_requests_total{method=\"GET\",route=\"/api/v1/documents/{id}\",status=\"200\"}"
            ),
            Some(1.0)
        );
        assert!(text.contains("itinera_build_info{version=\""), "{text}");
        assert!(text.contains("# TYPE itinera_http_request_duration_seconds histogram"));
        assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|bytes| bytes > 0.0));
        assert!(sample(&text, "process_open_fds").is_some_and(|fds| fds > 0.0));
        assert!(text.trim_end().ends_with("# EOF"));
        // Every counter sample ends in _total; no family is declared twice.
        let mut families: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .collect();
        let declared = families.len();
        families.sort_unstable();
        families.dedup();
        assert_eq!(families.len(), declared, "{text}");
        for family in families {
            if let Some(name) = family.strip_suffix(" counter") {
                assert!(
                    text.lines()
                        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
                        .all(|line| line.starts_with(&format!("{name}_total"))),
                    "{name}"
                );
            }
        }
    }
}

//! Counters for `/metrics`, in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds, in microseconds, of the store commit latency histogram.
const COMMIT_BUCKETS_US: [u64; 10] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000,
];

/// The server's counters. Cheap to update from any thread.
#[derive(Debug, Default)]
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
    commit_buckets: [AtomicU64; COMMIT_BUCKETS_US.len()],
    pub batch_writes_sum: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Counts a message refused, by reason (`read_only`, `rejected`, `bad_frame`, …).
    pub fn reject(&self, reason: &'static str) {
        if let Ok(mut rejected) = self.rejected.lock() {
            *rejected.entry(reason).or_default() += 1;
        }
    }

    /// Records one store commit of `writes` batched writes that took `micros`.
    pub fn commit(&self, writes: usize, micros: u64, ok: bool) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.commit_failures.fetch_add(1, Ordering::Relaxed);
        }
        self.commit_micros_sum.fetch_add(micros, Ordering::Relaxed);
        self.batch_writes_sum
            .fetch_add(writes as u64, Ordering::Relaxed);
        for (bound, bucket) in COMMIT_BUCKETS_US.iter().zip(&self.commit_buckets) {
            if micros <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Messages refused with `reason` so far.
    pub fn rejected(&self, reason: &str) -> u64 {
        self.rejected
            .lock()
            .map_or(0, |rejected| rejected.get(reason).copied().unwrap_or(0))
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "itinera_connections",
            "gauge",
            "Open WebSocket connections.",
            get(&self.connections),
        );
        metric(
            "itinera_connections_total",
            "counter",
            "WebSocket connections accepted.",
            get(&self.connections_total),
        );
        metric(
            "itinera_open_documents",
            "gauge",
            "Documents loaded in memory.",
            get(&self.open_documents),
        );
        metric(
            "itinera_messages_in_total",
            "counter",
            "Protocol messages received.",
            get(&self.messages_in),
        );
        metric(
            "itinera_messages_out_total",
            "counter",
            "Protocol messages sent.",
            get(&self.messages_out),
        );
        metric(
            "itinera_bytes_in_total",
            "counter",
            "WebSocket payload bytes received.",
            get(&self.bytes_in),
        );
        metric(
            "itinera_bytes_out_total",
            "counter",
            "WebSocket payload bytes sent.",
            get(&self.bytes_out),
        );
        metric(
            "itinera_slow_clients_disconnected_total",
            "counter",
            "Clients disconnected because their outgoing queue overflowed.",
            get(&self.slow_clients_disconnected),
        );
        metric(
            "itinera_store_commit_failures_total",
            "counter",
            "Store commits that failed.",
            get(&self.commit_failures),
        );
        metric(
            "itinera_store_batch_writes_total",
            "counter",
            "Writes folded into store commits.",
            get(&self.batch_writes_sum),
        );
        let _ = writeln!(
            out,
            "# HELP itinera_rejected_messages_total Messages refused, by reason."
        );
        let _ = writeln!(out, "# TYPE itinera_rejected_messages_total counter");
        if let Ok(rejected) = self.rejected.lock() {
            for (reason, count) in rejected.iter() {
                let _ = writeln!(
                    out,
                    "itinera_rejected_messages_total{{reason=\"{reason}\"}} {count}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP itinera_store_commit_seconds Store commit latency (group commit of many documents)."
        );
        let _ = writeln!(out, "# TYPE itinera_store_commit_seconds histogram");
        for (bound, bucket) in COMMIT_BUCKETS_US.iter().zip(&self.commit_buckets) {
            let _ = writeln!(
                out,
                "itinera_store_commit_seconds_bucket{{le=\"{}\"}} {}",
                *bound as f64 / 1e6,
                get(bucket)
            );
        }
        let commits = get(&self.commits);
        let _ = writeln!(
            out,
            "itinera_store_commit_seconds_bucket{{le=\"+Inf\"}} {commits}"
        );
        let _ = writeln!(
            out,
            "itinera_store_commit_seconds_sum {}",
            get(&self.commit_micros_sum) as f64 / 1e6
        );
        let _ = writeln!(out, "itinera_store_commit_seconds_count {commits}");
        out
    }
}

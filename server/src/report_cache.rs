//! Head office's reports, kept once computed: a report is computed from a snapshot of the read
//! model ([`ReadModel::report_input`](crate::read_model::ReadModel::report_input)), which stays the
//! same until a document of a kind the report reads changes; until then, and for at most
//! [`FRESH_MS`] (reports that count days, such as ageing, move with the clock), every request for
//! the same report gets the same answer, serialized once.
//!
//! A change does not wait for the next request: [`ReportCache::refresh`] computes again, on a
//! thread of its own ([`spawn_refresher`]), the reports someone asked for whose input changed, a
//! moment after changes stop arriving ([`REFRESH_AFTER`]) or every [`REFRESH_AT_LEAST`] while
//! they keep coming, so an open dashboard gets its next figures kept, not computed.
//!
//! ```
//! use std::sync::Arc;
//! use itinera_server::report_cache::ReportCache;
//!
//! let cache = ReportCache::default();
//! let input = Arc::new(Vec::new());
//! let compute = || Ok::<_, ()>(serde_json::json!({ "open": 1 }));
//! let first = cache.get_or_compute("pipeline", 0, &input, 1_000, compute).unwrap();
//! let again = cache
//!     .get_or_compute("pipeline", 0, &input, 2_000, || Err(()))
//!     .unwrap();
//! assert!(Arc::ptr_eq(&first, &again));
//! ```

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use actix_web::web::Bytes;
use serde_json::Value as Json;

use crate::read_model::{ReadModel, ReportInput};

/// How long a kept report answers while its input stays the same (unix ms).
pub const FRESH_MS: i64 = 60_000;

/// The most reports kept (names × options); past it, the cache starts over.
const MOST_KEPT: usize = 64;

/// One computed report: its value (for CSV tables) and its JSON body.
#[derive(Debug)]
pub struct ComputedReport {
    pub value: Json,
    pub body: Bytes,
}

#[derive(Debug)]
struct Kept {
    /// The snapshot it was computed from, not kept alive by the cache once the read model
    /// moved on.
    input: Weak<Vec<(itinera_core::DocumentId, itinera_core::reports::Summary)>>,
    computed_at: i64,
    report: Arc<ComputedReport>,
}

/// Reports by name and options, each with the input it was computed from.
#[derive(Debug, Default)]
pub struct ReportCache {
    kept: Mutex<HashMap<(String, i64), Kept>>,
}

impl ReportCache {
    /// The report `name` with option `option` over `input` at `now`: the kept one if it was
    /// computed from this very input less than [`FRESH_MS`] ago, else `compute`'s, kept.
    pub fn get_or_compute<E>(
        &self,
        name: &str,
        option: i64,
        input: &ReportInput,
        now: i64,
        compute: impl FnOnce() -> Result<Json, E>,
    ) -> Result<Arc<ComputedReport>, E> {
        let key = (name.to_owned(), option);
        if let Some(kept) = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            let fresh = (now - kept.computed_at).abs() < FRESH_MS;
            let same = kept
                .input
                .upgrade()
                .is_some_and(|kept| Arc::ptr_eq(&kept, input));
            if fresh && same {
                return Ok(kept.report.clone());
            }
        }
        let value = compute()?;
        let body = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let report = Arc::new(ComputedReport { value, body });
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= MOST_KEPT && !kept.contains_key(&key) {
            kept.clear();
        }
        kept.insert(
            key,
            Kept {
                input: Arc::downgrade(input),
                computed_at: now,
                report: report.clone(),
            },
        );
        Ok(report)
    }
}

/// How long the refresher waits for changes to stop before it computes again.
pub const REFRESH_AFTER: Duration = Duration::from_millis(300);

/// How stale a refreshed report gets at most while changes keep arriving: a computation of the
/// largest reports over 100,000 records takes a tenth of a second or more, so not more often.
pub const REFRESH_AT_LEAST: Duration = Duration::from_secs(2);

/// Why a report could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no report named {0:?}")]
    Unknown(String),
    #[error("the report could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Report `name` over `summaries` at `now` (`guide_cost`: a guide's hour in minor units, for the
/// revenue report's margins).
pub fn compute(
    name: &str,
    summaries: &[(itinera_core::DocumentId, itinera_core::reports::Summary)],
    now: i64,
    guide_cost: i64,
) -> Result<Json, ReportError> {
    use itinera_core::reports;
    Ok(match name {
        "pipeline" => serde_json::to_value(reports::pipeline(summaries, now))?,
        "conversion" => serde_json::to_value(reports::conversion(summaries))?,
        "revenue" => serde_json::to_value(reports::revenue(summaries, guide_cost))?,
        "stock" => serde_json::to_value(reports::stock(summaries, now))?,
        "guides" => serde_json::to_value(reports::guides(summaries))?,
        "invoices" => serde_json::to_value(reports::invoices(summaries, now))?,
        "trial-balance" => serde_json::to_value(reports::trial_balance(summaries))?,
        "customers" => serde_json::to_value(reports::customers(summaries))?,
        other => return Err(ReportError::Unknown(other.to_owned())),
    })
}

impl ReportCache {
    /// Computes again every kept report whose input the read model has moved on from.
    pub fn refresh(&self, read_model: &ReadModel, now: i64) {
        let keys: Vec<(String, i64)> = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        for (name, option) in keys {
            let Some(kinds) = itinera_core::reports::kinds_read(&name) else {
                continue;
            };
            let input = read_model.report_input(kinds);
            let computed = self.get_or_compute(&name, option, &input, now, || {
                compute(&name, input.as_slice(), now, option)
            });
            if let Err(err) = computed {
                tracing::warn!(report = %name, error = %err, "report not refreshed");
            }
        }
    }
}

/// Starts the thread that refreshes the kept reports after changes; `changed` is to be told of
/// every committed change of a document's content. The thread ends when the sender is dropped.
pub fn spawn_refresher(
    cache: Arc<ReportCache>,
    read_model: Arc<ReadModel>,
    now: impl Fn() -> i64 + Send + 'static,
) -> std::io::Result<mpsc::Sender<()>> {
    let (changed, changes) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("itinera-reports".into())
        .spawn(move || {
            while changes.recv().is_ok() {
                // Changes come in bursts: wait for a pause, then compute once; under a steady
                // stream, compute at least every REFRESH_AT_LEAST.
                let first = std::time::Instant::now();
                loop {
                    let left = REFRESH_AT_LEAST.saturating_sub(first.elapsed());
                    match changes.recv_timeout(REFRESH_AFTER.min(left)) {
                        Ok(()) if !left.is_zero() => continue,
                        Ok(()) | Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                cache.refresh(&read_model, now());
            }
        })?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(n: u64) -> impl FnOnce() -> Result<Json, ()> {
        move || Ok(serde_json::json!({ "n": n }))
    }

    #[test]
    fn a_report_is_computed_again_when_its_input_changes_or_it_grows_old() {
        let cache = ReportCache::default();
        let input: ReportInput = Arc::new(Vec::new());
        let first = cache
            .get_or_compute("stock", 0, &input, 0, value_of(1))
            .expect("computed");
        assert_eq!(first.body.as_ref(), br#"{"n":1}"#);
        let kept = cache
            .get_or_compute("stock", 0, &input, FRESH_MS - 1, value_of(2))
            .expect("kept");
        assert_eq!(kept.value["n"], 1);
        // Another option is another report.
        let other = cache
            .get_or_compute("stock", 7, &input, 1, value_of(3))
            .expect("computed");
        assert_eq!(other.value["n"], 3);
        // A new snapshot (a document of its kinds changed).
        let changed: ReportInput = Arc::new(Vec::new());
        let again = cache
            .get_or_compute("stock", 0, &changed, 2, value_of(4))
            .expect("computed");
        assert_eq!(again.value["n"], 4);
        let old = cache
            .get_or_compute("stock", 0, &changed, 2 + FRESH_MS, value_of(5))
            .expect("computed");
        assert_eq!(old.value["n"], 5);
    }

    #[test]
    fn a_refresh_computes_again_what_was_asked_for_once_its_input_changed() {
        use itinera_core::DocumentId;
        use itinera_core::model::{LeadStatus, TicketPriority, TicketStatus};
        use itinera_core::reports::{LeadSummary, Summary, TicketSummary};
        let model = ReadModel::default();
        let cache = ReportCache::default();
        let customers = |model: &ReadModel| {
            let input =
                model.report_input(itinera_core::reports::kinds_read("customers").expect("known"));
            cache
                .get_or_compute("customers", 0, &input, 0, || {
                    compute("customers", &input, 0, 0)
                })
                .expect("computed")
        };
        let before = customers(&model);
        // Something the report does not read changes: nothing to do.
        model.insert(
            DocumentId::from_bytes([1; 16]),
            Summary::Lead(LeadSummary {
                source: "fair".into(),
                campaign: None,
                status: LeadStatus::New,
                owner: "sam".into(),
                converted_to: None,
            }),
        );
        cache.refresh(&model, 1);
        assert!(Arc::ptr_eq(&before, &customers(&model)));
        // A ticket (which the customers report counts) changes: the refresh computes it again,
        // and the next request gets the new figures as kept.
        model.insert(
            DocumentId::from_bytes([2; 16]),
            Summary::Ticket(TicketSummary {
                status: TicketStatus::Open,
                priority: TicketPriority::Normal,
                account: String::new(),
                opened_at: Some(1),
                resolved_at: None,
            }),
        );
        cache.refresh(&model, 2);
        let kept = cache
            .kept
            .lock()
            .expect("lock")
            .get(&("customers".to_owned(), 0))
            .map(|kept| kept.report.clone())
            .expect("kept");
        assert!(!Arc::ptr_eq(&before, &kept));
        assert_ne!(before.value, kept.value);
        assert!(Arc::ptr_eq(&kept, &customers(&model)));
    }

    #[test]
    fn a_failed_computation_keeps_nothing() {
        let cache = ReportCache::default();
        let input: ReportInput = Arc::new(Vec::new());
        let failed: Result<_, &str> = cache.get_or_compute("x", 0, &input, 0, || Err("no"));
        assert!(failed.is_err());
        let computed = cache
            .get_or_compute("x", 0, &input, 0, value_of(1))
            .expect("computed");
        assert_eq!(computed.value["n"], 1);
    }
}

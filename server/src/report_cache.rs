//! Head office's reports, kept once computed: a report is computed from a snapshot of the read
//! model ([`ReadModel::report_input`](crate::read_model::ReadModel::report_input)), which stays the
//! same until a document of a kind the report reads changes; until then, and for at most
//! [`FRESH_MS`] (reports that count days, such as ageing, move with the clock), every request for
//! the same report gets the same answer, serialized once.
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
use std::sync::{Arc, Mutex, PoisonError, Weak};

use actix_web::web::Bytes;
use serde_json::Value as Json;

use crate::read_model::ReportInput;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn compute(n: u64) -> impl FnOnce() -> Result<Json, ()> {
        move || Ok(serde_json::json!({ "n": n }))
    }

    #[test]
    fn a_report_is_computed_again_when_its_input_changes_or_it_grows_old() {
        let cache = ReportCache::default();
        let input: ReportInput = Arc::new(Vec::new());
        let first = cache
            .get_or_compute("stock", 0, &input, 0, compute(1))
            .expect("computed");
        assert_eq!(first.body.as_ref(), br#"{"n":1}"#);
        let kept = cache
            .get_or_compute("stock", 0, &input, FRESH_MS - 1, compute(2))
            .expect("kept");
        assert_eq!(kept.value["n"], 1);
        // Another option is another report.
        let other = cache
            .get_or_compute("stock", 7, &input, 1, compute(3))
            .expect("computed");
        assert_eq!(other.value["n"], 3);
        // A new snapshot (a document of its kinds changed).
        let changed: ReportInput = Arc::new(Vec::new());
        let again = cache
            .get_or_compute("stock", 0, &changed, 2, compute(4))
            .expect("computed");
        assert_eq!(again.value["n"], 4);
        let old = cache
            .get_or_compute("stock", 0, &changed, 2 + FRESH_MS, compute(5))
            .expect("computed");
        assert_eq!(old.value["n"], 5);
    }

    #[test]
    fn a_failed_computation_keeps_nothing() {
        let cache = ReportCache::default();
        let input: ReportInput = Arc::new(Vec::new());
        let failed: Result<_, &str> = cache.get_or_compute("x", 0, &input, 0, || Err("no"));
        assert!(failed.is_err());
        let computed = cache
            .get_or_compute("x", 0, &input, 0, compute(1))
            .expect("computed");
        assert_eq!(computed.value["n"], 1);
    }
}

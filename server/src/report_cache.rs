//! Head office's reports, kept once computed. The pipeline, conversion, revenue, invoices and
//! customers reports are read off the read model's running totals (a few milliseconds at
//! 100,000 records, after a change as before); stock, guides and the trial balance are
//! computed over a snapshot of the few documents they read
//! ([`ReadModel::report_input`](crate::read_model::ReadModel::report_input)). Either way a
//! report, once serialized, is kept with the version of the kinds it read: until one of them
//! changes, and for at most [`FRESH_MS`] (reports that count days, such as ageing, move with
//! the clock), every request for the same report and options gets the same body.
//!
//! ```
//! use itinera_server::report_cache::ReportCache;
//!
//! let cache = ReportCache::default();
//! let compute = || Ok::<_, ()>((3, serde_json::json!({ "open": 1 })));
//! let first = cache.get_or_compute("pipeline", "", 3, 1_000, compute).unwrap();
//! let again = cache.get_or_compute("pipeline", "", 3, 2_000, || Err(())).unwrap();
//! assert!(std::sync::Arc::ptr_eq(&first, &again));
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::web::Bytes;
use itinera_core::reports::{
    self, Aggregate, InvoiceReport, PageError, ReceivablesQuery, ReportAggregates,
};
use serde::Serialize;
use serde_json::Value as Json;

use crate::read_model::ReadModel;

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
    /// The version of the kinds it read when it was computed.
    version: u64,
    computed_at: i64,
    report: Arc<ComputedReport>,
}

/// Reports by name and options, each with the version it was computed at.
#[derive(Debug, Default)]
pub struct ReportCache {
    kept: Mutex<HashMap<(String, String), Kept>>,
}

impl ReportCache {
    /// The report `name` with `options` (any text that tells one request's options from
    /// another's) at `now`: the kept one if it was computed at `version` less than
    /// [`FRESH_MS`] ago, else what `compute` gives (with the version it computed at), kept.
    pub fn get_or_compute<E>(
        &self,
        name: &str,
        options: &str,
        version: u64,
        now: i64,
        compute: impl FnOnce() -> Result<(u64, Json), E>,
    ) -> Result<Arc<ComputedReport>, E> {
        let key = (name.to_owned(), options.to_owned());
        if let Some(kept) = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            if (now - kept.computed_at).abs() < FRESH_MS && kept.version == version {
                return Ok(kept.report.clone());
            }
        }
        let (version, value) = compute()?;
        let body = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let report = Arc::new(ComputedReport { value, body });
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= MOST_KEPT && !kept.contains_key(&key) {
            kept.clear();
        }
        let entry = Kept {
            version,
            computed_at: now,
            report: report.clone(),
        };
        kept.insert(key, entry);
        Ok(report)
    }
}

/// What a request asks of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// A guide's hour in minor units, for the revenue report's margins.
    pub guide_cost: i64,
    /// The invoices report's receivables: a page (`None`: every row, for CSV exports).
    pub receivables: Option<ReceivablesRequest>,
}

/// A page of receivables as a request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivablesRequest {
    /// The cursor a previous page ended with.
    pub after: Option<String>,
    /// Rows per page.
    pub limit: Option<usize>,
}

impl ReportOptions {
    /// The options as the cache tells them apart.
    pub fn key(&self) -> String {
        match &self.receivables {
            Some(page) => format!("{} {:?} {:?}", self.guide_cost, page.after, page.limit),
            None => format!("{} all", self.guide_cost),
        }
    }
}

/// Why a report could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no report named {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("the report could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The invoices report with its receivables in pages.
#[derive(Serialize)]
struct InvoicePage {
    #[serde(flatten)]
    report: InvoiceReport,
    /// How many receivables in all.
    receivables_total: u64,
    /// Pass as `after` for the next page; `None` on the last.
    next_cursor: Option<String>,
}

/// Report `name` at `now` from `model`, with the version of the kinds it read.
pub fn compute(
    model: &ReadModel,
    name: &str,
    now: i64,
    options: &ReportOptions,
) -> Result<(u64, Json), ReportError> {
    let kinds = reports::kinds_read(name).ok_or_else(|| ReportError::Unknown(name.to_owned()))?;
    if matches!(name, "stock" | "guides" | "trial-balance") {
        let (version, input) = model.report_input(kinds);
        let value = match name {
            "stock" => serde_json::to_value(reports::stock(&input, now))?,
            "guides" => serde_json::to_value(reports::guides(&input))?,
            _ => serde_json::to_value(reports::trial_balance(&input))?,
        };
        return Ok((version, value));
    }
    let query = match &options.receivables {
        Some(page) if name == "invoices" => {
            Some(ReceivablesQuery::parse(page.after.as_deref(), page.limit)?)
        }
        _ => None,
    };
    let totals = |aggregates: &ReportAggregates| -> Result<Json, ReportError> {
        Ok(match name {
            "pipeline" => serde_json::to_value(aggregates.pipeline().report(now, &()))?,
            "conversion" => serde_json::to_value(aggregates.conversion().report(now, &()))?,
            "revenue" => {
                serde_json::to_value(aggregates.revenue().report(now, &options.guide_cost))?
            }
            "customers" => serde_json::to_value(aggregates.customers().report(now, &()))?,
            "invoices" => match &query {
                Some(query) => {
                    let (report, page) = aggregates.invoices().report_page(now, query);
                    serde_json::to_value(InvoicePage {
                        report,
                        receivables_total: page.total,
                        next_cursor: page.next_cursor,
                    })?
                }
                None => serde_json::to_value(aggregates.invoices().report(now, &()))?,
            },
            other => return Err(ReportError::Unknown(other.to_owned())),
        })
    };
    let (version, value) = model
        .with_aggregates(kinds, totals)
        .unwrap_or((0, Ok(Json::Null)));
    Ok((version, value?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(version: u64, n: u64) -> impl FnOnce() -> Result<(u64, Json), ()> {
        move || Ok((version, serde_json::json!({ "n": n })))
    }

    #[test]
    fn a_report_is_computed_again_when_its_input_changes_or_it_grows_old() {
        let cache = ReportCache::default();
        let first = cache
            .get_or_compute("stock", "", 0, 0, value_of(0, 1))
            .expect("computed");
        assert_eq!(first.body.as_ref(), br#"{"n":1}"#);
        let kept = cache
            .get_or_compute("stock", "", 0, FRESH_MS - 1, value_of(0, 2))
            .expect("kept");
        assert_eq!(kept.value["n"], 1);
        // Other options are another report.
        let other = cache
            .get_or_compute("stock", "7", 0, 1, value_of(0, 3))
            .expect("computed");
        assert_eq!(other.value["n"], 3);
        // A new version (a document of its kinds changed).
        let again = cache
            .get_or_compute("stock", "", 1, 2, value_of(1, 4))
            .expect("computed");
        assert_eq!(again.value["n"], 4);
        let old = cache
            .get_or_compute("stock", "", 1, 2 + FRESH_MS, value_of(1, 5))
            .expect("computed");
        assert_eq!(old.value["n"], 5);
    }

    #[test]
    fn a_report_moves_with_the_changes_of_its_kinds_only() {
        use itinera_core::DocumentId;
        use itinera_core::model::{LeadStatus, TicketPriority, TicketStatus};
        use itinera_core::reports::{LeadSummary, Summary, TicketSummary};
        let model = ReadModel::default();
        let cache = ReportCache::default();
        let options = ReportOptions {
            guide_cost: 0,
            receivables: None,
        };
        let customers = |model: &ReadModel| {
            let kinds = reports::kinds_read("customers").expect("known");
            cache
                .get_or_compute("customers", "", model.version(kinds), 0, || {
                    compute(model, "customers", 0, &options)
                })
                .expect("computed")
        };
        let before = customers(&model);
        // Something the report does not read changes: the kept report answers.
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
        assert!(Arc::ptr_eq(&before, &customers(&model)));
        // A ticket (which the customers report counts) changes: new figures at once.
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
        let after = customers(&model);
        assert_eq!(before.value["tickets"]["open"], 0);
        assert_eq!(after.value["tickets"]["open"], 1);
        assert!(Arc::ptr_eq(&after, &customers(&model)));
    }

    #[test]
    fn a_bad_page_or_name_is_an_error() {
        let model = ReadModel::default();
        let page = |after: &str, limit| ReportOptions {
            guide_cost: 0,
            receivables: Some(ReceivablesRequest {
                after: Some(after.to_owned()),
                limit,
            }),
        };
        assert!(matches!(
            compute(&model, "invoices", 0, &page("x", None)),
            Err(ReportError::Page(PageError::Cursor(_)))
        ));
        let id = itinera_core::DocumentId::from_bytes([1; 16]);
        assert!(matches!(
            compute(&model, "invoices", 0, &page(&format!("none~{id}"), Some(0))),
            Err(ReportError::Page(PageError::Limit(0)))
        ));
        let (_, first) = compute(&model, "invoices", 0, &page(&format!("none~{id}"), Some(5)))
            .expect("an empty page");
        assert_eq!(first["receivables_total"], 0);
        assert!(matches!(
            compute(&model, "weather", 0, &page("x", None)),
            Err(ReportError::Unknown(_))
        ));
    }

    #[test]
    fn a_failed_computation_keeps_nothing() {
        let cache = ReportCache::default();
        let failed: Result<_, &str> = cache.get_or_compute("x", "", 0, 0, || Err("no"));
        assert!(failed.is_err());
        let computed = cache
            .get_or_compute("x", "", 0, 0, value_of(0, 1))
            .expect("computed");
        assert_eq!(computed.value["n"], 1);
    }
}

//! Head office's reports, computed over a read model of small per-document summaries.
//!
//! Loading every document to answer "what is in the pipeline?" would cost more as history
//! grows. Instead the server keeps one [`Summary`] per document, recomputed by [`summarize`] in
//! the same store transaction as each change, and every report is a pure function over the
//! summaries: no IO, no clock (time is an argument), no document loaded.
//!
//! | Report | Answers |
//! |---|---|
//! | [`pipeline`] | open opportunities by stage, rep, territory and tour; lost reasons |
//! | [`conversion`] | lead → opportunity → won, overall and per campaign |
//! | [`revenue`] | per departure and tour: load factor, booked vs invoiced, margin after guides |
//! | [`stock`] | on hand and projected per location; low and negative stock; consumption |
//! | [`guides`] | guide hours, offers and conflicts; language coverage of departures |
//! | [`invoices`] | invoices awaiting a legal number, drafts, receivables ageing |
//! | [`trial_balance`] | debits, credits and balance per ledger account |
//! | [`customers`] | repeat customers; ticket resolution times, overall and per priority |
//! | [`sync_health`] | per device: last seen, pending documents, silent devices |
//!
//! Each report that reads every summary of its kinds is also kept as running totals (an
//! [`Aggregate`]: [`ReportAggregates`] holds them all), which the server updates with each
//! change and answers from; the functions here are the reference those totals are tested
//! against.
//!
//! Conventions: ids are bare bs58 strings (as [`crate::DocumentId`] prints them); money is in
//! minor units, summed per currency in [`Amounts`] and never converted; rates and load factors
//! are fractions (0.25 = 25 %), `None` when there is nothing to divide by; rows are sorted so
//! equal inputs give equal reports.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, DocumentId};
//! use itinera_core::model::{Account, Opportunity, Stage, LogKey};
//! use itinera_core::reports::{pipeline, summarize};
//!
//! const DAY: i64 = 86_400_000;
//! let mut account = Document::create(ActorId::from([1u8; 16]), 0, &Account {
//!     owner: "sam".into(), territory: "north".into(), ..Default::default()
//! })?;
//! account.change(DAY, |a| {
//!     a.opportunities.insert("o-1".into(), Opportunity {
//!         amount_minor: 780_000, currency: "EUR".into(), probability: 60, ..Default::default()
//!     });
//!     a.move_opportunity("o-1", Stage::Proposal, LogKey::new(DAY, "sam"), "sam", DAY)
//! })?;
//!
//! // The server, on every change: summarise and keep.
//! let id = DocumentId::from_bytes([7; 16]);
//! let summaries: Vec<_> = summarize(&id, account.automerge())?.map(|s| (id, s)).into_iter().collect();
//!
//! // Head office, ten days later.
//! let report = pipeline(&summaries, 11 * DAY);
//! assert_eq!(report.by_stage[0].key, "proposal");
//! assert_eq!(report.by_stage[0].weighted_value.get("EUR"), 468_000);
//! assert_eq!(report.by_stage[0].average_days_in_stage, Some(10.0));
//! # Ok::<(), itinera_core::Error>(())
//! ```

mod aggregate;
mod amounts;
mod calendar;
mod conversion;
mod customers;
mod guides;
mod invoices;
mod pipeline;
mod reference;
mod revenue;
mod rounding;
mod stock;
pub(crate) mod stored_text;
mod summary;
mod summary_index;
mod sync_health;
mod trial_balance;

pub use aggregate::{
    Aggregate, ConversionTotals, CustomerTotals, InvoiceBook, PageError, PipelineTotals,
    ReceivablesPage, ReceivablesQuery, ReportAggregates, RevenueTotals,
};
pub use amounts::Amounts;
pub use conversion::{CampaignConversion, ConversionReport, conversion};
pub use customers::{CustomerReport, PriorityFigures, TicketFigures, customers};
pub use guides::{GuideReport, GuideUtilisation, LanguageCoverage, guides};
pub use invoices::{AgeBand, AgeingBucket, InvoiceReport, InvoiceRow, Receivable, invoices};
pub use pipeline::{LostReason, PipelineGroup, PipelineReport, pipeline};
pub use revenue::{DepartureRevenue, RevenueReport, TourRevenue, revenue};
pub use stock::{
    DepartureConsumption, ItemStock, LocationStock, StockException, StockExceptionKind,
    StockReport, stock,
};
pub use summary::{
    AccountSummary, AssignmentSummary, BookingSummary, CampaignSummary, CatalogSummary,
    ContactSummary, DepartureSummary, EmployeeSummary, InvoiceSummary, ItemSummary, JournalSummary,
    KitNeed, LeadSummary, LeaveInterval, LedgerTotals, OpportunitySummary, StockSummary, Summary,
    TicketSummary, TourSummary, summarize, summarize_with_record, summary_of,
};
pub use sync_health::{DeviceHealth, DeviceStatus, SILENT_AFTER_MS, SyncHealthReport, sync_health};
pub use trial_balance::{CurrencyBalance, LedgerBalance, TrialBalance, trial_balance};

/// The kinds of summaries the report named `report` (as the REST API names it: `pipeline`,
/// `trial-balance`…) reads; a report handed only these gives what it gives over everything.
/// `None` for a name that is no report over summaries.
pub fn kinds_read(report: &str) -> Option<&'static [crate::model::DocumentKind]> {
    use crate::model::DocumentKind as K;
    Some(match report {
        "pipeline" => &[K::Account],
        "conversion" => &[K::Account, K::Lead, K::Campaign],
        "revenue" => &[
            K::Booking,
            K::Departure,
            K::Invoice,
            K::Catalog,
            K::Employee,
        ],
        "stock" => &[K::Stock, K::Departure, K::Catalog, K::Employee],
        "guides" => &[K::Departure, K::Employee],
        "invoices" => &[K::Invoice, K::Account],
        "trial-balance" => &[K::Journal],
        "customers" => &[K::Booking, K::Ticket],
        _ => return None,
    })
}

/// The prefix of the keys under which a store keeps documents' summaries.
pub const SUMMARY_PREFIX: &str = "summary:";

/// The key under which a store keeps a document's summary in its key–value table, written in
/// the same transaction as the document's change.
pub fn summary_key(id: &crate::DocumentId) -> String {
    format!("{SUMMARY_PREFIX}{id}")
}

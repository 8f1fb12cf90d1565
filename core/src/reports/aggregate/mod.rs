//! Reports kept as running totals, so answering after a change costs what changed.
//!
//! The reports in [`crate::reports`] are pure functions over every summary of the kinds they
//! read: at 100,000 records that is tens of milliseconds each time anything changes. An
//! [`Aggregate`] keeps the same figures as totals instead. The read model hands it each
//! document's old and new summary ([`Aggregate::put`]): the old one's contribution is taken
//! out, the new one's added, and [`Aggregate::report`] builds the report from the totals (the
//! figures that move with the clock, time in stage and ageing, from kept sums and ordered
//! structures, not by walking every record). The pure functions stay the reference: the
//! property test in `core/tests/report_aggregates.rs` applies random inserts, updates and
//! deletes and checks every aggregate's report against its function over the final summaries.
//!
//! | Aggregate | Reference |
//! |---|---|
//! | [`PipelineTotals`] | [`crate::reports::pipeline`] |
//! | [`ConversionTotals`] | [`crate::reports::conversion`] |
//! | [`RevenueTotals`] | [`crate::reports::revenue`] |
//! | [`InvoiceBook`] | [`crate::reports::invoices`] (and its receivables in pages) |
//! | [`CustomerTotals`] | [`crate::reports::customers`] |
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Account, Opportunity};
//! use itinera_core::reports::{Aggregate, PipelineTotals, Summary, pipeline};
//!
//! let id = DocumentId::from_bytes([1; 16]);
//! let mut account = Account { owner: "sam".into(), ..Default::default() };
//! let before = Summary::Account((&account).into());
//! account.opportunities.insert("o-1".into(), Opportunity {
//!     amount_minor: 1_000, currency: "EUR".into(), probability: 50, ..Default::default()
//! });
//! let after = Summary::Account((&account).into());
//!
//! let mut totals = PipelineTotals::default();
//! totals.put(id, None, Some(&before));
//! totals.put(id, Some(&before), Some(&after)); // the account changed
//! assert_eq!(totals.report(0, &()), pipeline(&[(id, after)], 0));
//! assert_eq!(totals.report(0, &()).open.weighted_value.get("EUR"), 500);
//! ```

mod conversion_totals;
mod customer_totals;
mod invoice_book;
mod pipeline_totals;
mod receivables_page;
mod report_aggregates;
mod revenue_totals;
mod running_amounts;
mod running_median;

pub use conversion_totals::ConversionTotals;
pub use customer_totals::CustomerTotals;
pub use invoice_book::InvoiceBook;
pub use pipeline_totals::PipelineTotals;
pub use receivables_page::{PageError, ReceivablesPage, ReceivablesQuery};
pub use report_aggregates::ReportAggregates;
pub use revenue_totals::RevenueTotals;

use crate::DocumentId;
use crate::reports::Summary;

/// A report kept as running totals of the summaries put into it.
pub trait Aggregate {
    /// What it answers.
    type Report;
    /// What a request may choose (a guide's hourly cost, say); `()` for none.
    type Options;

    /// Adds the contribution of document `id`, now summarised as `summary`. Summaries of kinds
    /// the report does not read are ignored.
    fn add(&mut self, id: DocumentId, summary: &Summary);

    /// Takes out the contribution [`Self::add`] made for `id` with this very `summary`.
    fn remove(&mut self, id: DocumentId, summary: &Summary);

    /// The report as of `now_ms` (Unix ms), equal to its pure function over the summaries in.
    fn report(&self, now_ms: i64, options: &Self::Options) -> Self::Report;

    /// Document `id` changed from `old` to `new` (`None`: it had, or has, no summary).
    fn put(&mut self, id: DocumentId, old: Option<&Summary>, new: Option<&Summary>) {
        if let Some(old) = old {
            self.remove(id, old);
        }
        if let Some(new) = new {
            self.add(id, new);
        }
    }
}

/// Adds `by` to `count` (`adding`) or takes it back out.
fn step(count: &mut u64, by: u64, adding: bool) {
    *count = if adding {
        *count + by
    } else {
        count.saturating_sub(by)
    };
}

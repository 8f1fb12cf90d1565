//! Every report kept as running totals, fed together: what the server's read model holds.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::Lead;
//! use itinera_core::reports::{Aggregate, ReportAggregates, Summary};
//!
//! let mut aggregates = ReportAggregates::default();
//! let lead = Summary::Lead((&Lead::default()).into());
//! aggregates.put(DocumentId::from_bytes([1; 16]), None, Some(&lead));
//! assert_eq!(aggregates.conversion().report(0, &()).leads, 1);
//! ```

use crate::DocumentId;
use crate::reports::Summary;
use crate::reports::aggregate::{
    Aggregate, ConversionTotals, CustomerTotals, InvoiceBook, PipelineTotals, RevenueTotals,
};

/// The pipeline, conversion, revenue, invoices and customers reports as running totals.
#[derive(Debug, Clone, Default)]
pub struct ReportAggregates {
    pipeline: PipelineTotals,
    conversion: ConversionTotals,
    revenue: RevenueTotals,
    invoices: InvoiceBook,
    customers: CustomerTotals,
}

impl ReportAggregates {
    /// Document `id` changed from `old` to `new` (`None`: it had, or has, no summary).
    pub fn put(&mut self, id: DocumentId, old: Option<&Summary>, new: Option<&Summary>) {
        self.pipeline.put(id, old, new);
        self.conversion.put(id, old, new);
        self.revenue.put(id, old, new);
        self.invoices.put(id, old, new);
        self.customers.put(id, old, new);
    }

    /// The pipeline's totals.
    pub fn pipeline(&self) -> &PipelineTotals {
        &self.pipeline
    }

    /// The conversion funnel's totals.
    pub fn conversion(&self) -> &ConversionTotals {
        &self.conversion
    }

    /// Revenue's totals.
    pub fn revenue(&self) -> &RevenueTotals {
        &self.revenue
    }

    /// The invoices' book.
    pub fn invoices(&self) -> &InvoiceBook {
        &self.invoices
    }

    /// Customers' and tickets' totals.
    pub fn customers(&self) -> &CustomerTotals {
        &self.customers
    }
}

//! The read model: one small summary per document, which every report runs over.
//!
//! The server calls [`summarize`] whenever a document changes, in the same store transaction,
//! and keeps the result (as JSON; core has no JSON dependency). A summary holds only the
//! fields and aggregates reports use: never notes, never a log beyond the figures it folds
//! into. Its size follows what the record is now (its opportunities, its stocked items), not how
//! many changes made it so, so a report costs the same on a year-old database as on a new one.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, DocumentId};
//! use itinera_core::model::{Lead, LeadStatus};
//! use itinera_core::reports::{Summary, summarize};
//!
//! let id = DocumentId::from_bytes([3; 16]);
//! let lead = Lead { source: "fair".into(), status: LeadStatus::Qualified, ..Default::default() };
//! let doc = Document::create(ActorId::from([1u8; 16]), 0, &lead)?;
//! let Some(Summary::Lead(summary)) = summarize(&id, doc.automerge())? else { panic!("a lead") };
//! assert_eq!(summary.source, "fair");
//! # Ok::<(), itinera_core::Error>(())
//! ```

mod account;
mod booking;
mod campaign;
mod catalog;
mod departure;
mod employee;
mod invoice;
mod journal;
mod lead;
mod stock;
mod ticket;

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};

pub use account::{AccountSummary, ContactSummary, OpportunitySummary};
pub use booking::BookingSummary;
pub use campaign::CampaignSummary;
pub use catalog::{CatalogSummary, ItemSummary, KitNeed, TourSummary};
pub use departure::{AssignmentSummary, DepartureSummary};
pub use employee::{EmployeeSummary, LeaveInterval};
pub use invoice::InvoiceSummary;
pub use journal::{JournalSummary, LedgerTotals};
pub use lead::LeadSummary;
pub use stock::StockSummary;
pub use ticket::TicketSummary;

use crate::model::{
    Account, Booking, Campaign, Catalog, Departure, DocumentKind, Employee, Invoice, Journal, Lead,
    RecordValue, StockLocation, Ticket,
};
use crate::{DocumentHeader, DocumentId, Result};

/// The summary of one document, tagged by its kind (`{"kind": "booking", …}` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Summary {
    /// An `account:{id}` document.
    Account(AccountSummary),
    /// A `lead:{id}` document.
    Lead(LeadSummary),
    /// A `campaign:{id}` document.
    Campaign(CampaignSummary),
    /// A `booking:{id}` document.
    Booking(BookingSummary),
    /// A `departure:{id}` document.
    Departure(DepartureSummary),
    /// An `invoice:{id}` document.
    Invoice(InvoiceSummary),
    /// A `journal:{yyyy-mm}` document.
    Journal(JournalSummary),
    /// A `stock:{location}` document.
    Stock(StockSummary),
    /// The `catalog` document.
    Catalog(CatalogSummary),
    /// An `employee:{id}` document.
    Employee(EmployeeSummary),
    /// A `ticket:{id}` document.
    Ticket(TicketSummary),
}

impl Summary {
    /// The kind of document summarised.
    pub fn kind(&self) -> DocumentKind {
        match self {
            Self::Account(_) => DocumentKind::Account,
            Self::Lead(_) => DocumentKind::Lead,
            Self::Campaign(_) => DocumentKind::Campaign,
            Self::Booking(_) => DocumentKind::Booking,
            Self::Departure(_) => DocumentKind::Departure,
            Self::Invoice(_) => DocumentKind::Invoice,
            Self::Journal(_) => DocumentKind::Journal,
            Self::Stock(_) => DocumentKind::Stock,
            Self::Catalog(_) => DocumentKind::Catalog,
            Self::Employee(_) => DocumentKind::Employee,
            Self::Ticket(_) => DocumentKind::Ticket,
        }
    }
}

/// The summary of `doc` as it stands now; `None` for a generic document and for kinds no report
/// reads (transfers, purchase orders, field logs, HR records, indexes, alerts).
///
/// Reads the current state only, never the change history. `_id` is the document's id; no
/// summary needs it today (reports receive it next to the summary), and it is part of the
/// signature so that the server's call does not change when one does.
///
/// Fails when the document is of a newer schema than this build reads, or does not fit its
/// record type; the error names the first field that does not.
pub fn summarize(_id: &DocumentId, doc: &AutoCommit) -> Result<Option<Summary>> {
    Ok(summarize_with_record(doc)?.0)
}

/// [`summarize`], also giving the record read to make the summary, for whoever reads the same
/// record next (the server's lists and authority, after a commit). No record comes back for a
/// journal, whose figures are read straight from the document, or for kinds without a summary.
pub fn summarize_with_record(doc: &AutoCommit) -> Result<(Option<Summary>, Option<RecordValue>)> {
    let Some(kind) = DocumentHeader::read(doc)?.readable_kind()? else {
        return Ok((None, None));
    };
    if kind == DocumentKind::Journal {
        // A month's journal holds thousands of entries and changes with every invoice: read
        // the figures straight from the document rather than hydrating every entry.
        if let Some(summary) = JournalSummary::read(doc) {
            return Ok((Some(Summary::Journal(summary)), None));
        }
    } else if !has_summary(kind) {
        return Ok((None, None));
    }
    let record = RecordValue::of_kind(doc, kind)?;
    Ok((summary_of(&record), Some(record)))
}

/// The summary of a record already read; `None` for kinds no report reads.
pub fn summary_of(record: &RecordValue) -> Option<Summary> {
    Some(match record.kind() {
        DocumentKind::Account => Summary::Account(record.get::<Account>()?.into()),
        DocumentKind::Lead => Summary::Lead(record.get::<Lead>()?.into()),
        DocumentKind::Campaign => Summary::Campaign(record.get::<Campaign>()?.into()),
        DocumentKind::Booking => Summary::Booking(record.get::<Booking>()?.into()),
        DocumentKind::Departure => Summary::Departure(record.get::<Departure>()?.into()),
        DocumentKind::Invoice => Summary::Invoice(record.get::<Invoice>()?.into()),
        DocumentKind::Journal => Summary::Journal(record.get::<Journal>()?.into()),
        DocumentKind::Stock => Summary::Stock(record.get::<StockLocation>()?.into()),
        DocumentKind::Catalog => Summary::Catalog(record.get::<Catalog>()?.into()),
        DocumentKind::Employee => Summary::Employee(record.get::<Employee>()?.into()),
        DocumentKind::Ticket => Summary::Ticket(record.get::<Ticket>()?.into()),
        DocumentKind::Transfer
        | DocumentKind::PurchaseOrder
        | DocumentKind::FieldLog
        | DocumentKind::Hr
        | DocumentKind::Index
        | DocumentKind::Alerts
        | DocumentKind::Manifest => return None,
    })
}

fn has_summary(kind: DocumentKind) -> bool {
    !matches!(
        kind,
        DocumentKind::Transfer
            | DocumentKind::PurchaseOrder
            | DocumentKind::FieldLog
            | DocumentKind::Hr
            | DocumentKind::Index
            | DocumentKind::Alerts
            | DocumentKind::Manifest
    )
}

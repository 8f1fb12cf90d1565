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

use crate::document::validate;
use crate::model::{
    Account, Booking, Campaign, Catalog, Departure, DocumentKind, Employee, FieldPath, Invoice,
    Journal, Lead, Record, StockLocation, Ticket, supported_schema,
};
use crate::{DocumentHeader, DocumentId, Error, Result};

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
    let DocumentHeader::Record { kind, schema } = DocumentHeader::read(doc)? else {
        return Ok(None);
    };
    let supported = supported_schema(kind);
    if schema > supported {
        return Err(Error::UnsupportedSchema {
            kind,
            found: schema,
            supported,
        });
    }
    let summary = match kind {
        DocumentKind::Account => Summary::Account((&hydrate::<Account>(doc)?).into()),
        DocumentKind::Lead => Summary::Lead((&hydrate::<Lead>(doc)?).into()),
        DocumentKind::Campaign => Summary::Campaign((&hydrate::<Campaign>(doc)?).into()),
        DocumentKind::Booking => Summary::Booking((&hydrate::<Booking>(doc)?).into()),
        DocumentKind::Departure => Summary::Departure((&hydrate::<Departure>(doc)?).into()),
        DocumentKind::Invoice => Summary::Invoice((&hydrate::<Invoice>(doc)?).into()),
        // A month's journal holds thousands of entries and changes with every invoice: read
        // the figures straight from the document rather than hydrating every entry.
        DocumentKind::Journal => Summary::Journal(match JournalSummary::read(doc) {
            Some(summary) => summary,
            None => (&hydrate::<Journal>(doc)?).into(),
        }),
        DocumentKind::Stock => Summary::Stock((&hydrate::<StockLocation>(doc)?).into()),
        DocumentKind::Catalog => Summary::Catalog((&hydrate::<Catalog>(doc)?).into()),
        DocumentKind::Employee => Summary::Employee((&hydrate::<Employee>(doc)?).into()),
        DocumentKind::Ticket => Summary::Ticket((&hydrate::<Ticket>(doc)?).into()),
        DocumentKind::Transfer
        | DocumentKind::PurchaseOrder
        | DocumentKind::FieldLog
        | DocumentKind::Hr
        | DocumentKind::Index
        | DocumentKind::Alerts
        | DocumentKind::Manifest => return Ok(None),
    };
    Ok(Some(summary))
}

/// The record in `doc`; when it does not hydrate, the error names the field at fault.
fn hydrate<R: Record>(doc: &AutoCommit) -> Result<R> {
    autosurgeon::hydrate(doc).map_err(|err| match validate(doc) {
        Err(located) => located,
        Ok(_) => Error::Malformed {
            kind: R::KIND,
            path: FieldPath::root(),
            reason: err.to_string(),
        },
    })
}

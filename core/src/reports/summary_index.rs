//! The summaries handed to a report, sorted by kind and keyed by bare id, so reports join them
//! by the references summaries hold.
//!
//! ```text
//! let index = SummaryIndex::new(summaries);
//! let departure = index.departures.get(&booking.departure);
//! ```

use std::collections::BTreeMap;

use crate::DocumentId;
use crate::reports::reference::key;
use crate::reports::summary::{
    AccountSummary, BookingSummary, CampaignSummary, CatalogSummary, DepartureSummary,
    EmployeeSummary, InvoiceSummary, ItemSummary, JournalSummary, LeadSummary, StockSummary,
    Summary, TourSummary,
};

/// Summaries by kind, each map keyed by the document's bare id. When an id occurs twice, the
/// later summary wins. The kinds a company has tens of thousands of (accounts, leads, bookings,
/// invoices) are keyed by the id itself: printing every id as text cost more than the report.
#[derive(Debug, Default)]
pub(crate) struct SummaryIndex<'a> {
    pub accounts: BTreeMap<DocumentId, &'a AccountSummary>,
    pub leads: BTreeMap<DocumentId, &'a LeadSummary>,
    pub campaigns: BTreeMap<String, &'a CampaignSummary>,
    pub bookings: BTreeMap<DocumentId, &'a BookingSummary>,
    pub departures: BTreeMap<String, &'a DepartureSummary>,
    pub invoices: BTreeMap<DocumentId, &'a InvoiceSummary>,
    pub journals: BTreeMap<String, &'a JournalSummary>,
    pub stock: BTreeMap<String, &'a StockSummary>,
    pub catalogs: BTreeMap<String, &'a CatalogSummary>,
    pub employees: BTreeMap<String, &'a EmployeeSummary>,
}

impl<'a> SummaryIndex<'a> {
    pub(crate) fn new(summaries: &'a [(DocumentId, Summary)]) -> Self {
        let mut index = Self::default();
        for (id, summary) in summaries {
            match summary {
                Summary::Account(s) => {
                    index.accounts.insert(*id, s);
                }
                Summary::Lead(s) => {
                    index.leads.insert(*id, s);
                }
                Summary::Campaign(s) => {
                    index.campaigns.insert(key(id), s);
                }
                Summary::Booking(s) => {
                    index.bookings.insert(*id, s);
                }
                Summary::Departure(s) => {
                    index.departures.insert(key(id), s);
                }
                Summary::Invoice(s) => {
                    index.invoices.insert(*id, s);
                }
                Summary::Journal(s) => {
                    index.journals.insert(key(id), s);
                }
                Summary::Stock(s) => {
                    index.stock.insert(key(id), s);
                }
                Summary::Catalog(s) => {
                    index.catalogs.insert(key(id), s);
                }
                Summary::Employee(s) => {
                    index.employees.insert(key(id), s);
                }
                Summary::Ticket(_) => {}
            }
        }
        index
    }

    /// The booking a summary refers to by `reference` (a bare id or a URL).
    pub(crate) fn booking(&self, reference: &str) -> Option<&'a BookingSummary> {
        let id = crate::reports::reference::id_of(reference)?;
        self.bookings.get(&id).copied()
    }

    /// The invoice a summary refers to by `reference`.
    pub(crate) fn invoice(&self, reference: &str) -> Option<&'a InvoiceSummary> {
        let id = crate::reports::reference::id_of(reference)?;
        self.invoices.get(&id).copied()
    }

    /// The catalogue entry of item `id`: there is normally one catalogue; with several, the
    /// first (in id order) that lists the item.
    pub(crate) fn item(&self, id: &str) -> Option<&'a ItemSummary> {
        self.catalogs
            .values()
            .find_map(|catalog| catalog.items.get(id))
    }

    /// The catalogue entry of tour `id`, found as [`Self::item`] finds items.
    pub(crate) fn tour(&self, id: &str) -> Option<&'a TourSummary> {
        self.catalogs
            .values()
            .find_map(|catalog| catalog.tours.get(id))
    }
}

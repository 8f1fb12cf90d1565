//! The invoices report as a kept book: the lists in order, and what is owed by due day.
//!
//! Each posted invoice with money outstanding sits in an ordered map under its place in the
//! report's order (which depends on its due day, not on the clock), so a page of receivables
//! is a range of that map. The outstanding money is also summed per due day: at `now`, the
//! ageing bands are the days from 90 days ago on, read off the end of that order, and the
//! rest (over 90 days) is the total less them. A credit note changes what its original owes:
//! its net credit is kept per original, and the original's row is placed again.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Invoice, InvoiceStatus, InvoiceTotals};
//! use itinera_core::reports::{Aggregate, InvoiceBook, ReceivablesQuery, Summary};
//!
//! let invoice = Invoice {
//!     status: InvoiceStatus::Posted, currency: "EUR".into(), due_on: Some("1970-01-01".into()),
//!     totals: InvoiceTotals { net_minor: 100, vat_minor: 27, gross_minor: 127 },
//!     ..Default::default()
//! };
//! let mut book = InvoiceBook::default();
//! book.add(DocumentId::from_bytes([1; 16]), &Summary::Invoice((&invoice).into()));
//! let page = book.receivables(31 * 86_400_000, &ReceivablesQuery::parse(None, Some(10))?);
//! assert_eq!((page.total, page.rows[0].days_past_due), (1, Some(31)));
//! # Ok::<(), itinera_core::reports::PageError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use crate::DocumentId;
use crate::model::InvoiceStatus;
use crate::reports::aggregate::Aggregate;
use crate::reports::aggregate::receivables_page::{
    ReceivableKey, ReceivablesPage, ReceivablesQuery,
};
use crate::reports::aggregate::running_amounts::{RunningAmounts, saturate};
use crate::reports::calendar::day_of;
use crate::reports::invoices::{due_day, net_credit, outstanding, receivable, row};
use crate::reports::reference::key;
use crate::reports::summary::InvoiceSummary;
use crate::reports::{AgeBand, AgeingBucket, InvoiceReport, InvoiceRow, Receivable, Summary};

/// Running state of [`crate::reports::invoices`].
#[derive(Debug, Clone, Default)]
pub struct InvoiceBook {
    /// Every invoice's summary: a credit note's change places its original again.
    invoices: HashMap<DocumentId, InvoiceSummary>,
    /// Per original: how many credit notes correct it and their net credit, exactly.
    credited: HashMap<DocumentId, (u64, i128)>,
    drafts: BTreeMap<String, InvoiceRow>,
    awaiting_legal_number: BTreeMap<String, InvoiceRow>,
    /// Receivables in the report's order; their age and band are filled in when read.
    receivables: BTreeMap<ReceivableKey, Receivable>,
    places: HashMap<DocumentId, ReceivableKey>,
    /// Dated receivables per due day, and all of them.
    by_due_day: BTreeMap<i64, Owed>,
    dated: Owed,
    undated: Owed,
}

/// Receivables counted and their outstanding money summed.
#[derive(Debug, Clone, Default)]
struct Owed {
    invoices: u64,
    outstanding: RunningAmounts,
}

impl Owed {
    fn add(&mut self, receivable: &Receivable) {
        self.invoices += 1;
        self.outstanding
            .add(&receivable.currency, receivable.outstanding_minor);
    }

    fn remove(&mut self, receivable: &Receivable) {
        self.invoices = self.invoices.saturating_sub(1);
        self.outstanding
            .remove(&receivable.currency, receivable.outstanding_minor);
    }

    fn add_all(&mut self, other: &Owed) {
        self.invoices += other.invoices;
        self.outstanding.add_all(&other.outstanding);
    }

    fn remove_all(&mut self, other: &Owed) {
        self.invoices = self.invoices.saturating_sub(other.invoices);
        self.outstanding.remove_all(&other.outstanding);
    }
}

impl InvoiceBook {
    /// The receivables `query` asks for, aged as of `now_ms`.
    pub fn receivables(&self, now_ms: i64, query: &ReceivablesQuery) -> ReceivablesPage {
        let today = day_of(now_ms);
        let start = match &query.after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Unbounded,
        };
        let mut range = self.receivables.range((start, Bound::Unbounded));
        let mut last = None;
        let rows: Vec<Receivable> = range
            .by_ref()
            .take(query.limit)
            .map(|(place, receivable)| {
                last = Some(place);
                aged(place, receivable, today)
            })
            .collect();
        // A cursor only when more rows follow.
        let next_cursor = range.next().and(last).map(ReceivableKey::cursor);
        ReceivablesPage {
            rows,
            total: self.receivables.len() as u64,
            next_cursor,
        }
    }

    /// The report with its receivables replaced by the page `query` asks for.
    pub fn report_page(
        &self,
        now_ms: i64,
        query: &ReceivablesQuery,
    ) -> (InvoiceReport, ReceivablesPage) {
        let mut page = self.receivables(now_ms, query);
        let report = InvoiceReport {
            awaiting_legal_number: self.awaiting_legal_number.values().cloned().collect(),
            drafts: self.drafts.values().cloned().collect(),
            receivables: std::mem::take(&mut page.rows),
            ageing: self.ageing(day_of(now_ms)),
        };
        (report, page)
    }

    /// One bucket per band as of day `today`: the days from 90 days ago on are read off the
    /// end of the order; what is older is the rest.
    fn ageing(&self, today: i64) -> Vec<AgeingBucket> {
        let mut bands: BTreeMap<AgeBand, Owed> = BTreeMap::new();
        bands
            .entry(AgeBand::Current)
            .or_default()
            .add_all(&self.undated);
        let mut recent = Owed::default();
        let from = today.saturating_sub(90);
        for (day, owed) in self.by_due_day.range(from..) {
            bands
                .entry(AgeBand::of(today - day))
                .or_default()
                .add_all(owed);
            recent.add_all(owed);
        }
        let mut older = self.dated.clone();
        older.remove_all(&recent);
        bands.entry(AgeBand::Over90).or_default().add_all(&older);
        AgeBand::ALL
            .into_iter()
            .map(|band| {
                let owed = bands.remove(&band).unwrap_or_default();
                AgeingBucket {
                    band,
                    invoices: owed.invoices,
                    outstanding: owed.outstanding.amounts(),
                }
            })
            .collect()
    }

    /// Places `id`'s receivable again from its summary and what credit notes take off it.
    fn place(&mut self, id: DocumentId) {
        if let Some(place) = self.places.remove(&id) {
            if let Some(receivable) = self.receivables.remove(&place) {
                self.owed_at(&place).remove(&receivable);
                self.tally(&place, &receivable, false);
            }
        }
        let Some(invoice) = self.invoices.get(&id) else {
            return;
        };
        if invoice.status != InvoiceStatus::Posted || invoice.credit_of.is_some() {
            return;
        }
        let credited_minor = saturate(self.credited.get(&id).map_or(0, |(_, sum)| *sum));
        let outstanding_minor = outstanding(invoice, credited_minor);
        if outstanding_minor <= 0 {
            return;
        }
        // Aged when the report is read: the place in the order does not move with the clock.
        let receivable = receivable(key(&id), invoice, credited_minor, outstanding_minor, None);
        let place = ReceivableKey::new(due_day(invoice), receivable.invoice.clone());
        self.owed_at(&place).add(&receivable);
        self.tally(&place, &receivable, true);
        self.places.insert(id, place.clone());
        self.receivables.insert(place, receivable);
    }

    /// The per-day (or undated) sums a receivable at `place` counts in.
    fn owed_at(&mut self, place: &ReceivableKey) -> &mut Owed {
        if place.undated {
            &mut self.undated
        } else {
            self.by_due_day.entry(place.due_day).or_default()
        }
    }

    /// Keeps the total of dated receivables, and drops a due day left empty.
    fn tally(&mut self, place: &ReceivableKey, receivable: &Receivable, adding: bool) {
        if place.undated {
            return;
        }
        if adding {
            self.dated.add(receivable);
        } else {
            self.dated.remove(receivable);
            if self
                .by_due_day
                .get(&place.due_day)
                .is_some_and(|owed| owed.invoices == 0)
            {
                self.by_due_day.remove(&place.due_day);
            }
        }
    }

    fn put_invoice(&mut self, id: DocumentId, invoice: &InvoiceSummary, adding: bool) {
        let name = key(&id);
        if adding {
            self.invoices.insert(id, invoice.clone());
            match invoice.status {
                InvoiceStatus::Draft => {
                    self.drafts.insert(name.clone(), row(&name, invoice));
                }
                InvoiceStatus::Posted if invoice.legal_number.is_none() => {
                    self.awaiting_legal_number
                        .insert(name.clone(), row(&name, invoice));
                }
                _ => {}
            }
        } else {
            self.invoices.remove(&id);
            self.drafts.remove(&name);
            self.awaiting_legal_number.remove(&name);
        }
        if let Some((original, net)) = net_credit(invoice) {
            let (count, sum) = self.credited.entry(original).or_default();
            if adding {
                *count += 1;
                *sum += i128::from(net);
            } else {
                *count = count.saturating_sub(1);
                *sum -= i128::from(net);
                if *count == 0 {
                    self.credited.remove(&original);
                }
            }
            self.place(original);
        }
        self.place(id);
    }
}

/// A kept receivable with its age as of day `today`.
fn aged(place: &ReceivableKey, receivable: &Receivable, today: i64) -> Receivable {
    let days_past_due = (!place.undated).then(|| today - place.due_day);
    Receivable {
        days_past_due,
        band: days_past_due.map_or(AgeBand::Current, AgeBand::of),
        ..receivable.clone()
    }
}

impl Aggregate for InvoiceBook {
    type Report = InvoiceReport;
    type Options = ();

    fn add(&mut self, id: DocumentId, summary: &Summary) {
        if let Summary::Invoice(invoice) = summary {
            self.put_invoice(id, invoice, true);
        }
    }

    fn remove(&mut self, id: DocumentId, summary: &Summary) {
        if let Summary::Invoice(invoice) = summary {
            self.put_invoice(id, invoice, false);
        }
    }

    /// The whole report, every receivable included.
    fn report(&self, now_ms: i64, _: &()) -> InvoiceReport {
        self.report_page(now_ms, &ReceivablesQuery::all()).0
    }
}

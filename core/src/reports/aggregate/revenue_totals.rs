//! The revenue report as running totals: what is booked and invoiced per departure.
//!
//! Booked money is summed per departure as confirmed bookings come and go. Invoiced money is
//! the hard part: an invoice reaches departures through its bookings (a credit note naming
//! none through its original's), split in proportion to the bookings' amounts. So each invoice
//! keeps what it added where, and the bookings and originals it was split by; when one of
//! those changes (or a departure its bookings name appears or goes), only the invoices that
//! depend on it are split again: their old shares out, their new ones in. A report then builds
//! one row per departure from the totals (it lists every departure anyway) and prices guides'
//! hours at the rate the request names.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Departure, GuideAssignment, AssignmentStatus};
//! use itinera_core::reports::{Aggregate, RevenueTotals, Summary};
//!
//! let mut departure = Departure { tour: "db3".into(), capacity: 20, seats_confirmed: 5, ..Default::default() };
//! departure.assignments.insert("a".into(), GuideAssignment { status: AssignmentStatus::Accepted, hours: 8.0, ..Default::default() });
//! let mut totals = RevenueTotals::default();
//! totals.add(DocumentId::from_bytes([1; 16]), &Summary::Departure((&departure).into()));
//! assert_eq!(totals.report(0, &2_500).departures[0].margin_minor, Some(-20_000));
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::DocumentId;
use crate::model::BookingStatus;
use crate::reports::aggregate::Aggregate;
use crate::reports::aggregate::running_amounts::RunningAmounts;
use crate::reports::reference::{id_of, key};
use crate::reports::revenue::{counts_as_invoiced, departure_row, finish, signed_gross, split};
use crate::reports::summary::{BookingSummary, CatalogSummary, DepartureSummary, InvoiceSummary};
use crate::reports::{RevenueReport, Summary};

/// Running totals of [`crate::reports::revenue`]; its option is the guide's hourly cost.
#[derive(Debug, Clone, Default)]
pub struct RevenueTotals {
    /// Departures by bare id: a row each.
    departures: BTreeMap<String, DepartureSummary>,
    /// Confirmed bookings' amounts per departure they name (known or not yet).
    booked: HashMap<String, RunningAmounts>,
    /// Invoiced shares per departure, and what reached none.
    invoiced: HashMap<String, RunningAmounts>,
    unattributed: RunningAmounts,
    bookings: HashMap<DocumentId, BookingSummary>,
    bookings_by_departure: HashMap<String, BTreeSet<DocumentId>>,
    invoices: HashMap<DocumentId, InvoiceSummary>,
    /// What each counted invoice added, and the bookings its split read.
    shares: HashMap<DocumentId, Shares>,
    invoices_by_booking: HashMap<DocumentId, BTreeSet<DocumentId>>,
    /// Credit notes by the invoice they correct: theirs may be split by its bookings.
    credit_notes: HashMap<DocumentId, BTreeSet<DocumentId>>,
    catalogs: BTreeMap<String, CatalogSummary>,
}

/// An invoice's contribution.
#[derive(Debug, Clone)]
struct Shares {
    currency: String,
    /// (departure, share); empty when it went to `unattributed`.
    parts: Vec<(String, i64)>,
    unattributed: Option<i64>,
    bookings: Vec<DocumentId>,
}

impl RevenueTotals {
    /// Splits invoice `id` again: its old shares out, its new ones in.
    fn split_again(&mut self, id: DocumentId) {
        if let Some(old) = self.shares.remove(&id) {
            for (departure, share) in &old.parts {
                if let Some(invoiced) = self.invoiced.get_mut(departure) {
                    invoiced.remove(&old.currency, *share);
                    if invoiced.is_empty() {
                        self.invoiced.remove(departure);
                    }
                }
            }
            if let Some(amount) = old.unattributed {
                self.unattributed.remove(&old.currency, amount);
            }
            for booking in &old.bookings {
                unlink(&mut self.invoices_by_booking, booking, id);
            }
        }
        let Some(shares) = self.shares_of(id) else {
            return;
        };
        for (departure, share) in &shares.parts {
            self.invoiced
                .entry(departure.clone())
                .or_default()
                .add(&shares.currency, *share);
        }
        if let Some(amount) = shares.unattributed {
            self.unattributed.add(&shares.currency, amount);
        }
        for booking in &shares.bookings {
            self.invoices_by_booking
                .entry(*booking)
                .or_default()
                .insert(id);
        }
        self.shares.insert(id, shares);
    }

    /// Where invoice `id`'s money goes now, as the pure report splits it.
    fn shares_of(&self, id: DocumentId) -> Option<Shares> {
        let invoice = self.invoices.get(&id).filter(|i| counts_as_invoiced(i))?;
        // A credit note naming no booking covers its original's.
        let original = invoice.credit_of.as_deref().and_then(id_of);
        let covered = match original.and_then(|original| self.invoices.get(&original)) {
            Some(original) if invoice.bookings.is_empty() => &original.bookings,
            _ => &invoice.bookings,
        };
        let bookings: Vec<DocumentId> = covered.iter().filter_map(|b| id_of(b)).collect();
        let parts: Vec<(&str, i64)> = bookings
            .iter()
            .filter_map(|booking| self.bookings.get(booking))
            .filter(|booking| self.departures.contains_key(&booking.departure))
            .map(|booking| (booking.departure.as_str(), booking.amount_minor.max(0)))
            .collect();
        let signed = signed_gross(invoice);
        let (parts, unattributed) = if parts.is_empty() {
            (Vec::new(), Some(signed))
        } else {
            let parts = split(signed, &parts)
                .into_iter()
                .map(|(departure, share)| (departure.to_owned(), share))
                .collect();
            (parts, None)
        };
        Some(Shares {
            currency: invoice.currency.clone(),
            parts,
            unattributed,
            bookings,
        })
    }

    /// Splits again every invoice that read booking `id`.
    fn split_by_booking(&mut self, id: DocumentId) {
        let invoices: Vec<DocumentId> = self
            .invoices_by_booking
            .get(&id)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        for invoice in invoices {
            self.split_again(invoice);
        }
    }

    fn put_booking(&mut self, id: DocumentId, booking: &BookingSummary, adding: bool) {
        if booking.status == BookingStatus::Confirmed {
            let booked = self.booked.entry(booking.departure.clone()).or_default();
            if adding {
                booked.add(&booking.currency, booking.amount_minor);
            } else {
                booked.remove(&booking.currency, booking.amount_minor);
                if booked.is_empty() {
                    self.booked.remove(&booking.departure);
                }
            }
        }
        if adding {
            self.bookings.insert(id, booking.clone());
            let of_departure = self.bookings_by_departure.entry(booking.departure.clone());
            of_departure.or_default().insert(id);
        } else {
            self.bookings.remove(&id);
            unlink(&mut self.bookings_by_departure, &booking.departure, id);
        }
    }

    fn put_invoice(&mut self, id: DocumentId, invoice: &InvoiceSummary, adding: bool) {
        let original = invoice.credit_of.as_deref().and_then(id_of);
        if adding {
            self.invoices.insert(id, invoice.clone());
            if let Some(original) = original {
                self.credit_notes.entry(original).or_default().insert(id);
            }
        } else {
            self.invoices.remove(&id);
            if let Some(original) = original {
                unlink(&mut self.credit_notes, &original, id);
            }
        }
        self.split_again(id);
        let credit_notes: Vec<DocumentId> = self
            .credit_notes
            .get(&id)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        for credit_note in credit_notes {
            self.split_again(credit_note);
        }
    }

    /// A departure came or went: the invoices split by its bookings are split again.
    fn departure_changed(&mut self, departure: &str) {
        let bookings: Vec<DocumentId> = self
            .bookings_by_departure
            .get(departure)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        for booking in bookings {
            self.split_by_booking(booking);
        }
    }

    fn put_summary(&mut self, id: DocumentId, summary: &Summary, adding: bool) {
        match summary {
            Summary::Booking(booking) => {
                self.put_booking(id, booking, adding);
                self.split_by_booking(id);
            }
            Summary::Invoice(invoice) => self.put_invoice(id, invoice, adding),
            Summary::Departure(departure) => {
                let name = key(&id);
                if adding {
                    self.departures.insert(name.clone(), departure.clone());
                } else {
                    self.departures.remove(&name);
                }
                self.departure_changed(&name);
            }
            Summary::Catalog(catalog) if adding => {
                self.catalogs.insert(key(&id), catalog.clone());
            }
            Summary::Catalog(_) => {
                self.catalogs.remove(&key(&id));
            }
            _ => {}
        }
    }
}

/// Takes `id` out of the set under `key`, and the set when it is left empty.
fn unlink<K, Q>(sets: &mut HashMap<K, BTreeSet<DocumentId>>, key: &Q, id: DocumentId)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(set) = sets.get_mut(key) {
        set.remove(&id);
        if set.is_empty() {
            sets.remove(key);
        }
    }
}

impl Aggregate for RevenueTotals {
    type Report = RevenueReport;
    /// A guide's hour in minor units.
    type Options = i64;

    fn add(&mut self, id: DocumentId, summary: &Summary) {
        self.put_summary(id, summary, true);
    }

    fn remove(&mut self, id: DocumentId, summary: &Summary) {
        self.put_summary(id, summary, false);
    }

    fn report(&self, _now_ms: i64, guide_hour_cost_minor: &i64) -> RevenueReport {
        let rate = *guide_hour_cost_minor;
        let rows = self
            .departures
            .iter()
            .map(|(id, departure)| {
                let mut row = departure_row(id, departure, rate);
                if let Some(booked) = self.booked.get(id) {
                    row.booked = booked.amounts();
                }
                if let Some(invoiced) = self.invoiced.get(id) {
                    row.invoiced = invoiced.amounts();
                }
                row
            })
            .collect();
        let tour_name = |tour: &str| {
            self.catalogs
                .values()
                .find_map(|catalog| catalog.tours.get(tour))
                .map(|tour| tour.name.clone())
        };
        finish(rows, tour_name, rate, self.unattributed.amounts())
    }

    /// A departure or booking that changes in place (seats, status) moves no invoice: only
    /// a change of what splits invoices (which departure, the amount) splits them again.
    fn put(&mut self, id: DocumentId, old: Option<&Summary>, new: Option<&Summary>) {
        match (old, new) {
            (Some(Summary::Departure(_)), Some(Summary::Departure(departure))) => {
                self.departures.insert(key(&id), departure.clone());
            }
            (Some(Summary::Booking(old)), Some(Summary::Booking(new)))
                if old.departure == new.departure && old.amount_minor == new.amount_minor =>
            {
                self.put_booking(id, old, false);
                self.put_booking(id, new, true);
            }
            (old, new) => {
                if let Some(old) = old {
                    self.remove(id, old);
                }
                if let Some(new) = new {
                    self.add(id, new);
                }
            }
        }
    }
}

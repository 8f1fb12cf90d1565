//! Revenue per departure and per tour: seats sold, what was booked, what was invoiced, and the
//! margin left after guides' hours.
//!
//! - *Booked*: amounts of confirmed bookings, per currency.
//! - *Invoiced*: gross of posted and credited invoices; a credit note (`credit_of` set)
//!   subtracts its gross. An invoice reaches departures through its bookings (a credit note
//!   without bookings through those of the invoice it corrects). An invoice covering bookings
//!   of several departures is split in proportion to the bookings' amounts (equally when they
//!   are all zero), truncating, with the remainder on the first booking in id order, so the
//!   parts add up to the gross exactly. Invoiced money no departure summary can take (unknown
//!   bookings or departures) is reported as `unattributed_invoiced`.
//! - *Guide cost*: hours of accepted assignments × `guide_hour_cost_minor`, rounded half away
//!   from zero per departure; a tour's cost is the sum of its departures' costs. A cancelled
//!   departure costs no guide hours.
//! - *Margin*: invoiced − guide cost, when the invoiced money is in one currency (the guide
//!   rate is taken to be in that currency); `None` when it spans several. Consumables have no
//!   cost in the catalogue yet, so they are not deducted (the stock report shows quantities).
//! - *Load factor*: confirmed seats (as the server derived them) over capacity, `None` for a
//!   capacity of zero. Every departure counts, whatever its status.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Departure, GuideAssignment, AssignmentStatus};
//! use itinera_core::reports::{Summary, revenue};
//!
//! let mut departure = Departure { tour: "db3".into(), capacity: 20, seats_confirmed: 5, ..Default::default() };
//! departure.assignments.insert("a".into(), GuideAssignment { status: AssignmentStatus::Accepted, hours: 8.0, ..Default::default() });
//! let summaries = [(DocumentId::from_bytes([1; 16]), Summary::Departure((&departure).into()))];
//! let report = revenue(&summaries, 2_500);
//! assert_eq!(report.departures[0].load_factor, Some(0.25));
//! assert_eq!(report.departures[0].margin_minor, Some(-20_000)); // nothing invoiced yet
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::model::{AssignmentStatus, BookingStatus, DepartureStatus, InvoiceStatus};
use crate::reports::amounts::Amounts;
use crate::reports::rounding::hours_cost;
use crate::reports::summary::{DepartureSummary, InvoiceSummary, Summary};
use crate::reports::summary_index::SummaryIndex;

/// Revenue by departure and by tour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueReport {
    /// The guide rate the costs were computed with, minor units per hour.
    pub guide_hour_cost_minor: i64,
    /// Every departure, by start time.
    pub departures: Vec<DepartureRevenue>,
    /// Every tour with a departure, by tour id.
    pub tours: Vec<TourRevenue>,
    /// Invoiced money that reaches no departure summary.
    pub unattributed_invoiced: Amounts,
}

/// One departure's revenue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartureRevenue {
    /// The departure document id (bare bs58).
    pub departure: String,
    /// The tour id.
    pub tour: String,
    /// Unix ms.
    pub starts_at: i64,
    /// Whether it runs.
    #[serde(with = "crate::reports::stored_text")]
    pub status: DepartureStatus,
    /// Seats of confirmed bookings.
    pub seats_confirmed: i64,
    /// Seats for sale.
    pub capacity: i64,
    /// `seats_confirmed / capacity`.
    pub load_factor: Option<f64>,
    /// Amounts of confirmed bookings.
    pub booked: Amounts,
    /// Gross invoiced, net of credit notes.
    pub invoiced: Amounts,
    /// Hours of accepted guide assignments.
    pub guide_hours: f64,
    /// `guide_hours × guide_hour_cost_minor`, rounded.
    pub guide_cost_minor: i64,
    /// Invoiced minus guide cost; `None` when invoiced in several currencies.
    pub margin_minor: Option<i64>,
}

/// One tour's revenue over all its departures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourRevenue {
    /// The tour id.
    pub tour: String,
    /// Its name in the catalogue, if there.
    pub name: Option<String>,
    /// How many departures.
    pub departures: u64,
    /// Confirmed seats over its departures.
    pub seats_confirmed: i64,
    /// Capacity over its departures.
    pub capacity: i64,
    /// `seats_confirmed / capacity`.
    pub load_factor: Option<f64>,
    /// Amounts of confirmed bookings.
    pub booked: Amounts,
    /// Gross invoiced, net of credit notes.
    pub invoiced: Amounts,
    /// Hours of accepted guide assignments.
    pub guide_hours: f64,
    /// Sum of its departures' guide costs.
    pub guide_cost_minor: i64,
    /// Invoiced minus guide cost; `None` when invoiced in several currencies.
    pub margin_minor: Option<i64>,
}

/// Revenue over `summaries`, guides costing `guide_hour_cost_minor` per accepted hour.
pub fn revenue(summaries: &[(DocumentId, Summary)], guide_hour_cost_minor: i64) -> RevenueReport {
    let index = SummaryIndex::new(summaries);
    let mut rows: BTreeMap<&str, DepartureRevenue> = index
        .departures
        .iter()
        .map(|(id, departure)| {
            (
                id.as_str(),
                departure_row(id, departure, guide_hour_cost_minor),
            )
        })
        .collect();

    for booking in index.bookings.values() {
        if booking.status != BookingStatus::Confirmed {
            continue;
        }
        if let Some(row) = rows.get_mut(booking.departure.as_str()) {
            row.booked.add(&booking.currency, booking.amount_minor);
        }
    }

    let mut unattributed_invoiced = Amounts::new();
    for invoice in index.invoices.values() {
        if !counts_as_invoiced(invoice) {
            continue;
        }
        let signed = signed_gross(invoice);
        // (departure, weight) of each booking that leads to a departure row.
        let parts: Vec<(&str, i64)> = invoiced_bookings(invoice, &index)
            .iter()
            .filter_map(|booking| index.booking(booking))
            .filter(|booking| rows.contains_key(booking.departure.as_str()))
            .map(|booking| (booking.departure.as_str(), booking.amount_minor.max(0)))
            .collect();
        if parts.is_empty() {
            unattributed_invoiced.add(&invoice.currency, signed);
            continue;
        }
        for (departure, share) in split(signed, &parts) {
            if let Some(row) = rows.get_mut(departure) {
                row.invoiced.add(&invoice.currency, share);
            }
        }
    }

    finish(
        rows.into_values().collect(),
        |tour| index.tour(tour).map(|tour| tour.name.clone()),
        guide_hour_cost_minor,
        unattributed_invoiced,
    )
}

/// Whether an invoice's money counts as invoiced: posted or credited.
pub(crate) fn counts_as_invoiced(invoice: &InvoiceSummary) -> bool {
    matches!(
        invoice.status,
        InvoiceStatus::Posted | InvoiceStatus::Credited
    )
}

/// An invoice's gross, negative for a credit note.
pub(crate) fn signed_gross(invoice: &InvoiceSummary) -> i64 {
    if invoice.credit_of.is_some() {
        invoice.gross_minor.saturating_abs().saturating_neg()
    } else {
        invoice.gross_minor
    }
}

/// The row of departure `id`, with nothing booked or invoiced yet.
pub(crate) fn departure_row(
    id: &str,
    departure: &DepartureSummary,
    guide_hour_cost_minor: i64,
) -> DepartureRevenue {
    // Nobody guides a cancelled departure, whatever its assignments still say.
    let guide_hours: f64 = departure
        .assignments
        .iter()
        .filter(|a| a.status == AssignmentStatus::Accepted)
        .filter(|_| departure.status != DepartureStatus::Cancelled)
        .map(|a| a.hours)
        .sum();
    DepartureRevenue {
        departure: id.to_owned(),
        tour: departure.tour.clone(),
        starts_at: departure.starts_at,
        status: departure.status,
        seats_confirmed: departure.seats_confirmed,
        capacity: departure.capacity,
        load_factor: load_factor(departure.seats_confirmed, departure.capacity),
        booked: Amounts::new(),
        invoiced: Amounts::new(),
        guide_hours,
        guide_cost_minor: hours_cost(guide_hours, guide_hour_cost_minor),
        margin_minor: None,
    }
}

/// The report from the departures' rows (booked and invoiced filled in, in any order): their
/// margins, sorted by start, and the tours summed from them.
pub(crate) fn finish(
    rows: Vec<DepartureRevenue>,
    tour_name: impl Fn(&str) -> Option<String>,
    guide_hour_cost_minor: i64,
    unattributed_invoiced: Amounts,
) -> RevenueReport {
    let mut departures: Vec<DepartureRevenue> = rows
        .into_iter()
        .map(|mut row| {
            row.margin_minor = margin(&row.invoiced, row.guide_cost_minor);
            row
        })
        .collect();
    departures.sort_by(|a, b| (a.starts_at, &a.departure).cmp(&(b.starts_at, &b.departure)));

    let mut tours: BTreeMap<&str, TourRevenue> = BTreeMap::new();
    for row in &departures {
        let tour = tours
            .entry(row.tour.as_str())
            .or_insert_with(|| TourRevenue {
                tour: row.tour.clone(),
                name: tour_name(&row.tour),
                departures: 0,
                seats_confirmed: 0,
                capacity: 0,
                load_factor: None,
                booked: Amounts::new(),
                invoiced: Amounts::new(),
                guide_hours: 0.0,
                guide_cost_minor: 0,
                margin_minor: None,
            });
        tour.departures += 1;
        tour.seats_confirmed = tour.seats_confirmed.saturating_add(row.seats_confirmed);
        tour.capacity = tour.capacity.saturating_add(row.capacity);
        tour.booked.add_all(&row.booked);
        tour.invoiced.add_all(&row.invoiced);
        tour.guide_hours += row.guide_hours;
        tour.guide_cost_minor = tour.guide_cost_minor.saturating_add(row.guide_cost_minor);
    }
    let tours = tours
        .into_values()
        .map(|mut tour| {
            tour.load_factor = load_factor(tour.seats_confirmed, tour.capacity);
            tour.margin_minor = margin(&tour.invoiced, tour.guide_cost_minor);
            tour
        })
        .collect();

    RevenueReport {
        guide_hour_cost_minor,
        departures,
        tours,
        unattributed_invoiced,
    }
}

/// The bookings an invoice covers; a credit note naming none covers its original's.
fn invoiced_bookings<'a>(invoice: &'a InvoiceSummary, index: &SummaryIndex<'a>) -> &'a [String] {
    let original = invoice
        .credit_of
        .as_deref()
        .and_then(|original| index.invoice(original));
    match original {
        Some(original) if invoice.bookings.is_empty() => &original.bookings,
        _ => &invoice.bookings,
    }
}

/// `amount` split over `parts` in proportion to their weights (equally when the weights are
/// all zero), truncating; the remainder goes to the first part, so the shares add up exactly.
pub(crate) fn split<'a>(amount: i64, parts: &[(&'a str, i64)]) -> Vec<(&'a str, i64)> {
    let weights: Vec<i128> = if parts.iter().all(|(_, weight)| *weight == 0) {
        vec![1; parts.len()]
    } else {
        parts
            .iter()
            .map(|(_, weight)| i128::from(*weight))
            .collect()
    };
    let total: i128 = weights.iter().sum();
    let mut shares: Vec<(&'a str, i64)> = parts
        .iter()
        .zip(&weights)
        .map(|((key, _), weight)| {
            let share = i128::from(amount) * weight / total.max(1);
            (*key, i64::try_from(share).unwrap_or(0))
        })
        .collect();
    let given: i64 = shares.iter().map(|(_, share)| *share).sum();
    if let Some((_, first)) = shares.first_mut() {
        *first = first.saturating_add(amount.saturating_sub(given));
    }
    shares
}

fn load_factor(seats: i64, capacity: i64) -> Option<f64> {
    (capacity > 0).then(|| seats as f64 / capacity as f64)
}

fn margin(invoiced: &Amounts, guide_cost_minor: i64) -> Option<i64> {
    invoiced
        .single_currency_total()
        .map(|invoiced| invoiced.saturating_sub(guide_cost_minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_add_up_to_the_whole() {
        // 100 over weights 1:1:1 → 33 each, the remainder 1 on the first.
        assert_eq!(
            split(100, &[("a", 5), ("b", 5), ("c", 5)]),
            [("a", 34), ("b", 33), ("c", 33)]
        );
        // Weights 3:1 of 1_001 → 750.75 and 250.25 truncated to 750 and 250, plus 1 on the first.
        assert_eq!(
            split(1_001, &[("a", 300), ("b", 100)]),
            [("a", 751), ("b", 250)]
        );
        // All weights zero: equal shares.
        assert_eq!(split(-10, &[("a", 0), ("b", 0)]), [("a", -5), ("b", -5)]);
        // Negative (a credit note): truncation toward zero, remainder on the first.
        assert_eq!(split(-7, &[("a", 1), ("b", 1)]), [("a", -4), ("b", -3)]);
    }
}

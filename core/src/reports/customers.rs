//! Customers and support: how many customers come back, and how fast their tickets are
//! resolved.
//!
//! A customer is an account with at least one confirmed booking; a repeat customer has two or
//! more. Resolution time is from a ticket's first message to when it was resolved (zero when
//! stamped before it); the mean and the median are computed from whole milliseconds, so the
//! running totals of [`CustomerTotals`](crate::reports::CustomerTotals) give the same figures.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{BookingStatus, TicketPriority, TicketStatus};
//! use itinera_core::reports::{BookingSummary, Summary, TicketSummary, customers};
//!
//! const HOUR: i64 = 3_600_000;
//! let booking = |account: &str| Summary::Booking(BookingSummary {
//!     departure: "d".into(), account: account.into(), rep: "sam".into(),
//!     status: BookingStatus::Confirmed, seats: 2, amount_minor: 1, currency: "EUR".into(),
//!     submitted_at: None, received_at: None,
//! });
//! let ticket = Summary::Ticket(TicketSummary {
//!     status: TicketStatus::Resolved, priority: TicketPriority::High, account: "a".into(),
//!     opened_at: Some(0), resolved_at: Some(5 * HOUR),
//! });
//! let summaries: Vec<_> = [booking("a"), booking("a"), booking("b"), ticket]
//!     .into_iter()
//!     .enumerate()
//!     .map(|(n, s)| (DocumentId::from_bytes([n as u8; 16]), s))
//!     .collect();
//! let report = customers(&summaries);
//! assert_eq!((report.customers, report.repeat_customers), (2, 1));
//! assert_eq!(report.repeat_rate, Some(0.5));
//! assert_eq!(report.tickets.average_resolution_hours, Some(5.0));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::model::{BookingStatus, TicketPriority, TicketStatus};
use crate::reports::summary::{BookingSummary, Summary, TicketSummary};

/// The customers-and-support report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerReport {
    /// Accounts with at least one confirmed booking.
    pub customers: u64,
    /// Of those, accounts with two or more.
    pub repeat_customers: u64,
    /// `repeat_customers / customers`; `None` without customers.
    pub repeat_rate: Option<f64>,
    /// Tickets over all priorities.
    pub tickets: TicketFigures,
    /// The same per priority, most urgent first.
    pub by_priority: Vec<PriorityFigures>,
}

/// Ticket counts and resolution times.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketFigures {
    /// Open or pending.
    pub open: u64,
    /// Resolved or closed.
    pub resolved: u64,
    /// Mean hours from the first message to resolution, over resolved tickets with both times.
    pub average_resolution_hours: Option<f64>,
    /// The median of the same.
    pub median_resolution_hours: Option<f64>,
}

/// [`TicketFigures`] of one priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityFigures {
    /// The priority.
    #[serde(with = "crate::reports::stored_text")]
    pub priority: TicketPriority,
    /// Its figures.
    pub figures: TicketFigures,
}

/// The report over `summaries`.
pub fn customers(summaries: &[(DocumentId, Summary)]) -> CustomerReport {
    let mut bookings_per_account: BTreeMap<&str, u64> = BTreeMap::new();
    let mut tickets: Vec<&TicketSummary> = Vec::new();
    for (_, summary) in summaries {
        match summary {
            Summary::Booking(booking) if is_customer_booking(booking) => {
                *bookings_per_account.entry(&booking.account).or_default() += 1;
            }
            Summary::Ticket(ticket) => tickets.push(ticket),
            _ => {}
        }
    }
    let customers = bookings_per_account.len() as u64;
    let repeat_customers = bookings_per_account.values().filter(|n| **n >= 2).count() as u64;
    let by_priority = TicketPriority::ALL
        .iter()
        .rev()
        .map(|priority| PriorityFigures {
            priority: *priority,
            figures: figures(tickets.iter().copied().filter(|t| t.priority == *priority)),
        })
        .filter(|row| row.figures.open + row.figures.resolved > 0)
        .collect();
    CustomerReport {
        customers,
        repeat_customers,
        repeat_rate: (customers > 0).then(|| repeat_customers as f64 / customers as f64),
        tickets: figures(tickets.into_iter()),
        by_priority,
    }
}

/// Whether a booking makes its account a customer: confirmed, naming an account.
pub(crate) fn is_customer_booking(booking: &BookingSummary) -> bool {
    booking.status == BookingStatus::Confirmed && !booking.account.is_empty()
}

fn figures<'a>(tickets: impl Iterator<Item = &'a TicketSummary>) -> TicketFigures {
    let (mut open, mut resolved) = (0u64, 0u64);
    let mut times: Vec<i64> = Vec::new();
    for ticket in tickets {
        if is_resolved(ticket) {
            resolved += 1;
            times.extend(resolution_ms(ticket));
        } else {
            open += 1;
        }
    }
    times.sort_unstable();
    let middle = times.len() / 2;
    let median = match times.len() {
        0 => None,
        n if n % 2 == 0 => Some((times[middle - 1], times[middle])),
        _ => Some((times[middle], times[middle])),
    };
    let sum: i128 = times.iter().map(|ms| i128::from(*ms)).sum();
    ticket_figures(open, resolved, sum, times.len() as u64, median)
}

/// Whether a ticket counts as resolved (resolved or closed).
pub(crate) fn is_resolved(ticket: &TicketSummary) -> bool {
    matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed)
}

/// A resolved ticket's time from its first message to resolution in ms (never negative);
/// `None` without both times.
pub(crate) fn resolution_ms(ticket: &TicketSummary) -> Option<i64> {
    let (opened, resolved) = (ticket.opened_at?, ticket.resolved_at?);
    Some(resolved.saturating_sub(opened).max(0))
}

/// The figures from counts, the exact sum of `timed` resolution times and their middle pair
/// (the middle value twice when `timed` is odd). Hours are computed from whole milliseconds in
/// one division each, so any order of the tickets gives the same figures.
pub(crate) fn ticket_figures(
    open: u64,
    resolved: u64,
    sum_ms: i128,
    timed: u64,
    median: Option<(i64, i64)>,
) -> TicketFigures {
    let hours = |ms: f64| ms / HOUR_MS;
    TicketFigures {
        open,
        resolved,
        average_resolution_hours: (timed > 0).then(|| hours(sum_ms as f64 / timed as f64)),
        median_resolution_hours: median
            .map(|(low, high)| (hours(low as f64) + hours(high as f64)) / 2.0),
    }
}

const HOUR_MS: f64 = 3_600_000.0;

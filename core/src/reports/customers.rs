//! Customers and support: how many customers come back, and how fast their tickets are
//! resolved.
//!
//! A customer is an account with at least one confirmed booking; a repeat customer has two or
//! more. Resolution time is from a ticket's first message to when it was resolved.
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
use crate::reports::summary::{Summary, TicketSummary};

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
            Summary::Booking(booking)
                if booking.status == BookingStatus::Confirmed && !booking.account.is_empty() =>
            {
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

fn figures<'a>(tickets: impl Iterator<Item = &'a TicketSummary>) -> TicketFigures {
    let mut result = TicketFigures::default();
    let mut hours: Vec<f64> = Vec::new();
    for ticket in tickets {
        if matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
            result.resolved += 1;
            if let (Some(opened), Some(resolved)) = (ticket.opened_at, ticket.resolved_at) {
                hours.push((resolved - opened).max(0) as f64 / 3_600_000.0);
            }
        } else {
            result.open += 1;
        }
    }
    if !hours.is_empty() {
        hours.sort_by(f64::total_cmp);
        result.average_resolution_hours = Some(hours.iter().sum::<f64>() / hours.len() as f64);
        let middle = hours.len() / 2;
        result.median_resolution_hours = Some(if hours.len() % 2 == 0 {
            (hours[middle - 1] + hours[middle]) / 2.0
        } else {
            hours[middle]
        });
    }
    result
}

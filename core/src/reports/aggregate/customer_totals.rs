//! The customers-and-support report as running totals: confirmed bookings counted per account,
//! and tickets' counts and resolution times per priority.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{TicketPriority, TicketStatus};
//! use itinera_core::reports::{Aggregate, CustomerTotals, Summary, TicketSummary};
//!
//! let ticket = Summary::Ticket(TicketSummary {
//!     status: TicketStatus::Resolved, priority: TicketPriority::High, account: "a".into(),
//!     opened_at: Some(0), resolved_at: Some(7_200_000),
//! });
//! let mut totals = CustomerTotals::default();
//! totals.add(DocumentId::from_bytes([1; 16]), &ticket);
//! assert_eq!(totals.report(0, &()).tickets.median_resolution_hours, Some(2.0));
//! ```

use std::collections::{BTreeMap, HashMap};

use crate::DocumentId;
use crate::model::TicketPriority;
use crate::reports::aggregate::running_median::RunningMedian;
use crate::reports::aggregate::{Aggregate, step};
use crate::reports::customers::{is_customer_booking, is_resolved, resolution_ms, ticket_figures};
use crate::reports::summary::TicketSummary;
use crate::reports::{CustomerReport, PriorityFigures, Summary, TicketFigures};

/// Running totals of [`crate::reports::customers`].
#[derive(Debug, Clone, Default)]
pub struct CustomerTotals {
    /// Confirmed bookings per account that has any.
    bookings_per_account: HashMap<String, u64>,
    /// Accounts with two or more.
    repeat_customers: u64,
    tickets: TicketTotals,
    by_priority: BTreeMap<TicketPriority, TicketTotals>,
}

/// Tickets of one priority, or all.
#[derive(Debug, Clone, Default)]
struct TicketTotals {
    open: u64,
    resolved: u64,
    resolution_times: RunningMedian,
}

impl TicketTotals {
    fn count(&mut self, ticket: &TicketSummary, adding: bool) {
        let (counter, time) = if is_resolved(ticket) {
            (&mut self.resolved, resolution_ms(ticket))
        } else {
            (&mut self.open, None)
        };
        step(counter, 1, adding);
        match time {
            Some(ms) if adding => self.resolution_times.insert(ms),
            Some(ms) => self.resolution_times.remove(ms),
            None => {}
        }
    }

    fn is_empty(&self) -> bool {
        self.open + self.resolved == 0
    }

    fn figures(&self) -> TicketFigures {
        let times = &self.resolution_times;
        ticket_figures(
            self.open,
            self.resolved,
            times.sum(),
            times.len(),
            times.median(),
        )
    }
}

impl CustomerTotals {
    fn count_booking(&mut self, account: &str, adding: bool) {
        if adding {
            let count = self
                .bookings_per_account
                .entry(account.to_owned())
                .or_default();
            *count += 1;
            if *count == 2 {
                self.repeat_customers += 1;
            }
        } else if let Some(count) = self.bookings_per_account.get_mut(account) {
            if *count == 2 {
                self.repeat_customers = self.repeat_customers.saturating_sub(1);
            }
            *count -= 1;
            if *count == 0 {
                self.bookings_per_account.remove(account);
            }
        }
    }

    fn count_ticket(&mut self, ticket: &TicketSummary, adding: bool) {
        self.tickets.count(ticket, adding);
        let of_priority = self.by_priority.entry(ticket.priority).or_default();
        of_priority.count(ticket, adding);
        if of_priority.is_empty() {
            self.by_priority.remove(&ticket.priority);
        }
    }

    fn put_summary(&mut self, summary: &Summary, adding: bool) {
        match summary {
            Summary::Booking(booking) if is_customer_booking(booking) => {
                self.count_booking(&booking.account, adding)
            }
            Summary::Ticket(ticket) => self.count_ticket(ticket, adding),
            _ => {}
        }
    }
}

impl Aggregate for CustomerTotals {
    type Report = CustomerReport;
    type Options = ();

    fn add(&mut self, _id: DocumentId, summary: &Summary) {
        self.put_summary(summary, true);
    }

    fn remove(&mut self, _id: DocumentId, summary: &Summary) {
        self.put_summary(summary, false);
    }

    fn report(&self, _now_ms: i64, _: &()) -> CustomerReport {
        let customers = self.bookings_per_account.len() as u64;
        let repeat_customers = self.repeat_customers;
        CustomerReport {
            customers,
            repeat_customers,
            repeat_rate: (customers > 0).then(|| repeat_customers as f64 / customers as f64),
            tickets: self.tickets.figures(),
            // Most urgent first.
            by_priority: self
                .by_priority
                .iter()
                .rev()
                .map(|(priority, totals)| PriorityFigures {
                    priority: *priority,
                    figures: totals.figures(),
                })
                .collect(),
        }
    }
}

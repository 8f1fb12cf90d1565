//! What reports need of a departure: dates, seats and guide assignments, no manifest.
//!
//! ```
//! use itinera_core::model::{Departure, GuideAssignment, AssignmentStatus};
//! use itinera_core::reports::DepartureSummary;
//!
//! let mut departure = Departure { tour: "db3".into(), capacity: 20, ..Default::default() };
//! departure.assignments.insert("a-1".into(), GuideAssignment { employee: "e-1".into(), status: AssignmentStatus::Accepted, hours: 24.0, ..Default::default() });
//! let summary = DepartureSummary::from(&departure);
//! assert_eq!(summary.assignments[0].hours, 24.0);
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{AssignmentStatus, Departure, DepartureStatus};
use crate::reports::reference::reference;

/// A departure without its passenger manifest or allotments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartureSummary {
    /// The tour id (catalog key).
    pub tour: String,
    /// Unix ms.
    pub starts_at: i64,
    /// Unix ms.
    pub ends_at: i64,
    /// Seats for sale.
    pub capacity: i64,
    /// Whether it runs.
    #[serde(with = "crate::reports::stored_text")]
    pub status: DepartureStatus,
    /// Seats of confirmed bookings, as the server derived them.
    pub seats_confirmed: i64,
    /// Seats waiting for a cancellation, as the server derived them.
    pub seats_waitlisted: i64,
    /// Guide assignments, in assignment id order.
    pub assignments: Vec<AssignmentSummary>,
}

/// A guide put on a departure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentSummary {
    /// The employee document id (bare bs58).
    pub employee: String,
    /// Where the assignment stands.
    #[serde(with = "crate::reports::stored_text")]
    pub status: AssignmentStatus,
    /// Hours of work it is paid for (zero when the document holds no finite number).
    pub hours: f64,
}

impl From<&Departure> for DepartureSummary {
    fn from(departure: &Departure) -> Self {
        Self {
            tour: departure.tour.clone(),
            starts_at: departure.starts_at,
            ends_at: departure.ends_at,
            capacity: departure.capacity,
            status: departure.status,
            seats_confirmed: departure.seats_confirmed,
            seats_waitlisted: departure.seats_waitlisted,
            assignments: departure
                .assignments
                .values()
                .map(|assignment| AssignmentSummary {
                    employee: reference(&assignment.employee),
                    status: assignment.status,
                    // JSON has no NaN or infinity: a summary holding one would not load back.
                    hours: if assignment.hours.is_finite() {
                        assignment.hours
                    } else {
                        0.0
                    },
                })
                .collect(),
        }
    }
}

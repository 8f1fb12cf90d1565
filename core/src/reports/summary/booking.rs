//! What reports need of a booking: its departure, its seats and its value.
//!
//! ```
//! use itinera_core::model::{Booking, BookingStatus, Passenger};
//! use itinera_core::reports::BookingSummary;
//!
//! let mut booking = Booking { amount_minor: 78_000, status: BookingStatus::Confirmed, ..Default::default() };
//! booking.passengers.insert("p-1".into(), Passenger::default());
//! assert_eq!(BookingSummary::from(&booking).seats, 1);
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Booking, BookingStatus};
use crate::reports::reference::reference;

/// A booking without passengers' names or notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingSummary {
    /// The departure document id (bare bs58).
    pub departure: String,
    /// The customer's account document id (bare bs58).
    pub account: String,
    /// The sales rep's user id.
    pub rep: String,
    /// Where it stands.
    #[serde(with = "crate::reports::stored_text")]
    pub status: BookingStatus,
    /// Seats it takes: one per passenger.
    pub seats: i64,
    /// Its value in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 code of the amount.
    pub currency: String,
    /// Unix ms when the rep submitted it.
    pub submitted_at: Option<i64>,
    /// Unix ms when the server received the submission.
    #[serde(default)]
    pub received_at: Option<i64>,
}

impl From<&Booking> for BookingSummary {
    fn from(booking: &Booking) -> Self {
        Self {
            departure: reference(&booking.departure),
            account: reference(&booking.account),
            rep: booking.rep.clone(),
            status: booking.status,
            seats: booking.seats(),
            amount_minor: booking.amount_minor,
            currency: booking.currency.clone(),
            submitted_at: booking.submitted_at,
            received_at: booking.seating.received_at,
        }
    }
}

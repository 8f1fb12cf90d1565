use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record};

string_enum! {
    /// Where a booking stands. Phones write `Draft` and `Cancelled`; the server decides the rest.
    #[derive(Default)]
    pub enum BookingStatus {
        #[default]
        Draft = "draft",
        Provisional = "provisional",
        Confirmed = "confirmed",
        Waitlisted = "waitlisted",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
}

string_enum! {
    /// Who a passenger is, for prices and seating.
    #[derive(Default)]
    pub enum PassengerCategory {
        #[default]
        Adult = "adult",
        Child = "child",
        Infant = "infant",
        Senior = "senior",
    }
}

record! {
    /// Seats on a departure for a customer (`booking:{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Booking {
        pub departure: String,
        pub account: String,
        pub contact: Option<String>,
        /// The sales rep's user id.
        pub rep: String,
        pub channel: String,
        /// Passengers by passenger key.
        pub passengers: BTreeMap<String, Passenger>,
        pub amount_minor: i64,
        pub currency: String,
        /// Written by the server once submitted.
        pub status: BookingStatus,
        /// Confirmation order among bookings of a departure: higher first, then submission time.
        pub priority: i64,
        /// Unix ms when the rep submitted it; the server decides from then on.
        pub submitted_at: Option<i64>,
        pub cancelled_at: Option<i64>,
        pub notes: Text,
    }
}

impl Record for Booking {
    const KIND: DocumentKind = DocumentKind::Booking;
}

record! {
    /// One traveller on a booking.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Passenger {
        pub name: String,
        pub category: PassengerCategory,
        pub dietary: String,
    }
}

impl Booking {
    /// Seats this booking takes.
    pub fn seats(&self) -> i64 {
        i64::try_from(self.passengers.len()).unwrap_or(i64::MAX)
    }
}

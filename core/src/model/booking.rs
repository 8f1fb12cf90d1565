use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record, Set};

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
        /// Confirmation order among bookings of a departure: higher first, then when the
        /// server received them. Office's to set, never the rep's.
        pub priority: i64,
        /// Unix ms when the rep submitted it, on the phone's clock; clearing it withdraws the
        /// submission. The queue order comes from [`Seating::received_at`], the server's clock.
        pub submitted_at: Option<i64>,
        /// When the customer cancelled; final once set.
        pub cancelled_at: Option<i64>,
        pub notes: Text,
        /// Written by the server: the submission's place in the queue, the seats it holds and
        /// why a requested change waits.
        #[autosurgeon(missing = "Default::default")]
        pub seating: Seating,
    }
}

record! {
    /// The server's record of a booking's seats. Devices read it (the rep's phone shows
    /// `waiting`); only the server writes it.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Seating {
        /// The `submitted_at` this record is for: a new submission starts over.
        pub submission: Option<i64>,
        /// When the server received the submission (its clock, unix ms): the queue order.
        pub received_at: Option<i64>,
        /// The departure the seats are held on (a booking moved elsewhere releases them).
        pub departure: String,
        /// The passengers (by key) holding confirmed seats.
        pub confirmed: Set,
        /// Why a requested change waits (more passengers than free seats), for the rep.
        pub waiting: Option<String>,
        /// Whether the booking lost confirmed seats because office lowered the capacity.
        pub bumped: bool,
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

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

#[cfg(doc)]
use super::Manifest;
use super::shape::{record, string_enum};
use super::{DocumentKind, ManifestEntry, Record, Set};

string_enum! {
    /// Whether a departure runs.
    #[derive(Default)]
    pub enum DepartureStatus {
        #[default]
        Scheduled = "scheduled",
        Guaranteed = "guaranteed",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

string_enum! {
    /// What a guide does on a departure.
    #[derive(Default)]
    pub enum GuideRole {
        #[default]
        Lead = "lead",
        Assistant = "assistant",
        Driver = "driver",
    }
}

string_enum! {
    /// Where a guide assignment stands. `Conflict` is set by the authority only.
    #[derive(Default)]
    pub enum AssignmentStatus {
        #[default]
        Offered = "offered",
        Accepted = "accepted",
        Declined = "declined",
        Conflict = "conflict",
        Cancelled = "cancelled",
    }
}

record! {
    /// One run of a tour (`departure:{id}`). Holds no prices: guides read it.
    ///
    /// Seats are derived by the server from bookings, never counted on phones: a counter would
    /// happily merge two reps' last seats into an overbooking.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Departure {
        /// The tour id; set once.
        pub tour: String,
        /// Unix ms.
        pub starts_at: i64,
        pub ends_at: i64,
        /// IANA zone the tour runs in, for display.
        pub time_zone: String,
        pub capacity: i64,
        pub status: DepartureStatus,
        /// Seats held for a sales rep, by user id.
        pub allotments: BTreeMap<String, i64>,
        /// Written by the server: seats of confirmed bookings.
        pub seats_confirmed: i64,
        /// Written by the server: seats of bookings submitted and not yet decided.
        pub seats_provisional: i64,
        /// Written by the server: seats waiting for a cancellation.
        pub seats_waitlisted: i64,
        /// Retired, kept empty by the server: the passengers are personal data every rep would
        /// read here, so they moved to the departure's [`Manifest`] document, which only head
        /// office and the guides assigned read.
        pub manifest: BTreeMap<String, ManifestEntry>,
        /// Guide assignments by assignment id.
        pub assignments: BTreeMap<String, GuideAssignment>,
        /// Written by the server: the users of the guides assigned (offered, accepted or in
        /// conflict), whom the assignment gives access to the departure and its field log.
        #[autosurgeon(missing = "Default::default")]
        pub guides: Set,
    }
}

impl Record for Departure {
    const KIND: DocumentKind = DocumentKind::Departure;
}

record! {
    /// A guide put on a departure.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct GuideAssignment {
        /// The employee id; set once.
        pub employee: String,
        pub role: GuideRole,
        pub status: AssignmentStatus,
        pub hours: f64,
    }
}

impl Departure {
    /// Seats not yet taken by confirmed bookings.
    pub fn seats_free(&self) -> i64 {
        (self.capacity - self.seats_confirmed).max(0)
    }
}

//! Rule 2, seats: which bookings of a departure are confirmed, waitlisted or rejected, and which
//! of their passengers hold the seats.
//!
//! Seats are never counted on phones: two reps selling the last three seats offline would both
//! succeed. The authority decides from the bookings themselves, in one deterministic order,
//! every time anything changes; the reps see the outcome after their next sync.
//!
//! A seat once confirmed is the customer's. The queue is ordered by office's priority, then by
//! when the **server** received the submission ([`Seating::received_at`], never the phone's
//! clock). A change to a submitted or confirmed booking is a request: extra passengers get
//! seats only if seats are free, else they wait and the rep's phone says why
//! ([`Seating::waiting`]); a booking moved to another departure is a new request there and its
//! seats on the old one are released; a withdrawn submission (`submitted_at` cleared) releases
//! its seats; a rejected or cancelled booking is never confirmed again by itself.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Booking, BookingStatus, Departure, Passenger};
//! use itinera_core::rules::decide_seats;
//!
//! let departure = Departure { capacity: 2, ..Default::default() };
//! let booking = |seats: usize| {
//!     let mut booking = Booking { submitted_at: Some(1), ..Default::default() };
//!     for n in 0..seats {
//!         booking.passengers.insert(format!("p{n}"), Passenger::default());
//!     }
//!     booking
//! };
//! let (ana, ben) = (DocumentId::from_bytes([1; 16]), DocumentId::from_bytes([2; 16]));
//! let dep = DocumentId::from_bytes([9; 16]);
//! // Ana's booking reached the server first.
//! let first = decide_seats(&dep, &departure, &[(ana, booking(2))], 1_000);
//! let mut ana_now = booking(2);
//! ana_now.status = first.statuses[&ana];
//! ana_now.seating = first.seatings[&ana].clone();
//! let plan = decide_seats(&dep, &departure, &[(ben, booking(2)), (ana, ana_now)], 2_000);
//! assert_eq!(plan.statuses[&ana], BookingStatus::Confirmed);
//! assert_eq!(plan.statuses[&ben], BookingStatus::Waitlisted);
//! assert_eq!((plan.seats_confirmed, plan.seats_waitlisted), (2, 2));
//! ```

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::Finding;
use crate::DocumentId;
use crate::model::{
    AlertRule, AlertSeverity, Booking, BookingStatus, Departure, DepartureStatus, ManifestEntry,
    Seating, Set,
};

/// The authority's decision on the seats of one departure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeatPlan {
    /// The status of every booking the decision touches: submitted ones, and withdrawn ones
    /// that go back to draft; drafts never submitted are not here.
    pub statuses: BTreeMap<DocumentId, BookingStatus>,
    /// The server's seating record of every booking in [`Self::statuses`].
    pub seatings: BTreeMap<DocumentId, Seating>,
    /// Seats of confirmed passengers, for [`Departure::seats_confirmed`].
    pub seats_confirmed: i64,
    /// Always zero after a decision: every submitted booking is decided.
    pub seats_provisional: i64,
    /// Seats waiting: waitlisted bookings and extra passengers of confirmed ones.
    pub seats_waitlisted: i64,
    /// Passengers holding confirmed seats, keyed `<booking id>/<passenger key>`, without prices.
    pub manifest: BTreeMap<String, ManifestEntry>,
    /// Bookings bumped by a lowered capacity, and bookings on a cancelled departure.
    pub findings: Vec<Finding>,
}

impl SeatPlan {
    /// Writes the derived seat counts and manifest into `departure`.
    pub fn apply(&self, departure: &mut Departure) {
        departure.seats_confirmed = self.seats_confirmed;
        departure.seats_provisional = self.seats_provisional;
        departure.seats_waitlisted = self.seats_waitlisted;
        departure.manifest = self.manifest.clone();
    }
}

/// The server's seating record of `booking` once received as it is now, at `at` (the server's
/// clock): the same record while the submission and the departure stay; a fresh one (no seats,
/// received now) for a new submission or a move; none for a draft or a withdrawn submission.
///
/// A booking confirmed before the server kept seating records keeps its passengers' seats and
/// its place (its `submitted_at`, by which such bookings were ordered then).
pub fn receive(booking: &Booking, at: i64) -> Seating {
    let Some(submitted) = booking.submitted_at else {
        return Seating::default();
    };
    let seating = &booking.seating;
    if *seating == Seating::default() && booking.status != BookingStatus::Draft {
        let confirmed = if booking.status == BookingStatus::Confirmed {
            booking.passengers.keys().map(String::as_str).collect()
        } else {
            Set::new()
        };
        return Seating {
            submission: Some(submitted),
            received_at: Some(submitted),
            departure: booking.departure.clone(),
            confirmed,
            ..Seating::default()
        };
    }
    let same_submission = seating.submission == Some(submitted) && seating.received_at.is_some();
    if same_submission && seating.departure == booking.departure {
        return seating.clone();
    }
    Seating {
        submission: Some(submitted),
        received_at: Some(at),
        departure: booking.departure.clone(),
        ..Seating::default()
    }
}

/// One live booking while the departure is decided.
struct Candidate<'a> {
    id: &'a DocumentId,
    booking: &'a Booking,
    seating: Seating,
}

impl Candidate<'_> {
    fn queue_key(&self) -> (Reverse<i64>, i64, DocumentId) {
        (
            Reverse(self.booking.priority),
            self.seating.received_at.unwrap_or(i64::MAX),
            *self.id,
        )
    }

    /// The confirmed passengers still on the booking.
    fn held(&self) -> Vec<&str> {
        self.seating
            .confirmed
            .iter()
            .filter(|key| self.booking.passengers.contains_key(*key))
            .collect()
    }

    fn requested(&self) -> i64 {
        count(self.booking.passengers.len())
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Decides every submitted booking of a departure; `bookings` are the departure's bookings
/// (the caller selects them), in any order, each id once, each with the seating record the
/// server last wrote. `now` is when the server received the submissions it has no record of.
///
/// - A draft is left alone; a withdrawn submission goes back to draft and holds no seat.
/// - A booking cancelled by the customer (`cancelled_at` set, or status `cancelled`) is
///   `Cancelled` for good and holds no seat.
/// - A booking rejected for this submission and departure stays `Rejected`.
/// - On a cancelled departure every other submitted booking is `Rejected`, each with a
///   [`AlertRule::BookingOnCancelledDeparture`] finding for its rep.
/// - Otherwise the seats already confirmed stay confirmed; if office lowered the capacity below
///   them, they are seated again first-fit in queue order and those that no longer fit are
///   waitlisted and marked bumped, each with a critical [`AlertRule::Overbooked`] finding that
///   holds until the customer has seats again. Then every booking in queue order (priority
///   descending, then when the server received it, then id) gets the seats it asks for beyond
///   those it holds if they are free, all or none; else a new booking is `Waitlisted` and a
///   confirmed one keeps its seats while the rest wait. First fit: a smaller request later in
///   line may use seats a larger one could not.
///
/// More seats than the capacity are never confirmed, and the same bookings give the same plan
/// whatever order their changes arrived in.
pub fn decide_seats(
    departure_id: &DocumentId,
    departure: &Departure,
    bookings: &[(DocumentId, Booking)],
    now: i64,
) -> SeatPlan {
    let mut plan = SeatPlan::default();
    let mut live = Vec::new();
    for (id, booking) in bookings {
        let seating = receive(booking, now);
        if booking.submitted_at.is_none() {
            if booking.status != BookingStatus::Draft || booking.seating != Seating::default() {
                plan.statuses.insert(*id, BookingStatus::Draft);
                plan.seatings.insert(*id, seating);
            }
        } else if booking.cancelled_at.is_some() || booking.status == BookingStatus::Cancelled {
            plan.statuses.insert(*id, BookingStatus::Cancelled);
            plan.seatings.insert(
                *id,
                Seating {
                    confirmed: Set::new(),
                    waiting: None,
                    bumped: false,
                    ..seating
                },
            );
        } else {
            live.push(Candidate {
                id,
                booking,
                seating,
            });
        }
    }
    live.sort_by_key(Candidate::queue_key);

    if departure.status == DepartureStatus::Cancelled {
        reject_all(departure_id, live, &mut plan);
        return plan;
    }
    // Rejected for this submission on this departure (or before the server kept seating
    // records): only a new submission or a move asks again.
    let (rejected, live): (Vec<_>, Vec<_>) = live.into_iter().partition(|candidate| {
        let stored = &candidate.booking.seating;
        candidate.booking.status == BookingStatus::Rejected
            && (*stored == candidate.seating || *stored == Seating::default())
    });
    for candidate in rejected {
        plan.statuses.insert(*candidate.id, BookingStatus::Rejected);
        plan.seatings.insert(*candidate.id, candidate.seating);
    }
    seat(departure_id, departure.capacity.max(0), live, &mut plan);
    plan
}

/// Every live booking of a cancelled departure is rejected.
fn reject_all(departure_id: &DocumentId, live: Vec<Candidate<'_>>, plan: &mut SeatPlan) {
    for candidate in live {
        let id = *candidate.id;
        plan.statuses.insert(id, BookingStatus::Rejected);
        plan.seatings.insert(
            id,
            Seating {
                confirmed: Set::new(),
                waiting: None,
                bumped: false,
                ..candidate.seating
            },
        );
        plan.findings.push(
            Finding::new(
                AlertRule::BookingOnCancelledDeparture,
                AlertSeverity::Warning,
                *departure_id,
                &id.to_string(),
                format!(
                    "booking {id} was submitted for departure {departure_id}, which is \
                     cancelled: it is rejected; offer the customer another departure or a refund"
                ),
            )
            .for_owner(&candidate.booking.rep),
        );
    }
}

/// Seats the live bookings: what is held first, then the requests in queue order.
fn seat(departure_id: &DocumentId, capacity: i64, live: Vec<Candidate<'_>>, plan: &mut SeatPlan) {
    let mut free = capacity;
    // The seats already confirmed, first-fit in queue order within the capacity.
    let mut holding = Vec::with_capacity(live.len());
    for mut candidate in live {
        let held = count(candidate.held().len());
        if held > 0 && held > free {
            candidate.seating.confirmed = Set::new();
            candidate.seating.bumped = true;
        } else {
            free -= held;
        }
        holding.push(candidate);
    }
    for mut candidate in holding {
        let held: Vec<String> = candidate.held().into_iter().map(str::to_owned).collect();
        let extra = candidate.requested() - count(held.len());
        let mut confirmed: Set = held.iter().map(String::as_str).collect();
        let status = if extra <= free {
            free -= extra;
            confirmed = candidate
                .booking
                .passengers
                .keys()
                .map(String::as_str)
                .collect();
            candidate.seating.waiting = None;
            candidate.seating.bumped = false;
            BookingStatus::Confirmed
        } else if !held.is_empty() {
            plan.seats_waitlisted = plan.seats_waitlisted.saturating_add(extra);
            candidate.seating.waiting = Some(format!(
                "{extra} more passenger(s) wait for free seats ({free} free); the {} confirmed \
                 keep their seats",
                held.len()
            ));
            BookingStatus::Confirmed
        } else {
            plan.seats_waitlisted = plan.seats_waitlisted.saturating_add(extra);
            candidate.seating.waiting = Some(format!(
                "waitlisted: {extra} seat(s) asked, {free} free; confirmed when seats free up, \
                 in the order the server received the bookings"
            ));
            BookingStatus::Waitlisted
        };
        for key in confirmed.iter() {
            if let Some(passenger) = candidate.booking.passengers.get(key) {
                plan.manifest.insert(
                    format!("{}/{key}", candidate.id),
                    ManifestEntry {
                        name: passenger.name.clone(),
                        category: passenger.category.as_str().to_owned(),
                        dietary: passenger.dietary.clone(),
                        booking: candidate.id.to_string(),
                    },
                );
            }
        }
        plan.seats_confirmed = plan.seats_confirmed.saturating_add(count(confirmed.len()));
        candidate.seating.confirmed = confirmed;
        if candidate.seating.bumped && status == BookingStatus::Waitlisted {
            plan.findings
                .push(bumped_finding(departure_id, capacity, &candidate));
        }
        plan.statuses.insert(*candidate.id, status);
        plan.seatings.insert(*candidate.id, candidate.seating);
    }
}

fn bumped_finding(departure_id: &DocumentId, capacity: i64, candidate: &Candidate<'_>) -> Finding {
    let id = candidate.id;
    Finding::new(
        AlertRule::Overbooked,
        AlertSeverity::Critical,
        *departure_id,
        &id.to_string(),
        format!(
            "booking {id} was confirmed, but the capacity of departure {departure_id} was \
             lowered to {capacity}: it is waitlisted until seats free up; raise the capacity \
             or offer the customer another departure"
        ),
    )
    .for_owner(&candidate.booking.rep)
}

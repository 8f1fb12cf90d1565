//! Rule 2, seats: which bookings of a departure are confirmed, waitlisted or rejected.
//!
//! Seats are never counted on phones: two reps selling the last three seats offline would both
//! succeed. The authority decides from the bookings themselves, in one deterministic order,
//! every time anything changes; the reps see the outcome after their next sync.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Booking, BookingStatus, Departure, Passenger};
//! use itinera_core::rules::decide_seats;
//!
//! let departure = Departure { capacity: 2, ..Default::default() };
//! let booking = |seats: usize, submitted_at| {
//!     let mut booking = Booking { submitted_at: Some(submitted_at), ..Default::default() };
//!     for n in 0..seats {
//!         booking.passengers.insert(format!("p{n}"), Passenger::default());
//!     }
//!     booking
//! };
//! let (ana, ben) = (DocumentId::from_bytes([1; 16]), DocumentId::from_bytes([2; 16]));
//! let plan = decide_seats(
//!     &DocumentId::from_bytes([9; 16]),
//!     &departure,
//!     &[(ben, booking(2, 20)), (ana, booking(2, 10))],
//! );
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
};

/// The authority's decision on the seats of one departure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeatPlan {
    /// The status of every submitted booking; drafts are not here and stay as they are.
    pub statuses: BTreeMap<DocumentId, BookingStatus>,
    /// Seats of confirmed bookings, for [`Departure::seats_confirmed`].
    pub seats_confirmed: i64,
    /// Always zero after a decision: every submitted booking is decided.
    pub seats_provisional: i64,
    /// Seats of waitlisted bookings.
    pub seats_waitlisted: i64,
    /// Passengers of confirmed bookings, keyed `<booking id>/<passenger key>`, without prices.
    pub manifest: BTreeMap<String, ManifestEntry>,
    /// Overbooking and bookings on a cancelled departure.
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

/// Decides every submitted booking of a departure; `bookings` are the departure's bookings
/// (the caller selects them), in any order, each id once.
///
/// - A draft (`submitted_at` unset) is left alone.
/// - A booking cancelled by the customer (`cancelled_at` set, or status `cancelled` as a phone
///   writes it) is `Cancelled` and holds no seat.
/// - On a cancelled departure every other submitted booking is `Rejected`, each with a
///   [`AlertRule::BookingOnCancelledDeparture`] finding.
/// - Otherwise bookings are seated first-fit in order: priority descending, then `submitted_at`,
///   then id. A booking that does not fit is `Waitlisted`, and a later smaller one may still
///   fit; a cancellation therefore promotes the waitlist at the next decision.
///
/// A confirmation is kept. Bookings already `Confirmed` are seated before the others (among
/// themselves in the same order), so a booking submitted earlier on a phone that syncs late, or
/// whose priority is raised later, waits for a free seat instead of taking one from a customer
/// who was told they are confirmed. The only way a confirmed booking becomes waitlisted is a
/// capacity lowered below the seats already confirmed: then the confirmed bookings are seated
/// again first-fit within the new capacity, the rest go to the waitlist, and an
/// [`AlertRule::Overbooked`] finding (critical) names them. More seats than the capacity are
/// never confirmed.
///
/// The decision reads only its arguments, so the same bookings give the same plan whatever
/// order their changes arrived in.
pub fn decide_seats(
    departure_id: &DocumentId,
    departure: &Departure,
    bookings: &[(DocumentId, Booking)],
) -> SeatPlan {
    let mut submitted: Vec<(&DocumentId, &Booking)> = bookings
        .iter()
        .filter(|(_, booking)| booking.submitted_at.is_some())
        .map(|(id, booking)| (id, booking))
        .collect();
    submitted.sort_by_key(|(id, booking)| (Reverse(booking.priority), booking.submitted_at, **id));

    let mut plan = SeatPlan::default();
    let (cancelled, live): (Vec<_>, Vec<_>) = submitted.into_iter().partition(|(_, booking)| {
        booking.cancelled_at.is_some() || booking.status == BookingStatus::Cancelled
    });
    for (id, _) in cancelled {
        plan.statuses.insert(*id, BookingStatus::Cancelled);
    }

    if departure.status == DepartureStatus::Cancelled {
        for (id, _) in live {
            plan.statuses.insert(*id, BookingStatus::Rejected);
            plan.findings.push(Finding::new(
                AlertRule::BookingOnCancelledDeparture,
                AlertSeverity::Warning,
                *departure_id,
                &id.to_string(),
                format!(
                    "booking {id} was submitted for departure {departure_id}, which is \
                     cancelled: it is rejected; offer the customer another departure or a refund"
                ),
            ));
        }
        return plan;
    }

    let capacity = departure.capacity.max(0);
    let (kept, others): (Vec<_>, Vec<_>) = live
        .into_iter()
        .partition(|(_, booking)| booking.status == BookingStatus::Confirmed);
    let confirmed_before: i64 = kept
        .iter()
        .fold(0, |sum, (_, booking)| sum.saturating_add(booking.seats()));

    let mut free = capacity;
    let mut bumped = Vec::new();
    for (position, (id, booking)) in kept.iter().chain(others.iter()).enumerate() {
        let seats = booking.seats();
        if seats <= free {
            free -= seats;
            plan.statuses.insert(**id, BookingStatus::Confirmed);
            plan.seats_confirmed = plan.seats_confirmed.saturating_add(seats);
            add_to_manifest(&mut plan.manifest, id, booking);
        } else {
            if position < kept.len() {
                bumped.push(id.to_string());
            }
            plan.statuses.insert(**id, BookingStatus::Waitlisted);
            plan.seats_waitlisted = plan.seats_waitlisted.saturating_add(seats);
        }
    }

    if confirmed_before > capacity {
        plan.findings.push(Finding::new(
            AlertRule::Overbooked,
            AlertSeverity::Critical,
            *departure_id,
            "",
            format!(
                "capacity {capacity} is below the {confirmed_before} seats already confirmed; \
                 moved to the waitlist: {}",
                bumped.join(", ")
            ),
        ));
    }
    plan
}

fn add_to_manifest(
    manifest: &mut BTreeMap<String, ManifestEntry>,
    booking_id: &DocumentId,
    booking: &Booking,
) {
    for (key, passenger) in &booking.passengers {
        manifest.insert(
            format!("{booking_id}/{key}"),
            ManifestEntry {
                name: passenger.name.clone(),
                category: passenger.category.as_str().to_owned(),
                dietary: passenger.dietary.clone(),
                booking: booking_id.to_string(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Passenger, PassengerCategory};

    fn id(n: u8) -> DocumentId {
        DocumentId::from_bytes([n; 16])
    }

    fn booking(seats: usize, priority: i64, submitted_at: i64) -> Booking {
        let mut booking = Booking {
            priority,
            submitted_at: Some(submitted_at),
            amount_minor: 99_000,
            ..Default::default()
        };
        for n in 0..seats {
            booking.passengers.insert(
                format!("p{n}"),
                Passenger {
                    name: format!("Traveller {n}"),
                    category: PassengerCategory::Child,
                    dietary: "vegan".into(),
                },
            );
        }
        booking
    }

    fn departure(capacity: i64) -> Departure {
        Departure {
            capacity,
            ..Default::default()
        }
    }

    #[test]
    fn priority_beats_submission_time_and_id_breaks_ties() {
        let bookings = [
            (id(1), booking(2, 0, 10)),
            (id(2), booking(2, 5, 30)),
            (id(4), booking(2, 0, 20)),
            (id(3), booking(2, 0, 20)),
        ];
        let plan = decide_seats(&id(9), &departure(6), &bookings);
        let confirmed: Vec<_> = plan
            .statuses
            .iter()
            .filter(|(_, s)| **s == BookingStatus::Confirmed)
            .map(|(id, _)| *id)
            .collect();
        // id 2 by priority, id 1 by time, id 3 before id 4 by id.
        assert_eq!(confirmed, vec![id(1), id(2), id(3)]);
        assert_eq!(plan.statuses[&id(4)], BookingStatus::Waitlisted);
    }

    #[test]
    fn first_fit_lets_a_smaller_later_booking_in() {
        let bookings = [
            (id(1), booking(3, 0, 10)),
            (id(2), booking(3, 0, 20)),
            (id(3), booking(1, 0, 30)),
        ];
        let plan = decide_seats(&id(9), &departure(4), &bookings);
        assert_eq!(plan.statuses[&id(1)], BookingStatus::Confirmed);
        assert_eq!(plan.statuses[&id(2)], BookingStatus::Waitlisted);
        assert_eq!(plan.statuses[&id(3)], BookingStatus::Confirmed);
        assert_eq!(
            (
                plan.seats_confirmed,
                plan.seats_provisional,
                plan.seats_waitlisted
            ),
            (4, 0, 3)
        );
    }

    #[test]
    fn drafts_are_left_alone_and_take_no_seat() {
        let mut draft = booking(4, 9, 0);
        draft.submitted_at = None;
        let bookings = [(id(1), draft), (id(2), booking(4, 0, 10))];
        let plan = decide_seats(&id(9), &departure(4), &bookings);
        assert!(!plan.statuses.contains_key(&id(1)));
        assert_eq!(plan.statuses[&id(2)], BookingStatus::Confirmed);
    }

    #[test]
    fn manifest_lists_confirmed_passengers_without_prices() {
        let bookings = [(id(1), booking(1, 0, 10)), (id(2), booking(2, 0, 20))];
        let plan = decide_seats(&id(9), &departure(1), &bookings);
        let key = format!("{}/p0", id(1));
        assert_eq!(plan.manifest.keys().collect::<Vec<_>>(), vec![&key]);
        assert_eq!(
            plan.manifest[&key],
            ManifestEntry {
                name: "Traveller 0".into(),
                category: "child".into(),
                dietary: "vegan".into(),
                booking: id(1).to_string(),
            }
        );
    }

    #[test]
    fn a_status_cancelled_by_a_phone_counts_as_cancelled() {
        let mut gone = booking(2, 0, 10);
        gone.status = BookingStatus::Cancelled;
        let bookings = [(id(1), gone), (id(2), booking(2, 0, 20))];
        let plan = decide_seats(&id(9), &departure(2), &bookings);
        assert_eq!(plan.statuses[&id(1)], BookingStatus::Cancelled);
        assert_eq!(plan.statuses[&id(2)], BookingStatus::Confirmed);
    }

    #[test]
    fn apply_writes_the_derived_fields() {
        let bookings = [(id(1), booking(2, 0, 10))];
        let plan = decide_seats(&id(9), &departure(5), &bookings);
        let mut departure = Departure {
            seats_provisional: 2,
            ..departure(5)
        };
        plan.apply(&mut departure);
        assert_eq!(departure.seats_confirmed, 2);
        assert_eq!(departure.seats_provisional, 0);
        assert_eq!(departure.manifest.len(), 2);
    }
}

//! Seats: a departure's bookings confirmed in a deterministic order up to its capacity, the rest
//! waitlisted; the departure's seat counts and manifest follow.

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{AlertRule, Booking, Departure};
use itinera_core::rules;

use super::Plan;
use super::alerts::record_findings;
use super::records::Records;

/// Decides the seats of departure `id` (as `departure` says now) over `bookings`.
pub fn decide_departure(
    records: &Records,
    id: DocumentId,
    departure: &Departure,
    bookings: &[(DocumentId, Booking)],
    now: i64,
    plan: &mut Plan,
) {
    let seats = rules::decide_seats(&id, departure, bookings);
    for (booking_id, booking) in bookings {
        let Some(status) = seats.statuses.get(booking_id).copied() else {
            continue;
        };
        if booking.status != status {
            plan.edit(
                *booking_id,
                ServerEdit::record(move |b: &mut Booking| {
                    let changed = b.status != status;
                    b.status = status;
                    Ok(changed)
                }),
            );
        }
    }
    let (confirmed, provisional, waitlisted, manifest) = (
        seats.seats_confirmed,
        seats.seats_provisional,
        seats.seats_waitlisted,
        seats.manifest.clone(),
    );
    let differs = departure.seats_confirmed != confirmed
        || departure.seats_provisional != provisional
        || departure.seats_waitlisted != waitlisted
        || departure.manifest != manifest;
    if differs {
        plan.edit(
            id,
            ServerEdit::record(move |d: &mut Departure| {
                d.seats_confirmed = confirmed;
                d.seats_provisional = provisional;
                d.seats_waitlisted = waitlisted;
                d.manifest = manifest;
                Ok(true)
            }),
        );
    }
    let rules = [
        AlertRule::Overbooked,
        AlertRule::BookingOnCancelledDeparture,
    ];
    record_findings(records, id, &rules, seats.findings, now, plan);
}

//! Seats: a departure's bookings decided by [`rules::decide_seats`]; each booking's status and
//! seating record, and the departure's seat counts and manifest, written back.

use std::collections::BTreeMap;

use itinera_core::DocumentId;
use itinera_core::engine::{EditError, ServerEdit};
use itinera_core::model::{
    AlertRule, Booking, BookingStatus, Departure, DocumentKind, Manifest, ManifestEntry, Set,
};
use itinera_core::rules;

use super::Plan;
use super::alerts::record_findings;
use super::records::Records;

/// Decides the seats of departure `id` (as `departure` says now, run by the users `guides`) over
/// `bookings`; submissions the server has no record of were received at `at`. Returns every
/// booking's decided status.
pub fn decide_departure(
    records: &Records,
    id: DocumentId,
    departure: &Departure,
    guides: &Set,
    bookings: &[(DocumentId, Booking)],
    at: i64,
    plan: &mut Plan,
) -> BTreeMap<DocumentId, BookingStatus> {
    let seats = rules::decide_seats(&id, departure, bookings, at);
    for (booking_id, booking) in bookings {
        let (Some(status), Some(seating)) = (
            seats.statuses.get(booking_id).copied(),
            seats.seatings.get(booking_id).cloned(),
        ) else {
            continue;
        };
        if booking.status == status && booking.seating == seating {
            continue;
        }
        let (submission, on) = (booking.submitted_at, booking.departure.clone());
        plan.edit(
            *booking_id,
            ServerEdit::new(move |doc| {
                // Decided on the booking as it was read; a newer submission or move is decided
                // by its own evaluation.
                let now: Booking = autosurgeon::hydrate(&*doc)?;
                if now.submitted_at != submission || now.departure != on {
                    return Err(EditError::Superseded(
                        "the booking changed meanwhile".into(),
                    ));
                }
                // Only the server's fields: the rep's fields keep any conflict they hold.
                if now.status != status {
                    autosurgeon::reconcile_prop(doc, automerge::ROOT, "status", status)?;
                }
                if now.seating != seating {
                    autosurgeon::reconcile_prop(doc, automerge::ROOT, "seating", &seating)?;
                }
                Ok(())
            }),
        );
    }
    let (confirmed, provisional, waitlisted) = (
        seats.seats_confirmed,
        seats.seats_provisional,
        seats.seats_waitlisted,
    );
    let differs = departure.seats_confirmed != confirmed
        || departure.seats_provisional != provisional
        || departure.seats_waitlisted != waitlisted
        // Written by older releases, read by every rep: emptied.
        || !departure.manifest.is_empty();
    if differs {
        plan.edit(
            id,
            ServerEdit::record(move |d: &mut Departure| {
                d.seats_confirmed = confirmed;
                d.seats_provisional = provisional;
                d.seats_waitlisted = waitlisted;
                d.manifest.clear();
                Ok(true)
            }),
        );
    }
    // Most decisions leave the passengers as they were: no edit then (each edit is a round
    // trip to the manifest's document, which the authority waits for).
    let stored = records.load::<Manifest>(&Manifest::document_id(&id));
    let unchanged = stored.is_some_and(|m| {
        m.departure == id.to_string() && m.guides == *guides && m.passengers == seats.manifest
    });
    if !unchanged {
        write_manifest(id, guides.clone(), Some(seats.manifest.clone()), plan);
    }
    let rules = [
        AlertRule::Overbooked,
        AlertRule::BookingOnCancelledDeparture,
    ];
    record_findings(records, id, &rules, seats.findings, at, plan);
    seats.statuses
}

/// Writes the assigned guides' users and, if given, the passengers into the departure's
/// manifest document (made the first time), where they differ from what it holds.
pub fn write_manifest(
    id: DocumentId,
    guides: Set,
    passengers: Option<BTreeMap<String, ManifestEntry>>,
    plan: &mut Plan,
) {
    let departure_id = id.to_string();
    plan.edit(
        Manifest::document_id(&id),
        ServerEdit::record(move |manifest: &mut Manifest| {
            let mut changed = manifest.departure != departure_id || manifest.guides != guides;
            manifest.departure = departure_id;
            manifest.guides = guides;
            if let Some(passengers) = passengers {
                changed |= manifest.passengers != passengers;
                manifest.passengers = passengers;
            }
            Ok(changed)
        })
        .or_create(DocumentKind::Manifest),
    );
}

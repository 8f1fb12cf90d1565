//! Bookings a rep makes: drafted on the phone, submitted, then decided by the server.
//!
//! The phone writes a booking as a draft and sets `submitted_at` when the rep submits it; the
//! status (provisional, confirmed, waitlisted, rejected) is the server's to write, after it has
//! ordered the bookings of the departure, and reaches the phone with the next sync.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::model::{BookingStatus, PassengerCategory};
//! use itinera_core::replica::{BookingInput, PassengerInput, Replica};
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let booking = DocumentId::new_v7(1_000, [1; 10]);
//! replica.create_booking(booking, BookingInput {
//!     departure: DocumentId::from_bytes([7; 16]),
//!     account: DocumentId::from_bytes([8; 16]),
//!     contact: Some("c-1".into()),
//!     passengers: vec![PassengerInput {
//!         key: "p-1".into(), name: "Mira Kovács".into(),
//!         category: PassengerCategory::Adult, dietary: String::new(),
//!     }],
//!     amount_minor: 120_000,
//!     currency: "EUR".into(),
//!     channel: "phone".into(),
//! }, 1_000)?;
//! replica.submit_booking(booking, 1_001)?;
//! let view = replica.booking(booking)?.expect("held");
//! assert_eq!(view.status, BookingStatus::Draft);
//! assert_eq!(view.submitted_at, Some(1_001));
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use std::collections::BTreeMap;

use super::Replica;
use super::accounts::{present, required};
use super::error::{ReplicaResult, invalid};
use crate::DocumentId;
use crate::model::{Booking, BookingStatus, ModelError, Passenger, PassengerCategory};
use crate::store::WriteBatch;

/// A booking as the rep enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingInput {
    /// The departure booked.
    pub departure: DocumentId,
    /// The customer's account.
    pub account: DocumentId,
    /// The contact at the account who booked, by contact id.
    pub contact: Option<String>,
    /// The travellers.
    pub passengers: Vec<PassengerInput>,
    /// The price in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// How the booking came in: `phone`, `email`, `visit`…
    pub channel: String,
}

/// One traveller of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassengerInput {
    /// The passenger's key within the booking, unique in it.
    pub key: String,
    /// Full name.
    pub name: String,
    /// Adult, child, infant or senior.
    pub category: PassengerCategory,
    /// Dietary needs, free text.
    pub dietary: String,
}

/// A booking as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingView {
    /// The booking document.
    pub id: DocumentId,
    /// The departure (bs58 id).
    pub departure: String,
    /// The customer's account (bs58 id).
    pub account: String,
    /// The contact id within the account.
    pub contact: Option<String>,
    /// The rep's user id.
    pub rep: String,
    /// How the booking came in.
    pub channel: String,
    /// The travellers, by key.
    pub passengers: Vec<PassengerInput>,
    /// The price in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Draft until the server decides.
    pub status: BookingStatus,
    /// When the rep submitted it (Unix ms).
    pub submitted_at: Option<i64>,
    /// When it was cancelled (Unix ms).
    pub cancelled_at: Option<i64>,
}

impl BookingView {
    /// The view of `booking`, stored as document `id`.
    pub fn of(id: DocumentId, booking: &Booking) -> Self {
        Self {
            id,
            departure: booking.departure.clone(),
            account: booking.account.clone(),
            contact: booking.contact.clone(),
            rep: booking.rep.clone(),
            channel: booking.channel.clone(),
            passengers: booking
                .passengers
                .iter()
                .map(|(key, passenger)| PassengerInput {
                    key: key.clone(),
                    name: passenger.name.clone(),
                    category: passenger.category,
                    dietary: passenger.dietary.clone(),
                })
                .collect(),
            amount_minor: booking.amount_minor,
            currency: booking.currency.clone(),
            status: booking.status,
            submitted_at: booking.submitted_at,
            cancelled_at: booking.cancelled_at,
        }
    }
}

impl Replica {
    /// Creates the booking `id` as a draft of this user.
    pub fn create_booking(
        &mut self,
        id: DocumentId,
        input: BookingInput,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        if input.amount_minor < 0 {
            return Err(invalid("a booking's amount may not be negative"));
        }
        let mut passengers = BTreeMap::new();
        for passenger in input.passengers {
            let key = required(passenger.key, "a passenger needs a key")?;
            let name = required(passenger.name, "a passenger needs a name")?;
            let entry = Passenger {
                name,
                category: passenger.category,
                dietary: passenger.dietary.trim().to_owned(),
            };
            if passengers.insert(key.clone(), entry).is_some() {
                return Err(invalid(format!("passenger {key} is listed twice")));
            }
        }
        let booking = Booking {
            departure: input.departure.to_string(),
            account: input.account.to_string(),
            contact: input.contact.and_then(present),
            rep: self.user.clone(),
            channel: input.channel.trim().to_owned(),
            passengers,
            amount_minor: input.amount_minor,
            currency: input.currency.trim().to_uppercase(),
            ..Booking::default()
        };
        self.create(id, at, &booking, WriteBatch::new())?;
        Ok(id)
    }

    /// Submits the booking `id` to the server, which decides its status. Submitting again
    /// changes nothing; a booking without passengers, or cancelled, is refused.
    pub fn submit_booking(&mut self, id: DocumentId, at: i64) -> ReplicaResult<DocumentId> {
        self.change::<Booking, _>(id, at, |booking| {
            if booking.cancelled_at.is_some() || booking.status == BookingStatus::Cancelled {
                return Err(ModelError::Invalid(
                    "a cancelled booking cannot be submitted".into(),
                ));
            }
            if booking.passengers.is_empty() {
                return Err(ModelError::Invalid(
                    "a booking needs a passenger to be submitted".into(),
                ));
            }
            booking.submitted_at.get_or_insert(at);
            Ok(())
        })?;
        Ok(id)
    }

    /// The booking `id` with its status; `None` if the replica does not hold it.
    pub fn booking(&mut self, id: DocumentId) -> ReplicaResult<Option<BookingView>> {
        Ok(self
            .read::<Booking>(id)?
            .map(|booking| BookingView::of(id, &booking)))
    }

    /// The bookings this user made, in id (creation) order.
    pub fn my_bookings(&mut self) -> ReplicaResult<Vec<BookingView>> {
        let user = self.user.clone();
        Ok(self
            .read_all::<Booking>()?
            .into_iter()
            .filter(|(_, booking)| booking.rep == user)
            .map(|(id, booking)| BookingView::of(id, &booking))
            .collect())
    }
}

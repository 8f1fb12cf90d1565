//! Which bookings sit on each departure and which departures each guide is assigned to: what
//! the authority looks up when one of them changes. Built from the read model at start-up and
//! kept by the committed events.

use std::collections::{BTreeSet, HashMap};

use itinera_core::DocumentId;
use itinera_core::model::Departure;
use itinera_core::reports::Summary;

/// The authority's two lookups.
#[derive(Debug, Default)]
pub struct Relations {
    bookings_by_departure: HashMap<DocumentId, BTreeSet<DocumentId>>,
    departures_by_employee: HashMap<String, BTreeSet<DocumentId>>,
    /// The catalog document (there is one per company).
    pub catalog: Option<DocumentId>,
}

impl Relations {
    /// The relations the read model's summaries describe.
    pub fn from_summaries(summaries: &[(DocumentId, Summary)]) -> Self {
        let mut relations = Self::default();
        for (id, summary) in summaries {
            match summary {
                Summary::Booking(booking) => {
                    relations.set_booking(*id, DocumentId::parse(&booking.departure).ok());
                }
                Summary::Departure(departure) => {
                    for assignment in &departure.assignments {
                        relations
                            .departures_by_employee
                            .entry(assignment.employee.clone())
                            .or_default()
                            .insert(*id);
                    }
                }
                Summary::Catalog(_) => relations.catalog = Some(*id),
                _ => {}
            }
        }
        relations
    }

    /// Booking `id` now sits on `departure` (or on none).
    pub fn set_booking(&mut self, id: DocumentId, departure: Option<DocumentId>) {
        for bookings in self.bookings_by_departure.values_mut() {
            bookings.remove(&id);
        }
        if let Some(departure) = departure {
            self.bookings_by_departure
                .entry(departure)
                .or_default()
                .insert(id);
        }
    }

    /// Departure `id` now has the assignments `departure` lists.
    pub fn set_departure(&mut self, id: DocumentId, departure: &Departure) {
        for departures in self.departures_by_employee.values_mut() {
            departures.remove(&id);
        }
        for assignment in departure.assignments.values() {
            self.departures_by_employee
                .entry(assignment.employee.clone())
                .or_default()
                .insert(id);
        }
    }

    /// The bookings on `departure`.
    pub fn bookings_of(&self, departure: &DocumentId) -> impl Iterator<Item = &DocumentId> {
        self.bookings_by_departure
            .get(departure)
            .into_iter()
            .flatten()
    }

    /// The departures `employee` is assigned to.
    pub fn departures_of(&self, employee: &str) -> impl Iterator<Item = &DocumentId> {
        self.departures_by_employee
            .get(employee)
            .into_iter()
            .flatten()
    }
}

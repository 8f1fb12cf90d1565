//! A guide's work on tour: departures with their manifests, and the field log of each
//! (check-ins, incidents, notes, answers to assignments).
//!
//! Departures are the office's and the server's; a guide only reads them, and writes to the
//! departure's field log, which merges the work of every guide on the tour: check-ins are an
//! add-wins set, incidents and answers are log entries, notes are collaborative text.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, DocumentId};
//! use itinera_core::model::{FieldLog, Severity};
//! use itinera_core::replica::Replica;
//!
//! let mut replica = Replica::in_memory("gus", ActorId::from([1u8; 16]))?;
//! // The field log arrives from the server.
//! let departure = DocumentId::from_bytes([7; 16]);
//! let log = FieldLog { departure: departure.to_string(), ..Default::default() };
//! let mut office = Document::create(ActorId::from([2u8; 16]), 1, &log)?.into_automerge();
//! let field_log = DocumentId::from_bytes([8; 16]);
//! replica.merge_remote(field_log, &mut office)?;
//!
//! assert_eq!(replica.field_log_of(departure)?, Some(field_log));
//! replica.check_in(field_log, "p-1".into(), 1_000)?;
//! replica.report_incident(field_log, Severity::Low, "Bus 10 minutes late".into(), 1_001, "gus-1")?;
//! replica.write_field_notes(field_log, "All aboard at 8:10.".into(), 1_002)?;
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use std::collections::BTreeSet;

use super::Replica;
use super::accounts::{log_key, required};
use super::error::{ReplicaResult, invalid, not_found};
use crate::model::{
    AssignmentResponse, AssignmentStatus, Departure, DepartureStatus, Employee, FieldLog,
    GuideRole, Incident, Manifest, ModelError, Set, Severity,
};
use crate::{DocumentId, DocumentKind};

/// A departure as the guide sees it: no prices exist in it.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartureView {
    /// The departure document.
    pub id: DocumentId,
    /// The tour's id in the catalog.
    pub tour: String,
    /// Start, Unix ms.
    pub starts_at: i64,
    /// End, Unix ms.
    pub ends_at: i64,
    /// IANA zone the tour runs in.
    pub time_zone: String,
    /// Seats.
    pub capacity: i64,
    /// Whether it runs.
    pub status: DepartureStatus,
    /// Confirmed passengers, by key.
    pub manifest: Vec<ManifestEntryView>,
    /// This guide's assignments on it.
    pub assignments: Vec<AssignmentView>,
    /// The departure's field log, if the replica holds it.
    pub field_log: Option<DocumentId>,
}

/// A confirmed passenger on a departure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntryView {
    /// The passenger key, used for check-ins.
    pub key: String,
    /// Full name.
    pub name: String,
    /// Adult, child, infant or senior.
    pub category: String,
    /// Dietary needs.
    pub dietary: String,
    /// The booking (bs58 id).
    pub booking: String,
    /// Whether a guide has checked the passenger in.
    pub checked_in: bool,
}

/// A guide's assignment on a departure.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentView {
    /// The assignment id within the departure.
    pub id: String,
    /// The employee assigned.
    pub employee: String,
    /// Lead, assistant or driver.
    pub role: GuideRole,
    /// Offered, accepted, declined…
    pub status: AssignmentStatus,
    /// Planned hours.
    pub hours: f64,
}

impl Replica {
    /// The departures the replica holds (the server sends a guide those they are assigned
    /// to), by start time, with their manifests, this guide's assignments and field logs.
    ///
    /// An assignment is this guide's when its employee is an employee record whose `user` is
    /// this replica's user, or is the user id itself.
    pub fn my_departures(&mut self) -> ReplicaResult<Vec<DepartureView>> {
        let mut mine: BTreeSet<String> = self
            .read_all::<Employee>()?
            .into_iter()
            .filter(|(_, employee)| employee.user.as_deref() == Some(self.user.as_str()))
            .map(|(id, _)| id.to_string())
            .collect();
        mine.insert(self.user.clone());
        let logs = self.read_all::<FieldLog>()?;
        let mut views = Vec::new();
        for (id, departure) in self.read_all::<Departure>()? {
            let log = logs
                .iter()
                .find(|(_, log)| DocumentId::parse(&log.departure).ok() == Some(id));
            let checked_in = log.map(|(_, log)| &log.check_ins);
            // The server sends the manifest to the guides assigned; until it arrives, none.
            let manifest = self
                .read::<Manifest>(Manifest::document_id(&id))?
                .unwrap_or_default();
            views.push(departure_view(
                id,
                &departure,
                &manifest,
                &mine,
                log.map(|(id, _)| *id),
                checked_in,
            ));
        }
        views.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(a.id.cmp(&b.id)));
        Ok(views)
    }

    /// The field log document of `departure`, if the replica holds one.
    pub fn field_log_of(&mut self, departure: DocumentId) -> ReplicaResult<Option<DocumentId>> {
        Ok(self
            .read_all::<FieldLog>()?
            .into_iter()
            .find(|(_, log)| DocumentId::parse(&log.departure).ok() == Some(departure))
            .map(|(id, _)| id))
    }

    /// Checks the passenger `passenger_key` in, in the field log `field_log`. Check-ins are an
    /// add-wins set: two guides checking the same passenger in merge into one check-in.
    pub fn check_in(
        &mut self,
        field_log: DocumentId,
        passenger_key: String,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let key = required(passenger_key, "a check-in needs a passenger key")?;
        self.change::<FieldLog, _>(field_log, at, |log| {
            log.check_ins.insert(key);
            Ok(())
        })?;
        Ok(field_log)
    }

    /// Records an incident in `field_log`; returns its log key.
    pub fn report_incident(
        &mut self,
        field_log: DocumentId,
        severity: Severity,
        summary: String,
        at: i64,
        unique: &str,
    ) -> ReplicaResult<String> {
        let summary = required(summary, "an incident needs a summary")?;
        let key = log_key(at, unique)?;
        let stored = key.as_str().to_owned();
        let incident = Incident {
            severity,
            summary,
            actor: self.user.clone(),
            at,
        };
        self.change::<FieldLog, _>(field_log, at, |log| {
            log.incidents.append(key, incident)?;
            Ok(())
        })?;
        Ok(stored)
    }

    /// Replaces the guide notes of `field_log` with `text`. Only the difference is written
    /// (a text diff, as `Text::update` would make), so notes edited on two phones at once
    /// merge.
    pub fn write_field_notes(
        &mut self,
        field_log: DocumentId,
        text: String,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        self.replace_text(field_log, DocumentKind::FieldLog, "notes", &text, at)?;
        Ok(field_log)
    }

    /// Records, in `field_log`, that `employee` accepts (or declines) the assignment
    /// `assignment` of the departure; returns the log key. The office's assignment status
    /// follows on the server.
    ///
    /// If the replica holds the departure, the assignment must exist there and be
    /// `employee`'s.
    pub fn respond_to_assignment(
        &mut self,
        field_log: DocumentId,
        assignment: String,
        employee: String,
        accept: bool,
        at: i64,
        unique: &str,
    ) -> ReplicaResult<String> {
        let assignment = required(assignment, "an answer needs an assignment")?;
        let employee = required(employee, "an answer needs an employee")?;
        let key = log_key(at, unique)?;
        let log = self.read_existing::<FieldLog>(field_log)?;
        if let Ok(departure_id) = DocumentId::parse(&log.departure) {
            if self.record_kind(departure_id) == Some(DocumentKind::Departure) {
                let departure = self.read_existing::<Departure>(departure_id)?;
                let offered = departure
                    .assignments
                    .get(&assignment)
                    .ok_or_else(|| not_found(format!("assignment {assignment}")))?;
                if offered.employee != employee {
                    return Err(invalid(format!(
                        "assignment {assignment} is not {employee}'s"
                    )));
                }
            }
        }
        let stored = key.as_str().to_owned();
        let response = AssignmentResponse {
            assignment,
            employee,
            accepted: accept,
            at,
        };
        self.change::<FieldLog, _>(field_log, at, |log| {
            log.acceptances
                .append(key, response)
                .map_err(ModelError::from)
        })?;
        Ok(stored)
    }
}

fn departure_view(
    id: DocumentId,
    departure: &Departure,
    manifest: &Manifest,
    mine: &BTreeSet<String>,
    field_log: Option<DocumentId>,
    checked_in: Option<&Set>,
) -> DepartureView {
    DepartureView {
        id,
        tour: departure.tour.clone(),
        starts_at: departure.starts_at,
        ends_at: departure.ends_at,
        time_zone: departure.time_zone.clone(),
        capacity: departure.capacity,
        status: departure.status,
        manifest: manifest
            .passengers
            .iter()
            .map(|(key, entry)| ManifestEntryView {
                key: key.clone(),
                name: entry.name.clone(),
                category: entry.category.clone(),
                dietary: entry.dietary.clone(),
                booking: entry.booking.clone(),
                checked_in: checked_in.is_some_and(|set| set.contains(key)),
            })
            .collect(),
        assignments: departure
            .assignments
            .iter()
            .filter(|(_, assignment)| mine.contains(&assignment.employee))
            .map(|(key, assignment)| AssignmentView {
                id: key.clone(),
                employee: assignment.employee.clone(),
                role: assignment.role,
                status: assignment.status,
                hours: assignment.hours,
            })
            .collect(),
        field_log,
    }
}

//! Guides booked twice: a guide's accepted assignments that overlap each other or their leave are
//! marked `conflict` (and back to `accepted` once they no longer do), with an alert.

use std::collections::BTreeMap;

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{AlertRule, AssignmentStatus, Departure, Employee};
use itinera_core::rules::{self, AssignmentRef};

use super::Plan;
use super::alerts::record_findings;
use super::records::Records;

/// Checks `employee`'s assignments over `departures` (every departure they are assigned to).
pub fn decide_guide(
    records: &Records,
    employee_id: DocumentId,
    employee: &Employee,
    departures: &[(DocumentId, Departure)],
    now: i64,
    plan: &mut Plan,
) {
    let name = employee_id.to_string();
    let refs: Vec<AssignmentRef> = departures
        .iter()
        .flat_map(|(id, departure)| {
            departure
                .assignments
                .iter()
                .filter(|(_, a)| a.employee == name)
                .map(|(key, a)| AssignmentRef {
                    departure: *id,
                    assignment: key.clone(),
                    starts_at: departure.starts_at,
                    ends_at: departure.ends_at,
                    status: a.status,
                })
        })
        .collect();
    let decision = rules::guide_conflicts(&employee_id, employee, &refs);
    for (departure_id, departure) in departures {
        let mut updates = BTreeMap::new();
        for (key, assignment) in &departure.assignments {
            if assignment.employee != name {
                continue;
            }
            let conflicted = decision.conflicted.contains(&(*departure_id, key.clone()));
            let wanted = match (conflicted, assignment.status) {
                (true, AssignmentStatus::Accepted) => Some(AssignmentStatus::Conflict),
                (false, AssignmentStatus::Conflict) => Some(AssignmentStatus::Accepted),
                _ => None,
            };
            if let Some(wanted) = wanted {
                updates.insert(key.clone(), wanted);
            }
        }
        if !updates.is_empty() {
            plan.edit(
                *departure_id,
                ServerEdit::record(move |d: &mut Departure| {
                    for (key, status) in updates {
                        if let Some(assignment) = d.assignments.get_mut(&key) {
                            assignment.status = status;
                        }
                    }
                    Ok(true)
                }),
            );
        }
    }
    record_findings(
        records,
        employee_id,
        &[AlertRule::GuideDoubleBooked],
        decision.findings,
        now,
        plan,
    );
}

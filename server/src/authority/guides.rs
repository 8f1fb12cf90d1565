//! Guides: the answers guides write in a departure's field log set their assignment's status;
//! a guide's accepted assignments that overlap each other or their leave are marked `conflict`
//! (and back to `accepted` once they no longer do, an assignment removed included), with an
//! alert the guide sees too; the users of a departure's assigned guides are written into the
//! departure and its field logs, which gives them access without a hand-made grant.

use std::collections::{BTreeMap, BTreeSet};

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{AlertRule, AssignmentStatus, Departure, Employee, FieldLog, Set};
use itinera_core::rules::{self, AssignmentRef};

use super::Plan;
use super::alerts::record_findings;
use super::records::Records;
use super::relations::{GuideKey, Relations};

/// `departure` with the latest answer of each assignment's guide in `log` applied: accepted
/// or declined, unless office cancelled the assignment. Answers by someone else than the
/// assignment's guide do not count.
pub fn apply_answers(relations: &Relations, departure: &Departure, log: &FieldLog) -> Departure {
    let mut latest: BTreeMap<&str, (&str, bool)> = BTreeMap::new();
    for (_, answer) in log.acceptances.iter() {
        latest.insert(
            answer.assignment.as_str(),
            (answer.employee.as_str(), answer.accepted),
        );
    }
    let mut answered = departure.clone();
    for (key, assignment) in &mut answered.assignments {
        let Some((employee, accepted)) = latest.get(key.as_str()) else {
            continue;
        };
        if relations.guide_key(employee) != relations.guide_key(&assignment.employee) {
            continue;
        }
        assignment.status = match (assignment.status, accepted) {
            (AssignmentStatus::Cancelled, _) => AssignmentStatus::Cancelled,
            (AssignmentStatus::Conflict, true) => AssignmentStatus::Conflict,
            (_, true) => AssignmentStatus::Accepted,
            (_, false) => AssignmentStatus::Declined,
        };
    }
    answered
}

/// Writes the assignment statuses of `answered` that differ from `stored`.
pub fn write_statuses(id: DocumentId, stored: &Departure, answered: &Departure, plan: &mut Plan) {
    let updates: BTreeMap<String, AssignmentStatus> = answered
        .assignments
        .iter()
        .filter(|(key, a)| {
            stored
                .assignments
                .get(*key)
                .is_some_and(|s| s.status != a.status)
        })
        .map(|(key, a)| (key.clone(), a.status))
        .collect();
    if !updates.is_empty() {
        plan.edit(id, set_statuses(updates));
    }
}

fn set_statuses(updates: BTreeMap<String, AssignmentStatus>) -> ServerEdit {
    ServerEdit::record(move |d: &mut Departure| {
        let mut changed = false;
        for (key, status) in updates {
            if let Some(assignment) = d.assignments.get_mut(&key) {
                changed |= assignment.status != status;
                assignment.status = status;
            }
        }
        Ok(changed)
    })
}

/// The users of the guides `departure` assigns (not declined or cancelled).
pub fn guide_users(relations: &Relations, departure: &Departure) -> Set {
    departure
        .assignments
        .values()
        .filter(|a| {
            !matches!(
                a.status,
                AssignmentStatus::Declined | AssignmentStatus::Cancelled
            )
        })
        .filter_map(|a| relations.user_of(&relations.guide_key(&a.employee)))
        .collect()
}

/// Writes the assigned guides' users into the departure, its manifest and its field logs where
/// they differ.
pub fn write_guides(
    records: &Records,
    relations: &Relations,
    id: DocumentId,
    departure: &Departure,
    plan: &mut Plan,
) {
    let users = guide_users(relations, departure);
    if departure.guides != users {
        // The manifest is read by the same guides.
        super::seats::write_manifest(id, users.clone(), None, plan);
        let wanted = users.clone();
        plan.edit(
            id,
            ServerEdit::record(move |d: &mut Departure| {
                let changed = d.guides != wanted;
                d.guides = wanted;
                Ok(changed)
            }),
        );
    }
    for log_id in relations.field_logs_of(&id) {
        let Some(log) = records.load::<FieldLog>(&log_id) else {
            continue;
        };
        if log.guides != users {
            let wanted = users.clone();
            plan.edit(
                log_id,
                ServerEdit::record(move |l: &mut FieldLog| {
                    let changed = l.guides != wanted;
                    l.guides = wanted;
                    Ok(changed)
                }),
            );
        }
    }
}

/// Checks `guide`'s assignments over every departure they are assigned to (`fresh` holds
/// departures decided in this evaluation, newer than the store's).
pub fn decide_guide(
    records: &Records,
    relations: &Relations,
    guide: &GuideKey,
    fresh: &[(DocumentId, Departure)],
    now: i64,
    plan: &mut Plan,
) {
    let departures: Vec<(DocumentId, Departure)> = relations
        .departures_of(guide)
        .copied()
        .chain(fresh.iter().map(|(id, _)| *id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(
            |id| match fresh.iter().find(|(fresh_id, _)| *fresh_id == id) {
                Some((_, departure)) => Some((id, departure.clone())),
                None => records.load::<Departure>(&id).map(|d| (id, d)),
            },
        )
        .collect();
    let (subject, employee) = match guide {
        GuideKey::Employee(id) => (*id, records.load::<Employee>(id).unwrap_or_default()),
        GuideKey::User(user) => match departures.first() {
            Some((id, _)) => (
                *id,
                Employee {
                    name: user.clone(),
                    ..Employee::default()
                },
            ),
            None => return,
        },
    };
    let refs: Vec<AssignmentRef> = departures
        .iter()
        .flat_map(|(id, departure)| {
            departure
                .assignments
                .iter()
                .filter(|(_, a)| relations.guide_key(&a.employee) == *guide)
                .map(|(key, a)| AssignmentRef {
                    departure: *id,
                    assignment: key.clone(),
                    starts_at: departure.starts_at,
                    ends_at: departure.ends_at,
                    status: a.status,
                })
        })
        .collect();
    let decision = rules::guide_conflicts(&subject, &employee, &refs);
    for (departure_id, departure) in &departures {
        let mut updates = BTreeMap::new();
        for (key, assignment) in &departure.assignments {
            if relations.guide_key(&assignment.employee) != *guide {
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
            plan.edit(*departure_id, set_statuses(updates));
        }
    }
    let owner = relations.user_of(guide).unwrap_or_default();
    let findings = decision
        .findings
        .into_iter()
        .map(|finding| finding.for_owner(&owner))
        .collect();
    record_findings(
        records,
        subject,
        &[AlertRule::GuideDoubleBooked],
        findings,
        now,
        plan,
    );
}

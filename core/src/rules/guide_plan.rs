//! Rule 3, a guide booked twice: accepted assignments that overlap each other or leave.
//!
//! Office offers assignments on several departures and guides accept them on their phones;
//! nothing stops two acceptances for overlapping tours merging, or leave being entered over
//! an assignment. The authority marks every assignment involved `conflict` and raises an alert.

use std::collections::BTreeSet;

use super::Finding;
use crate::DocumentId;
use crate::model::{AlertRule, AlertSeverity, AssignmentStatus, Employee};

/// One assignment of the employee, with the time of its departure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRef {
    /// The departure document.
    pub departure: DocumentId,
    /// The assignment id within the departure.
    pub assignment: String,
    /// Unix ms, inclusive.
    pub starts_at: i64,
    /// Unix ms, exclusive: a tour ending at 18:00 does not overlap one starting at 18:00.
    pub ends_at: i64,
    /// The assignment's status as it stands.
    pub status: AssignmentStatus,
}

impl AssignmentRef {
    fn overlaps(&self, starts_at: i64, ends_at: i64) -> bool {
        self.starts_at < ends_at && starts_at < self.ends_at
    }

    fn label(&self) -> String {
        format!("{}/{}", self.departure, self.assignment)
    }
}

/// The authority's decision on one employee's assignments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuidePlan {
    /// `(departure, assignment)` of every assignment that must be `conflict`. An assignment
    /// marked `conflict` before and missing here overlaps nothing any more and goes back to
    /// `accepted`.
    pub conflicted: BTreeSet<(DocumentId, String)>,
    /// One [`AlertRule::GuideDoubleBooked`] finding per overlapping pair and per leave overlap.
    pub findings: Vec<Finding>,
}

impl GuidePlan {
    /// The status `assignment` should have after this decision.
    pub fn status_of(&self, assignment: &AssignmentRef) -> AssignmentStatus {
        let key = (assignment.departure, assignment.assignment.clone());
        match assignment.status {
            AssignmentStatus::Accepted | AssignmentStatus::Conflict
                if self.conflicted.contains(&key) =>
            {
                AssignmentStatus::Conflict
            }
            AssignmentStatus::Conflict => AssignmentStatus::Accepted,
            other => other,
        }
    }
}

/// Checks an employee's accepted assignments (and those already marked `conflict`) against
/// each other and against their leave, as half-open intervals.
///
/// Offered, declined and cancelled assignments never conflict. The result does not depend on
/// the order of `assignments`.
///
/// ```
/// use itinera_core::DocumentId;
/// use itinera_core::model::{AssignmentStatus, Employee};
/// use itinera_core::rules::{guide_conflicts, AssignmentRef};
///
/// let accepted = |departure: u8, starts_at, ends_at| AssignmentRef {
///     departure: DocumentId::from_bytes([departure; 16]),
///     assignment: "lead".into(),
///     starts_at,
///     ends_at,
///     status: AssignmentStatus::Accepted,
/// };
/// let gus = DocumentId::from_bytes([7; 16]);
/// let plan = guide_conflicts(&gus, &Employee::default(), &[accepted(1, 0, 10), accepted(2, 5, 15)]);
/// assert_eq!(plan.conflicted.len(), 2);
/// assert_eq!(plan.findings.len(), 1);
/// let plan = guide_conflicts(&gus, &Employee::default(), &[accepted(1, 0, 10), accepted(2, 10, 15)]);
/// assert!(plan.conflicted.is_empty());
/// ```
pub fn guide_conflicts(
    employee_id: &DocumentId,
    employee: &Employee,
    assignments: &[AssignmentRef],
) -> GuidePlan {
    let mut active: Vec<&AssignmentRef> = assignments
        .iter()
        .filter(|a| {
            matches!(
                a.status,
                AssignmentStatus::Accepted | AssignmentStatus::Conflict
            )
        })
        .collect();
    active.sort_by(|a, b| {
        a.departure
            .cmp(&b.departure)
            .then_with(|| a.assignment.cmp(&b.assignment))
            .then(a.starts_at.cmp(&b.starts_at))
            .then(a.ends_at.cmp(&b.ends_at))
    });
    active.dedup_by(|a, b| a.departure == b.departure && a.assignment == b.assignment);

    let who = if employee.name.is_empty() {
        employee_id.to_string()
    } else {
        employee.name.clone()
    };
    let mut plan = GuidePlan::default();
    for (index, first) in active.iter().enumerate() {
        for second in &active[index + 1..] {
            if !first.overlaps(second.starts_at, second.ends_at) {
                continue;
            }
            plan.conflicted
                .insert((first.departure, first.assignment.clone()));
            plan.conflicted
                .insert((second.departure, second.assignment.clone()));
            plan.findings.push(Finding::new(
                AlertRule::GuideDoubleBooked,
                AlertSeverity::Warning,
                *employee_id,
                &format!("{}+{}", first.label(), second.label()),
                format!(
                    "{who} is assigned to departure {} and departure {} at overlapping times",
                    first.departure, second.departure
                ),
            ));
        }
        for (leave_key, leave) in employee.leave.iter() {
            if !first.overlaps(leave.starts_at, leave.ends_at) {
                continue;
            }
            plan.conflicted
                .insert((first.departure, first.assignment.clone()));
            let reason = if leave.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", leave.reason)
            };
            plan.findings.push(Finding::new(
                AlertRule::GuideDoubleBooked,
                AlertSeverity::Warning,
                *employee_id,
                &format!("{}+leave:{leave_key}", first.label()),
                format!(
                    "{who} is assigned to departure {} during their leave{reason}",
                    first.departure
                ),
            ));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Leave, LogKey};

    fn assignment(
        departure: u8,
        name: &str,
        starts_at: i64,
        ends_at: i64,
        status: AssignmentStatus,
    ) -> AssignmentRef {
        AssignmentRef {
            departure: DocumentId::from_bytes([departure; 16]),
            assignment: name.into(),
            starts_at,
            ends_at,
            status,
        }
    }

    #[test]
    fn only_accepted_or_conflicted_assignments_count() {
        let gus = DocumentId::from_bytes([7; 16]);
        for status in [
            AssignmentStatus::Offered,
            AssignmentStatus::Declined,
            AssignmentStatus::Cancelled,
        ] {
            let plan = guide_conflicts(
                &gus,
                &Employee::default(),
                &[
                    assignment(1, "a", 0, 10, AssignmentStatus::Accepted),
                    assignment(2, "a", 0, 10, status),
                ],
            );
            assert!(plan.conflicted.is_empty(), "{status}");
        }
        let plan = guide_conflicts(
            &gus,
            &Employee::default(),
            &[
                assignment(1, "a", 0, 10, AssignmentStatus::Accepted),
                assignment(2, "a", 9, 20, AssignmentStatus::Conflict),
            ],
        );
        assert_eq!(plan.conflicted.len(), 2);
    }

    #[test]
    fn status_of_sets_and_clears_conflicts() {
        let mut plan = GuidePlan::default();
        let busy = assignment(1, "a", 0, 10, AssignmentStatus::Accepted);
        let freed = assignment(2, "a", 0, 10, AssignmentStatus::Conflict);
        let offered = assignment(3, "a", 0, 10, AssignmentStatus::Offered);
        plan.conflicted
            .insert((busy.departure, busy.assignment.clone()));
        assert_eq!(plan.status_of(&busy), AssignmentStatus::Conflict);
        assert_eq!(plan.status_of(&freed), AssignmentStatus::Accepted);
        assert_eq!(plan.status_of(&offered), AssignmentStatus::Offered);
    }

    #[test]
    fn leave_touching_an_assignment_end_does_not_overlap()
    -> Result<(), crate::model::DuplicateEntry> {
        let mut employee = Employee::default();
        employee.leave.append(
            LogKey::new(1, "office"),
            Leave {
                starts_at: 10,
                ends_at: 20,
                reason: "holiday".into(),
            },
        )?;
        let gus = DocumentId::from_bytes([7; 16]);
        let before = assignment(1, "a", 0, 10, AssignmentStatus::Accepted);
        assert!(
            guide_conflicts(&gus, &employee, &[before])
                .findings
                .is_empty()
        );
        let during = assignment(1, "a", 0, 11, AssignmentStatus::Accepted);
        let plan = guide_conflicts(&gus, &employee, &[during]);
        assert_eq!(plan.findings.len(), 1);
        assert!(plan.findings[0].message.contains("holiday"));
        Ok(())
    }
}

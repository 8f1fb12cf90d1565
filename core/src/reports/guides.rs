//! Guide utilisation and the languages each upcoming departure is covered in.
//!
//! Per employee: hours of accepted assignments, hours and number of assignments still only
//! offered, assignments the authority marked as conflicts (double-booked or on leave), and the
//! departures accepted. Assignments on cancelled departures are left out. Available hours need
//! a working calendar the records do not hold yet, so utilisation is given in hours, not as a
//! share of availability.
//!
//! Language coverage lists every departure still to run (scheduled or guaranteed; the report
//! takes no clock) with the languages of its accepted guides.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Departure, GuideAssignment, AssignmentStatus};
//! use itinera_core::reports::{Summary, guides};
//!
//! let mut departure = Departure::default();
//! departure.assignments.insert("a".into(), GuideAssignment { employee: "gus".into(), status: AssignmentStatus::Accepted, hours: 24.0, ..Default::default() });
//! let summaries = [(DocumentId::from_bytes([1; 16]), Summary::Departure((&departure).into()))];
//! let report = guides(&summaries);
//! assert_eq!(report.guides[0].accepted_hours, 24.0);
//! assert_eq!(report.guides[0].name, None); // no employee summary for "gus"
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::model::{AssignmentStatus, DepartureStatus};
use crate::reports::summary::Summary;
use crate::reports::summary_index::SummaryIndex;

/// Guides' hours and departures' languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuideReport {
    /// Every employee summarised or assigned, by id.
    pub guides: Vec<GuideUtilisation>,
    /// Departures still to run, by start time.
    pub coverage: Vec<LanguageCoverage>,
}

/// One employee's assignments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuideUtilisation {
    /// The employee document id (bare bs58).
    pub employee: String,
    /// Their name; `None` when assignments name an employee with no summary.
    pub name: Option<String>,
    /// Languages they guide in.
    pub languages: Vec<String>,
    /// Hours of accepted assignments.
    pub accepted_hours: f64,
    /// Hours of assignments offered and not yet answered.
    pub offered_hours: f64,
    /// Assignments offered and not yet answered.
    pub offered: u64,
    /// Assignments marked as conflicts.
    pub conflicts: u64,
    /// Departures with an accepted assignment, by id.
    pub departures: Vec<String>,
}

/// The languages a departure can be guided in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageCoverage {
    /// The departure document id (bare bs58).
    pub departure: String,
    /// Its tour id.
    pub tour: String,
    /// Unix ms.
    pub starts_at: i64,
    /// Employees with an accepted assignment, by id.
    pub guides: Vec<String>,
    /// The union of their languages, sorted; empty when no guide has accepted.
    pub languages: Vec<String>,
}

/// Guide utilisation and language coverage over `summaries`.
pub fn guides(summaries: &[(DocumentId, Summary)]) -> GuideReport {
    let index = SummaryIndex::new(summaries);
    let mut rows: BTreeMap<&str, GuideUtilisation> = index
        .employees
        .iter()
        .map(|(id, employee)| {
            let row = empty_row(id, Some(employee.name.clone()), employee.languages.clone());
            (id.as_str(), row)
        })
        .collect();

    let mut coverage = Vec::new();
    for (id, departure) in &index.departures {
        if departure.status == DepartureStatus::Cancelled {
            continue;
        }
        let mut guides = BTreeSet::new();
        for assignment in &departure.assignments {
            let employee = assignment.employee.as_str();
            let row = rows
                .entry(employee)
                .or_insert_with(|| empty_row(employee, None, Vec::new()));
            match assignment.status {
                AssignmentStatus::Accepted => {
                    row.accepted_hours += assignment.hours;
                    if !row.departures.contains(id) {
                        row.departures.push(id.clone());
                    }
                    guides.insert(employee);
                }
                AssignmentStatus::Offered => {
                    row.offered_hours += assignment.hours;
                    row.offered += 1;
                }
                AssignmentStatus::Conflict => row.conflicts += 1,
                AssignmentStatus::Declined | AssignmentStatus::Cancelled => {}
            }
        }
        if matches!(
            departure.status,
            DepartureStatus::Scheduled | DepartureStatus::Guaranteed
        ) {
            let languages: BTreeSet<&str> = guides
                .iter()
                .filter_map(|guide| index.employees.get(*guide))
                .flat_map(|employee| employee.languages.iter().map(String::as_str))
                .collect();
            coverage.push(LanguageCoverage {
                departure: id.clone(),
                tour: departure.tour.clone(),
                starts_at: departure.starts_at,
                guides: guides.into_iter().map(str::to_owned).collect(),
                languages: languages.into_iter().map(str::to_owned).collect(),
            });
        }
    }
    coverage.sort_by(|a, b| (a.starts_at, &a.departure).cmp(&(b.starts_at, &b.departure)));

    GuideReport {
        guides: rows.into_values().collect(),
        coverage,
    }
}

fn empty_row(employee: &str, name: Option<String>, languages: Vec<String>) -> GuideUtilisation {
    GuideUtilisation {
        employee: employee.to_owned(),
        name,
        languages,
        accepted_hours: 0.0,
        offered_hours: 0.0,
        offered: 0,
        conflicts: 0,
        departures: Vec::new(),
    }
}

//! What reports need of an employee: name, login, languages and leave.
//!
//! ```
//! use itinera_core::model::Employee;
//! use itinera_core::reports::EmployeeSummary;
//!
//! let gus = Employee { name: "Gus".into(), languages: ["hu", "de"].into_iter().collect(), ..Default::default() };
//! assert_eq!(EmployeeSummary::from(&gus).languages, ["de", "hu"]);
//! ```

use serde::{Deserialize, Serialize};

use crate::model::Employee;

/// An employee without licences or leave reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmployeeSummary {
    /// Their name.
    pub name: String,
    /// The user id of their login, if any.
    pub user: Option<String>,
    /// ISO 639 codes, sorted.
    pub languages: Vec<String>,
    /// Time off, in log order.
    pub leave: Vec<LeaveInterval>,
}

/// A stretch of leave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveInterval {
    /// Unix ms.
    pub starts_at: i64,
    /// Unix ms.
    pub ends_at: i64,
}

impl From<&Employee> for EmployeeSummary {
    fn from(employee: &Employee) -> Self {
        Self {
            name: employee.name.clone(),
            user: employee.user.clone(),
            languages: employee.languages.iter().map(str::to_owned).collect(),
            leave: employee
                .leave
                .iter()
                .map(|(_, leave)| LeaveInterval {
                    starts_at: leave.starts_at,
                    ends_at: leave.ends_at,
                })
                .collect(),
        }
    }
}

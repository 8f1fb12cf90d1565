use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Log, Record, Set};

string_enum! {
    /// Whether someone works for the company now.
    #[derive(Default)]
    pub enum EmploymentStatus {
        #[default]
        Active = "active",
        OnLeave = "on_leave",
        Left = "left",
    }
}

record! {
    /// A guide or office worker as the rest of the company sees them (`employee:{id}`).
    /// Salary and private data are in [`super::HrRecord`], which guides are never granted.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Employee {
        pub name: String,
        pub status: EmploymentStatus,
        /// The user id of their login, if any.
        pub user: Option<String>,
        pub roles: Set,
        /// ISO 639 language codes.
        pub languages: Set,
        /// Licences by licence id.
        pub licences: BTreeMap<String, Licence>,
        pub leave: Log<Leave>,
    }
}

impl Record for Employee {
    const KIND: DocumentKind = DocumentKind::Employee;
}

record! {
    /// A driving licence, guiding permit or first-aid certificate.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Licence {
        pub name: String,
        pub number: String,
        pub expires_on: Option<String>,
    }
}

record! {
    /// Time off: the authority checks assignments against it.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Leave {
        pub starts_at: i64,
        pub ends_at: i64,
        pub reason: String,
    }
}

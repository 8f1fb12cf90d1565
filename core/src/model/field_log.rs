use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Log, Record, Set};

string_enum! {
    /// How serious an incident on tour is.
    #[derive(Default)]
    pub enum Severity {
        #[default]
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

record! {
    /// What the guides of a departure record on the road (`fieldlog:{departure}`).
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct FieldLog {
        /// The departure id.
        pub departure: String,
        /// Passenger keys of the manifest who have checked in.
        pub check_ins: Set,
        pub incidents: Log<Incident>,
        pub notes: Text,
        pub acceptances: Log<AssignmentResponse>,
        /// Written by the server: the users of the guides assigned to the departure, who may
        /// write this log.
        #[autosurgeon(missing = "Default::default")]
        pub guides: Set,
    }
}

impl Record for FieldLog {
    const KIND: DocumentKind = DocumentKind::FieldLog;
}

record! {
    /// Something that happened on tour.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct Incident {
        pub severity: Severity,
        pub summary: String,
        pub actor: String,
        pub at: i64,
    }
}

record! {
    /// A guide accepting or declining an assignment, from the phone.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct AssignmentResponse {
        pub assignment: String,
        pub employee: String,
        pub accepted: bool,
        pub at: i64,
    }
}

use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::record;
use super::{DocumentKind, Record};

record! {
    /// An employee's private HR data (`hr:{id}`): office only, never on a guide's phone.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct HrRecord {
        /// The employee document id.
        pub employee: String,
        pub salary_minor: i64,
        pub currency: String,
        /// Pay period of `salary_minor`: `month`, `hour`, `day`.
        pub salary_basis: String,
        pub tax_id: String,
        pub bank_account: String,
        pub notes: Text,
    }
}

impl Record for HrRecord {
    const KIND: DocumentKind = DocumentKind::Hr;
}

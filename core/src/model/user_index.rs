use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record};

string_enum! {
    /// What a user may do with a document.
    #[derive(Default)]
    pub enum AccessLevel {
        #[default]
        Read = "read",
        Write = "write",
    }
}

record! {
    /// The documents one user's device should hold (`index:{user}`), written by the server.
    ///
    /// A device syncs this first and then everything it lists; granting or revoking access
    /// updates it, so the phone learns of new documents without asking.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct UserIndex {
        pub user: String,
        /// Entries by document id (bs58check).
        pub documents: BTreeMap<String, IndexEntry>,
    }
}

impl Record for UserIndex {
    const KIND: DocumentKind = DocumentKind::Index;
}

record! {
    /// One document a device should hold.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct IndexEntry {
        /// The document's kind, as stored in its root.
        pub kind: String,
        pub title: String,
        pub access: AccessLevel,
    }
}

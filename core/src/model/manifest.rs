//! A departure's passenger manifest: who travels, as the guides need to know them (names,
//! categories, dietary notes), and never a price.
//!
//! The manifest is personal data, so it is not part of the departure every rep reads: the
//! server writes it into a document of its own, at an id reserved for it
//! ([`Manifest::document_id`]), which head office and the guides assigned to the departure read.
//! A rep sees his own passengers on his own bookings.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::shape::record;
use super::{DocumentKind, Record, Set};
use crate::DocumentId;

record! {
    /// The confirmed passengers of one departure (`manifest:{departure}`), written by the server
    /// only.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Manifest {
        /// The departure's document id.
        pub departure: String,
        /// The users of the guides assigned to the departure: they read the manifest.
        pub guides: Set,
        /// Confirmed passengers, by passenger key (`{booking}/{passenger}`).
        pub passengers: BTreeMap<String, ManifestEntry>,
    }
}

impl Record for Manifest {
    const KIND: DocumentKind = DocumentKind::Manifest;
}

record! {
    /// A passenger as the guide sees them: no prices.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct ManifestEntry {
        pub name: String,
        pub category: String,
        pub dietary: String,
        /// The booking document id.
        pub booking: String,
    }
}

impl Manifest {
    /// The id of the manifest of `departure`: derived, so the server, the guides' phones and
    /// the head-office app agree on it without asking, and reserved, so no client can create it.
    ///
    /// ```
    /// use itinera_core::DocumentId;
    /// use itinera_core::model::Manifest;
    ///
    /// let departure = DocumentId::from_bytes([7; 16]);
    /// let id = Manifest::document_id(&departure);
    /// assert!(id.is_reserved());
    /// assert_eq!(id, Manifest::document_id(&departure));
    /// ```
    pub fn document_id(departure: &DocumentId) -> DocumentId {
        DocumentId::named(&format!("manifest:{departure}"))
    }
}

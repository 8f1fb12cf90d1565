//! An authenticated user, as the policy sees them.

use std::collections::BTreeSet;

use super::{Grant, Role};
use crate::id::DocumentId;

/// An authenticated user: who they are, their role and what they were granted.
///
/// The server builds one from a token; the policy never looks further (no sessions, no
/// devices), so a decision depends on these three fields and the document alone.
///
/// ```
/// use itinera_core::policy::{Grant, Principal, Role};
///
/// let ana = Principal::new("ana", Role::Sales).with_grant(Grant::Territory("north".into()));
/// assert!(ana.has_territory("north"));
/// assert!(!ana.has_territory("south"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user id, as written in documents' `owner`, `rep`, `custodian` and `user` fields.
    pub user: String,
    /// What the user does for the company.
    pub role: Role,
    /// Territories, departures and stock locations given to the user.
    pub grants: BTreeSet<Grant>,
}

impl Principal {
    /// A user with no grants.
    pub fn new(user: impl Into<String>, role: Role) -> Self {
        Self {
            user: user.into(),
            role,
            grants: BTreeSet::new(),
        }
    }

    /// This user with `grant` added.
    pub fn with_grant(mut self, grant: Grant) -> Self {
        self.grants.insert(grant);
        self
    }

    /// Whether `user` is this user. An absent or empty user id is nobody, never a match.
    pub fn is(&self, user: Option<&str>) -> bool {
        user.is_some_and(|user| !user.is_empty() && user == self.user)
    }

    /// Whether the accounts of `territory` are granted.
    pub fn has_territory(&self, territory: &str) -> bool {
        // A lookup by value would need an owned `Grant`; territories are few per user.
        self.grants
            .iter()
            .any(|grant| matches!(grant, Grant::Territory(t) if t == territory))
    }

    /// Whether the departure `id` is granted.
    pub fn has_departure(&self, id: &DocumentId) -> bool {
        self.grants.contains(&Grant::Departure(*id))
    }

    /// Whether the stock location `id` is granted.
    pub fn has_stock_location(&self, id: &DocumentId) -> bool {
        self.grants.contains(&Grant::StockLocation(*id))
    }
}

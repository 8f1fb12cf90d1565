//! What a user does for the company, which decides the kinds of documents they see.

use crate::model::shape::string_enum;

string_enum! {
    /// A user's role, stored lowercase (`admin`, `office`, `sales`, `guide`).
    ///
    /// The role decides which kinds of documents a user may see at all; grants and ownership
    /// then narrow that to particular documents (see [`crate::policy::access`]).
    pub enum Role {
        /// Runs the installation: writes every document the server does not keep to itself.
        Admin = "admin",
        /// Head office: catalog, stock, procurement, departures, invoices, HR; resolves alerts.
        Office = "office",
        /// A sales rep: their own accounts, leads, bookings, invoices and tickets.
        Sales = "sales",
        /// A tour guide: granted departures, their field logs and the stock they carry.
        Guide = "guide",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_stored_text() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!(
            Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            ["admin", "office", "sales", "guide"]
        );
    }

    #[test]
    fn stored_text_is_exact_and_lowercase() {
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse(" guide"), None);
        assert_eq!(Role::parse(""), None);
        assert_eq!(Role::parse("server"), None);
    }
}

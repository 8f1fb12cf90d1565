//! Who a record belongs to changes only as head office decides.
//!
//! An account's owner and territory, a lead's owner, a booking's rep, a stock location's
//! custodian, a ticket's assignee and an employee's user decide who may read and write the
//! record. Write access to a record is not the right to give it away, or to take it: a guide
//! granted a location for a tour could otherwise make himself its custodian and keep it after
//! the grant ends, and hand his kit to anyone. So sales reps and guides create records that are
//! theirs (or nobody's) and never change these fields; office and admins do.

use super::{DocumentScope, Principal, Refusal, Role};
use crate::model::DocumentKind;

/// Checks that `principal` moved no record of `kind` to another owner or territory.
pub(super) fn check_custody(
    principal: &Principal,
    kind: DocumentKind,
    before: Option<&DocumentScope>,
    after: &DocumentScope,
) -> Result<(), Refusal> {
    if matches!(principal.role, Role::Admin | Role::Office) {
        return Ok(());
    }
    let what = kind.as_str();
    let refused = |action: String| Refusal::Forbidden {
        reason: format!(
            "{} ({}) may not {action}; head office does",
            principal.user, principal.role
        ),
    };
    match before {
        Some(before) => {
            if before.owner != after.owner {
                return Err(refused(format!("change who holds this {what}")));
            }
            if before.territory != after.territory {
                return Err(refused(format!("change the territory of this {what}")));
            }
            Ok(())
        }
        // A new record is its creator's, or nobody's yet.
        None => match after.owner.as_deref() {
            Some(owner) if owner != principal.user => {
                Err(refused(format!("create this {what} for {owner}")))
            }
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stock(custodian: Option<&str>) -> DocumentScope {
        DocumentScope {
            kind: Some(DocumentKind::Stock),
            owner: custodian.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn a_guide_neither_takes_nor_hands_over_a_location() {
        let gus = Principal::new("gus", Role::Guide);
        let kind = DocumentKind::Stock;
        assert!(check_custody(&gus, kind, Some(&stock(None)), &stock(Some("gus"))).is_err());
        let refused = check_custody(&gus, kind, Some(&stock(Some("gus"))), &stock(Some("ida")))
            .expect_err("handed over");
        assert_eq!(
            refused.to_string(),
            "gus (guide) may not change who holds this stock; head office does"
        );
        assert_eq!(
            check_custody(&gus, kind, Some(&stock(Some("gus"))), &stock(Some("gus"))),
            Ok(())
        );
        let olga = Principal::new("olga", Role::Office);
        assert_eq!(
            check_custody(&olga, kind, Some(&stock(Some("gus"))), &stock(Some("ida"))),
            Ok(())
        );
    }

    #[test]
    fn a_rep_creates_records_for_herself_only() {
        let sam = Principal::new("sam", Role::Sales);
        let account = |owner: &str, territory: &str| DocumentScope {
            kind: Some(DocumentKind::Account),
            owner: Some(owner.into()),
            territory: Some(territory.into()),
            ..Default::default()
        };
        let kind = DocumentKind::Account;
        assert_eq!(
            check_custody(&sam, kind, None, &account("sam", "north")),
            Ok(())
        );
        assert!(check_custody(&sam, kind, None, &account("sofia", "north")).is_err());
        assert!(
            check_custody(
                &sam,
                kind,
                Some(&account("sam", "north")),
                &account("sam", "south")
            )
            .is_err()
        );
    }
}

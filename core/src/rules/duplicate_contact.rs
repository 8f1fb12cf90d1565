//! Rule 8, duplicate contacts: the same person created offline on two phones.
//!
//! The authority does not merge on its own: it proposes, office confirms, and
//! [`super::merge_contacts`] carries the merge out.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Account, Contact};
//! use itinera_core::rules::duplicate_contacts;
//!
//! let mut account = Account { name: "Alpine Schools".into(), ..Default::default() };
//! for (id, email) in [("c-2", "MIRA@alpine.example"), ("c-1", "mira@alpine.example ")] {
//!     let mut contact = Contact::default();
//!     contact.emails.insert(email);
//!     account.contacts.insert(id.into(), contact);
//! }
//! let proposals = duplicate_contacts(&DocumentId::from_bytes([1; 16]), &account);
//! assert_eq!(proposals.len(), 1);
//! assert_eq!((proposals[0].survivor.as_str(), proposals[0].duplicate.as_str()), ("c-1", "c-2"));
//! ```

use std::collections::BTreeSet;

use super::Finding;
use super::contact_identity::{normalise_email, normalise_name, normalise_phone_in};
use crate::DocumentId;
use crate::model::{Account, AlertRule, AlertSeverity, Contact};

/// A proposal to merge `duplicate` into `survivor`, two contacts of one account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DuplicateProposal {
    /// The account document both contacts belong to.
    pub account: DocumentId,
    /// The contact that stays: the smaller id.
    pub survivor: String,
    /// The contact merged into the survivor and archived.
    pub duplicate: String,
    /// What they share, for the person who confirms.
    pub reason: String,
}

impl DuplicateProposal {
    /// The proposal as an [`AlertRule::DuplicateContact`] finding (info), keyed
    /// `duplicate_contact:<account>:<survivor>+<duplicate>`.
    pub fn finding(&self) -> Finding {
        Finding::new(
            AlertRule::DuplicateContact,
            AlertSeverity::Info,
            self.account,
            &format!("{}+{}", self.survivor, self.duplicate),
            format!(
                "contacts {} and {} look like the same person ({}); merge {} into {}?",
                self.survivor, self.duplicate, self.reason, self.duplicate, self.survivor
            ),
        )
    }
}

/// What a contact is matched on.
struct Identity<'a> {
    id: &'a str,
    emails: BTreeSet<String>,
    phones: BTreeSet<String>,
    name: Option<String>,
}

impl<'a> Identity<'a> {
    fn of(id: &'a str, contact: &Contact, region: Option<&str>) -> Self {
        Self {
            id,
            emails: contact.emails.iter().filter_map(normalise_email).collect(),
            phones: contact
                .phones
                .iter()
                .filter_map(|phone| normalise_phone_in(phone, region))
                .collect(),
            name: normalise_name(&contact.first_name, &contact.last_name),
        }
    }
}

/// Pairs of live contacts (neither archived nor merged) of one account that share a normalised
/// e-mail address, a normalised phone number, or first and last name (compared trimmed and
/// case-insensitively; both must be given) at the same company, the account.
///
/// One proposal per pair, in (survivor, duplicate) order; the survivor is the contact with the
/// smaller id, so the proposal does not depend on which phone synced first. Three copies of a
/// person give three pairs; merging one pair makes the others disappear or merge on.
pub fn duplicate_contacts(account_id: &DocumentId, account: &Account) -> Vec<DuplicateProposal> {
    duplicate_contacts_in(account_id, account, None)
}

/// [`duplicate_contacts`] with the company's default region for phone numbers written without
/// a country code.
pub fn duplicate_contacts_in(
    account_id: &DocumentId,
    account: &Account,
    region: Option<&str>,
) -> Vec<DuplicateProposal> {
    let live: Vec<Identity<'_>> = account
        .contacts
        .iter()
        .filter(|(_, contact)| contact.archived_at.is_none() && contact.merged_into.is_none())
        .map(|(id, contact)| Identity::of(id, contact, region))
        .collect();
    let company = account.name.trim();
    let mut proposals = Vec::new();
    for (index, survivor) in live.iter().enumerate() {
        for duplicate in &live[index + 1..] {
            let mut reasons = Vec::new();
            let emails: Vec<&str> = survivor
                .emails
                .intersection(&duplicate.emails)
                .map(String::as_str)
                .collect();
            if !emails.is_empty() {
                reasons.push(format!("same e-mail {}", emails.join(", ")));
            }
            let phones: Vec<&str> = survivor
                .phones
                .intersection(&duplicate.phones)
                .map(String::as_str)
                .collect();
            if !phones.is_empty() {
                reasons.push(format!("same phone {}", phones.join(", ")));
            }
            if let (Some(name), Some(other)) = (&survivor.name, &duplicate.name) {
                if name == other && !company.is_empty() {
                    reasons.push(format!("same name {name} at {company}"));
                }
            }
            if !reasons.is_empty() {
                proposals.push(DuplicateProposal {
                    account: *account_id,
                    survivor: survivor.id.to_owned(),
                    duplicate: duplicate.id.to_owned(),
                    reason: reasons.join("; "),
                });
            }
        }
    }
    proposals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(first: &str, last: &str) -> Contact {
        Contact {
            first_name: first.into(),
            last_name: last.into(),
            ..Default::default()
        }
    }

    #[test]
    fn archived_and_merged_contacts_are_not_proposed() {
        let mut account = Account {
            name: "Alpine".into(),
            ..Default::default()
        };
        account
            .contacts
            .insert("c-1".into(), contact("Mira", "Kovacs"));
        let mut archived = contact("Mira", "Kovacs");
        archived.archived_at = Some(1);
        account.contacts.insert("c-2".into(), archived);
        let mut merged = contact("Mira", "Kovacs");
        merged.merged_into = Some("c-1".into());
        account.contacts.insert("c-3".into(), merged);
        assert!(duplicate_contacts(&DocumentId::from_bytes([1; 16]), &account).is_empty());
    }

    #[test]
    fn a_name_alone_needs_both_parts_and_a_company() {
        let mut account = Account::default();
        account
            .contacts
            .insert("c-1".into(), contact("Mira", "Kovacs"));
        account
            .contacts
            .insert("c-2".into(), contact(" mira", "KOVACS "));
        let id = DocumentId::from_bytes([1; 16]);
        assert!(duplicate_contacts(&id, &account).is_empty(), "no company");
        account.name = "Alpine".into();
        assert_eq!(duplicate_contacts(&id, &account).len(), 1);
        account.contacts.insert("c-3".into(), contact("", "Kovacs"));
        account.contacts.insert("c-4".into(), contact("", "Kovacs"));
        assert_eq!(duplicate_contacts(&id, &account).len(), 1);
    }

    #[test]
    fn the_finding_names_both_contacts() {
        let proposal = DuplicateProposal {
            account: DocumentId::from_bytes([1; 16]),
            survivor: "c-1".into(),
            duplicate: "c-2".into(),
            reason: "same phone +3612345678".into(),
        };
        let finding = proposal.finding();
        assert_eq!(finding.rule, AlertRule::DuplicateContact);
        assert_eq!(
            finding.key,
            format!("duplicate_contact:{}:c-1+c-2", proposal.account)
        );
        assert!(finding.message.contains("+3612345678"));
    }
}

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
//! assert_eq!(proposals[0].survivor, "c-1");
//! assert_eq!(proposals[0].duplicates, ["c-2"]);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::Finding;
use super::contact_identity::{normalise_email, normalise_name, normalise_phone_in};
use crate::DocumentId;
use crate::model::{Account, AlertRule, AlertSeverity, Contact};

/// A proposal to merge `duplicates` into `survivor`: contacts of one account that look like one
/// person, each linked to another of them by something they share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DuplicateProposal {
    /// The account document the contacts belong to.
    pub account: DocumentId,
    /// The contact that stays: the smallest id.
    pub survivor: String,
    /// The contacts to merge into the survivor and archive, by id.
    pub duplicates: Vec<String>,
    /// What they share, for the person who confirms.
    pub reason: String,
}

/// The most shared values a proposal's reason names; the rest are counted.
const REASONS_SHOWN: usize = 3;

impl DuplicateProposal {
    /// The proposal as an [`AlertRule::DuplicateContact`] finding (info), keyed
    /// `duplicate_contact:<account>:<survivor>`: one alert per group of look-alikes however many
    /// they are, so a contact joining the group changes the alert instead of adding alerts.
    pub fn finding(&self) -> Finding {
        let duplicates = self.duplicates.join(", ");
        Finding::new(
            AlertRule::DuplicateContact,
            AlertSeverity::Info,
            self.account,
            &self.survivor,
            format!(
                "contacts {} and {duplicates} look like the same person ({}); merge {duplicates} \
                 into {}?",
                self.survivor, self.reason, self.survivor
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

/// Groups of live contacts (neither archived nor merged) of one account that look like one
/// person: two contacts belong together when they share a normalised e-mail address, a
/// normalised phone number, or first and last name (compared trimmed and case-insensitively;
/// both must be given) at the same company, the account; a group is every contact linked so,
/// directly or through others.
///
/// One proposal per group, the survivor its smallest id, so the proposal does not depend on
/// which phone synced first. The work grows with the number of contacts and values, not with
/// the number of pairs: 150 copies of one e-mail address are one group, found in one pass.
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
    // Each shared value links every contact holding it to the first one that did.
    let mut groups = Groups::new(live.len());
    let mut first_holder: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut shared: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (index, identity) in live.iter().enumerate() {
        let emails = identity.emails.iter().map(|e| ("same e-mail", e.as_str()));
        let phones = identity.phones.iter().map(|p| ("same phone", p.as_str()));
        let name = identity
            .name
            .as_deref()
            .filter(|_| !company.is_empty())
            .map(|name| ("same name", name));
        for (what, value) in emails.chain(phones).chain(name) {
            match first_holder.get(&(what, value)) {
                Some(&first) => {
                    groups.join(first, index);
                    let reason = if what == "same name" {
                        format!("{what} {value} at {company}")
                    } else {
                        format!("{what} {value}")
                    };
                    shared.entry(first).or_default().insert(reason);
                }
                None => {
                    first_holder.insert((what, value), index);
                }
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..live.len() {
        members.entry(groups.root(index)).or_default().push(index);
    }
    let mut proposals: Vec<DuplicateProposal> = members
        .into_values()
        .filter(|group| group.len() > 1)
        .map(|group| {
            let mut ids: Vec<&str> = group.iter().map(|&i| live[i].id).collect();
            ids.sort_unstable();
            let reasons: BTreeSet<&String> = group
                .iter()
                .filter_map(|i| shared.get(i))
                .flatten()
                .collect();
            let mut reason: Vec<&str> = reasons
                .iter()
                .take(REASONS_SHOWN)
                .map(|r| r.as_str())
                .collect();
            let more = reasons.len().saturating_sub(REASONS_SHOWN);
            let more = format!("{more} more");
            if reasons.len() > REASONS_SHOWN {
                reason.push(&more);
            }
            DuplicateProposal {
                account: *account_id,
                survivor: ids[0].to_owned(),
                duplicates: ids[1..].iter().map(|id| (*id).to_owned()).collect(),
                reason: reason.join("; "),
            }
        })
        .collect();
    proposals.sort();
    proposals
}

/// Disjoint sets over `0..n` (union by size, path halving).
struct Groups {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl Groups {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn root(&mut self, mut at: usize) -> usize {
        while self.parent[at] != at {
            self.parent[at] = self.parent[self.parent[at]];
            at = self.parent[at];
        }
        at
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a == b {
            return;
        }
        let (big, small) = if self.size[a] >= self.size[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small] = big;
        self.size[big] += self.size[small];
    }
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
            duplicates: vec!["c-2".into()],
            reason: "same phone +3612345678".into(),
        };
        let finding = proposal.finding();
        assert_eq!(finding.rule, AlertRule::DuplicateContact);
        assert_eq!(
            finding.key,
            format!("duplicate_contact:{}:c-1", proposal.account)
        );
        assert!(finding.message.contains("+3612345678"));
    }

    #[test]
    fn look_alikes_linked_through_others_are_one_proposal() {
        let mut account = Account {
            name: "Alpine".into(),
            ..Default::default()
        };
        // 150 contacts with one e-mail address: one group, not 11,175 pairs.
        for n in 0..150 {
            let mut copy = contact("", &format!("Guest {n}"));
            copy.emails.insert("trips@alpine.example");
            account.contacts.insert(format!("c-{n:03}"), copy);
        }
        // Two more linked to each other by a phone, and to the group by nothing.
        for id in ["p-1", "p-2"] {
            let mut other = contact("", id);
            other.phones.insert("+36 1 234 5678");
            account.contacts.insert(id.into(), other);
        }
        // One linked to the first group through its phone, shared with a member's second address.
        let mut bridge = contact("", "Bridge");
        bridge.phones.insert("+36 30 111 2222");
        account
            .contacts
            .get_mut("c-149")
            .expect("member")
            .phones
            .insert("+36301112222");
        account.contacts.insert("b-1".into(), bridge);
        let proposals = duplicate_contacts(&DocumentId::from_bytes([1; 16]), &account);
        assert_eq!(proposals.len(), 2, "{proposals:?}");
        let big = proposals
            .iter()
            .find(|p| p.survivor == "b-1")
            .expect("group");
        assert_eq!(big.duplicates.len(), 150);
        assert!(
            big.reason.contains("same e-mail trips@alpine.example"),
            "{}",
            big.reason
        );
        let small = proposals
            .iter()
            .find(|p| p.survivor == "p-1")
            .expect("pair");
        assert_eq!(small.duplicates, ["p-2"]);
    }
}

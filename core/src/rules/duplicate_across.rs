//! Rule 8 across accounts: the same customer or contact created in two accounts (two reps
//! entering the same school, a lead converted on two phones).
//!
//! Each account and each live contact is described by identity keys (`email:…`, `phone:+…`,
//! `name:<first last>@<company>`, `vat:…`, `account:<name>@<city>`); the server keeps the keys
//! of every account in memory and proposes a merge when two accounts share one. A proposal is
//! an alert for office: merging customers moves bookings and invoices, which people decide.
//!
//! ```
//! use itinera_core::model::Contact;
//! use itinera_core::rules::contact_keys;
//!
//! let mira = Contact {
//!     first_name: "Mira".into(),
//!     last_name: "Kovács".into(),
//!     phones: ["06 30 123 4567"].into_iter().collect(),
//!     ..Default::default()
//! };
//! let keys = contact_keys(&mira, "Lakeside Schools", Some("HU"));
//! assert!(keys.contains("phone:+36301234567"));
//! assert!(keys.contains("name:mira kovács@lakeside schools"));
//! ```

use std::collections::BTreeSet;

use super::Finding;
use super::contact_identity::{normalise_email, normalise_name, normalise_phone_in};
use crate::DocumentId;
use crate::model::{Account, AlertRule, AlertSeverity, Contact};

/// The identity keys of one contact of the company `company`.
pub fn contact_keys(contact: &Contact, company: &str, region: Option<&str>) -> BTreeSet<String> {
    identity_keys(
        contact.emails.iter(),
        contact.phones.iter(),
        &contact.first_name,
        &contact.last_name,
        company,
        region,
    )
}

/// The identity keys of a contact given by its parts (as a report summary keeps them).
pub(crate) fn identity_keys<'a>(
    emails: impl Iterator<Item = &'a str>,
    phones: impl Iterator<Item = &'a str>,
    first_name: &str,
    last_name: &str,
    company: &str,
    region: Option<&str>,
) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = emails
        .filter_map(normalise_email)
        .map(|email| format!("email:{email}"))
        .collect();
    keys.extend(
        phones
            .filter_map(|phone| normalise_phone_in(phone, region))
            // A national number the region could not place is not a key: "0612345678" in two
            // countries is two people.
            .filter(|phone| phone.starts_with('+'))
            .map(|phone| format!("phone:{phone}")),
    );
    let company = normalise_company(company);
    if let (Some(name), false) = (normalise_name(first_name, last_name), company.is_empty()) {
        keys.insert(format!("name:{name}@{company}"));
    }
    keys
}

/// The identity keys of an account itself: its VAT number, and its name in its city.
pub fn account_keys(account: &Account) -> BTreeSet<String> {
    keys_of_account(
        &account.name,
        &account.address.city,
        account.vat_number.as_deref(),
    )
}

/// [`account_keys`] from the parts.
pub(crate) fn keys_of_account(name: &str, city: &str, vat: Option<&str>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    if let Some(vat) = vat {
        let vat: String = vat
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_uppercase();
        if vat.len() >= 4 {
            keys.insert(format!("vat:{vat}"));
        }
    }
    let name = normalise_company(name);
    if !name.is_empty() {
        keys.insert(format!("account:{name}@{}", normalise_company(city)));
    }
    keys
}

/// A company or city name compared without case, punctuation or extra spaces.
fn normalise_company(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Accounts that look like one customer: each shares an identity key with another of them,
/// directly or through others. One group is one merge proposal however many accounts it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateCustomers {
    /// The accounts, oldest first (ids are time-ordered); at least two.
    pub accounts: Vec<DocumentId>,
    /// The identity keys they share.
    pub keys: BTreeSet<String>,
}

/// The most accounts and keys a proposal names; the rest are counted.
const NAMED: usize = 5;

impl DuplicateCustomers {
    /// The newest account: the proposal is its alert, so that the evaluation of whichever
    /// account joins the group last moves the proposal to it.
    pub fn newest(&self) -> Option<DocumentId> {
        self.accounts.last().copied()
    }

    /// The merge proposal, an [`AlertRule::DuplicateAccount`] finding (info) on the newest
    /// account, keyed by the oldest.
    ///
    /// ```
    /// use itinera_core::DocumentId;
    /// use itinera_core::rules::DuplicateCustomers;
    ///
    /// let group = DuplicateCustomers {
    ///     accounts: vec![DocumentId::from_bytes([1; 16]), DocumentId::from_bytes([2; 16])],
    ///     keys: ["phone:+36301234567".to_owned()].into_iter().collect(),
    /// };
    /// let finding = group.finding().expect("two accounts");
    /// assert_eq!(finding.document, DocumentId::from_bytes([2; 16]));
    /// assert!(finding.message.contains("phone:+36301234567"));
    /// ```
    pub fn finding(&self) -> Option<Finding> {
        let (oldest, newest) = (self.accounts.first()?, self.newest()?);
        if *oldest == newest {
            return None;
        }
        let accounts = named(self.accounts.iter().map(ToString::to_string));
        let keys = named(self.keys.iter().cloned());
        Some(Finding::new(
            AlertRule::DuplicateAccount,
            AlertSeverity::Info,
            newest,
            &oldest.to_string(),
            format!(
                "accounts {accounts} look like the same customer ({keys}); merge the newer into \
                 the older, or mark them as different"
            ),
        ))
    }
}

/// The first [`NAMED`] of `items`, comma-separated, and how many more there are.
fn named(items: impl ExactSizeIterator<Item = String>) -> String {
    let total = items.len();
    let mut text: Vec<String> = items.take(NAMED).collect();
    if total > NAMED {
        text.push(format!("{} more", total - NAMED));
    }
    text.join(", ")
}

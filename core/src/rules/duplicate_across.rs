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

/// Two accounts (or a contact of each) that share an identity key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CompanyDuplicate {
    /// The account that was changed.
    pub account: DocumentId,
    /// Its contact, when the match is a contact's.
    pub contact: Option<String>,
    /// The other account.
    pub other: DocumentId,
    /// The other account's contact, when the match is a contact's.
    pub other_contact: Option<String>,
    /// The key they share.
    pub key: String,
}

/// The merge proposal for `duplicate`, keyed by the pair of accounts (whichever changed), so
/// one pair is one alert.
pub fn duplicate_across_finding(duplicate: &CompanyDuplicate) -> Finding {
    let (first, second) = if duplicate.account <= duplicate.other {
        (duplicate.account, duplicate.other)
    } else {
        (duplicate.other, duplicate.account)
    };
    let what = match (&duplicate.contact, &duplicate.other_contact) {
        (Some(contact), Some(other)) => format!(
            "contact {contact} of account {} and contact {other} of account {} look like \
             the same person",
            duplicate.account, duplicate.other
        ),
        _ => format!(
            "accounts {} and {} look like the same customer",
            duplicate.account, duplicate.other
        ),
    };
    Finding::new(
        AlertRule::DuplicateAccount,
        AlertSeverity::Info,
        first,
        &format!("{second}:{}", duplicate.key),
        format!(
            "{what} ({}); merge the newer into the older, or mark them as different",
            duplicate.key
        ),
    )
}

//! What reports need of an account: who owns it, where it sells, and its opportunities.
//!
//! ```
//! use itinera_core::model::{Account, Opportunity, Stage};
//! use itinera_core::reports::AccountSummary;
//!
//! let mut account = Account { name: "Lakeside Schools".into(), owner: "sam".into(), ..Default::default() };
//! account.opportunities.insert("o-1".into(), Opportunity { stage: Stage::Proposal, amount_minor: 780_000, ..Default::default() });
//! let summary = AccountSummary::from(&account);
//! assert_eq!(summary.opportunities[0].id, "o-1");
//! assert_eq!(summary.opportunities[0].stage_entered_at, None); // never moved
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Account, Opportunity, Stage};

/// An account as the pipeline and conversion reports see it: no contacts, notes or activities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    /// The account's name.
    pub name: String,
    /// The owning sales rep's user id.
    pub owner: String,
    /// The sales territory.
    pub territory: String,
    /// Archived, or merged into another account: its opportunities leave the reports.
    pub archived: bool,
    /// Its opportunities, in id order.
    pub opportunities: Vec<OpportunitySummary>,
    /// Its VAT number, the city of its address and its live contacts' details: what the
    /// company-wide duplicate check compares.
    #[serde(default)]
    pub vat_number: Option<String>,
    /// The city of its address.
    #[serde(default)]
    pub city: String,
    /// Its live contacts (not archived, not merged), in id order.
    #[serde(default)]
    pub contacts: Vec<ContactSummary>,
}

/// The details of a contact that identify the person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactSummary {
    /// The contact's id within its account.
    pub id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail addresses, as stored.
    pub emails: Vec<String>,
    /// Phone numbers, as stored.
    pub phones: Vec<String>,
}

impl AccountSummary {
    /// The identity keys of this account and of each of its contacts (`None` for the
    /// account's own), for the company-wide duplicate check.
    pub fn identity_keys(&self, region: Option<&str>) -> Vec<(Option<&str>, String)> {
        let mut keys: Vec<(Option<&str>, String)> =
            crate::rules::duplicate_across::keys_of_account(
                &self.name,
                &self.city,
                self.vat_number.as_deref(),
            )
            .into_iter()
            .map(|key| (None, key))
            .collect();
        for contact in &self.contacts {
            let contact_keys = crate::rules::duplicate_across::identity_keys(
                contact.emails.iter().map(String::as_str),
                contact.phones.iter().map(String::as_str),
                &contact.first_name,
                &contact.last_name,
                &self.name,
                region,
            );
            keys.extend(
                contact_keys
                    .into_iter()
                    .map(|key| (Some(contact.id.as_str()), key)),
            );
        }
        keys
    }
}

/// One opportunity, with its stage history reduced to two times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunitySummary {
    /// The opportunity's id within its account.
    pub id: String,
    /// What is being sold.
    pub name: String,
    /// Where it stands in the pipeline.
    #[serde(with = "crate::reports::stored_text")]
    pub stage: Stage,
    /// The expected value in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 code of `amount_minor`.
    pub currency: String,
    /// Percent chance of winning, as the rep entered it (reports clamp it to 0–100).
    pub probability: i64,
    /// The rep working it (user id); may be empty, then reports use the account's owner.
    pub owner: String,
    /// Tour ids (catalog keys) the customer is interested in.
    pub tours: Vec<String>,
    /// Why it was lost, once lost.
    pub lost_reason: Option<String>,
    /// Unix ms of the last stage-history entry: when it entered its current stage.
    pub stage_entered_at: Option<i64>,
    /// Unix ms of the first stage-history entry.
    pub created_at: Option<i64>,
    /// Archived on its own (its account may still be active).
    pub archived: bool,
}

impl From<&Account> for AccountSummary {
    fn from(account: &Account) -> Self {
        Self {
            name: account.name.clone(),
            owner: account.owner.clone(),
            territory: account.territory.clone(),
            archived: account.archived_at.is_some() || account.merged_into.is_some(),
            opportunities: account
                .opportunities
                .iter()
                .map(|(id, opportunity)| OpportunitySummary::new(id, opportunity))
                .collect(),
            vat_number: account.vat_number.clone(),
            city: account.address.city.clone(),
            contacts: account
                .contacts
                .iter()
                .filter(|(_, contact)| {
                    contact.archived_at.is_none() && contact.merged_into.is_none()
                })
                .map(|(id, contact)| ContactSummary {
                    id: id.clone(),
                    first_name: contact.first_name.clone(),
                    last_name: contact.last_name.clone(),
                    emails: contact.emails.iter().map(str::to_owned).collect(),
                    phones: contact.phones.iter().map(str::to_owned).collect(),
                })
                .collect(),
        }
    }
}

impl OpportunitySummary {
    /// The summary of `opportunity`, stored under `id` in its account.
    pub fn new(id: &str, opportunity: &Opportunity) -> Self {
        // The log iterates in key order, and keys begin with the time of the entry.
        let mut history = opportunity.stage_history.iter();
        let first = history.next().map(|(_, change)| change.at);
        let last = history.next_back().map(|(_, change)| change.at).or(first);
        Self {
            id: id.to_owned(),
            name: opportunity.name.clone(),
            stage: opportunity.stage,
            amount_minor: opportunity.amount_minor,
            currency: opportunity.currency.clone(),
            probability: opportunity.probability,
            owner: opportunity.owner.clone(),
            tours: opportunity.tours.iter().map(str::to_owned).collect(),
            lost_reason: opportunity.lost_reason.clone(),
            stage_entered_at: last,
            created_at: first,
            archived: opportunity.archived_at.is_some(),
        }
    }
}

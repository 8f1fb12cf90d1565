//! Leads: someone who might buy, from first contact to an account with an opportunity.
//!
//! [`Replica::convert_lead`] creates the account (owned by this user) with the lead's person
//! as a contact and an opportunity, and marks the lead converted, in one durable commit: a
//! phone killed half-way through holds either the lead unconverted or all three.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::replica::{LeadInput, Replica};
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let lead = DocumentId::new_v7(1_000, [1; 10]);
//! replica.create_lead(lead, LeadInput {
//!     name: "Mira Kovács".into(),
//!     company: "Alpine Schools".into(),
//!     email: Some("mira@alpine.example".into()),
//!     source: "fair".into(),
//!     ..Default::default()
//! }, 1_000)?;
//! replica.qualify_lead(lead, 1_001)?;
//! let account = DocumentId::new_v7(1_002, [2; 10]);
//! let converted = replica.convert_lead(lead, account, "c-1".into(), "o-1".into(), 1_002)?;
//! assert_eq!(converted.account, account);
//! let view = replica.account(account)?.expect("created");
//! assert_eq!(view.contacts[0].last_name, "Kovács");
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use super::Replica;
use super::accounts::{present, required};
use super::error::{ReplicaResult, invalid};
use crate::DocumentId;
use crate::model::{Account, Contact, Lead, LeadStatus, ModelError, Opportunity};
use crate::rules::{normalise_email, normalise_phone};
use crate::store::WriteBatch;

/// A lead as the rep types it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadInput {
    /// The person's name.
    pub name: String,
    /// Their company, if any.
    pub company: String,
    /// An e-mail address, stored lower-cased.
    pub email: Option<String>,
    /// A phone number, stored in E.164 when written with a country code.
    pub phone: Option<String>,
    /// Where the lead came from: `web`, `fair`, `referral`…
    pub source: String,
    /// The campaign it answered, if any.
    pub campaign: Option<String>,
}

/// What [`Replica::convert_lead`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertedLead {
    /// The new account document.
    pub account: DocumentId,
    /// The contact's id within the account.
    pub contact: String,
    /// The opportunity's id within the account.
    pub opportunity: String,
}

/// A lead as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadView {
    /// The lead document.
    pub id: DocumentId,
    /// The person's name.
    pub name: String,
    /// Their company.
    pub company: String,
    /// E-mail address, lower-cased; empty if unknown.
    pub email: String,
    /// Phone number; empty if unknown.
    pub phone: String,
    /// Where the lead came from.
    pub source: String,
    /// Where the lead stands.
    pub status: LeadStatus,
    /// The account it became (bs58 id), once converted.
    pub converted_to: Option<String>,
}

impl LeadView {
    /// The view of `lead`, stored as document `id`.
    pub fn of(id: DocumentId, lead: &Lead) -> Self {
        Self {
            id,
            name: lead.name.clone(),
            company: lead.company.clone(),
            email: lead.email.clone(),
            phone: lead.phone.clone(),
            source: lead.source.clone(),
            status: lead.status,
            converted_to: lead.converted_to.clone(),
        }
    }
}

impl Replica {
    /// Creates the lead `id`, owned by this user.
    pub fn create_lead(
        &mut self,
        id: DocumentId,
        input: LeadInput,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let name = input.name.trim().to_owned();
        let company = input.company.trim().to_owned();
        if name.is_empty() && company.is_empty() {
            return Err(invalid("a lead needs a name or a company"));
        }
        let email = match input.email.and_then(present) {
            None => String::new(),
            Some(raw) => normalise_email(&raw)
                .ok_or_else(|| invalid(format!("{raw:?} is not an e-mail address")))?,
        };
        let phone = match input.phone.and_then(present) {
            None => String::new(),
            Some(raw) => normalise_phone(&raw)
                .ok_or_else(|| invalid(format!("{raw:?} is not a phone number")))?,
        };
        let lead = Lead {
            source: input.source.trim().to_owned(),
            campaign: input.campaign.and_then(present),
            name,
            company,
            email,
            phone,
            owner: self.user.clone(),
            ..Lead::default()
        };
        self.create(id, at, &lead, WriteBatch::new())?;
        Ok(id)
    }

    /// Marks the lead `id` qualified. A converted or disqualified lead is refused.
    pub fn qualify_lead(&mut self, id: DocumentId, at: i64) -> ReplicaResult<DocumentId> {
        self.change::<Lead, _>(id, at, |lead| {
            if matches!(
                lead.status,
                LeadStatus::Converted | LeadStatus::Disqualified
            ) {
                return Err(ModelError::Invalid(format!(
                    "a {} lead cannot be qualified",
                    lead.status
                )));
            }
            lead.status = LeadStatus::Qualified;
            Ok(())
        })?;
        Ok(id)
    }

    /// Turns the lead `lead` into the account `account_id` owned by this user, with the lead's
    /// person as contact `contact_id` and an opportunity `opportunity_id`; the lead becomes
    /// converted, with `converted_to` naming the account. All in one durable commit.
    pub fn convert_lead(
        &mut self,
        lead: DocumentId,
        account_id: DocumentId,
        contact_id: String,
        opportunity_id: String,
        at: i64,
    ) -> ReplicaResult<ConvertedLead> {
        let contact_id = required(contact_id, "a contact needs an id")?;
        let opportunity_id = required(opportunity_id, "an opportunity needs an id")?;
        let record = self.read_existing::<Lead>(lead)?;
        check_convertible(&record)?;
        let account = self.account_from_lead(&record, &contact_id, &opportunity_id);
        self.insert(account_id, at, &account)?;
        let converted_to = account_id.to_string();
        let marked = self.edit::<Lead, _>(lead, at, |lead| {
            // Checked again inside the change: the record read above is the same one, but this
            // keeps the rule next to the write.
            check_convertible(lead)?;
            lead.status = LeadStatus::Converted;
            lead.converted_to = Some(converted_to);
            Ok(())
        });
        if let Err(err) = marked {
            self.forget(account_id);
            return Err(err);
        }
        self.write(&[account_id, lead], Some(at), WriteBatch::new())?;
        Ok(ConvertedLead {
            account: account_id,
            contact: contact_id,
            opportunity: opportunity_id,
        })
    }

    /// The lead `id` as the app shows it; `None` if the replica does not hold it.
    pub fn lead(&mut self, id: DocumentId) -> ReplicaResult<Option<LeadView>> {
        Ok(self.read::<Lead>(id)?.map(|lead| LeadView::of(id, &lead)))
    }

    /// The leads this user owns that are neither converted, disqualified nor archived, in id
    /// (creation) order.
    pub fn my_leads(&mut self) -> ReplicaResult<Vec<LeadView>> {
        let user = self.user.clone();
        Ok(self
            .read_all::<Lead>()?
            .into_iter()
            .filter(|(_, lead)| lead.owner == user && lead.archived_at.is_none())
            .filter(|(_, lead)| {
                !matches!(
                    lead.status,
                    LeadStatus::Converted | LeadStatus::Disqualified
                )
            })
            .map(|(id, lead)| LeadView::of(id, &lead))
            .collect())
    }

    fn account_from_lead(&self, lead: &Lead, contact_id: &str, opportunity_id: &str) -> Account {
        let name = if lead.company.trim().is_empty() {
            lead.name.trim().to_owned()
        } else {
            lead.company.trim().to_owned()
        };
        let (first_name, last_name) = split_name(&lead.name);
        let mut contact = Contact {
            first_name,
            last_name,
            ..Contact::default()
        };
        // Normalised again: a lead written by the web form on the server may not be.
        if let Some(email) = normalise_email(&lead.email) {
            contact.emails.insert(email);
        }
        if let Some(phone) = normalise_phone(&lead.phone) {
            contact.phones.insert(phone);
        }
        let opportunity = Opportunity {
            name: name.clone(),
            owner: self.user.clone(),
            ..Opportunity::default()
        };
        let mut account = Account {
            name,
            owner: self.user.clone(),
            ..Account::default()
        };
        account.contacts.insert(contact_id.to_owned(), contact);
        account
            .opportunities
            .insert(opportunity_id.to_owned(), opportunity);
        account
    }
}

fn check_convertible(lead: &Lead) -> Result<(), ModelError> {
    if lead.converted_to.is_some() || lead.status == LeadStatus::Converted {
        return Err(ModelError::Invalid("the lead is converted already".into()));
    }
    if lead.status == LeadStatus::Disqualified {
        return Err(ModelError::Invalid(
            "a disqualified lead cannot be converted".into(),
        ));
    }
    if lead.archived_at.is_some() {
        return Err(ModelError::Invalid(
            "an archived lead cannot be converted".into(),
        ));
    }
    Ok(())
}

/// A full name as given and family name: the last word is the family name.
fn split_name(name: &str) -> (String, String) {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_last() {
        None => (String::new(), String::new()),
        Some((only, [])) => ((*only).to_owned(), String::new()),
        Some((last, first)) => (first.join(" "), (*last).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_is_the_family_name() {
        assert_eq!(
            split_name(" Mira  Anna Kovács "),
            ("Mira Anna".into(), "Kovács".into())
        );
        assert_eq!(split_name("Mira"), ("Mira".into(), String::new()));
        assert_eq!(split_name(""), (String::new(), String::new()));
    }
}

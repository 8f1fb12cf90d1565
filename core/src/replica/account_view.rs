//! How a sales rep's app shows an account: [`AccountView`] with its live contacts and
//! opportunities and the number of open tasks, and the account queries of the replica.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::replica::{ContactInput, Replica};
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let account = DocumentId::new_v7(1_000, [1; 10]);
//! replica.create_account(account, "Alpine Schools".into(), "north".into(), 1_000)?;
//! let mira = ContactInput {
//!     first_name: "Mira".into(),
//!     email: Some("Mira@Alpine.Example".into()),
//!     ..Default::default()
//! };
//! replica.add_contact(account, "c-1".into(), mira, 1_001)?;
//!
//! let found = replica.search_accounts(" mira@alpine.example ".into())?;
//! assert_eq!(found[0].name, "Alpine Schools");
//! assert_eq!(found[0].contacts[0].emails, vec!["mira@alpine.example".to_owned()]);
//! assert_eq!(replica.my_accounts()?.len(), 1);
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use super::Replica;
use super::error::ReplicaResult;
use crate::DocumentId;
use crate::model::{Account, ActivityKind, Contact, Opportunity, Stage};
use crate::rules::{normalise_email, normalise_phone};

/// An account as the app lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    /// The account document.
    pub id: DocumentId,
    /// The account's name.
    pub name: String,
    /// The sales territory.
    pub territory: String,
    /// The owning rep's user id.
    pub owner: String,
    /// The VAT number, if known.
    pub vat_number: Option<String>,
    /// The city of the address.
    pub city: String,
    /// The country of the address (ISO 3166 alpha-2).
    pub country: String,
    /// Contacts not archived or merged away, by id.
    pub contacts: Vec<ContactView>,
    /// Opportunities not archived, by id.
    pub opportunities: Vec<OpportunityView>,
    /// Tasks not done yet.
    pub open_tasks: usize,
    /// Whether the account is archived.
    pub archived: bool,
}

/// A contact of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactView {
    /// The contact's id within the account.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title.
    pub title: String,
    /// Preferred language (ISO 639).
    pub language: String,
    /// E-mail addresses, lower-cased.
    pub emails: Vec<String>,
    /// Phone numbers, E.164 where written with a country code.
    pub phones: Vec<String>,
}

/// An opportunity of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityView {
    /// The opportunity's id within the account.
    pub id: String,
    /// What is being sold.
    pub name: String,
    /// Where it stands in the pipeline.
    pub stage: Stage,
    /// The expected amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The rep working on it.
    pub owner: String,
}

impl AccountView {
    /// The view of `account`, stored as document `id`.
    pub fn of(id: DocumentId, account: &Account) -> Self {
        Self {
            id,
            name: account.name.clone(),
            territory: account.territory.clone(),
            owner: account.owner.clone(),
            vat_number: account.vat_number.clone(),
            city: account.address.city.clone(),
            country: account.address.country.clone(),
            contacts: account
                .contacts
                .iter()
                .filter(|(_, contact)| is_live(contact))
                .map(|(key, contact)| ContactView::of(key, contact))
                .collect(),
            opportunities: account
                .opportunities
                .iter()
                .filter(|(_, opportunity)| opportunity.archived_at.is_none())
                .map(|(key, opportunity)| OpportunityView::of(key, opportunity))
                .collect(),
            open_tasks: account
                .activities
                .iter()
                .filter(|(_, activity)| activity.activity_kind == ActivityKind::Task)
                .filter(|(_, activity)| !activity.done)
                .count(),
            archived: account.archived_at.is_some(),
        }
    }
}

impl ContactView {
    /// The view of the contact `key`.
    pub fn of(key: &str, contact: &Contact) -> Self {
        Self {
            id: key.to_owned(),
            first_name: contact.first_name.clone(),
            last_name: contact.last_name.clone(),
            title: contact.title.clone(),
            language: contact.language.clone(),
            emails: contact.emails.iter().map(str::to_owned).collect(),
            phones: contact.phones.iter().map(str::to_owned).collect(),
        }
    }
}

impl OpportunityView {
    /// The view of the opportunity `key`.
    pub fn of(key: &str, opportunity: &Opportunity) -> Self {
        Self {
            id: key.to_owned(),
            name: opportunity.name.clone(),
            stage: opportunity.stage,
            amount_minor: opportunity.amount_minor,
            currency: opportunity.currency.clone(),
            owner: opportunity.owner.clone(),
        }
    }
}

/// A contact neither archived nor merged into another.
fn is_live(contact: &Contact) -> bool {
    contact.archived_at.is_none() && contact.merged_into.is_none()
}

impl Replica {
    /// The accounts this user owns and has not archived, by name.
    pub fn my_accounts(&mut self) -> ReplicaResult<Vec<AccountView>> {
        let user = self.user.clone();
        let mut views: Vec<AccountView> = self
            .read_all::<Account>()?
            .into_iter()
            .filter(|(_, account)| account.owner == user && account.archived_at.is_none())
            .map(|(id, account)| AccountView::of(id, &account))
            .collect();
        sort_by_name(&mut views);
        Ok(views)
    }

    /// The accounts the replica holds (this user's and any others it may read, archived ones
    /// too, flagged) whose name contains `query` (ignoring case), or with a live contact whose
    /// e-mail address or phone number is `query` once both are normalised. By name; nothing
    /// for a blank query.
    pub fn search_accounts(&mut self, query: String) -> ReplicaResult<Vec<AccountView>> {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return Ok(Vec::new());
        }
        let email = normalise_email(&query);
        let phone = normalise_phone(&query);
        let mut views: Vec<AccountView> = self
            .read_all::<Account>()?
            .into_iter()
            .filter(|(_, account)| {
                account.name.to_lowercase().contains(&needle)
                    || account
                        .contacts
                        .values()
                        .filter(|c| is_live(c))
                        .any(|contact| {
                            email.as_deref().is_some_and(|e| contact.emails.contains(e))
                                || phone.as_deref().is_some_and(|p| contact.phones.contains(p))
                        })
            })
            .map(|(id, account)| AccountView::of(id, &account))
            .collect();
        sort_by_name(&mut views);
        Ok(views)
    }

    /// The activities logged on an account (calls, meetings, e-mails, notes, tasks), newest
    /// first, with their log keys.
    pub fn activities(
        &mut self,
        id: DocumentId,
    ) -> ReplicaResult<Vec<(String, crate::model::Activity)>> {
        let Some(account) = self.read::<Account>(id)? else {
            return Ok(Vec::new());
        };
        Ok(account
            .activities
            .iter()
            .rev()
            .map(|(key, activity)| (key.to_owned(), activity.clone()))
            .collect())
    }

    /// The account `id` as the app shows it; `None` if the replica does not hold it.
    pub fn account(&mut self, id: DocumentId) -> ReplicaResult<Option<AccountView>> {
        Ok(self
            .read::<Account>(id)?
            .map(|account| AccountView::of(id, &account)))
    }
}

fn sort_by_name(views: &mut [AccountView]) {
    views.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
}

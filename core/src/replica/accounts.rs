//! A sales rep's work on accounts: the account itself, its contacts, activities, tasks and
//! opportunities.
//!
//! Each operation is one Automerge change through [`crate::Document::change`], so only the
//! fields it touches become operations and edits of other fields on other devices merge.
//! Contact e-mail addresses and phone numbers are stored normalised
//! ([`normalise_email`], [`normalise_phone`]), which is how duplicates are found later.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::model::{ActivityKind, Stage};
//! use itinera_core::replica::{AccountUpdate, Replica};
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let account = DocumentId::new_v7(1_000, [1; 10]);
//! replica.create_account(account, "Alpine Schools".into(), "north".into(), 1_000)?;
//! replica.update_account(account, AccountUpdate { city: Some("Graz".into()), ..Default::default() }, 1_001)?;
//! replica.add_opportunity(account, "o-1".into(), "Spring trip".into(), 480_000, "EUR".into(), 1_002)?;
//! replica.move_opportunity(account, "o-1".into(), Stage::Proposal, 1_003, "ana-1")?;
//! let task = replica.add_task(account, "Send the proposal".into(), 2_000, 1_004, "ana-2")?;
//! replica.log_activity(account, ActivityKind::Call, "Called Mira".into(), String::new(), None, 1_005, "ana-3")?;
//!
//! let view = replica.account(account)?.expect("held");
//! assert_eq!(view.city, "Graz");
//! assert_eq!(view.opportunities[0].stage, Stage::Proposal);
//! assert_eq!(view.open_tasks, 1);
//! replica.complete_task(account, task, 1_006)?;
//! assert_eq!(replica.account(account)?.expect("held").open_tasks, 0);
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use automerge::transaction::CommitOptions;
use automerge::{ObjType, ReadDoc, Value};

use super::Replica;
use super::error::{ReplicaResult, invalid};
use crate::DocumentId;
use crate::model::{
    Account, Activity, ActivityKind, Address, Contact, DocumentKind, FieldPath, LogKey, ModelError,
    Opportunity, Set, Stage,
};
use crate::rules::{normalise_email, normalise_phone};
use crate::store::WriteBatch;

/// Fields of an account to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    /// The new name; may not be blank.
    pub name: Option<String>,
    /// The new sales territory.
    pub territory: Option<String>,
    /// The new VAT number; a blank one clears it.
    pub vat_number: Option<String>,
    /// The new city of the address.
    pub city: Option<String>,
    /// The new country of the address (ISO 3166 alpha-2).
    pub country: Option<String>,
}

/// A contact as the rep types it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactInput {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title.
    pub title: String,
    /// An e-mail address, stored lower-cased. When updating, `None` keeps the stored
    /// addresses, a blank one removes them, and an address replaces them.
    pub email: Option<String>,
    /// A phone number, stored in E.164 when written with a country code. When updating,
    /// `None` keeps the stored numbers, a blank one removes them, and a number replaces them.
    pub phone: Option<String>,
    /// Preferred language (ISO 639).
    pub language: String,
}

impl Replica {
    /// Creates the account `id` owned by this user.
    pub fn create_account(
        &mut self,
        id: DocumentId,
        name: String,
        territory: String,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let name = required(name, "an account needs a name")?;
        let account = Account {
            name,
            territory: territory.trim().to_owned(),
            owner: self.user.clone(),
            ..Account::default()
        };
        self.create(id, at, &account, WriteBatch::new())?;
        Ok(id)
    }

    /// Changes the fields of the account `id` that `update` names.
    pub fn update_account(
        &mut self,
        id: DocumentId,
        update: AccountUpdate,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let name = update
            .name
            .map(|name| required(name, "an account needs a name"))
            .transpose()?;
        self.change_part::<AccountFields, _>(id, ACCOUNT, at, &[], |fields| {
            let account = fields
                .as_mut()
                .ok_or_else(|| missing("the account's fields"))?;
            if let Some(name) = name {
                account.name = name;
            }
            if let Some(territory) = update.territory {
                account.territory = territory.trim().to_owned();
            }
            if let Some(vat) = update.vat_number {
                account.vat_number = present(vat);
            }
            if let Some(city) = update.city {
                account.address.city = city.trim().to_owned();
            }
            if let Some(country) = update.country {
                account.address.country = country.trim().to_uppercase();
            }
            Ok(())
        })?;
        Ok(id)
    }

    /// Archives the account `id`; its history stays, and archiving twice keeps the first time.
    pub fn archive_account(&mut self, id: DocumentId, at: i64) -> ReplicaResult<DocumentId> {
        self.change_part::<Archived, _>(id, ACCOUNT, at, &[], |fields| {
            let account = fields
                .as_mut()
                .ok_or_else(|| missing("the account's fields"))?;
            account.archived_at.get_or_insert(at);
            Ok(())
        })?;
        Ok(id)
    }

    /// Adds the contact `contact_id` to `account`.
    pub fn add_contact(
        &mut self,
        account: DocumentId,
        contact_id: String,
        input: ContactInput,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let contact_id = required(contact_id, "a contact needs an id")?;
        let details = ContactDetails::check(input)?;
        let path = ["contacts", contact_id.as_str()];
        self.change_part::<Contact, _>(account, ACCOUNT, at, &path, |stored| {
            if stored.is_some() {
                return Err(ModelError::Invalid(format!(
                    "contact {contact_id} already exists"
                )));
            }
            let mut contact = Contact::default();
            details.apply(&mut contact);
            *stored = Some(contact);
            Ok(())
        })?;
        Ok(account)
    }

    /// Changes the contact `contact` of `account` to `input`.
    pub fn update_contact(
        &mut self,
        account: DocumentId,
        contact: String,
        input: ContactInput,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let details = ContactDetails::check(input)?;
        let path = ["contacts", contact.as_str()];
        self.change_part::<Contact, _>(account, ACCOUNT, at, &path, |stored| {
            let stored = stored
                .as_mut()
                .ok_or_else(|| ModelError::NotFound(format!("contact {contact}")))?;
            details.apply(stored);
            Ok(())
        })?;
        Ok(account)
    }

    /// Archives the contact `contact` of `account`.
    pub fn archive_contact(
        &mut self,
        account: DocumentId,
        contact: String,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let path = ["contacts", contact.as_str()];
        self.change_part::<Contact, _>(account, ACCOUNT, at, &path, |stored| {
            let stored = stored
                .as_mut()
                .ok_or_else(|| ModelError::NotFound(format!("contact {contact}")))?;
            stored.archived_at.get_or_insert(at);
            Ok(())
        })?;
        Ok(account)
    }

    /// Records an interaction with the customer of `account`; returns the log key of the
    /// entry. `unique` tells this entry apart from others made in the same millisecond on
    /// other devices (a sequence number of the device, say); `related` names a contact,
    /// opportunity, booking or ticket it is about.
    #[allow(clippy::too_many_arguments)] // Flat arguments cross the FFI boundary as they are.
    pub fn log_activity(
        &mut self,
        account: DocumentId,
        kind: ActivityKind,
        subject: String,
        body: String,
        related: Option<String>,
        at: i64,
        unique: &str,
    ) -> ReplicaResult<String> {
        if subject.trim().is_empty() && body.trim().is_empty() {
            return Err(invalid("an activity needs a subject or a body"));
        }
        let activity = Activity {
            activity_kind: kind,
            subject: subject.trim().to_owned(),
            body,
            actor: self.user.clone(),
            at,
            related: related.and_then(present),
            due: None,
            done: false,
        };
        self.append_activity(account, activity, at, unique)
    }

    /// Adds a task due at `due` (Unix ms) to `account`; returns its log key.
    pub fn add_task(
        &mut self,
        account: DocumentId,
        subject: String,
        due: i64,
        at: i64,
        unique: &str,
    ) -> ReplicaResult<String> {
        let subject = required(subject, "a task needs a subject")?;
        let task = Activity {
            activity_kind: ActivityKind::Task,
            subject,
            actor: self.user.clone(),
            at,
            due: Some(due),
            ..Activity::default()
        };
        self.append_activity(account, task, at, unique)
    }

    /// Marks the task under `key` of `account` done.
    pub fn complete_task(
        &mut self,
        account: DocumentId,
        key: String,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let path = ["activities", key.as_str()];
        self.change_part::<Activity, _>(account, ACCOUNT, at, &path, |task| {
            let task = task
                .as_mut()
                .ok_or_else(|| ModelError::NotFound(format!("task {key}")))?;
            if task.activity_kind != ActivityKind::Task {
                return Err(ModelError::Invalid(format!("activity {key} is not a task")));
            }
            task.done = true;
            Ok(())
        })?;
        Ok(account)
    }

    /// Adds the opportunity `opportunity_id` to `account`, owned by this user, at the start of
    /// the pipeline.
    pub fn add_opportunity(
        &mut self,
        account: DocumentId,
        opportunity_id: String,
        name: String,
        amount_minor: i64,
        currency: String,
        at: i64,
    ) -> ReplicaResult<DocumentId> {
        let opportunity_id = required(opportunity_id, "an opportunity needs an id")?;
        let name = required(name, "an opportunity needs a name")?;
        if amount_minor < 0 {
            return Err(invalid("an opportunity's amount may not be negative"));
        }
        let opportunity = Opportunity {
            name,
            amount_minor,
            currency: currency.trim().to_uppercase(),
            owner: self.user.clone(),
            ..Opportunity::default()
        };
        let path = ["opportunities", opportunity_id.as_str()];
        self.change_part::<Opportunity, _>(account, ACCOUNT, at, &path, |stored| {
            if stored.is_some() {
                return Err(ModelError::Invalid(format!(
                    "opportunity {opportunity_id} already exists"
                )));
            }
            *stored = Some(opportunity);
            Ok(())
        })?;
        Ok(account)
    }

    /// Moves the opportunity `opportunity` of `account` to `stage`, keeping the move in its
    /// stage history (under a key made of `at` and `unique`).
    pub fn move_opportunity(
        &mut self,
        account: DocumentId,
        opportunity: String,
        stage: Stage,
        at: i64,
        unique: &str,
    ) -> ReplicaResult<DocumentId> {
        let key = log_key(at, unique)?;
        let user = self.user.clone();
        let path = ["opportunities", opportunity.as_str()];
        self.change_part::<Opportunity, _>(account, ACCOUNT, at, &path, |stored| {
            stored
                .as_mut()
                .ok_or_else(|| ModelError::NotFound(format!("opportunity {opportunity}")))?
                .move_to(stage, key, &user, at)
        })?;
        Ok(account)
    }

    /// Appends `activity` to the account's log and writes it; returns its key.
    ///
    /// The key orders the log like a hybrid logical clock: the later of this device's clock
    /// and just after the newest entry the log already holds, so a phone whose clock is a year
    /// slow still puts its new call at the top of every device's log; the entry's `at` keeps
    /// what the phone's clock said, and the app can show both. Only the new entry is written
    /// (nothing else of the account is read or reconciled), so an append costs the same on an
    /// account of thousands of entries as on an empty one.
    fn append_activity(
        &mut self,
        account: DocumentId,
        activity: Activity,
        at: i64,
        unique: &str,
    ) -> ReplicaResult<String> {
        self.expect_kind(account, DocumentKind::Account)?;
        let malformed = |reason: &str| crate::Error::Malformed {
            kind: DocumentKind::Account,
            path: FieldPath::root().key("activities"),
            reason: reason.to_owned(),
        };
        let doc = self
            .loaded(account)?
            .ok_or_else(|| super::error::not_found(format!("account {account}")))?;
        let log = match doc.get(automerge::ROOT, "activities")? {
            Some((Value::Object(ObjType::Map), log)) => log,
            _ => return Err(malformed("not a map").into()),
        };
        // Keys sort by their time: only the entries at or after this device's clock are read
        // (none, when its clock is right).
        let newest = doc
            .map_range(&log, format!("{:016x}", at.max(0))..)
            .last()
            .and_then(|item| log_time(&item.key));
        let order = newest.map_or(at, |newest| at.max(newest.saturating_add(1)));
        let key = log_key(order, unique)?;
        if doc.get(&log, key.as_str())?.is_some() {
            return Err(malformed("an entry with this key exists").into());
        }
        let stored = key.as_str().to_owned();
        if let Err(err) = autosurgeon::reconcile_prop(&mut *doc, &log, stored.as_str(), &activity) {
            doc.rollback();
            return Err(malformed(&err.to_string()).into());
        }
        doc.commit_with(CommitOptions::default().with_time(at));
        self.write(&[account], Some(at), WriteBatch::new())?;
        Ok(stored)
    }
}

const ACCOUNT: DocumentKind = DocumentKind::Account;

/// The account's own fields a rep edits, read and written without its contacts,
/// opportunities and log (the names are the record's: see [`Account`]).
#[derive(Debug, autosurgeon::Hydrate, autosurgeon::Reconcile)]
struct AccountFields {
    name: String,
    territory: String,
    vat_number: Option<String>,
    address: Address,
}

/// The account's archive mark, read and written alone.
#[derive(Debug, autosurgeon::Hydrate, autosurgeon::Reconcile)]
struct Archived {
    archived_at: Option<i64>,
}

fn missing(what: &str) -> ModelError {
    ModelError::NotFound(what.to_owned())
}

/// A contact's input, checked and normalised.
struct ContactDetails {
    first_name: String,
    last_name: String,
    title: String,
    language: String,
    /// `None`: keep; `Some(None)`: clear; `Some(Some(x))`: replace by `x`.
    email: Option<Option<String>>,
    phone: Option<Option<String>>,
}

impl ContactDetails {
    fn check(input: ContactInput) -> ReplicaResult<Self> {
        let first_name = input.first_name.trim().to_owned();
        let last_name = input.last_name.trim().to_owned();
        if first_name.is_empty() && last_name.is_empty() {
            return Err(invalid("a contact needs a name"));
        }
        let email = input
            .email
            .map(|raw| normalised(&raw, normalise_email, "an e-mail address"))
            .transpose()?;
        let phone = input
            .phone
            .map(|raw| normalised(&raw, normalise_phone, "a phone number"))
            .transpose()?;
        Ok(Self {
            first_name,
            last_name,
            title: input.title.trim().to_owned(),
            language: input.language.trim().to_lowercase(),
            email,
            phone,
        })
    }

    fn apply(self, contact: &mut Contact) {
        contact.first_name = self.first_name;
        contact.last_name = self.last_name;
        contact.title = self.title;
        contact.language = self.language;
        if let Some(email) = self.email {
            replace_members(&mut contact.emails, email);
        }
        if let Some(phone) = self.phone {
            replace_members(&mut contact.phones, phone);
        }
    }
}

/// Makes `set` hold only `member` (nothing for `None`), touching only the members that change,
/// so that an address another device adds meanwhile survives the merge.
fn replace_members(set: &mut Set, member: Option<String>) {
    let stale: Vec<String> = set
        .iter()
        .filter(|old| Some(*old) != member.as_deref())
        .map(str::to_owned)
        .collect();
    for old in stale {
        set.remove(&old);
    }
    if let Some(member) = member {
        set.insert(member);
    }
}

/// `raw` normalised; `None` for a blank value, an error for one that does not normalise.
fn normalised(
    raw: &str,
    normalise: fn(&str) -> Option<String>,
    what: &str,
) -> ReplicaResult<Option<String>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    normalise(raw)
        .map(Some)
        .ok_or_else(|| invalid(format!("{raw:?} is not {what}")))
}

/// `text` trimmed, or `reason` as an error if blank.
pub(super) fn required(text: String, reason: &str) -> ReplicaResult<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err(invalid(reason))
    } else {
        Ok(trimmed.to_owned())
    }
}

/// `text` trimmed, `None` if blank.
pub(super) fn present(text: String) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The log key of an entry made at `at`; `unique` must tell devices apart.
/// The time a log key orders by (its leading 16 hex digits).
pub(super) fn log_time(key: &str) -> Option<i64> {
    i64::from_str_radix(key.get(..16)?, 16).ok()
}

pub(super) fn log_key(at: i64, unique: &str) -> ReplicaResult<LogKey> {
    let unique = unique.trim();
    if unique.is_empty() {
        return Err(invalid(
            "a log entry needs a unique suffix to tell devices apart",
        ));
    }
    Ok(LogKey::new(at, unique))
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;

    #[test]
    fn a_phone_a_year_slow_still_logs_its_call_at_the_top_and_keeps_its_own_time() {
        const DAY: i64 = 86_400_000;
        let now = 1_800_000_000_000;
        let mut office = Replica::in_memory("ana", ActorId::from([1u8; 16])).expect("office");
        let account = DocumentId::new_v7(1_000, [1; 10]);
        office
            .create_account(account, "Alpine".into(), "north".into(), now)
            .expect("account");
        office
            .log_activity(
                account,
                ActivityKind::Call,
                "Today".into(),
                String::new(),
                None,
                now,
                "o1",
            )
            .expect("call");
        let mut slow = Replica::in_memory("ana", ActorId::from([2u8; 16])).expect("phone");
        let mut copy = office.document(account).expect("read").expect("held");
        slow.merge_remote(account, &mut copy).expect("synced");

        let a_year_ago = now - 365 * DAY;
        let key = slow
            .log_activity(
                account,
                ActivityKind::Call,
                "Later".into(),
                String::new(),
                None,
                a_year_ago,
                "p1",
            )
            .expect("slow call");
        let log = slow.activities(account).expect("log");
        assert_eq!(
            log[0].0, key,
            "newest first: the slow phone's call is on top"
        );
        assert_eq!(log[0].1.subject, "Later");
        assert_eq!(log[0].1.at, a_year_ago, "the phone's own time is kept");
        assert!(log_time(&key).is_some_and(|order| order > now));
    }
}

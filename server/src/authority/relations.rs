//! What the authority looks up when a document changes: which bookings sit on each departure
//! and belong to each account, which departures each guide is assigned to, who each employee
//! is, which field logs each departure has, and every account's identity keys (for duplicates
//! across accounts). Built from the read model (and the store's metadata for field logs) at
//! start-up and kept by the committed events.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use itinera_core::DocumentId;
use itinera_core::model::DocumentKind;
use itinera_core::reports::Summary;
use itinera_core::rules::DuplicateCustomers;

use super::members::Members;
use crate::read_model::ReadModel;

/// How a guide is named in an assignment: an employee record, or a user id when the office
/// typed one (`gus`) and no employee record says so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuideKey {
    Employee(DocumentId),
    User(String),
}

/// The authority's lookups.
#[derive(Debug, Default)]
pub struct Relations {
    bookings_by_departure: HashMap<DocumentId, Members<DocumentId>>,
    departure_of_booking: HashMap<DocumentId, DocumentId>,
    bookings_by_account: HashMap<DocumentId, Members<DocumentId>>,
    account_of_booking: HashMap<DocumentId, DocumentId>,
    departures_by_guide: HashMap<GuideKey, BTreeSet<DocumentId>>,
    guides_of_departure: HashMap<DocumentId, BTreeSet<GuideKey>>,
    employee_by_user: HashMap<String, DocumentId>,
    user_of_employee: HashMap<DocumentId, String>,
    field_logs: HashMap<DocumentId, Members<DocumentId>>,
    /// Stock location → the transfers out of it or into it.
    transfers_by_location: HashMap<DocumentId, Members<DocumentId>>,
    locations_of_transfer: HashMap<DocumentId, Vec<DocumentId>>,
    /// Identity key → the accounts (and their contact) that have it.
    identities: HashMap<String, Members<(DocumentId, Option<String>)>>,
    keys_of_account: HashMap<DocumentId, Vec<(Option<String>, String)>>,
    /// The catalog document (there is one per company).
    pub catalog: Option<DocumentId>,
}

/// The id an assignment or answer names, in any of the forms people write it: a bare id, an
/// `automerge:` URL, or a user id.
pub fn parse_reference(reference: &str) -> Result<DocumentId, String> {
    let reference = reference.trim();
    let bare = reference.strip_prefix("automerge:").unwrap_or(reference);
    DocumentId::parse(bare).map_err(|_| reference.to_owned())
}

impl Relations {
    /// The relations the read model's summaries describe.
    pub fn from_read_model(model: &ReadModel, region: Option<&str>) -> Self {
        let mut relations = Self::default();
        // The employees first: a departure's assignments name them.
        model.for_each_summary(&[DocumentKind::Employee], |id, summary| {
            if let Summary::Employee(employee) = summary {
                relations.set_employee(*id, employee.user.as_deref());
            }
        });
        let related = [
            DocumentKind::Booking,
            DocumentKind::Departure,
            DocumentKind::Catalog,
            DocumentKind::Account,
        ];
        model.for_each_summary(&related, |id, summary| match summary {
            Summary::Booking(booking) => {
                relations.set_booking(
                    *id,
                    parse_reference(&booking.departure).ok(),
                    parse_reference(&booking.account).ok(),
                );
            }
            Summary::Departure(departure) => {
                let employees: Vec<&str> = departure
                    .assignments
                    .iter()
                    .map(|a| a.employee.as_str())
                    .collect();
                relations.set_assignments(*id, employees);
            }
            Summary::Catalog(_) => relations.catalog = Some(*id),
            Summary::Account(account) => {
                let keys = account
                    .identity_keys(region)
                    .into_iter()
                    .map(|(contact, key)| (contact.map(str::to_owned), key))
                    .collect();
                relations.set_account_keys(*id, keys);
            }
            _ => {}
        });
        relations
    }

    /// Booking `id` now sits on `departure` and belongs to `account`; returns the departure it
    /// sat on before, if another.
    pub fn set_booking(
        &mut self,
        id: DocumentId,
        departure: Option<DocumentId>,
        account: Option<DocumentId>,
    ) -> Option<DocumentId> {
        let previous = move_member(
            &mut self.departure_of_booking,
            &mut self.bookings_by_departure,
            id,
            departure,
        );
        move_member(
            &mut self.account_of_booking,
            &mut self.bookings_by_account,
            id,
            account,
        );
        previous.filter(|previous| Some(*previous) != departure)
    }

    /// The key of the guide an assignment names.
    pub fn guide_key(&self, reference: &str) -> GuideKey {
        match parse_reference(reference) {
            Ok(id) => GuideKey::Employee(id),
            Err(text) => match self.employee_by_user.get(&text) {
                Some(id) => GuideKey::Employee(*id),
                None => GuideKey::User(text),
            },
        }
    }

    /// The user a guide logs in as, if known.
    pub fn user_of(&self, guide: &GuideKey) -> Option<String> {
        match guide {
            GuideKey::Employee(id) => self.user_of_employee.get(id).cloned(),
            GuideKey::User(user) => Some(user.clone()),
        }
    }

    /// Employee `id` logs in as `user`.
    pub fn set_employee(&mut self, id: DocumentId, user: Option<&str>) {
        if let Some(old) = self.user_of_employee.remove(&id) {
            self.employee_by_user.remove(&old);
        }
        if let Some(user) = user.filter(|user| !user.is_empty()) {
            self.user_of_employee.insert(id, user.to_owned());
            self.employee_by_user.insert(user.to_owned(), id);
            // Assignments that named the user now name the employee.
            if let Some(departures) = self
                .departures_by_guide
                .remove(&GuideKey::User(user.into()))
            {
                for departure in &departures {
                    if let Some(guides) = self.guides_of_departure.get_mut(departure) {
                        guides.remove(&GuideKey::User(user.into()));
                        guides.insert(GuideKey::Employee(id));
                    }
                }
                self.departures_by_guide
                    .entry(GuideKey::Employee(id))
                    .or_default()
                    .extend(departures);
            }
        }
    }

    /// Departure `id` now assigns the guides `employees` names; returns every guide it
    /// assigned before or assigns now (a removed assignment changes its guide's plan too).
    pub fn set_assignments<'a>(
        &mut self,
        id: DocumentId,
        employees: impl IntoIterator<Item = &'a str>,
    ) -> BTreeSet<GuideKey> {
        let now: BTreeSet<GuideKey> = employees.into_iter().map(|e| self.guide_key(e)).collect();
        let before = self.guides_of_departure.remove(&id).unwrap_or_default();
        for guide in &before {
            if let Some(departures) = self.departures_by_guide.get_mut(guide) {
                departures.remove(&id);
            }
        }
        for guide in &now {
            self.departures_by_guide
                .entry(guide.clone())
                .or_default()
                .insert(id);
        }
        self.guides_of_departure.insert(id, now.clone());
        before.union(&now).cloned().collect()
    }

    /// Field log `id` is about `departure`.
    pub fn set_field_log(&mut self, id: DocumentId, departure: Option<DocumentId>) {
        for logs in self.field_logs.values_mut() {
            logs.remove(&id);
        }
        if let Some(departure) = departure {
            self.field_logs.entry(departure).or_default().insert(id);
        }
    }

    /// Transfer `id` moves stock between `locations` (its source and destination).
    pub fn set_transfer(&mut self, id: DocumentId, locations: Vec<DocumentId>) {
        for location in self.locations_of_transfer.remove(&id).unwrap_or_default() {
            leave(&mut self.transfers_by_location, &location, &id);
        }
        for location in &locations {
            self.transfers_by_location
                .entry(*location)
                .or_default()
                .insert(id);
        }
        if !locations.is_empty() {
            self.locations_of_transfer.insert(id, locations);
        }
    }

    /// The transfers out of or into stock location `location`.
    pub fn transfers_at(&self, location: &DocumentId) -> Vec<DocumentId> {
        self.transfers_by_location
            .get(location)
            .map(|transfers| transfers.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The field logs of `departure`.
    pub fn field_logs_of(&self, departure: &DocumentId) -> Vec<DocumentId> {
        self.field_logs
            .get(departure)
            .map(|logs| logs.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Account `id` now has the identity keys `keys` (its own, and its contacts').
    pub fn set_account_keys(&mut self, id: DocumentId, keys: Vec<(Option<String>, String)>) {
        if let Some(old) = self.keys_of_account.remove(&id) {
            for (contact, key) in old {
                leave(&mut self.identities, &key, &(id, contact));
            }
        }
        for (contact, key) in &keys {
            self.identities
                .entry(key.clone())
                .or_default()
                .insert((id, contact.clone()));
        }
        self.keys_of_account.insert(id, keys);
    }

    /// The accounts that have identity key `key`.
    pub fn key_holders(&self, key: &str) -> impl Iterator<Item = DocumentId> + '_ {
        self.identities
            .get(key)
            .into_iter()
            .flatten()
            .map(|(account, _)| *account)
    }

    /// The accounts linked to `id` by shared identity keys, directly or through others (`id`
    /// included), and the keys shared. Each account and key is visited once, so a group of many
    /// accounts sharing one e-mail address costs its size, not its pairs.
    pub fn duplicate_group(&self, id: DocumentId) -> DuplicateCustomers {
        let mut accounts = BTreeSet::from([id]);
        let mut keys_seen: BTreeSet<&str> = BTreeSet::new();
        let mut shared = BTreeSet::new();
        let mut queue = vec![id];
        while let Some(account) = queue.pop() {
            for (_, key) in self.keys_of_account.get(&account).into_iter().flatten() {
                if !keys_seen.insert(key) {
                    continue;
                }
                let holders = self.identities.get(key).into_iter().flatten();
                let mut held_by_another = false;
                for (other, _) in holders {
                    held_by_another |= *other != account;
                    if accounts.insert(*other) {
                        queue.push(*other);
                    }
                }
                if held_by_another {
                    shared.insert(key.clone());
                }
            }
        }
        DuplicateCustomers {
            accounts: accounts.into_iter().collect(),
            keys: shared,
        }
    }

    /// The bookings on `departure`.
    pub fn bookings_of(&self, departure: &DocumentId) -> impl Iterator<Item = &DocumentId> {
        self.bookings_by_departure
            .get(departure)
            .into_iter()
            .flatten()
    }

    /// The bookings of `account`.
    pub fn bookings_of_account(&self, account: &DocumentId) -> impl Iterator<Item = &DocumentId> {
        self.bookings_by_account.get(account).into_iter().flatten()
    }

    /// The departures `guide` is assigned to.
    pub fn departures_of(&self, guide: &GuideKey) -> impl Iterator<Item = &DocumentId> {
        self.departures_by_guide.get(guide).into_iter().flatten()
    }
}

/// Takes `member` out of the set of `key`, and the set out of `sets` once it is empty.
fn leave<K: Eq + Hash, T: Ord>(sets: &mut HashMap<K, Members<T>>, key: &K, member: &T) {
    if let Some(set) = sets.get_mut(key) {
        set.remove(member);
        if set.is_empty() {
            sets.remove(key);
        }
    }
}

/// Moves `member` from the set it was in to the set of `to`; returns where it was.
fn move_member(
    of: &mut HashMap<DocumentId, DocumentId>,
    sets: &mut HashMap<DocumentId, Members<DocumentId>>,
    member: DocumentId,
    to: Option<DocumentId>,
) -> Option<DocumentId> {
    let previous = of.remove(&member);
    if let Some(previous) = previous {
        leave(sets, &previous, &member);
    }
    if let Some(to) = to {
        of.insert(member, to);
        sets.entry(to).or_default().insert(member);
    }
    previous
}

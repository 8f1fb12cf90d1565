//! Rule 7, a record archived while another device edits it.
//!
//! Archiving is a soft `archived_at`, so an edit made offline on another phone still merges in
//! and is kept. What the merge cannot say is that someone worked on a record that no longer
//! exists for everyone else: the authority finds every change that did not see the archive
//! (made concurrently with it or after it) and flags it, so the edit is looked at, not lost.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, DocumentId};
//! use itinera_core::model::Account;
//! use itinera_core::rules::edits_after_archive;
//!
//! let mut office = Document::create(ActorId::from([1u8; 16]), 1, &Account::default())?;
//! let mut rep = office.fork(ActorId::from([2u8; 16]));
//! office.change(2, |account| { account.archive(2); Ok(()) })?;
//! rep.change(3, |account| { account.territory = "north".into(); Ok(()) })?;
//! office.merge(&mut rep)?;
//!
//! let findings = edits_after_archive(&DocumentId::from_bytes([5; 16]), &mut office, None);
//! assert_eq!(findings.len(), 1);
//! assert!(findings[0].message.contains("concurrently"));
//! # Ok::<(), itinera_core::Error>(())
//! ```

use std::collections::{BTreeSet, HashSet};

use automerge::legacy::{Key, ObjectId};
use automerge::{ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, Value};

use super::Finding;
use crate::model::{Account, AlertRule, AlertSeverity};
use crate::{Document, DocumentId};

/// What was archived: the account as a whole or one of its contacts.
enum Scope {
    /// Any change of the document is a change of the account.
    Account,
    /// Only changes inside the contact, or of its entry in `contacts`, count.
    Contact {
        id: String,
        contacts: (u64, ActorId),
        objects: HashSet<(u64, ActorId)>,
    },
}

struct Archived {
    subject: String,
    title: String,
    scope: Scope,
    /// The changes that wrote the `archived_at` values standing now (several if devices
    /// archived concurrently).
    archives: Vec<ChangeHash>,
}

/// One [`AlertRule::EditAfterArchive`] finding (warning) per change that did not see the
/// archiving of the account, or of one of its contacts, and that touched it.
///
/// The archive is the change that wrote the `archived_at` value standing now (found by the
/// operation id of that value). Every change outside its history is flagged: one concurrent
/// with it, or made after it, except those by `server_actor` (the authority's own decisions)
/// and concurrent archives of the same record. For the account any change of the document
/// counts; for a contact, changes of the contact's fields and sub-records (or of its entry in
/// `contacts`). A change flagged for the account is not flagged again for a contact. Keys name
/// the change (`<subject>:<change hash>`), so each edit is one alert however often this runs.
///
/// Edits made before the archive are in its history and raise nothing.
pub fn edits_after_archive(
    account_id: &DocumentId,
    doc: &mut Document<Account>,
    server_actor: Option<&ActorId>,
) -> Vec<Finding> {
    let record = doc.record().ok();
    edits_after_archive_in(account_id, doc, record.as_ref(), server_actor)
}

/// [`edits_after_archive`] for a caller that holds the record already (`record` is `doc`'s,
/// `None` if it does not hydrate).
pub fn edits_after_archive_in(
    account_id: &DocumentId,
    doc: &mut Document<Account>,
    record: Option<&Account>,
    server_actor: Option<&ActorId>,
) -> Vec<Finding> {
    let archived = archived_records(doc, record);
    let mut flagged: BTreeSet<ChangeHash> = BTreeSet::new();
    let mut findings = Vec::new();
    for record in archived {
        let changes = doc.changes_since(&record.archives);
        let after = descendants(&record.archives, &changes);
        for change in &changes {
            let hash = change.hash();
            let by_server = server_actor.is_some_and(|server| change.actor_id() == server);
            if by_server || record.archives.contains(&hash) || flagged.contains(&hash) {
                continue;
            }
            if let Scope::Contact {
                id,
                contacts,
                objects,
            } = &record.scope
            {
                if !touches_contact(change, id, contacts, objects) {
                    continue;
                }
            }
            if matches!(record.scope, Scope::Account) {
                flagged.insert(hash);
            }
            let when = if after.contains(&hash) {
                "after it was archived"
            } else {
                "concurrently with its archiving, without seeing it"
            };
            let device: String = change.actor_id().to_hex_string().chars().take(8).collect();
            findings.push(Finding::new(
                AlertRule::EditAfterArchive,
                AlertSeverity::Warning,
                *account_id,
                &format!("{}:{hash}", record.subject),
                format!(
                    "{} is archived, and device {device} changed it {when} (change {} of that \
                     device); review the edit",
                    record.title,
                    change.seq()
                ),
            ));
        }
    }
    findings
}

/// The account and contacts whose `archived_at` is set, with the changes that set it.
fn archived_records(doc: &Document<Account>, record: Option<&Account>) -> Vec<Archived> {
    let am = doc.automerge();
    let mut archived = Vec::new();
    let account_archives = archive_changes(am, &automerge::ROOT);
    if !account_archives.is_empty() {
        let name = record.map(|a| a.name.as_str()).unwrap_or_default();
        archived.push(Archived {
            subject: "account".into(),
            title: if name.is_empty() {
                "the account".into()
            } else {
                format!("account {name}")
            },
            scope: Scope::Account,
            archives: account_archives,
        });
    }
    let Ok(Some((Value::Object(ObjType::Map), contacts))) = am.get(&automerge::ROOT, "contacts")
    else {
        return archived;
    };
    let Some(contacts_op) = op_of(&contacts) else {
        return archived;
    };
    for id in am.keys(&contacts) {
        let Ok(Some((Value::Object(ObjType::Map), contact))) = am.get(&contacts, id.as_str())
        else {
            continue;
        };
        let archives = archive_changes(am, &contact);
        if archives.is_empty() {
            continue;
        }
        let mut objects = HashSet::new();
        collect_objects(am, &contact, &mut objects);
        let name = record
            .and_then(|a| a.contacts.get(&id))
            .map(|c| {
                format!("{} {}", c.first_name, c.last_name)
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        archived.push(Archived {
            subject: format!("contact:{id}"),
            title: if name.is_empty() {
                format!("contact {id}")
            } else {
                format!("contact {name} ({id})")
            },
            scope: Scope::Contact {
                id,
                contacts: contacts_op.clone(),
                objects,
            },
            archives,
        });
    }
    archived
}

/// The changes that wrote the standing values of `archived_at` in `obj`, if it is set.
fn archive_changes(am: &AutoCommit, obj: &ObjId) -> Vec<ChangeHash> {
    let is_set = |value: &Value<'_>| matches!(value, Value::Scalar(scalar) if !scalar.is_null());
    match am.get(obj, "archived_at") {
        Ok(Some((value, _))) if is_set(&value) => {}
        _ => return Vec::new(),
    }
    let mut hashes: Vec<ChangeHash> = am
        .get_all(obj, "archived_at")
        .unwrap_or_default()
        .into_iter()
        .filter(|(value, _)| is_set(value))
        .filter_map(|(_, op)| am.hash_for_opid(&op))
        .collect();
    hashes.sort();
    hashes.dedup();
    hashes
}

/// The operation that created an object, as a change's operations name it.
fn op_of(obj: &ObjId) -> Option<(u64, ActorId)> {
    match obj {
        ObjId::Id(counter, actor, _) => Some((*counter, actor.clone())),
        ObjId::Root => None,
    }
}

/// Every object under `obj`, `obj` included, conflicting values too.
fn collect_objects(am: &AutoCommit, obj: &ObjId, out: &mut HashSet<(u64, ActorId)>) {
    if let Some(op) = op_of(obj) {
        out.insert(op);
    }
    let children: Vec<(Value<'_>, ObjId)> = match am.object_type(obj) {
        Ok(ObjType::Map | ObjType::Table) => am
            .keys(obj)
            .flat_map(|key| am.get_all(obj, key).unwrap_or_default())
            .collect(),
        Ok(ObjType::List) => (0..am.length(obj))
            .flat_map(|index| am.get_all(obj, index).unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    };
    for (value, child) in children {
        if matches!(value, Value::Object(_)) {
            collect_objects(am, &child, out);
        }
    }
}

/// Whether `change` writes inside the contact or replaces or removes its entry.
fn touches_contact(
    change: &automerge::Change,
    id: &str,
    contacts: &(u64, ActorId),
    objects: &HashSet<(u64, ActorId)>,
) -> bool {
    change.decode().operations.iter().any(|op| match &op.obj {
        ObjectId::Id(target) => {
            let target = (target.0, target.1.clone());
            objects.contains(&target)
                || (target == *contacts && matches!(&op.key, Key::Map(key) if key.as_str() == id))
        }
        ObjectId::Root => false,
    })
}

/// The changes among `changes` that have one of `archives` in their history.
fn descendants(archives: &[ChangeHash], changes: &[automerge::Change]) -> HashSet<ChangeHash> {
    let mut seen: HashSet<ChangeHash> = archives.iter().copied().collect();
    loop {
        let before = seen.len();
        for change in changes {
            if change.deps().iter().any(|dep| seen.contains(dep)) {
                seen.insert(change.hash());
            }
        }
        if seen.len() == before {
            return seen;
        }
    }
}

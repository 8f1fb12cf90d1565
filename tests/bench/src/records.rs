//! The documents the workloads use: Itinera account records (`kind` and `schema` at the root,
//! written through core's model), and the edits a sales rep makes to them. The Node and samod
//! servers take the very same bytes.
//!
//! ```ignore
//! let doc = records::account(7);
//! client.insert(records::doc_id(SEED, 7), doc);
//! client.node.change(&id, |doc| records::add_tag(doc, "vip"));
//! ```

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use itinera_core::model::Account;
use itinera_core::{Document, DocumentId};

/// A fixed creation time, so runs are comparable (2025-11-24).
const CREATED_AT_MS: u64 = 1_764_000_000_000;

/// The id of document `n` of a family (`space`): distinct ids for distinct pairs.
pub fn doc_id(space: u32, n: u32) -> DocumentId {
    let mut random = [0u8; 10];
    random[..4].copy_from_slice(&space.to_be_bytes());
    random[4..8].copy_from_slice(&n.to_be_bytes());
    DocumentId::new_v7(CREATED_AT_MS + u64::from(n), random)
}

/// An actor id for a client (and a document family), distinct per pair.
pub fn actor(client: u32, space: u32) -> ActorId {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&client.to_be_bytes());
    bytes[4..8].copy_from_slice(&space.to_be_bytes());
    bytes[15] = 0xbe;
    ActorId::from(bytes)
}

/// A small account record, as a sales rep creates one, owned by the bench user.
pub fn account(n: u32) -> AutoCommit {
    let territory = ["north", "south", "east", "west"][n as usize % 4];
    account_of(n, "bench", territory)
}

/// A small account record owned by `owner` (only he, and head office, may write it) in
/// `territory` (the reps granted it may read it).
pub fn account_of(n: u32, owner: &str, territory: &str) -> AutoCommit {
    let mut account = Account {
        name: format!("Account {n}"),
        territory: territory.to_string(),
        owner: owner.to_string(),
        ..Account::default()
    };
    account.address.city = "Vienna".to_string();
    account.address.country = "AT".to_string();
    account.tags.insert("prospect");
    let mut actor_bytes = [0u8; 16];
    actor_bytes[..4].copy_from_slice(&n.to_be_bytes());
    let created = Document::create(
        ActorId::from(actor_bytes),
        i64::try_from(CREATED_AT_MS).unwrap_or_default(),
        &account,
    );
    match created {
        Ok(doc) => doc.into_automerge(),
        // Core's own record always fits its shape; an empty document keeps the run going.
        Err(_) => AutoCommit::new(),
    }
}

fn map_at(doc: &AutoCommit, key: &str) -> Option<automerge::ObjId> {
    match doc.get(ROOT, key).ok().flatten() {
        Some((Value::Object(ObjType::Map), id)) => Some(id),
        _ => None,
    }
}

/// Adds a member to the account's tags (one edit, a new key in a map).
pub fn add_tag(doc: &mut AutoCommit, member: &str) {
    if let Some(tags) = map_at(doc, "tags") {
        let _ = doc.put(&tags, member, true);
    }
}

/// Sets a register of the account's address (one edit, a value overwritten).
pub fn set_address_line(doc: &mut AutoCommit, field: &str, value: &str) {
    if let Some(address) = map_at(doc, "address") {
        let _ = doc.put(&address, field, value);
    }
}

/// A register of the account's address.
pub fn address_line(doc: &AutoCommit, field: &str) -> Option<String> {
    let address = map_at(doc, "address")?;
    match doc.get(&address, field).ok().flatten() {
        Some((Value::Scalar(scalar), _)) => match scalar.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The members of the account's tags.
pub fn tags(doc: &AutoCommit) -> BTreeSet<String> {
    let Some(tags) = map_at(doc, "tags") else {
        return BTreeSet::new();
    };
    doc.keys(&tags).collect()
}

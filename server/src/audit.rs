//! The audit trail: who did what to users, roles, grants, tokens, sharing, contact merges and
//! alerts, and when. Entries live in the store's key–value table under `audit:`, keyed by time,
//! so they survive restarts, go into backups and exports, and list in order. Secrets (tokens,
//! passwords) never appear in an entry.
//!
//! Changes to users and tokens write their entry in the same transaction as the change
//! ([`Directory::audited`](crate::accounts::Directory::audited)); actions on documents write it
//! through the store writer once the change is durable ([`record`]).
//!
//! ```
//! use itinera_server::audit::AuditEntry;
//!
//! let entry = AuditEntry::new(1_764_000_000_000, "admin", "user.disable", "gus", "");
//! assert!(entry.key().starts_with("audit:00000001764000000000:"));
//! ```

use itinera_core::store::{DocumentStore, StoreResult, WriteBatch};
use serde::{Deserialize, Serialize};

use crate::store_writer::{StoreWriter, WriteError};

/// The key prefix of audit entries.
pub const AUDIT_PREFIX: &str = "audit:";

/// One admin action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// When, in Unix milliseconds.
    pub at: i64,
    /// Who: the user name of the admin, or `cli:<system user>` for the offline command line.
    pub actor: String,
    /// What: `user.add`, `user.disable`, `user.enable`, `user.role`, `user.grants`,
    /// `user.password`, `token.issue`, `token.revoke`, `document.share`, `document.unshare`,
    /// `contacts.merge`, `alert.acknowledge`, `alert.resolve`, `store.backup`.
    pub action: String,
    /// On what: a user name or a document or alert id.
    pub target: String,
    /// The new value, where there is one (a role, the grants), never a secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Makes keys of actions in the same millisecond distinct.
    #[serde(default)]
    nonce: String,
}

impl AuditEntry {
    pub fn new(
        at: i64,
        actor: &str,
        action: &str,
        target: &str,
        detail: impl Into<String>,
    ) -> Self {
        // Two entries of the same moment get different keys.
        let mut random = [0u8; 6];
        let nonce = getrandom::fill(&mut random)
            .map(|()| random.iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_default();
        Self {
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.into(),
            nonce,
        }
    }

    /// `audit:<20-digit time>:<nonce>`: key order is time order.
    pub fn key(&self) -> String {
        format!("{AUDIT_PREFIX}{:020}:{}", self.at.max(0), self.nonce)
    }

    /// Adds the entry to a batch, to commit it with the change it records.
    pub fn put(&self, batch: &mut WriteBatch) {
        if let Ok(bytes) = serde_json::to_vec(self) {
            batch.put_value(&self.key(), bytes);
        }
    }
}

/// The actor name of the offline command line: `cli:` and the system user running it (its
/// login name, else its uid).
pub fn cli_actor() -> String {
    use std::os::unix::fs::MetadataExt;
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| {
            std::fs::metadata("/proc/self")
                .map_or_else(|_| "unknown".into(), |proc| format!("uid {}", proc.uid()))
        });
    format!("cli:{user}")
}

/// Writes an entry durably through the store writer.
pub async fn record(writer: &StoreWriter, entry: AuditEntry) -> Result<(), WriteError> {
    let mut batch = WriteBatch::new();
    entry.put(&mut batch);
    match writer.write(batch).await {
        Ok(result) => result,
        Err(_) => Err(WriteError::Stopped),
    }
}

/// Writes an entry and logs (rather than fails) when that does not work: the action it records
/// has already happened.
pub async fn record_or_log(writer: &StoreWriter, entry: AuditEntry) {
    let action = entry.action.clone();
    if let Err(err) = record(writer, entry).await {
        tracing::error!(%action, error = %err, "the audit entry of an admin action was not stored");
    }
}

/// The newest `limit` entries older than `before` (Unix ms), newest first.
pub fn list(
    store: &dyn DocumentStore,
    limit: usize,
    before: Option<i64>,
) -> StoreResult<Vec<AuditEntry>> {
    let mut entries: Vec<AuditEntry> = store
        .values_with_prefix(AUDIT_PREFIX)?
        .into_iter()
        .filter_map(|(_, bytes)| serde_json::from_slice::<AuditEntry>(&bytes).ok())
        .filter(|entry| before.is_none_or(|before| entry.at < before))
        .collect();
    entries.reverse();
    entries.truncate(limit);
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use itinera_core::store::{Durability, RedbStore};

    use super::*;

    #[test]
    fn entries_list_newest_first_and_page_by_time() {
        let store: Arc<dyn DocumentStore> = Arc::new(RedbStore::in_memory().expect("store"));
        let mut batch = WriteBatch::new();
        for at in [30, 10, 20] {
            AuditEntry::new(at, "admin", "user.disable", &format!("u{at}"), "").put(&mut batch);
        }
        store.commit(batch, Durability::Immediate).expect("commit");
        let times = |entries: Vec<AuditEntry>| entries.iter().map(|e| e.at).collect::<Vec<_>>();
        assert_eq!(times(list(&*store, 10, None).expect("list")), [30, 20, 10]);
        assert_eq!(times(list(&*store, 1, None).expect("list")), [30]);
        assert_eq!(times(list(&*store, 10, Some(30)).expect("list")), [20, 10]);
    }
}

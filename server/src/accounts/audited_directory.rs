//! The directory's changes as an admin makes them: each one writes its audit entry in the same
//! transaction as the change, so that no change to users or tokens goes unrecorded.

use itinera_core::policy::{Grant, Role};

use super::directory::grants_setter;
use super::{AccountError, Directory, User};
use crate::audit::AuditEntry;

/// A [`Directory`] acting for one admin at one time; from [`Directory::audited`].
#[derive(Debug)]
pub struct AuditedDirectory<'a> {
    directory: &'a Directory,
    actor: String,
    now: i64,
}

fn grants_text(grants: &[Grant]) -> String {
    grants
        .iter()
        .map(Grant::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl<'a> AuditedDirectory<'a> {
    pub(super) fn new(directory: &'a Directory, actor: &str, now: i64) -> Self {
        Self {
            directory,
            actor: actor.to_owned(),
            now,
        }
    }

    fn entry(&self, action: &str, target: &str, detail: impl Into<String>) -> AuditEntry {
        AuditEntry::new(self.now, &self.actor, action, target, detail)
    }

    /// Adds a user.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        grants: &[Grant],
        password: Option<&str>,
    ) -> Result<User, AccountError> {
        let detail = format!("role {}; grants {}", role.as_str(), grants_text(grants));
        let entry = self.entry("user.add", name, detail);
        self.directory
            .add_user_audited(name, role, grants, password, self.now, Some(&entry))
    }

    /// Disables a user.
    pub fn disable_user(&self, name: &str) -> Result<User, AccountError> {
        let entry = self.entry("user.disable", name, "");
        self.directory
            .update_user(name, |user| user.disabled = true, Some(&entry))
    }

    /// Enables a user again.
    pub fn enable_user(&self, name: &str) -> Result<User, AccountError> {
        let entry = self.entry("user.enable", name, "");
        self.directory
            .update_user(name, |user| user.disabled = false, Some(&entry))
    }

    /// Changes a user's role.
    pub fn set_role(&self, name: &str, role: Role) -> Result<User, AccountError> {
        let entry = self.entry("user.role", name, role.as_str());
        self.directory
            .update_user(name, |user| user.role = role, Some(&entry))
    }

    /// Replaces a user's grants.
    pub fn set_grants(&self, name: &str, grants: &[Grant]) -> Result<User, AccountError> {
        let entry = self.entry("user.grants", name, grants_text(grants));
        self.directory
            .update_user(name, grants_setter(grants), Some(&entry))
    }

    /// Sets a user's password (the entry says it changed, never what to).
    pub fn set_password(&self, name: &str, password: &str) -> Result<User, AccountError> {
        let hash = super::secret::hash_password(password)?;
        let entry = self.entry("user.password", name, "");
        self.directory
            .update_user(name, |user| user.password_hash = Some(hash), Some(&entry))
    }

    /// Issues a token; returns it (it is not stored and cannot be shown again).
    pub fn issue_token(&self, name: &str, ttl_ms: Option<i64>) -> Result<String, AccountError> {
        let detail = ttl_ms.map_or_else(
            || "never expires".to_owned(),
            |ttl| format!("valid for {}s", ttl / 1000),
        );
        let entry = self.entry("token.issue", name, detail);
        self.directory
            .issue_token_audited(name, ttl_ms, self.now, Some(&entry))
    }

    /// Revokes one token; the entry names its user, never the token.
    pub fn revoke_token(&self, token: &str) -> Result<(), AccountError> {
        self.directory.revoke_token_audited(token, |record| {
            Some(self.entry("token.revoke", &record.user, "one token"))
        })
    }

    /// Revokes every token of a user; returns how many.
    pub fn revoke_user_tokens(&self, name: &str) -> Result<usize, AccountError> {
        let entry = self.entry("token.revoke", name, "every token");
        self.directory
            .revoke_user_tokens_audited(name, Some(&entry))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use itinera_core::store::{DocumentStore, RedbStore};

    use super::*;
    use crate::audit;

    #[test]
    fn every_admin_change_leaves_an_entry_without_secrets() {
        let store: Arc<dyn DocumentStore> = Arc::new(RedbStore::in_memory().expect("store"));
        let writes = Arc::new(crate::store_writer::DirectWrites(store.clone()));
        let directory = Directory::load(&*store, writes).expect("load");
        let admin = |at: i64| directory.audited("root", at);
        admin(1)
            .add_user("gus", Role::Guide, &[], Some("first password"))
            .expect("add");
        admin(2).set_role("gus", Role::Sales).expect("role");
        let grants = ["territory:north".parse::<Grant>().expect("grant")];
        admin(3).set_grants("gus", &grants).expect("grants");
        admin(4)
            .set_password("gus", "second password")
            .expect("password");
        let token = admin(5).issue_token("gus", Some(60_000)).expect("token");
        admin(6).disable_user("gus").expect("disable");
        admin(7).enable_user("gus").expect("enable");
        admin(8).revoke_token(&token).expect("revoke");

        let entries = audit::list(&*store, 100, None).expect("list");
        let actions: Vec<&str> = entries.iter().rev().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "user.add",
                "user.role",
                "user.grants",
                "user.password",
                "token.issue",
                "user.disable",
                "user.enable",
                "token.revoke"
            ]
        );
        assert!(
            entries
                .iter()
                .all(|e| e.actor == "root" && e.target == "gus")
        );
        let text = serde_json::to_string(&entries).expect("json");
        for secret in [token.as_str(), "first password", "second password"] {
            assert!(
                !text.contains(secret),
                "{secret} leaked into the audit trail"
            );
        }
        let user = directory.user("gus").expect("user");
        assert_eq!(user.role, Role::Sales);
        assert!(!user.disabled);
    }
}

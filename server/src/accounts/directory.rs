use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use itinera_core::policy::{Grant, Principal, Role};
use itinera_core::store::{DocumentStore, WriteBatch};

use super::MAX_TOKEN_TTL_MS;
use super::secret::{PasswordCheck, check_password, hash_password, new_token, token_hash};
use super::{AccountError, AuditedDirectory, AuthError, TokenRecord, User};
use crate::audit::AuditEntry;
use crate::store_writer::DurableWrites;

const USER_PREFIX: &str = "user:";
const TOKEN_PREFIX: &str = "token:";

/// Every user and token, cached in memory and written through to the store (through the store
/// writer in a running server).
pub struct Directory {
    writes: Arc<dyn DurableWrites>,
    users: RwLock<BTreeMap<String, User>>,
    tokens: RwLock<HashMap<String, TokenRecord>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users = self.users.read().map(|users| users.len()).unwrap_or(0);
        f.debug_struct("Directory")
            .field("users", &users)
            .finish_non_exhaustive()
    }
}

impl Directory {
    /// Reads users and tokens from `store`; changes go through `writes`, and each is durable
    /// before the call that made it returns (so it blocks: call it off the async workers).
    pub fn load(
        store: &dyn DocumentStore,
        writes: Arc<dyn DurableWrites>,
    ) -> Result<Self, AccountError> {
        let mut users = BTreeMap::new();
        for (key, value) in store.values_with_prefix(USER_PREFIX)? {
            match serde_json::from_slice::<User>(&value) {
                Ok(user) => {
                    users.insert(user.name.clone(), user);
                }
                Err(err) => tracing::error!(%key, error = %err, "unreadable user record skipped"),
            }
        }
        let mut tokens = HashMap::new();
        for (key, value) in store.values_with_prefix(TOKEN_PREFIX)? {
            match serde_json::from_slice::<TokenRecord>(&value) {
                Ok(token) => {
                    tokens.insert(key[TOKEN_PREFIX.len()..].to_owned(), token);
                }
                Err(err) => tracing::error!(error = %err, "unreadable token record skipped"),
            }
        }
        Ok(Self {
            writes,
            users: RwLock::new(users),
            tokens: RwLock::new(tokens),
        })
    }

    /// Reads again what `store` holds under `keys` (`user:{name}`, `token:{hash}`), written by
    /// another node sharing the store; returns the users whose record or tokens changed, whom
    /// the caller tells their sessions about. Other keys are ignored.
    pub fn reload(&self, store: &dyn DocumentStore, keys: &[String]) -> Vec<String> {
        let mut changed = BTreeSet::new();
        for key in keys {
            let stored = match store.value(key) {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::error!(%key, %error, "a user or token another node wrote is unreadable");
                    continue;
                }
            };
            if let Some(name) = key.strip_prefix(USER_PREFIX) {
                let user = stored.and_then(|bytes| serde_json::from_slice::<User>(&bytes).ok());
                if let Ok(mut users) = self.users.write() {
                    match user {
                        Some(user) => users.insert(name.to_owned(), user),
                        None => users.remove(name),
                    };
                }
                changed.insert(name.to_owned());
            } else if let Some(hash) = key.strip_prefix(TOKEN_PREFIX) {
                let token =
                    stored.and_then(|bytes| serde_json::from_slice::<TokenRecord>(&bytes).ok());
                if let Ok(mut tokens) = self.tokens.write() {
                    let old = match token {
                        Some(token) => {
                            changed.insert(token.user.clone());
                            tokens.insert(hash.to_owned(), token)
                        }
                        None => tokens.remove(hash),
                    };
                    changed.extend(old.map(|old| old.user));
                }
            }
        }
        changed.into_iter().collect()
    }

    /// Reads every user and token again (after a gap in what this node heard from the others);
    /// returns every user.
    pub fn reload_all(&self, store: &dyn DocumentStore) -> Result<Vec<String>, AccountError> {
        let fresh = Self::load(store, self.writes.clone())?;
        let users = fresh.users.into_inner().unwrap_or_default();
        let tokens = fresh.tokens.into_inner().unwrap_or_default();
        let names = users.keys().cloned().collect();
        if let Ok(mut kept) = self.users.write() {
            *kept = users;
        }
        if let Ok(mut kept) = self.tokens.write() {
            *kept = tokens;
        }
        Ok(names)
    }

    /// Adds a user. Names are what reps and guides type at login, and appear in records.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        grants: &[Grant],
        password: Option<&str>,
        now: i64,
    ) -> Result<User, AccountError> {
        self.add_user_audited(name, role, grants, password, now, None)
    }

    /// The same operations, each recorded in the audit trail as done by `actor` at `now`, in
    /// the same transaction as the change.
    pub fn audited(&self, actor: &str, now: i64) -> AuditedDirectory<'_> {
        AuditedDirectory::new(self, actor, now)
    }

    pub(super) fn add_user_audited(
        &self,
        name: &str,
        role: Role,
        grants: &[Grant],
        password: Option<&str>,
        now: i64,
        audit: Option<&AuditEntry>,
    ) -> Result<User, AccountError> {
        validate_name(name)?;
        if self.user(name).is_some() {
            return Err(AccountError::UserExists(name.to_owned()));
        }
        let user = User {
            name: name.to_owned(),
            role,
            grants: grants.iter().map(Grant::to_string).collect(),
            disabled: false,
            password_hash: password.map(hash_password).transpose()?,
            created_at: now,
        };
        self.save_user(&user, audit)?;
        Ok(user)
    }

    /// Every user, by name.
    pub fn users(&self) -> Vec<User> {
        self.users
            .read()
            .map(|users| users.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One user.
    pub fn user(&self, name: &str) -> Option<User> {
        self.users.read().ok()?.get(name).cloned()
    }

    /// Disables a user: their tokens stop working at once.
    pub fn disable_user(&self, name: &str) -> Result<User, AccountError> {
        self.update_user(name, |user| user.disabled = true, None)
    }

    /// Enables a disabled user again: their tokens that have not expired or been revoked work
    /// again.
    pub fn enable_user(&self, name: &str) -> Result<User, AccountError> {
        self.update_user(name, |user| user.disabled = false, None)
    }

    /// Changes a user's role.
    pub fn set_role(&self, name: &str, role: Role) -> Result<User, AccountError> {
        self.update_user(name, |user| user.role = role, None)
    }

    /// Replaces a user's grants.
    pub fn set_grants(&self, name: &str, grants: &[Grant]) -> Result<User, AccountError> {
        self.update_user(name, grants_setter(grants), None)
    }

    /// Sets a user's password for the REST login.
    pub fn set_password(&self, name: &str, password: &str) -> Result<User, AccountError> {
        let hash = hash_password(password)?;
        self.update_user(name, |user| user.password_hash = Some(hash), None)
    }

    /// Issues a token for `name`, valid for `ttl_ms` (forever if `None`); returns the token,
    /// which is not stored and cannot be shown again.
    pub fn issue_token(
        &self,
        name: &str,
        ttl_ms: Option<i64>,
        now: i64,
    ) -> Result<String, AccountError> {
        self.issue_token_audited(name, ttl_ms, now, None)
    }

    /// Issues a token valid for `ttl_ms` (up to [`MAX_TOKEN_TTL_MS`]; `None`: until revoked),
    /// with the audit entry of the change.
    pub(super) fn issue_token_audited(
        &self,
        name: &str,
        ttl_ms: Option<i64>,
        now: i64,
        audit: Option<&AuditEntry>,
    ) -> Result<String, AccountError> {
        let user = self
            .user(name)
            .ok_or_else(|| AccountError::NoSuchUser(name.to_owned()))?;
        if user.disabled {
            return Err(AccountError::Invalid(format!("user {name} is disabled")));
        }
        if let Some(ttl) = ttl_ms.filter(|ttl| !(0..=MAX_TOKEN_TTL_MS).contains(ttl)) {
            return Err(AccountError::Invalid(format!(
                "a token lasts at most {} days, not {ttl} ms",
                MAX_TOKEN_TTL_MS / 86_400_000
            )));
        }
        let token = new_token()?;
        let record = TokenRecord {
            user: name.to_owned(),
            issued_at: now,
            expires_at: ttl_ms.map(|ttl| now.saturating_add(ttl)),
            revoked: false,
        };
        self.save_tokens(&[(token_hash(&token), record)], audit)?;
        Ok(token)
    }

    /// Revokes one token.
    pub fn revoke_token(&self, token: &str) -> Result<(), AccountError> {
        self.revoke_token_audited(token, |_| None)
    }

    /// The user a token was issued to, if the token is known.
    pub fn token_owner(&self, token: &str) -> Option<String> {
        let tokens = self.tokens.read().ok()?;
        tokens
            .get(&token_hash(token))
            .map(|record| record.user.clone())
    }

    pub(super) fn revoke_token_audited(
        &self,
        token: &str,
        audit: impl FnOnce(&TokenRecord) -> Option<AuditEntry>,
    ) -> Result<(), AccountError> {
        let hash = token_hash(token);
        let mut record = self
            .tokens
            .read()
            .ok()
            .and_then(|tokens| tokens.get(&hash).cloned())
            .ok_or(AccountError::NoSuchToken)?;
        let audit = audit(&record);
        record.revoked = true;
        self.save_tokens(&[(hash, record)], audit.as_ref())
    }

    /// Revokes every token of a user; returns how many.
    pub fn revoke_user_tokens(&self, name: &str) -> Result<usize, AccountError> {
        self.revoke_user_tokens_audited(name, None)
    }

    pub(super) fn revoke_user_tokens_audited(
        &self,
        name: &str,
        audit: Option<&AuditEntry>,
    ) -> Result<usize, AccountError> {
        let owned: Vec<(String, TokenRecord)> = self
            .tokens
            .read()
            .map(|tokens| {
                tokens
                    .iter()
                    .filter(|(_, record)| record.user == name && !record.revoked)
                    .map(|(hash, record)| (hash.clone(), record.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let revoked: Vec<(String, TokenRecord)> = owned
            .into_iter()
            .map(|(hash, mut record)| {
                record.revoked = true;
                (hash, record)
            })
            .collect();
        self.save_tokens(&revoked, audit)?;
        Ok(revoked.len())
    }

    /// Who a token belongs to, if it is valid at `now`.
    pub fn authenticate(&self, token: &str, now: i64) -> Result<Principal, AuthError> {
        let record = self
            .tokens
            .read()
            .ok()
            .and_then(|tokens| tokens.get(&token_hash(token)).cloned())
            .ok_or(AuthError::UnknownToken)?;
        if record.revoked {
            return Err(AuthError::Revoked);
        }
        if record.expires_at.is_some_and(|expires| now >= expires) {
            return Err(AuthError::Expired);
        }
        let user = self.user(&record.user).ok_or(AuthError::UnknownToken)?;
        if user.disabled {
            return Err(AuthError::Disabled);
        }
        Ok(user.principal())
    }

    /// Checks a password and issues a token valid for `ttl_ms`. An unknown user, a user without
    /// a password, a disabled user and a wrong password get the same answer after the same
    /// work. A right password stored under an older scheme is rehashed with today's.
    ///
    /// Hashing takes tens of milliseconds of one core: call this off the HTTP workers.
    pub fn login(
        &self,
        name: &str,
        password: &str,
        ttl_ms: i64,
        now: i64,
    ) -> Result<String, AuthError> {
        let user = self.user(name);
        let stored = user.as_ref().and_then(|user| user.password_hash.as_deref());
        let PasswordCheck::Right { rehash } = check_password(password, stored) else {
            return Err(AuthError::BadPassword);
        };
        if user.is_none_or(|user| user.disabled) {
            return Err(AuthError::BadPassword);
        }
        if rehash {
            let upgraded = hash_password(password).and_then(|hash| {
                self.update_user(name, |user| user.password_hash = Some(hash), None)
            });
            if let Err(error) = upgraded {
                tracing::warn!(user = name, %error, "could not upgrade a password hash");
            }
        }
        self.issue_token(name, Some(ttl_ms), now)
            .map_err(|_| AuthError::BadPassword)
    }

    /// Users who hold any of `grants`, or have one of `roles`.
    pub fn users_matching(&self, roles: &[Role], grants: &BTreeSet<String>) -> Vec<User> {
        self.users()
            .into_iter()
            .filter(|user| {
                roles.contains(&user.role) || user.grants.iter().any(|g| grants.contains(g))
            })
            .collect()
    }

    pub(super) fn update_user(
        &self,
        name: &str,
        change: impl FnOnce(&mut User),
        audit: Option<&AuditEntry>,
    ) -> Result<User, AccountError> {
        let mut user = self
            .user(name)
            .ok_or_else(|| AccountError::NoSuchUser(name.to_owned()))?;
        change(&mut user);
        self.save_user(&user, audit)?;
        Ok(user)
    }

    /// Stores a user, and the audit entry of the change in the same transaction.
    fn save_user(&self, user: &User, audit: Option<&AuditEntry>) -> Result<(), AccountError> {
        let bytes =
            serde_json::to_vec(user).map_err(|err| AccountError::Invalid(err.to_string()))?;
        let mut batch = WriteBatch::new();
        batch.put_value(&format!("{USER_PREFIX}{}", user.name), bytes);
        if let Some(audit) = audit {
            audit.put(&mut batch);
        }
        self.writes.write_and_wait(batch)?;
        if let Ok(mut users) = self.users.write() {
            users.insert(user.name.clone(), user.clone());
        }
        Ok(())
    }

    /// Stores tokens, and the audit entry of the change in the same transaction.
    fn save_tokens(
        &self,
        records: &[(String, TokenRecord)],
        audit: Option<&AuditEntry>,
    ) -> Result<(), AccountError> {
        let mut batch = WriteBatch::new();
        for (hash, record) in records {
            let bytes =
                serde_json::to_vec(record).map_err(|err| AccountError::Invalid(err.to_string()))?;
            batch.put_value(&format!("{TOKEN_PREFIX}{hash}"), bytes);
        }
        if let Some(audit) = audit {
            audit.put(&mut batch);
        }
        self.writes.write_and_wait(batch)?;
        if let Ok(mut tokens) = self.tokens.write() {
            for (hash, record) in records {
                tokens.insert(hash.clone(), record.clone());
            }
        }
        Ok(())
    }
}

/// A change that replaces a user's grants.
pub(super) fn grants_setter(grants: &[Grant]) -> impl FnOnce(&mut User) + '_ {
    move |user: &mut User| user.grants = grants.iter().map(Grant::to_string).collect()
}

fn validate_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::InvalidName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use itinera_core::store::RedbStore;

    use super::*;
    use crate::store_writer::DirectWrites;

    fn directory() -> Directory {
        let store: Arc<dyn DocumentStore> = Arc::new(RedbStore::in_memory().expect("store"));
        Directory::load(&*store, Arc::new(DirectWrites(store.clone()))).expect("load")
    }

    #[test]
    fn a_token_authenticates_until_it_expires_or_is_revoked() {
        let dir = directory();
        dir.add_user("ana", Role::Sales, &[], None, 0).expect("add");
        let token = dir.issue_token("ana", Some(1_000), 10).expect("token");
        assert_eq!(
            dir.authenticate(&token, 500).map(|p| p.user),
            Ok("ana".to_owned())
        );
        assert_eq!(dir.authenticate(&token, 1_010), Err(AuthError::Expired));
        let other = dir.issue_token("ana", None, 10).expect("token");
        dir.revoke_token(&other).expect("revoke");
        assert_eq!(dir.authenticate(&other, 20), Err(AuthError::Revoked));
        assert_eq!(
            dir.authenticate("itn_made_up", 20),
            Err(AuthError::UnknownToken)
        );
    }

    #[test]
    fn a_disabled_user_is_refused_and_names_are_checked() {
        let dir = directory();
        dir.add_user("gus", Role::Guide, &[], None, 0).expect("add");
        let token = dir.issue_token("gus", None, 0).expect("token");
        dir.disable_user("gus").expect("disable");
        assert_eq!(dir.authenticate(&token, 1), Err(AuthError::Disabled));
        assert!(matches!(
            dir.add_user("gus", Role::Guide, &[], None, 0),
            Err(AccountError::UserExists(_))
        ));
        assert!(matches!(
            dir.add_user("no spaces", Role::Guide, &[], None, 0),
            Err(AccountError::InvalidName(_))
        ));
    }

    #[test]
    fn users_and_tokens_survive_a_reload() {
        let store: Arc<dyn DocumentStore> = Arc::new(RedbStore::in_memory().expect("store"));
        let token = {
            let dir =
                Directory::load(&*store, Arc::new(DirectWrites(store.clone()))).expect("load");
            dir.add_user("olga", Role::Office, &[], Some("pw"), 0)
                .expect("add");
            dir.issue_token("olga", None, 0).expect("token")
        };
        let dir = Directory::load(&*store, Arc::new(DirectWrites(store.clone()))).expect("reload");
        assert_eq!(
            dir.authenticate(&token, 1).map(|p| p.role),
            Ok(Role::Office)
        );
        assert!(dir.login("olga", "pw", 1_000, 1).is_ok());
        assert_eq!(
            dir.login("olga", "nope", 1_000, 1),
            Err(AuthError::BadPassword)
        );
    }

    #[test]
    fn a_pbkdf2_password_is_upgraded_to_argon2id_at_the_next_good_login() {
        let store: Arc<dyn DocumentStore> = Arc::new(RedbStore::in_memory().expect("store"));
        let dir = Directory::load(&*store, Arc::new(DirectWrites(store.clone()))).expect("load");
        dir.add_user("olga", Role::Office, &[], None, 0)
            .expect("add");
        // What the server stored before Argon2id: PBKDF2-HMAC-SHA256 of "old pw".
        let salt = [3u8; 16];
        let hash = pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 32>(b"old pw", &salt, 1_000);
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let old = format!("pbkdf2-sha256$1000${}${}", hex(&salt), hex(&hash));
        dir.update_user("olga", |user| user.password_hash = Some(old.clone()), None)
            .expect("store the old hash");

        assert_eq!(
            dir.login("olga", "wrong", 1_000, 1),
            Err(AuthError::BadPassword)
        );
        assert_eq!(dir.user("olga").and_then(|u| u.password_hash), Some(old));
        assert!(dir.login("olga", "old pw", 1_000, 1).is_ok());
        let upgraded = dir
            .user("olga")
            .and_then(|u| u.password_hash)
            .expect("hash");
        assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
        assert!(dir.login("olga", "old pw", 1_000, 1).is_ok());
        let reloaded =
            Directory::load(&*store, Arc::new(DirectWrites(store.clone()))).expect("reload");
        assert_eq!(
            reloaded.user("olga").and_then(|u| u.password_hash),
            Some(upgraded)
        );
    }

    #[test]
    fn a_disabled_user_with_the_right_password_is_answered_like_a_wrong_one() {
        let store: Arc<dyn DocumentStore> = Arc::new(RedbStore::in_memory().expect("store"));
        let dir = Directory::load(&*store, Arc::new(DirectWrites(store.clone()))).expect("load");
        dir.add_user("olga", Role::Office, &[], Some("pw"), 0)
            .expect("add");
        dir.update_user("olga", |user| user.disabled = true, None)
            .expect("disable");
        assert_eq!(
            dir.login("olga", "pw", 1_000, 1),
            Err(AuthError::BadPassword)
        );
        assert_eq!(
            dir.login("nobody", "pw", 1_000, 1),
            Err(AuthError::BadPassword)
        );
    }
}

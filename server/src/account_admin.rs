//! Users and tokens as the command line manages them: in the store of a stopped server, or
//! through the admin API of a running one. Either way each change is in the audit trail.

use std::sync::Arc;

use itinera_core::policy::{Grant, Role};
use itinera_core::store::{DocumentStore, StoreError};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::{Directory, User};
use crate::admin_client::AdminClient;
use crate::audit::{self, AuditEntry};
use crate::operation_error::OperationError;

/// Where users live for this command.
pub enum AccountAdmin {
    /// The store of a stopped server, changed directly.
    Offline {
        directory: Directory,
        store: Arc<dyn DocumentStore>,
        actor: String,
    },
    /// A running server, through its admin API.
    Online(AdminClient),
}

impl std::fmt::Debug for AccountAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Offline { actor, .. } => f.debug_struct("Offline").field("actor", actor).finish(),
            Self::Online(client) => f.debug_tuple("Online").field(client).finish(),
        }
    }
}

/// A user as both ways report it.
#[derive(Debug, Clone, Deserialize)]
pub struct UserView {
    pub name: String,
    pub role: String,
    pub grants: Vec<String>,
    pub disabled: bool,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            name: user.name,
            role: user.role.as_str().to_owned(),
            grants: user.grants.into_iter().collect(),
            disabled: user.disabled,
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    token: String,
}

#[derive(Deserialize)]
struct RevokedAnswer {
    revoked: usize,
}

fn grant_texts(grants: &[Grant]) -> Vec<String> {
    grants.iter().map(Grant::to_string).collect()
}

impl AccountAdmin {
    /// Opens the store of a stopped server; a running server's store is refused with the way
    /// to reach it instead.
    pub fn offline(store_path: &std::path::Path, actor: String) -> Result<Self, OperationError> {
        let store = itinera_core::store::RedbStore::open(store_path).map_err(|err| match err {
            StoreError::AlreadyOpen { .. } => OperationError::Refused(format!(
                "a running server holds {}: pass --server URL (its local address, e.g. \
                 http://127.0.0.1:8080) with an admin token in ITINERA_ADMIN_TOKEN or \
                 --admin-token-file",
                store_path.display()
            )),
            other => other.into(),
        })?;
        Self::with_store(Arc::new(store), actor)
    }

    /// The users of `store`, changed directly (no server writes it meanwhile, or, for a shared
    /// database, each change is its own transaction).
    pub fn with_store(
        store: Arc<dyn DocumentStore>,
        actor: String,
    ) -> Result<Self, OperationError> {
        let writes = Arc::new(crate::store_writer::DirectWrites(store.clone()));
        let directory = Directory::load(&*store, writes)?;
        Ok(Self::Offline {
            directory,
            store,
            actor,
        })
    }

    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        grants: &[Grant],
        password: Option<&str>,
        now: i64,
    ) -> Result<UserView, OperationError> {
        match self {
            Self::Offline {
                directory, actor, ..
            } => Ok(directory
                .audited(actor, now)
                .add_user(name, role, grants, password)?
                .into()),
            Self::Online(client) => Ok(client.post(
                "/users",
                &json!({ "name": name, "role": role.as_str(), "grants": grant_texts(grants), "password": password }),
            )?),
        }
    }

    pub fn users(&self) -> Result<Vec<UserView>, OperationError> {
        match self {
            Self::Offline { directory, .. } => {
                Ok(directory.users().into_iter().map(UserView::from).collect())
            }
            Self::Online(client) => Ok(client.get("/users")?),
        }
    }

    pub fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
        now: i64,
    ) -> Result<UserView, OperationError> {
        match self {
            Self::Offline {
                directory, actor, ..
            } => {
                let admin = directory.audited(actor, now);
                let user = if disabled {
                    admin.disable_user(name)?
                } else {
                    admin.enable_user(name)?
                };
                Ok(user.into())
            }
            Self::Online(client) => {
                let action = if disabled { "disable" } else { "enable" };
                Ok(client.post(&format!("/users/{name}/{action}"), &json!({}))?)
            }
        }
    }

    pub fn set_role(&self, name: &str, role: Role, now: i64) -> Result<UserView, OperationError> {
        match self {
            Self::Offline {
                directory, actor, ..
            } => Ok(directory.audited(actor, now).set_role(name, role)?.into()),
            Self::Online(client) => Ok(client.put(
                &format!("/users/{name}/role"),
                &json!({ "role": role.as_str() }),
            )?),
        }
    }

    pub fn set_grants(
        &self,
        name: &str,
        grants: &[Grant],
        now: i64,
    ) -> Result<UserView, OperationError> {
        match self {
            Self::Offline {
                directory, actor, ..
            } => Ok(directory
                .audited(actor, now)
                .set_grants(name, grants)?
                .into()),
            Self::Online(client) => Ok(client.put(
                &format!("/users/{name}/grants"),
                &json!({ "grants": grant_texts(grants) }),
            )?),
        }
    }

    pub fn set_password(
        &self,
        name: &str,
        password: &str,
        now: i64,
    ) -> Result<UserView, OperationError> {
        match self {
            Self::Offline {
                directory, actor, ..
            } => Ok(directory
                .audited(actor, now)
                .set_password(name, password)?
                .into()),
            Self::Online(client) => Ok(client.put(
                &format!("/users/{name}/password"),
                &json!({ "password": password }),
            )?),
        }
    }

    /// Issues a token; returns it.
    pub fn issue_token(&self, name: &str, ttl_ms: i64, now: i64) -> Result<String, OperationError> {
        match self {
            Self::Offline {
                directory, actor, ..
            } => Ok(directory
                .audited(actor, now)
                .issue_token(name, Some(ttl_ms))?),
            Self::Online(client) => {
                let answer: TokenAnswer = client.post(
                    &format!("/users/{name}/tokens"),
                    &json!({ "ttl_seconds": ttl_ms / 1000 }),
                )?;
                Ok(answer.token)
            }
        }
    }

    /// Revokes one token or every token of a user; returns how many.
    pub fn revoke(
        &self,
        token: Option<&str>,
        user: Option<&str>,
        now: i64,
    ) -> Result<usize, OperationError> {
        match self {
            Self::Offline {
                directory, actor, ..
            } => {
                let admin = directory.audited(actor, now);
                match (token, user) {
                    (Some(token), _) => admin.revoke_token(token).map(|()| 1),
                    (None, Some(user)) => admin.revoke_user_tokens(user),
                    (None, None) => {
                        return Err(OperationError::Refused(
                            "give a token or --user NAME".into(),
                        ));
                    }
                }
                .map_err(OperationError::from)
            }
            Self::Online(client) => {
                let answer: RevokedAnswer =
                    client.post("/tokens/revoke", &json!({ "token": token, "user": user }))?;
                Ok(answer.revoked)
            }
        }
    }

    /// The newest audit entries.
    pub fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, OperationError> {
        match self {
            Self::Offline { store, .. } => Ok(audit::list(&**store, limit, None)?),
            Self::Online(client) => Ok(client.get(&format!("/audit?limit={limit}"))?),
        }
    }
}

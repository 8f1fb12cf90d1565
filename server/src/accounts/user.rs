use std::collections::BTreeSet;

use itinera_core::policy::{Grant, Principal, Role};
use serde::{Deserialize, Serialize};

/// A person who logs in: a guide, a sales rep, an office clerk or an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    #[serde(with = "role_text")]
    pub role: Role,
    /// Territories, departures and stock locations this user is granted, as text
    /// (`territory:north`, `departure:<id>`, `stock:<id>`).
    pub grants: BTreeSet<String>,
    pub disabled: bool,
    /// An Argon2id hash (PHC string; PBKDF2 from before, upgraded at the next login), for the
    /// REST login; devices use tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    pub created_at: i64,
}

impl User {
    /// The user as the access policy sees it. Grants that no longer parse are left out.
    pub fn principal(&self) -> Principal {
        Principal {
            user: self.name.clone(),
            role: self.role,
            grants: self
                .grants
                .iter()
                .filter_map(|grant| grant.parse::<Grant>().ok())
                .collect(),
        }
    }
}

/// What is stored of a token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub user: String,
    pub issued_at: i64,
    /// Unix ms after which the token no longer works; `None` never expires.
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

mod role_text {
    use itinera_core::policy::Role;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(role: &Role, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(role.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
        let text = String::deserialize(deserializer)?;
        Role::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown role {text:?}")))
    }
}

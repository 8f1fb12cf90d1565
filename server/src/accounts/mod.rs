//! Users, their roles and grants, and the tokens devices authenticate with.
//!
//! Tokens are random (256 bits), shown once when issued, and stored only as their SHA-256 hash;
//! each expires and can be revoked. Passwords (for the REST login) are stored as Argon2id hashes in the PHC string format.
//! Everything lives in the store's key–value table, so the command line can manage users of a
//! stopped server and the admin API those of a running one.

mod audited_directory;
mod directory;
mod error;
mod login;
mod secret;
mod user;

pub use audited_directory::AuditedDirectory;
pub use directory::Directory;
pub use error::{AccountError, AuthError};
pub use login::{AttemptBudgets, Logins, PER_ADDRESS, PER_USER};
pub use user::{TokenRecord, User};

/// The longest a token may last: ten years.
pub const MAX_TOKEN_TTL_MS: i64 = 3_650 * 86_400_000;

/// Ten random bytes for a new document id.
pub fn random_id_bytes() -> Result<[u8; 10], AccountError> {
    secret::random_bytes::<10>()
}

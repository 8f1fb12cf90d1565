//! Random tokens and password hashes.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use sha2::{Digest, Sha256};

use super::AccountError;

/// `n` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| AccountError::Random(err.to_string()))?;
    Ok(bytes)
}

/// A new token: `itn_` and 32 random bytes in base58.
pub(crate) fn new_token() -> Result<String, AccountError> {
    Ok(format!(
        "itn_{}",
        bs58::encode(random_bytes::<32>()?).into_string()
    ))
}

/// What is stored of a token: the hex SHA-256 of it.
pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A new password hash: Argon2id with its default cost (19 MiB, two passes, one lane), as a
/// PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
pub(crate) fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|err| AccountError::Random(err.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| AccountError::Invalid(format!("password hash: {err}")))
}

/// What a password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    /// The password is right; `rehash` when its stored hash is of an older scheme or cost and
    /// should be replaced by [`hash_password`]'s.
    Right {
        rehash: bool,
    },
    Wrong,
}

/// Checks `password` against a stored hash: Argon2id (PHC), or PBKDF2-HMAC-SHA256 from before
/// Argon2id. With no stored hash (an unknown user, a user without a password) the same Argon2id
/// work is done against a hash nobody knows the password of, so the answer takes as long.
pub(crate) fn check_password(password: &str, stored: Option<&str>) -> PasswordCheck {
    match stored {
        Some(stored) if stored.starts_with("pbkdf2-sha256$") => {
            if verify_pbkdf2(password, stored) {
                PasswordCheck::Right { rehash: true }
            } else {
                PasswordCheck::Wrong
            }
        }
        Some(stored) => match PasswordHash::new(stored) {
            Ok(hash)
                if Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok() =>
            {
                PasswordCheck::Right {
                    rehash: !is_current(&hash),
                }
            }
            Ok(_) => PasswordCheck::Wrong,
            Err(_) => {
                burn_one_check(password);
                PasswordCheck::Wrong
            }
        },
        None => {
            burn_one_check(password);
            PasswordCheck::Wrong
        }
    }
}

/// Whether a hash was made with today's algorithm and cost.
fn is_current(hash: &PasswordHash<'_>) -> bool {
    let current = Params::default();
    hash.algorithm == argon2::ARGON2ID_IDENT
        && Params::try_from(hash).is_ok_and(|params| {
            params.m_cost() == current.m_cost()
                && params.t_cost() == current.t_cost()
                && params.p_cost() == current.p_cost()
        })
}

/// One Argon2id verification against a hash of a random password made once per process.
fn burn_one_check(password: &str) {
    static NOBODYS: LazyLock<Option<String>> = LazyLock::new(|| {
        random_bytes::<24>()
            .ok()
            .and_then(|bytes| hash_password(&hex(&bytes)).ok())
    });
    if let Some(hash) = NOBODYS.as_deref().and_then(|h| PasswordHash::new(h).ok()) {
        let _ = Argon2::default().verify_password(password.as_bytes(), &hash);
    }
}

/// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`, compared in time that does not depend
/// on where the bytes differ.
fn verify_pbkdf2(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [_, iterations, salt, expected] = parts.as_slice() else {
        return false;
    };
    let (Ok(iterations), Some(salt), Some(expected)) =
        (iterations.parse::<u32>(), unhex(salt), unhex(expected))
    else {
        return false;
    };
    let hash = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password.as_bytes(), &salt, iterations);
    hash.len() == expected.len()
        && hash
            .iter()
            .zip(&expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_wrong_ones_do_not() {
        let stored = hash_password("correct horse").expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        let check = |password: &str, stored: Option<&str>| check_password(password, stored);
        assert_eq!(
            check("correct horse", Some(&stored)),
            PasswordCheck::Right { rehash: false }
        );
        assert_eq!(check("correct horsf", Some(&stored)), PasswordCheck::Wrong);
        assert_eq!(
            check("correct horse", Some("garbage")),
            PasswordCheck::Wrong
        );
        assert_eq!(check("correct horse", None), PasswordCheck::Wrong);
        assert_ne!(
            stored,
            hash_password("correct horse").expect("hash"),
            "salted"
        );
    }

    #[test]
    fn older_hashes_verify_and_ask_to_be_replaced() {
        let salt = [7u8; 16];
        let hash = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(b"old secret", &salt, 1_000);
        let pbkdf2 = format!("pbkdf2-sha256$1000${}${}", hex(&salt), hex(&hash));
        assert_eq!(
            check_password("old secret", Some(&pbkdf2)),
            PasswordCheck::Right { rehash: true }
        );
        assert_eq!(
            check_password("old secrets", Some(&pbkdf2)),
            PasswordCheck::Wrong
        );

        let cheap = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            Params::new(1024, 1, 1, None).expect("params"),
        );
        let salt = SaltString::encode_b64(&[9u8; 16]).expect("salt");
        let weak = cheap
            .hash_password(b"old secret", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(
            check_password("old secret", Some(&weak)),
            PasswordCheck::Right { rehash: true }
        );
    }

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let (a, b) = (new_token().expect("token"), new_token().expect("token"));
        assert_ne!(a, b);
        assert!(a.starts_with("itn_"));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
    }
}

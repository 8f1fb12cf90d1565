//! Random tokens and password hashes.

use sha2::{Digest, Sha256};

use super::AccountError;

/// Iterations of PBKDF2-HMAC-SHA256 for passwords: slow enough to make guessing costly, quick
/// enough for a login.
const PASSWORD_ITERATIONS: u32 = 100_000;

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

/// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
pub(crate) fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = random_bytes::<16>()?;
    let hash =
        pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password.as_bytes(), &salt, PASSWORD_ITERATIONS);
    Ok(format!(
        "pbkdf2-sha256${PASSWORD_ITERATIONS}${}${}",
        hex(&salt),
        hex(&hash)
    ))
}

/// Whether `password` matches a hash from [`hash_password`], in time that does not depend on
/// where the bytes differ.
pub(crate) fn verify_password(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [scheme, iterations, salt, expected] = parts.as_slice() else {
        return false;
    };
    if *scheme != "pbkdf2-sha256" {
        return false;
    }
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
        assert!(verify_password("correct horse", &stored));
        assert!(!verify_password("correct horsf", &stored));
        assert!(!verify_password("correct horse", "garbage"));
        assert_ne!(
            stored,
            hash_password("correct horse").expect("hash"),
            "salted"
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

use itinera_core::store::StoreError;

/// A user or token operation that was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    #[error("user {0} already exists")]
    UserExists(String),
    #[error("no user named {0}")]
    NoSuchUser(String),
    #[error("user names are 1 to 64 letters, digits, '.', '_', '-' or '@'; {0:?} is not")]
    InvalidName(String),
    #[error("no such token")]
    NoSuchToken,
    #[error("{0}")]
    Invalid(String),
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] crate::store_writer::WriteError),
}

/// Why a request is not authenticated. Answered with HTTP 401; the token is never logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token: send Authorization: Bearer <token> or ?token=")]
    MissingToken,
    #[error("unknown token")]
    UnknownToken,
    #[error("the token has expired")]
    Expired,
    #[error("the token has been revoked")]
    Revoked,
    #[error("the user is disabled")]
    Disabled,
    #[error("wrong user name or password")]
    BadPassword,
    /// Too many login attempts for the user name or from the address (HTTP 429).
    #[error("too many login attempts: try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
}

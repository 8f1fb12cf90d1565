//! Who is asking: a bearer token (phones, tools), `?token=` (WebSockets from browsers), or the
//! browser's session cookie; and `ApiError`, every API error as JSON.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use itinera_core::engine::EditError;
use itinera_core::policy::{Principal, Role};
use serde_json::json;

use super::AppState;
use super::session_cookie::{check_cookie_request, session_token};
use crate::accounts::AuthError;

/// An API error: a status and a message, answered as `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl std::fmt::Display) -> Self {
        Self {
            status,
            message: message.to_string(),
            retry_after: None,
        }
    }

    /// The same error, telling the client how many seconds to wait before trying again.
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(json!({ "error": self.message }))
    }
}

impl From<EditError> for ApiError {
    /// A document the user may not see answers exactly like one that does not exist.
    fn from(error: EditError) -> Self {
        let status = match &error {
            EditError::NotFound => StatusCode::NOT_FOUND,
            EditError::Refused(_) | EditError::Invalid(_) => StatusCode::FORBIDDEN,
            EditError::Superseded(_) => StatusCode::CONFLICT,
            EditError::Store(_) | EditError::Broken(_) | EditError::Unavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, error)
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::TooManyAttempts { retry_after_secs } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, error).retry_after(retry_after_secs)
            }
            _ => Self::new(StatusCode::UNAUTHORIZED, error),
        }
    }
}

/// The token of a request: `Authorization: Bearer <token>`, or `?token=` for browsers, which
/// cannot set headers on a WebSocket. Neither is ever logged.
pub fn request_token(request: &HttpRequest) -> Option<String> {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))?;
        return Some(token.trim().to_owned());
    }
    request.query_string().split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == "token").then(|| value.to_owned())
    })
}

/// What a request signs in with: its token, or else the browser's session cookie (whose
/// writes must carry the session's CSRF token).
pub fn request_credential(request: &HttpRequest) -> Result<String, ApiError> {
    match request_token(request) {
        Some(token) => Ok(token),
        None => {
            let session = session_token(request).ok_or(AuthError::MissingToken)?;
            check_cookie_request(request, &session)?;
            Ok(session)
        }
    }
}

/// The authenticated user of a request, by its [`request_credential`].
pub fn authenticate(state: &AppState, request: &HttpRequest) -> Result<Principal, ApiError> {
    authenticate_credential(state, &request_credential(request)?)
}

/// The user `credential` (a token or a session cookie's value) signs in.
pub fn authenticate_credential(state: &AppState, credential: &str) -> Result<Principal, ApiError> {
    Ok(state
        .services
        .directory
        .authenticate(credential, state.services.now_ms())?)
}

/// Like [`authenticate`], and the user must be an admin.
pub fn authenticate_admin(state: &AppState, request: &HttpRequest) -> Result<Principal, ApiError> {
    let principal = authenticate(state, request)?;
    if principal.role != Role::Admin {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "admins only"));
    }
    Ok(principal)
}

/// The address a request came from: the TCP peer, or behind a reverse proxy the address it
/// appended last to `X-Forwarded-For` (earlier entries are the client's own claims).
pub fn client_address(request: &HttpRequest, behind_proxy: bool) -> Option<std::net::IpAddr> {
    let peer = request.peer_addr().map(|address| address.ip());
    if !behind_proxy {
        return peer;
    }
    request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .last()
        .and_then(|entry| entry.trim().parse().ok())
        .or(peer)
}

//! The browser's session: a cookie from a user name and password, and the CSRF token that
//! every state-changing request made with it must carry.
//!
//! `POST /api/v1/session` checks the password and sets `itinera_session` (HttpOnly,
//! SameSite=Strict, Secure when the request came over TLS or through a proxy that says
//! `X-Forwarded-Proto: https`). The cookie holds an ordinary login token, so revoking tokens
//! ends sessions too. The CSRF token is derived from the session token (a hash the page cannot
//! turn back into the token) and is read by the page from `GET /api/v1/session`, which a page
//! of another site cannot read; the page sends it back as `X-CSRF-Token` on every `POST`,
//! `PUT`, `PATCH` and `DELETE`. `DELETE /api/v1/session` revokes the token on the server.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use itinera_core::policy::{Grant, Principal};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{ApiError, authenticate, client_address};
use crate::server_documents::index_document_id;

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "itinera_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a browser session lasts.
const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

/// The session token of a request's cookie.
pub fn session_token(request: &HttpRequest) -> Option<String> {
    request
        .cookie(SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|token| !token.is_empty())
}

/// The CSRF token that belongs to a session token.
pub fn csrf_token(session: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"itinera csrf\0")
        .chain_update(session.as_bytes())
        .finalize();
    bs58::encode(digest).into_string()
}

/// Refuses a cookie-authenticated request that changes state without the session's CSRF
/// token, or that a page of another origin sent.
pub fn check_cookie_request(request: &HttpRequest, session: &str) -> Result<(), ApiError> {
    let forbidden = |message| ApiError::new(StatusCode::FORBIDDEN, message);
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let host = request.connection_info().host().to_owned();
        let origin = origin.to_str().unwrap_or_default();
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if origin_host != host {
            return Err(forbidden(
                "requests from another origin may not use the session",
            ));
        }
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(());
    }
    let sent = request
        .headers()
        .get(CSRF_HEADER)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if bool::from(sent.ct_eq(csrf_token(session).as_bytes())) {
        Ok(())
    } else {
        Err(forbidden("missing or wrong X-CSRF-Token header"))
    }
}

/// Whether the browser reached the server over TLS, directly or through a proxy.
fn came_over_tls(request: &HttpRequest) -> bool {
    request.app_config().secure()
        || request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

fn cookie(request: &HttpRequest, value: String, max_age: CookieDuration) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(came_over_tls(request))
        .max_age(max_age)
        .finish()
}

fn session_json(principal: &Principal, session: &str) -> serde_json::Value {
    json!({
        "user": principal.user,
        "role": principal.role.as_str(),
        "grants": principal.grants.iter().map(Grant::to_string).collect::<Vec<_>>(),
        "index_document": index_document_id(&principal.user).to_url(),
        "csrf_token": csrf_token(session),
    })
}

/// A user name and password, for a browser session.
#[derive(Deserialize, ToSchema)]
pub struct SignIn {
    user: String,
    password: String,
}

/// Signs in and sets the session cookie; answers who signed in and the CSRF token.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignIn,
    responses((status = 200, description = "`{\"user\", \"role\", \"grants\", \"index_document\", \"csrf_token\"}`; sets `itinera_session`"),
              (status = 401, description = "Wrong user name or password"),
              (status = 429, description = "Too many attempts for the user name or from the address; `Retry-After` says when to try again")))]
pub async fn sign_in(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    let services = &state.services;
    let now = services.now_ms();
    let address = client_address(&request, services.config.behind_proxy);
    let SignIn { user, password } = body.into_inner();
    // The same limits and hashing as every password login.
    let token = services
        .logins
        .sign_in(user, password, address, SESSION_TTL_MS, now)
        .await?;
    let principal = services.directory.authenticate(&token, now)?;
    let max_age = CookieDuration::milliseconds(SESSION_TTL_MS);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie(&request, token.clone(), max_age))
        .json(session_json(&principal, &token)))
}

/// Who is signed in, and the CSRF token of the session.
#[utoipa::path(get, path = "/api/v1/session", tag = "session", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{\"user\", \"role\", \"grants\", \"index_document\", \"csrf_token\"}`"),
              (status = 401, description = "Not signed in")))]
pub async fn current(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let principal = authenticate(&state, &request)?;
    let session = session_token(&request).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(session_json(&principal, &session)))
}

/// Ends the session on the server (its token is revoked) and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", security(("session" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, description = "Not signed in")))]
pub async fn sign_out(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let principal = authenticate(&state, &request)?;
    if let Some(session) = session_token(&request) {
        let services = state.services.clone();
        web::block(move || services.directory.revoke_token(&session))
            .await
            .map_err(|err| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, err))?
            .map_err(|err| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, err))?;
        // Connections opened with the session's token close now.
        state.services.sessions.reauthenticate(&principal.user);
    }
    Ok(HttpResponse::NoContent()
        .cookie(cookie(&request, String::new(), CookieDuration::ZERO))
        .finish())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn writes_need_the_sessions_csrf_token_and_reads_do_not() {
        let session = "itn_session";
        let read = TestRequest::get().uri("/api/v1/me").to_http_request();
        assert!(check_cookie_request(&read, session).is_ok());
        let bare = TestRequest::post()
            .uri("/api/v1/records/account")
            .to_http_request();
        assert_eq!(
            check_cookie_request(&bare, session).map_err(|e| e.status),
            Err(StatusCode::FORBIDDEN)
        );
        let wrong = TestRequest::post()
            .insert_header((CSRF_HEADER, csrf_token("another session")))
            .to_http_request();
        assert!(check_cookie_request(&wrong, session).is_err());
        let right = TestRequest::post()
            .insert_header((CSRF_HEADER, csrf_token(session)))
            .to_http_request();
        assert!(check_cookie_request(&right, session).is_ok());
    }

    #[test]
    fn another_origin_may_not_use_the_cookie() {
        let request = TestRequest::get()
            .insert_header((header::HOST, "itinera.example"))
            .insert_header((header::ORIGIN, "https://evil.example"))
            .to_http_request();
        assert!(check_cookie_request(&request, "itn_session").is_err());
        let same = TestRequest::get()
            .insert_header((header::HOST, "itinera.example"))
            .insert_header((header::ORIGIN, "https://itinera.example"))
            .to_http_request();
        assert!(check_cookie_request(&same, "itn_session").is_ok());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_tls() {
        let plain = TestRequest::post().to_http_request();
        let set = cookie(&plain, "itn_x".into(), CookieDuration::hours(1));
        assert_eq!(set.http_only(), Some(true));
        assert_eq!(set.same_site(), Some(SameSite::Strict));
        assert_ne!(set.secure(), Some(true));
        let proxied = TestRequest::post()
            .insert_header(("x-forwarded-proto", "https"))
            .to_http_request();
        assert_eq!(
            cookie(&proxied, "itn_x".into(), CookieDuration::hours(1)).secure(),
            Some(true)
        );
    }
}

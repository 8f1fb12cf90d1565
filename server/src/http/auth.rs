use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use itinera_core::policy::{Principal, Role};
use serde_json::json;

use super::AppState;
use crate::accounts::AuthError;

/// The token of a request: `Authorization: Bearer <token>`, or `?token=` for browsers, which
/// cannot set headers on a WebSocket. Neither is ever logged.
pub fn request_token(request: &HttpRequest) -> Option<String> {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
        return Some(token.trim().to_owned());
    }
    request.query_string().split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == "token").then(|| value.to_owned())
    })
}

/// The authenticated user of a request, or the 401 to answer.
pub fn authenticate(state: &AppState, request: &HttpRequest) -> Result<Principal, HttpResponse> {
    let token = request_token(request).ok_or_else(|| unauthorized(AuthError::MissingToken))?;
    state
        .services
        .directory
        .authenticate(&token, state.services.now_ms())
        .map_err(unauthorized)
}

/// Like [`authenticate`], and the user must be an admin.
pub fn authenticate_admin(state: &AppState, request: &HttpRequest) -> Result<Principal, HttpResponse> {
    let principal = authenticate(state, request)?;
    if principal.role != Role::Admin {
        return Err(HttpResponse::Forbidden().json(json!({ "error": "admins only" })));
    }
    Ok(principal)
}

pub fn unauthorized(error: AuthError) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .json(json!({ "error": error.to_string() }))
}

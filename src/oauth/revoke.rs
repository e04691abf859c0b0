//! Token revocation (RFC 7009): a refresh token revokes its whole family; an
//! access token's `jti` is denied by introspection until it expires. Unknown
//! tokens answer 200, as the RFC says. Confidential clients authenticate; public
//! and mobile clients name themselves with `client_id` (§2.1) and revoke only
//! their own tokens.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use super::client_auth::revoking_form;
use super::error::OAuthError;
use super::inspect::{find, Found};
use crate::AppState;

/// `POST /revoke`.
pub async fn post_revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let state: Arc<AppState> = state.into_inner();
    let (form, client) = revoking_form(&req, payload, &state).await?;
    let token = form.require("token")?;
    let server_error = |e: crate::store::StoreError| OAuthError::Server(format!("revocation failed: {e}"));
    let now = state.clock.now();
    // RFC 7009 §2.1: only a token issued to the client making the request.
    let not_yours = || OAuthError::UnauthorizedClient("this token was not issued to this client".into());
    match find(&state, token).await.map_err(server_error)? {
        Some(Found::Refresh(record)) => {
            if record.family.client_id != client.client.id {
                return Err(not_yours());
            }
            state.store.revoke_family(&record.family.id, now).await.map_err(server_error)?;
        }
        Some(Found::Access(claims)) => {
            if claims.client_id != client.client.id {
                return Err(not_yours());
            }
            state.store.revoke_access_token(&claims.jti, claims.exp).await.map_err(server_error)?;
            state.status.note_revoked(&claims.jti);
            // Offline verifiers learn of it from the token's status list.
            let at = claims.status.as_ref().and_then(|s| {
                let list = crate::domain::status::list_of_uri(&state.config.issuer, &s.status_list.uri)?;
                Some((list, s.status_list.idx))
            });
            state.store.revoke_status(at, &claims.jti, claims.exp).await.map_err(server_error)?;
        }
        // No platform kind is revocable by a client (the registry says so); they
        // are rotated, disabled or deleted through the admin API.
        Some(Found::Platform(token)) => {
            return Err(OAuthError::UnsupportedTokenType(format!(
                "a {} token is rotated, disabled or deleted through the admin API",
                token.kind.name()
            )))
        }
        None => {}
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .finish())
}

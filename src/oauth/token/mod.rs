//! The token endpoint (RFC 6749 §3.2): reads the form, finds the grant type and
//! dispatches to the grant's module with one exhaustive `match`.

mod client_credentials;

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::client_auth::presented_client;
use super::error::OAuthError;
use super::request::FormRequest;
use crate::domain::clients::GrantType;
use crate::AppState;

/// A successful token answer (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
}

/// `POST /token`.
pub async fn post_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = FormRequest::read(&req, payload, state.config.server.max_body_bytes).await?;
    let client = presented_client(&req, &form)?;
    let grant_type = form.require("grant_type")?;
    let grant: GrantType = grant_type.parse().map_err(|_| {
        OAuthError::UnsupportedGrantType(format!("grant type `{grant_type}` is not supported"))
    })?;
    let state: Arc<AppState> = state.into_inner();
    let response = match grant {
        GrantType::ClientCredentials => client_credentials::grant(state, client, &form).await?,
        GrantType::AuthorizationCode | GrantType::RefreshToken | GrantType::TokenExchange => {
            return Err(OAuthError::UnsupportedGrantType(format!(
                "grant type `{grant_type}` is not enabled on this server yet"
            )))
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(response))
}

/// Any other method on `/token` (RFC 6749 §3.2: POST only).
pub async fn token_method_not_allowed() -> Result<HttpResponse, OAuthError> {
    Err(OAuthError::MethodNotAllowed)
}

//! Token introspection (RFC 7662) for every token kind, with `token_kind` added.
//! A client learns only about tokens of its own application; anything else, like
//! an unknown, expired or revoked token, is `{"active": false}`.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::client_auth::authenticated_form;
use super::error::OAuthError;
use super::inspect::{activity, find};
use crate::AppState;

/// The RFC 7662 §2.2 answer.
#[derive(Debug, Default, Serialize)]
pub struct IntrospectionResponse {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
}

/// `POST /introspect`.
pub async fn post_introspect(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let state: Arc<AppState> = state.into_inner();
    let (form, client) = authenticated_form(&req, payload, &state).await?;
    let token = form.require("token")?;
    let server_error =
        |e: crate::store::StoreError| OAuthError::Server(format!("introspection lookup failed: {e}"));
    let active = match find(&state, token).await.map_err(server_error)? {
        Some(found) => activity(&state, found).await.map_err(server_error)?,
        None => None,
    };
    let answer = match active {
        Some(a) if a.app == client.client.app_id => {
            if let Some(id) = &a.token_id {
                state.token_use.record(id, state.clock.now());
            }
            IntrospectionResponse {
                active: true,
                scope: Some(state.scopes.format(a.scope)),
                client_id: a.client_id,
                token_type: (a.kind == "access_token").then_some("Bearer"),
                exp: a.exp,
                iat: a.iat,
                sub: a.sub,
                aud: (a.kind == "access_token").then(|| state.config.tokens.audience.clone()),
                iss: Some(state.config.issuer.clone()),
                jti: a.jti,
                token_kind: Some(a.kind),
                profile: a.profile.map(|p| p.name()),
                app: Some(a.app),
                department: a.department,
                user_type: a.user_type,
            }
        }
        _ => IntrospectionResponse::default(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(answer))
}

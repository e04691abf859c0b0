//! Token introspection (RFC 7662) for every token kind, with `token_kind` added.
//! A client learns only about tokens of its own application; anything else, like
//! an unknown, expired or revoked token, is `{"active": false}`.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::client_auth::authenticated_form;
use super::error::OAuthError;
use super::inspect::{authenticate, PrincipalKind};
use crate::tokens::secret;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_id: Option<String>,
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
    let active = authenticate(&state, token)
        .await
        .map_err(|e| OAuthError::Server(format!("introspection lookup failed: {e}")))?;
    // A device-bound token is active only with its own install id, when the caller
    // names one.
    let install_matches = |a: &super::inspect::Principal| match (form.get("install_id"), &a.install_id) {
        (Some(sent), Some(bound)) => secret::constant_time_eq(sent.as_bytes(), bound.as_bytes()),
        (Some(_), None) | (None, _) => true,
    };
    let answer = match active {
        Some(a) if a.app == client.client.app_id && install_matches(&a) => {
            if let Some(id) = &a.token_id {
                state.token_use.record(id, state.clock.now());
            }
            let is_access = a.kind == PrincipalKind::Access;
            IntrospectionResponse {
                active: true,
                scope: Some(state.scopes.format(a.scope)),
                client_id: a.client_id,
                token_type: is_access.then_some("Bearer"),
                exp: a.exp,
                iat: a.iat,
                sub: a.sub,
                aud: is_access.then(|| state.config.tokens.audience.clone()),
                iss: Some(state.config.issuer.clone()),
                jti: a.jti,
                token_kind: Some(a.kind.name()),
                profile: a.profile.map(|p| p.name()),
                app: Some(a.app),
                department: a.department,
                user_type: a.user_type,
                username: a.username,
                install_id: a.install_id,
            }
        }
        _ => IntrospectionResponse::default(),
    };
    state.metrics.introspection(answer.token_kind.unwrap_or("unknown"), answer.active);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(answer))
}

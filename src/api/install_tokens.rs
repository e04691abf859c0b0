//! Install tokens (`tsi_`): a dashboard user holding an API token asks for a
//! short-lived token for one device install (`GET /v3/users/token?installid=`)
//! and hands it to the device by any means (a deeplink, a QR code, a paste). The
//! token is valid only together with its install id.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{bearer_or_token, rfc3339};
use crate::domain::platform_tokens::{self, NewToken, TokenKind};
use crate::oauth::inspect::{authenticate, PrincipalKind};
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallTokenQuery {
    pub installid: Option<String>,
    /// The application id; when given, it must be the API token's own.
    pub app_key: Option<String>,
}

#[derive(Serialize)]
pub struct InstallTokenResponse {
    pub token: String,
    pub install_id: String,
    pub expires_at: String,
}

/// `GET /v3/users/token?installid=ID[&app_key=APP]` with `Authorization: Token <API token>`.
pub async fn issue(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<InstallTokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let presented = bearer_or_token(&req)?.ok_or_else(|| {
        ApiError::Unauthenticated("send Authorization: Token <API token> of a dashboard user".into())
    })?;
    let principal = authenticate(&state, presented)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("the token is not valid, expired or revoked".into()))?;
    if principal.kind != PrincipalKind::Opaque(TokenKind::Api) {
        return Err(ApiError::Forbidden(format!(
            "install tokens are issued to API tokens only, not to a {} token",
            principal.kind.name()
        )));
    }
    if query.app_key.as_deref().is_some_and(|key| key != principal.app) {
        return Err(ApiError::Forbidden("app_key names another application than the API token's".into()));
    }
    let install_id = query.installid.as_deref().ok_or_else(|| {
        ApiError::BadRequest("installid is required: the device install the token is for".into())
    })?;
    let user_id = principal.sub.as_deref().unwrap_or_default();
    let user = state
        .store
        .get_user(&principal.app, user_id)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("the API token's user no longer exists".into()))?;
    if let Some(id) = &principal.token_id {
        state.token_use.record(id, state.clock.now());
    }
    let name = format!("install {}", install_id.chars().take(64).collect::<String>());
    let new = NewToken {
        name: &name,
        expires_at: None,
        user: Some(&user),
        department: principal.department.as_deref(),
        user_type: principal.user_type.as_deref(),
        install_id: Some(install_id),
        description: None,
        endpoint: None,
        disabled: false,
    };
    let created = platform_tokens::mint(
        &state.store,
        &state.config,
        &state.data_keys,
        TokenKind::Install,
        &principal.app,
        new,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(InstallTokenResponse {
        token: created.token.expose().to_owned(),
        install_id: created.record.install_id.unwrap_or_default(),
        expires_at: created.record.expires_at.map(rfc3339).unwrap_or_default(),
    }))
}

//! Mobile tokens: many per application, each with a name and an optional expiry;
//! listed, renamed, disabled and deleted. The value is shown only at creation.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::page::{Page, PageQuery};
use super::tokens;
use super::ApiJson;
use super::{parse_rfc3339, rfc3339, AppAdmin};
use crate::domain::platform_tokens::{self, NewToken, PlatformToken, TokenKind};
use crate::store::TokenChanges;
use crate::store::TokenFilter;

const KIND: TokenKind = TokenKind::Mobile;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMobileTokenRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    /// RFC 3339; none means the token does not expire.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// At least one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateMobileTokenRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct MobileTokenResponse {
    pub id: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedMobileTokenResponse {
    #[serde(flatten)]
    pub details: MobileTokenResponse,
    /// The token itself, in this answer only.
    pub token: String,
}

impl From<PlatformToken> for MobileTokenResponse {
    fn from(r: PlatformToken) -> Self {
        MobileTokenResponse {
            id: r.id,
            name: r.name,
            created_at: rfc3339(r.created_at),
            last_used_at: r.last_used_at.map(rfc3339),
            expires_at: r.expires_at.map(rfc3339),
            enabled: r.enabled,
        }
    }
}

/// `GET /admin/v1/apps/{app}/mobile-tokens?limit=&offset=`.
#[utoipa::path(get, operation_id = "list_mobile_tokens", summary = "List the application's mobile tokens", path = "/admin/v1/apps/{app}/mobile-tokens", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), PageQuery),
    responses((status = 200, description = "one page of mobile tokens", body = Page<MobileTokenResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, page: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let page: Page<MobileTokenResponse> =
        tokens::list(&admin, KIND, TokenFilter::default(), page.bounds()?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /admin/v1/apps/{app}/mobile-tokens`: the token's value, once.
#[utoipa::path(post, operation_id = "create_mobile_token", summary = "Create a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id")),
    request_body = CreateMobileTokenRequest,
    responses((status = 201, description = "created; `token` is shown only here", body = CreatedMobileTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(
    admin: AppAdmin,
    body: ApiJson<CreateMobileTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let expires_at = body.expires_at.as_deref().map(|t| parse_rfc3339("expires_at", t)).transpose()?;
    let new = NewToken { name: &body.name, expires_at, ..NewToken::default() };
    let created = platform_tokens::mint(
        &state.store,
        &state.config,
        &state.data_keys,
        KIND,
        &app,
        new,
        state.clock.now(),
    )
    .await?;
    Ok(tokens::created(&CreatedMobileTokenResponse {
        token: created.token.expose().to_owned(),
        details: created.record.into(),
    }))
}

/// `GET /admin/v1/apps/{app}/mobile-tokens/{id}`.
#[utoipa::path(get, operation_id = "get_mobile_token", summary = "Read a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens/{id}", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile token id")),
    responses((status = 200, description = "the token, without its value", body = MobileTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(MobileTokenResponse::from(tokens::get(&admin, KIND, &id).await?)))
}

/// `PATCH /admin/v1/apps/{app}/mobile-tokens/{id}` with `name` and/or `enabled`.
#[utoipa::path(patch, operation_id = "update_mobile_token", summary = "Change a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens/{id}", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile token id")),
    request_body = UpdateMobileTokenRequest,
    responses((status = 200, description = "the changed token", body = MobileTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn update(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    body: ApiJson<UpdateMobileTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    if body.name.is_none() && body.enabled.is_none() {
        return Err(ApiError::BadRequest("give name and/or enabled".into()));
    }
    let name = body.name.as_deref().map(platform_tokens::valid_name).transpose()?;
    let changes = TokenChanges { name: name.as_deref(), enabled: body.enabled, description: None };
    if !admin.state.store.update_platform_token(&admin.app, KIND, &id, changes).await? {
        return Err(tokens::not_found(KIND, &id));
    }
    Ok(HttpResponse::Ok().json(MobileTokenResponse::from(tokens::get(&admin, KIND, &id).await?)))
}

/// `DELETE /admin/v1/apps/{app}/mobile-tokens/{id}`.
#[utoipa::path(delete, operation_id = "delete_mobile_token", summary = "Delete a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens/{id}", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile token id")),
    responses((status = 204, description = "deleted")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    tokens::delete_one(&admin, KIND, &id).await
}

//! Mobile tokens: many per application, each with a name and an optional expiry;
//! listed, renamed, disabled and deleted. The value is shown only at creation.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, Problem};
use super::ApiJson;
use super::{parse_rfc3339, rfc3339, AppAdmin};
use crate::domain::platform_tokens::{self, TokenKind};
use crate::store::PlatformTokenRecord;

const KIND: TokenKind = TokenKind::Mobile;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub name: String,
    /// RFC 3339; none means the token does not expire.
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many items (1 to 200; 50 when left out).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Skip this many items first.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MobileTokenResponse {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedResponse {
    #[serde(flatten)]
    pub details: MobileTokenResponse,
    /// The token itself, in this answer only.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct ListResponse {
    pub items: Vec<MobileTokenResponse>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl From<PlatformTokenRecord> for MobileTokenResponse {
    fn from(r: PlatformTokenRecord) -> Self {
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

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("mobile token `{id}` not found"))
}

impl PageQuery {
    /// (limit, offset), checked: limit 1 to 200 (50 by default), offset at least 0.
    pub fn bounds(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(50);
        let offset = self.offset.unwrap_or(0);
        if !(1..=200).contains(&limit) || offset < 0 {
            return Err(ApiError::BadRequest("limit must be 1 to 200 and offset at least 0".into()));
        }
        Ok((limit, offset))
    }
}

/// `GET /admin/v1/apps/{app}/mobile-tokens?limit=&offset=`.
#[utoipa::path(get, operation_id = "list_mobile_tokens", summary = "List the application's mobile tokens", path = "/admin/v1/apps/{app}/mobile-tokens", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), PageQuery),
    responses((status = 200, description = "one page of mobile tokens", body = ListResponse),
        (status = 400, description = "bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed (mobile tokens, other applications)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such token", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, page: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (limit, offset) = page.bounds()?;
    let (rows, total) = state.store.list_platform_tokens(&app, KIND.name(), limit, offset).await?;
    Ok(HttpResponse::Ok().json(ListResponse {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

/// `POST /admin/v1/apps/{app}/mobile-tokens`: the token's value, once.
#[utoipa::path(post, operation_id = "create_mobile_token", summary = "Create a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id")),
    request_body = CreateRequest,
    responses((status = 201, description = "created; `token` is shown only here", body = CreatedResponse),
        (status = 413, description = "body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed (mobile tokens, other applications)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such token", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(admin: AppAdmin, body: ApiJson<CreateRequest>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let expires_at = body.expires_at.as_deref().map(|t| parse_rfc3339("expires_at", t)).transpose()?;
    let created =
        platform_tokens::create_mobile(&state.store, &app, &body.name, expires_at, state.clock.now()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedResponse { token: created.token.expose().to_owned(), details: created.record.into() }))
}

/// `GET /admin/v1/apps/{app}/mobile-tokens/{id}`.
#[utoipa::path(get, operation_id = "get_mobile_token", summary = "Read a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens/{id}", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile token id")),
    responses((status = 200, description = "the token, without its value", body = MobileTokenResponse),
        (status = 400, description = "bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed (mobile tokens, other applications)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such token", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    let token =
        state.store.get_platform_token(&app, KIND.name(), &id).await?.ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(MobileTokenResponse::from(token)))
}

/// `PATCH /admin/v1/apps/{app}/mobile-tokens/{id}` with `name` and/or `enabled`.
#[utoipa::path(patch, operation_id = "update_mobile_token", summary = "Change a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens/{id}", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile token id")),
    request_body = UpdateRequest,
    responses((status = 200, description = "the changed token", body = MobileTokenResponse),
        (status = 400, description = "bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed (mobile tokens, other applications)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is larger than 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn update(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    body: ApiJson<UpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    if body.name.is_none() && body.enabled.is_none() {
        return Err(ApiError::BadRequest("give name and/or enabled".into()));
    }
    let name = body.name.as_deref().map(platform_tokens::valid_name).transpose()?;
    if !state.store.update_platform_token(&app, KIND.name(), &id, name.as_deref(), body.enabled).await? {
        return Err(not_found(&id));
    }
    let token =
        state.store.get_platform_token(&app, KIND.name(), &id).await?.ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(MobileTokenResponse::from(token)))
}

/// `DELETE /admin/v1/apps/{app}/mobile-tokens/{id}`.
#[utoipa::path(delete, operation_id = "delete_mobile_token", summary = "Delete a mobile token", path = "/admin/v1/apps/{app}/mobile-tokens/{id}", tag = "mobile tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile token id")),
    responses((status = 204, description = "deleted"),
        (status = 400, description = "bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed (mobile tokens, other applications)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such token", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    if !state.store.delete_platform_token(&app, KIND.name(), &id).await? {
        return Err(not_found(&id));
    }
    Ok(HttpResponse::NoContent().finish())
}

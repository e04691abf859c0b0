//! Applications: read one, rotate its master token.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::page::{Page, PageQuery};
use super::ApiJson;
use super::{rfc3339, AppAdmin, PlatformAdmin};
use crate::domain::{apps, platform_tokens};

#[derive(Serialize, ToSchema)]
pub struct AppResponse {
    pub id: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Whether `GET /v1/auth/check` answers for this application.
    pub forward_auth: bool,
}

impl From<apps::Application> for AppResponse {
    fn from(a: apps::Application) -> Self {
        AppResponse {
            id: a.id,
            name: a.name,
            created_at: rfc3339(a.created_at),
            forward_auth: a.forward_auth,
        }
    }
}

/// The settings an application's administrator may change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateAppRequest {
    /// Turns forward auth (`GET /v1/auth/check`) on or off.
    pub forward_auth: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedAppResponse {
    #[serde(flatten)]
    pub app: AppResponse,
    /// The application's master token, in this answer only.
    pub master_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct MasterTokenResponse {
    pub master_token: String,
}

/// `GET /admin/v1/apps?limit=&offset=`: every application (platform administrators).
#[utoipa::path(get, operation_id = "list_apps", summary = "List every application (platform administrators)", path = "/admin/v1/apps", tag = "applications",
    params(PageQuery),
    responses((status = 200, description = "one page of applications, oldest first", body = Page<AppResponse>)),
    security(("bearer" = [])))]
pub async fn list_apps(admin: PlatformAdmin, page: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let (limit, offset) = page.bounds()?;
    let all = admin.state.store.list_apps().await?;
    let total = all.len() as i64;
    let items = all.into_iter().skip(offset as usize).take(limit as usize).map(AppResponse::from).collect();
    Ok(HttpResponse::Ok().json(Page { items, total, limit, offset }))
}

/// `POST /admin/v1/apps`: a new application and, once, its master token.
#[utoipa::path(post, operation_id = "create_app", summary = "Create an application with its master token", path = "/admin/v1/apps", tag = "applications",
    request_body = CreateAppRequest,
    responses((status = 201, description = "created; `master_token` is shown only here", body = CreatedAppResponse)),
    security(("bearer" = [])))]
pub async fn create_app(
    admin: PlatformAdmin,
    body: ApiJson<CreateAppRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = admin.state;
    let created = apps::create(&state.store, &body.name, state.clock.now()).await?;
    let app = created.app;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CreatedAppResponse { app: app.into(), master_token: created.master_token.expose().to_owned() }))
}

/// `GET /admin/v1/apps/{app}`.
#[utoipa::path(get, operation_id = "get_app", summary = "Read an application", path = "/admin/v1/apps/{app}", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    responses((status = 200, description = "the application", body = AppResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get_app(admin: AppAdmin) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, .. } = admin;
    let app = state
        .store
        .get_app(&app_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("application `{app_id}` not found")))?;
    Ok(HttpResponse::Ok().json(AppResponse::from(app)))
}

/// `PATCH /admin/v1/apps/{app}` with `forward_auth`.
#[utoipa::path(patch, operation_id = "update_app", summary = "Change an application's settings", path = "/admin/v1/apps/{app}", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    request_body = UpdateAppRequest,
    responses((status = 200, description = "the changed application", body = AppResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn update_app(admin: AppAdmin, body: ApiJson<UpdateAppRequest>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, .. } = admin;
    let not_found = || ApiError::NotFound(format!("application `{app_id}` not found"));
    let Some(forward_auth) = body.forward_auth else {
        return Err(ApiError::BadRequest("give forward_auth".into()));
    };
    if !state.store.set_forward_auth(&app_id, forward_auth).await? {
        return Err(not_found());
    }
    let app = state.store.get_app(&app_id).await?.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(AppResponse::from(app)))
}

/// `POST /admin/v1/apps/{app}/master-token/rotate`: the new token, once; the old
/// one stops working at once.
#[utoipa::path(post, operation_id = "rotate_master_token", summary = "Rotate the application's master token", path = "/admin/v1/apps/{app}/master-token/rotate", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    responses((status = 200, description = "the new master token, shown only here", body = MasterTokenResponse),
        (status = 409, description = "rotated meanwhile by another request", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn rotate_master_token(admin: AppAdmin) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, caller } = admin;
    let presented = match &caller {
        super::Caller::Master { token_hash, .. } => Some(&token_hash[..]),
        super::Caller::AdminToken { .. } | super::Caller::ApiToken { .. } => None,
    };
    let token = platform_tokens::rotate_master(&state.store, &app_id, presented, state.clock.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(MasterTokenResponse { master_token: token.expose().to_owned() }))
}

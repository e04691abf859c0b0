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
    /// The name the sign-in pages show; `null` shows `name`.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub display_name: Option<String>,
    /// The sign-in pages' accent colour, `#rrggbb`; `null` keeps tessera's.
    #[schema(pattern = r"^#[0-9a-f]{6}$")]
    pub accent_colour: Option<String>,
    /// Where the logo is served, when the application has one.
    pub logo_url: Option<String>,
}

impl From<apps::Application> for AppResponse {
    fn from(a: apps::Application) -> Self {
        AppResponse {
            logo_url: a.logo.as_ref().map(|digest| crate::web::brand::logo_path(&a.id, digest)),
            id: a.id,
            name: a.name,
            created_at: rfc3339(a.created_at),
            forward_auth: a.forward_auth,
            display_name: a.display_name,
            accent_colour: a.accent_colour,
        }
    }
}

/// The settings an application's administrator may change; a field left out is
/// kept, a branding field set to null is cleared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateAppRequest {
    /// Turns forward auth (`GET /v1/auth/check`) on or off.
    pub forward_auth: Option<bool>,
    /// The name the sign-in pages show instead of "tessera" (at most 100 characters).
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub display_name: Option<Option<String>>,
    /// `#rrggbb`, with a contrast of at least 4.5:1 against white (else 422).
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<String>)]
    pub accent_colour: Option<Option<String>>,
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

/// `PATCH /admin/v1/apps/{app}` with `forward_auth`, `display_name`, `accent_colour`.
#[utoipa::path(patch, operation_id = "update_app", summary = "Change an application's settings and brand", path = "/admin/v1/apps/{app}", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    request_body = UpdateAppRequest,
    responses((status = 200, description = "the changed application", body = AppResponse),
        (status = 422, description = "an accent colour that does not read on white", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn update_app(admin: AppAdmin, body: ApiJson<UpdateAppRequest>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, .. } = admin;
    let not_found = || ApiError::NotFound(format!("application `{app_id}` not found"));
    let body = body.into_inner();
    let branding =
        apps::BrandingChanges { display_name: body.display_name, accent_colour: body.accent_colour };
    if body.forward_auth.is_none() && branding.display_name.is_none() && branding.accent_colour.is_none() {
        return Err(ApiError::BadRequest("give forward_auth, display_name or accent_colour".into()));
    }
    // Checked before anything is written, so a refused colour changes nothing.
    if let Some(Some(colour)) = &branding.accent_colour {
        apps::accent_colour(colour)?;
    }
    if let Some(Some(name)) = &branding.display_name {
        crate::domain::valid_text("the display name", name, 100)?;
    }
    if branding.display_name.is_some() || branding.accent_colour.is_some() {
        apps::change_branding(&state.store, &app_id, branding).await?;
    }
    if let Some(forward_auth) = body.forward_auth {
        if !state.store.set_forward_auth(&app_id, forward_auth).await? {
            return Err(not_found());
        }
    }
    let app = state.store.get_app(&app_id).await?.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(AppResponse::from(app)))
}

/// `PUT /admin/v1/apps/{app}/logo`: the image itself as the body, `image/png`,
/// `image/jpeg` or `image/webp`, at most 256 KiB.
#[utoipa::path(put, operation_id = "put_app_logo", summary = "Upload the application's logo", path = "/admin/v1/apps/{app}/logo", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    request_body(description = "the image (PNG, JPEG or WebP, at most 256 KiB)",
        content((Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"))),
    responses((status = 200, description = "the application with its new `logo_url`", body = AppResponse),
        (status = 400, description = "not an image of the declared type", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "larger than 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not PNG, JPEG or WebP", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn put_logo(
    admin: AppAdmin,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, .. } = admin;
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !["image/png", "image/jpeg", "image/webp"]
        .contains(&content_type.split(';').next().unwrap_or_default().trim())
    {
        return Err(ApiError::UnsupportedMediaType(
            "send the logo as image/png, image/jpeg or image/webp".into(),
        ));
    }
    let image = payload.to_bytes_limited(apps::LOGO_MAX_BYTES).await.map_err(|_| {
        ApiError::PayloadTooLarge(format!("a logo is at most {} bytes", apps::LOGO_MAX_BYTES))
    })?;
    let image = image.map_err(|e| ApiError::BadRequest(format!("the body could not be read: {e}")))?;
    apps::require(&state.store, &app_id).await?;
    let logo = apps::logo(&content_type, image.to_vec())?;
    state.store.put_logo(&app_id, &logo, state.clock.now()).await?;
    let app = apps::require(&state.store, &app_id).await?;
    Ok(HttpResponse::Ok().json(AppResponse::from(app)))
}

/// `DELETE /admin/v1/apps/{app}/logo`.
#[utoipa::path(delete, operation_id = "delete_app_logo", summary = "Remove the application's logo", path = "/admin/v1/apps/{app}/logo", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    responses((status = 204, description = "removed"),
        (status = 404, description = "the application has no logo", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete_logo(admin: AppAdmin) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, .. } = admin;
    if !state.store.delete_logo(&app_id).await? {
        return Err(ApiError::NotFound(format!("application `{app_id}` has no logo")));
    }
    Ok(HttpResponse::NoContent().finish())
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

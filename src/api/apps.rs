//! Applications: read one, rotate its master token.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::{rfc3339, AppAdmin};
use crate::domain::platform_tokens;

#[derive(Serialize, ToSchema)]
pub struct AppResponse {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct MasterTokenResponse {
    pub master_token: String,
}

/// `GET /admin/v1/apps/{app}`.
#[utoipa::path(get, path = "/admin/v1/apps/{app}", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    responses((status = 200, description = "the application", body = AppResponse),
        (status = 401, description = "no valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed (mobile tokens, other applications)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such application", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn get_app(admin: AppAdmin) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, .. } = admin;
    let app = state
        .store
        .get_app(&app_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("application `{app_id}` not found")))?;
    Ok(HttpResponse::Ok().json(AppResponse {
        id: app.id,
        name: app.name,
        created_at: rfc3339(app.created_at),
    }))
}

/// `POST /admin/v1/apps/{app}/master-token/rotate`: the new token, once; the old
/// one stops working at once.
#[utoipa::path(post, path = "/admin/v1/apps/{app}/master-token/rotate", tag = "applications",
    params(("app" = String, Path, description = "application id")),
    responses((status = 200, description = "the new master token, shown only here", body = MasterTokenResponse),
        (status = 401, description = "no valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed (mobile tokens, other applications)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such application", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn rotate_master_token(admin: AppAdmin) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app: app_id, .. } = admin;
    let token = platform_tokens::rotate_master(&state.store, &app_id, state.clock.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(MasterTokenResponse { master_token: token.expose().to_owned() }))
}

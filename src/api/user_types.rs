//! User types of an application: what a token issued for a user of that type may
//! carry. An application defines its own; the configuration's apply to the names
//! it does not define.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::page::Items;
use super::ApiJson;
use super::AppAdmin;
use crate::domain::user_types::{self, UserTypeView};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserTypeRequest {
    /// Profiles (`master`, `mobile`), `admin` and `object:action` scopes, space separated.
    pub scope: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserTypeResponse {
    pub name: String,
    /// The single scopes the type allows, space separated.
    pub scope: String,
    /// `application` (defined here) or `configuration` (the server's default).
    pub source: &'static str,
}

impl From<UserTypeView> for UserTypeResponse {
    fn from(t: UserTypeView) -> Self {
        UserTypeResponse {
            name: t.name,
            scope: t.scope,
            source: if t.from_configuration { "configuration" } else { "application" },
        }
    }
}

/// `GET /admin/v1/apps/{app}/user-types`.
#[utoipa::path(get, operation_id = "list_user_types", summary = "List the application's user types", path = "/admin/v1/apps/{app}/user-types", tag = "user types",
    params(("app" = String, Path, description = "application id")),
    responses((status = 200, description = "the application's user types and the configured ones it does not override", body = Items<UserTypeResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let types = user_types::list(&state.store, &state.config, &state.scopes, &app).await?;
    Ok(HttpResponse::Ok()
        .json(Items { items: types.into_iter().map(UserTypeResponse::from).collect::<Vec<_>>() }))
}

/// `PUT /admin/v1/apps/{app}/user-types/{name}`: defines or redefines a type.
#[utoipa::path(put, operation_id = "put_user_type", summary = "Define or redefine a user type", path = "/admin/v1/apps/{app}/user-types/{name}", tag = "user types",
    params(("app" = String, Path, description = "application id"), ("name" = String, Path, description = "user type name", pattern = r"^[a-z0-9_-]{1,64}$")),
    request_body = UserTypeRequest,
    responses((status = 200, description = "the type as now defined", body = UserTypeResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn put(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    body: ApiJson<UserTypeRequest>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, name) = path.into_inner();
    let defined =
        user_types::define(&state.store, &state.scopes, &app, &name, &body.scope, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(UserTypeResponse::from(defined)))
}

/// `DELETE /admin/v1/apps/{app}/user-types/{name}`: removes the application's own
/// definition (a configured type of that name applies again).
#[utoipa::path(delete, operation_id = "delete_user_type", summary = "Delete a user type", path = "/admin/v1/apps/{app}/user-types/{name}", tag = "user types",
    params(("app" = String, Path, description = "application id"), ("name" = String, Path, description = "user type name", pattern = r"^[a-z0-9_-]{1,64}$")),
    responses((status = 204, description = "removed"),
        (status = 409, description = "users have the type and no configured type of that name would apply", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, name) = path.into_inner();
    if !user_types::remove(&state.store, &state.config, &app, &name).await? {
        return Err(ApiError::NotFound(format!("application `{app}` defines no user type `{name}`")));
    }
    Ok(HttpResponse::NoContent().finish())
}

//! Departments of an application: listed with their user counts, added, and
//! removed once empty.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::page::Items;
use super::ApiJson;
use super::{rfc3339, AppAdmin};
use crate::domain::users;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentResponse {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub users: i64,
}

/// `GET /admin/v1/apps/{app}/departments`.
#[utoipa::path(get, operation_id = "list_departments", summary = "List the application's departments", path = "/admin/v1/apps/{app}/departments", tag = "departments",
    params(("app" = String, Path, description = "application id")),
    responses((status = 200, description = "the departments, by name", body = Items<DepartmentResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let items = state
        .store
        .list_departments(&app)
        .await?
        .into_iter()
        .map(|d| DepartmentResponse { name: d.name, created_at: rfc3339(d.created_at), users: d.users })
        .collect();
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// `POST /admin/v1/apps/{app}/departments`.
#[utoipa::path(post, operation_id = "create_department", summary = "Create a department", path = "/admin/v1/apps/{app}/departments", tag = "departments",
    params(("app" = String, Path, description = "application id")),
    request_body = DepartmentRequest,
    responses((status = 201, description = "added", body = DepartmentResponse),
        (status = 409, description = "it exists", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(admin: AppAdmin, body: ApiJson<DepartmentRequest>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let made = users::add_department(&state.store, &app, &body.name, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(DepartmentResponse {
        name: made.name,
        created_at: rfc3339(made.created_at),
        users: made.users,
    }))
}

/// `DELETE /admin/v1/apps/{app}/departments/{name}`: only an empty department.
#[utoipa::path(delete, operation_id = "delete_department", summary = "Delete a department", path = "/admin/v1/apps/{app}/departments/{name}", tag = "departments",
    params(("app" = String, Path, description = "application id"), ("name" = String, Path, description = "department")),
    responses((status = 204, description = "removed"),
        (status = 409, description = "users still belong to it", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, name) = path.into_inner();
    if !state.store.delete_department(&app, &name).await? {
        return Err(ApiError::NotFound(format!("department `{name}` not found")));
    }
    Ok(HttpResponse::NoContent().finish())
}

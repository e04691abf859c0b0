//! Users of an application: listed, created (with a password), changed, deleted.
//! No answer ever holds a password or its hash.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::page::{Page, PageQuery};
use super::ApiJson;
use super::{rfc3339, AppAdmin};
use crate::domain::users::{self, NewUser, User, UserChanges};
use crate::tokens::secret::Secret;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub username: String,
    /// At least 8 characters; stored only as an argon2id hash.
    #[schema(min_length = 8, max_length = 1024, pattern = r"^[^\x00]+$")]
    pub password: String,
    #[schema(max_length = 320, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]*@[^\s\x00-\x1f\x7f-\x9f]*$")]
    pub email: Option<String>,
    pub department: Option<String>,
    pub user_type: Option<String>,
    /// Adds the `admin` scope to what the user's type allows: a client registered
    /// for `admin` may then obtain admin API tokens for this user.
    #[serde(default)]
    pub admin: bool,
}

/// A field left out is kept; a field set to null is cleared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[schema(min_length = 8, max_length = 1024, pattern = r"^[^\x00]+$")]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<String>)]
    pub user_type: Option<Option<String>>,
    pub admin: Option<bool>,
    /// `false` disables the user: no login, no refresh; every login of theirs ends.
    pub enabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub username: String,
    #[schema(max_length = 320, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]*@[^\s\x00-\x1f\x7f-\x9f]*$")]
    pub email: Option<String>,
    pub department: Option<String>,
    pub user_type: Option<String>,
    pub admin: bool,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        UserResponse {
            id: u.id,
            username: u.username,
            email: u.email,
            department: u.department,
            user_type: u.user_type,
            admin: u.is_admin,
            enabled: u.enabled,
            created_at: rfc3339(u.created_at),
        }
    }
}

/// `GET /admin/v1/apps/{app}/users?limit=&offset=`.
#[utoipa::path(get, operation_id = "list_users", summary = "List the application's users", path = "/admin/v1/apps/{app}/users", tag = "users",
    params(("app" = String, Path, description = "application id"), PageQuery),
    responses((status = 200, description = "one page of users, by username", body = Page<UserResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, page: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (limit, offset) = page.bounds()?;
    let (rows, total) = state.store.list_users(&app, limit, offset).await?;
    Ok(HttpResponse::Ok().json(Page::<UserResponse>::of(rows, total, (limit, offset))))
}

/// `POST /admin/v1/apps/{app}/users`.
#[utoipa::path(post, operation_id = "create_user", summary = "Create a user", path = "/admin/v1/apps/{app}/users", tag = "users",
    params(("app" = String, Path, description = "application id")),
    request_body = CreateUserRequest,
    responses((status = 201, description = "the user", body = UserResponse),
        (status = 409, description = "the username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "an unknown user type or department", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(admin: AppAdmin, body: ApiJson<CreateUserRequest>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let body = body.into_inner();
    let new = NewUser {
        app_id: app,
        username: body.username,
        email: body.email,
        password: Secret::new(body.password),
        department: body.department,
        user_type: body.user_type,
        is_admin: body.admin,
    };
    let user = users::create(&state.store, &state.config, new, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(UserResponse::from(user)))
}

/// `GET /admin/v1/apps/{app}/users/{id}`.
#[utoipa::path(get, operation_id = "get_user", summary = "Read a user", path = "/admin/v1/apps/{app}/users/{id}", tag = "users",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "user id")),
    responses((status = 200, description = "the user", body = UserResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    let user = state
        .store
        .get_user(&app, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user `{id}` not found")))?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}

/// `PATCH /admin/v1/apps/{app}/users/{id}`.
#[utoipa::path(patch, operation_id = "update_user", summary = "Change a user", path = "/admin/v1/apps/{app}/users/{id}", tag = "users",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "user id")),
    request_body = UpdateUserRequest,
    responses((status = 200, description = "the changed user", body = UserResponse),
        (status = 422, description = "an unknown user type or department", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn update(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    body: ApiJson<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    let body = body.into_inner();
    let changes = UserChanges {
        email: body.email,
        password: body.password.map(Secret::new),
        department: body.department,
        user_type: body.user_type,
        is_admin: body.admin,
        enabled: body.enabled,
    };
    let user = users::update(&state.store, &state.config, &app, &id, changes, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}

/// `DELETE /admin/v1/apps/{app}/users/{id}`: the user and every login of theirs.
#[utoipa::path(delete, operation_id = "delete_user", summary = "Delete a user", path = "/admin/v1/apps/{app}/users/{id}", tag = "users",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "user id")),
    responses((status = 204, description = "deleted, with the user's sessions, consents and refresh tokens")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    if !state.store.delete_user(&app, &id).await? {
        return Err(ApiError::NotFound(format!("user `{id}` not found")));
    }
    Ok(HttpResponse::NoContent().finish())
}

//! Mobile sessions: every person signed in through a client of type `mobile`
//! (username, email, department, user type, last active, expiry), listed and
//! revoked one by one or many at once. Revoking stops the app's refresh token at
//! once, and the access tokens of that session are inactive at introspection.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::page::{Page, UserPageQuery};
use super::tokens::{DeleteTokensRequest, DeletedResponse};
use super::ApiJson;
use super::{rfc3339, AppAdmin};
use crate::domain::grants::MobileSession;
use crate::store::SessionFilter;

#[derive(Serialize, ToSchema)]
pub struct MobileSessionResponse {
    pub id: String,
    /// The user id.
    pub user: String,
    pub username: String,
    pub email: Option<String>,
    pub department: Option<String>,
    pub user_type: String,
    /// The mobile client the person signed in through.
    pub client_id: String,
    #[schema(format = DateTime)]
    pub last_active: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

fn answer(s: MobileSession, default_user_type: &str) -> MobileSessionResponse {
    MobileSessionResponse {
        id: s.id,
        user: s.user_id,
        username: s.username,
        email: s.email,
        department: s.department,
        user_type: s.user_type.unwrap_or_else(|| default_user_type.to_owned()),
        client_id: s.client_id,
        last_active: rfc3339(s.last_active),
        expires_at: rfc3339(s.expires_at),
        created_at: rfc3339(s.created_at),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("mobile session `{id}` not found"))
}

/// `GET /admin/v1/apps/{app}/mobile-sessions?user=&limit=&offset=`.
#[utoipa::path(get, operation_id = "list_mobile_sessions", summary = "List the people signed in through mobile clients, most recently active first", path = "/admin/v1/apps/{app}/mobile-sessions", tag = "mobile sessions",
    params(("app" = String, Path, description = "application id"), UserPageQuery),
    responses((status = 200, description = "one page of live mobile sessions", body = Page<MobileSessionResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, query: web::Query<UserPageQuery>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let query = query.into_inner();
    let (limit, offset) = query.bounds()?;
    let (rows, total) = state
        .store
        .list_mobile_sessions(
            &app,
            SessionFilter { user_id: query.user.as_deref(), ..SessionFilter::default() },
            state.clock.now(),
            limit,
            offset,
        )
        .await?;
    let default_type = &state.config.users.default_user_type;
    let items = rows.into_iter().map(|s| answer(s, default_type)).collect();
    Ok(HttpResponse::Ok().json(Page { items, total, limit, offset }))
}

/// `GET /admin/v1/apps/{app}/mobile-sessions/{id}`.
#[utoipa::path(get, operation_id = "get_mobile_session", summary = "Read a mobile session", path = "/admin/v1/apps/{app}/mobile-sessions/{id}", tag = "mobile sessions",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile session id")),
    responses((status = 200, description = "the session", body = MobileSessionResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    let session =
        state.store.get_mobile_session(&app, &id, state.clock.now()).await?.ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(answer(session, &state.config.users.default_user_type)))
}

/// `DELETE /admin/v1/apps/{app}/mobile-sessions/{id}`: revokes it.
#[utoipa::path(delete, operation_id = "revoke_mobile_session", summary = "Revoke a mobile session", path = "/admin/v1/apps/{app}/mobile-sessions/{id}", tag = "mobile sessions",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "mobile session id")),
    responses((status = 204, description = "revoked; its refresh token stops at once")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    if state.store.revoke_mobile_sessions(&app, std::slice::from_ref(&id), state.clock.now()).await? == 0 {
        return Err(not_found(&id));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/apps/{app}/mobile-sessions/delete` with `{"ids": [...]}`.
#[utoipa::path(post, operation_id = "revoke_mobile_sessions", summary = "Revoke many mobile sessions at once", path = "/admin/v1/apps/{app}/mobile-sessions/delete", tag = "mobile sessions",
    params(("app" = String, Path, description = "application id")),
    request_body = DeleteTokensRequest,
    responses((status = 200, description = "how many were revoked; ids of other applications are skipped", body = DeletedResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete_many(
    admin: AppAdmin,
    body: ApiJson<DeleteTokensRequest>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let deleted = state.store.revoke_mobile_sessions(&app, body.ids()?, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(DeletedResponse { deleted }))
}

//! API tokens (`tsa_`): made by an administrator for a user, a department and a
//! user type, with a required expiry; listed, read, revealed again, deleted one
//! by one or many at once. The token acts with its user type, never more than
//! its user's own type allows at each check.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::page::{Page, UserPageQuery};
use super::tokens::{self, DeleteTokensRequest, DeletedResponse, RevealedTokenResponse};
use super::ApiJson;
use super::{parse_rfc3339, rfc3339, AppAdmin};
use crate::domain::platform_tokens::{self, NewToken, PlatformToken, TokenKind};
use crate::store::TokenFilter;

const KIND: TokenKind = TokenKind::Api;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiTokenRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    /// The id of the user whose permissions the token uses.
    #[schema(min_length = 1, max_length = 200)]
    pub user: String,
    /// A department of the application; the user's own when left out.
    #[schema(max_length = 200)]
    pub department: Option<String>,
    /// A user type of the application; the user's own when left out.
    #[schema(max_length = 200)]
    pub user_type: Option<String>,
    /// RFC 3339, required; at most `tokens.api_max_lifetime` ahead (12 months by default).
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiTokenResponse {
    pub id: String,
    pub name: String,
    /// The application id: the tenant the token belongs to.
    pub tenant_id: String,
    /// The user id whose permissions the token uses.
    pub user: String,
    pub department: Option<String>,
    pub user_type: Option<String>,
    pub description: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// How to call the API with it.
    pub usage: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiTokenResponse {
    #[serde(flatten)]
    pub details: ApiTokenResponse,
    /// The token itself; read it again with the reveal call.
    pub token: String,
}

impl From<PlatformToken> for ApiTokenResponse {
    fn from(t: PlatformToken) -> Self {
        ApiTokenResponse {
            usage: format!(
                "Send it in the Authorization header as `Token <token>` (or `Bearer <token>`) to the \
                 platform's APIs of application {}, or exchange it at the token endpoint \
                 (grant_type urn:ietf:params:oauth:grant-type:token-exchange) for a short-lived JWT.",
                t.app_id
            ),
            id: t.id,
            name: t.name,
            tenant_id: t.app_id,
            user: t.user_id.unwrap_or_default(),
            department: t.department,
            user_type: t.user_type,
            description: t.description,
            expires_at: t.expires_at.map(rfc3339).unwrap_or_default(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

/// `GET /admin/v1/apps/{app}/api-tokens?user=&limit=&offset=`.
#[utoipa::path(get, operation_id = "list_api_tokens", summary = "List the application's API tokens, oldest first", path = "/admin/v1/apps/{app}/api-tokens", tag = "api tokens",
    params(("app" = String, Path, description = "application id"), UserPageQuery),
    responses((status = 200, description = "one page of API tokens, without their values", body = Page<ApiTokenResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, query: web::Query<UserPageQuery>) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let bounds = query.bounds()?;
    let filter = TokenFilter { user_id: query.user.as_deref(), ..TokenFilter::default() };
    let page: Page<ApiTokenResponse> = tokens::list(&admin, KIND, filter, bounds).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /admin/v1/apps/{app}/api-tokens`.
#[utoipa::path(post, operation_id = "create_api_token", summary = "Create an API token for a user", path = "/admin/v1/apps/{app}/api-tokens", tag = "api tokens",
    params(("app" = String, Path, description = "application id")),
    request_body = CreateApiTokenRequest,
    responses((status = 201, description = "created, with its value", body = CreatedApiTokenResponse),
        (status = 422, description = "an unknown user, department or user type, or an expiry too far ahead", body = super::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(admin: AppAdmin, body: ApiJson<CreateApiTokenRequest>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = &admin;
    let expires_at = parse_rfc3339("expires_at", &body.expires_at)?;
    let user = state.store.get_user(app, &body.user).await?.ok_or_else(|| {
        ApiError::Unprocessable(format!("user `{}` is not a user of this application", body.user))
    })?;
    let new = NewToken {
        name: &body.name,
        expires_at: Some(expires_at),
        user: Some(&user),
        department: body.department.as_deref(),
        user_type: body.user_type.as_deref(),
        install_id: None,
        description: body.description.as_deref(),
        endpoint: None,
        disabled: false,
    };
    let created = platform_tokens::mint(
        &state.store,
        &state.config,
        &state.data_keys,
        KIND,
        app,
        new,
        state.clock.now(),
    )
    .await?;
    Ok(tokens::created(&CreatedApiTokenResponse {
        token: created.token.expose().to_owned(),
        details: created.record.into(),
    }))
}

/// `GET /admin/v1/apps/{app}/api-tokens/{id}`.
#[utoipa::path(get, operation_id = "get_api_token", summary = "Read an API token, without its value", path = "/admin/v1/apps/{app}/api-tokens/{id}", tag = "api tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "API token id")),
    responses((status = 200, description = "the token", body = ApiTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(ApiTokenResponse::from(tokens::get(&admin, KIND, &id).await?)))
}

/// `GET /admin/v1/apps/{app}/api-tokens/{id}/reveal`.
#[utoipa::path(get, operation_id = "reveal_api_token", summary = "Read an API token's value again", path = "/admin/v1/apps/{app}/api-tokens/{id}/reveal", tag = "api tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "API token id")),
    responses((status = 200, description = "the token's value", body = RevealedTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn reveal(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    tokens::reveal(&admin, KIND, &id).await
}

/// `DELETE /admin/v1/apps/{app}/api-tokens/{id}`.
#[utoipa::path(delete, operation_id = "delete_api_token", summary = "Delete an API token", path = "/admin/v1/apps/{app}/api-tokens/{id}", tag = "api tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "API token id")),
    responses((status = 204, description = "deleted; it stops at once")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    tokens::delete_one(&admin, KIND, &id).await
}

/// `POST /admin/v1/apps/{app}/api-tokens/delete` with `{"ids": [...]}`.
#[utoipa::path(post, operation_id = "delete_api_tokens", summary = "Delete many API tokens at once", path = "/admin/v1/apps/{app}/api-tokens/delete", tag = "api tokens",
    params(("app" = String, Path, description = "application id")),
    request_body = DeleteTokensRequest,
    responses((status = 200, description = "how many were deleted; ids of other applications are skipped", body = DeletedResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete_many(
    admin: AppAdmin,
    body: ApiJson<DeleteTokensRequest>,
) -> Result<HttpResponse, ApiError> {
    tokens::delete_many(&admin, KIND, &body).await
}

//! Secondary endpoint tokens: one per integrating party, 64 alphanumerics,
//! revealed and regenerated at will, enabled or disabled, mapped to endpoints'
//! methods (see `endpoints`). Lists show the enabled ones unless asked.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::endpoints::secret_answer;
use super::error::ApiError;
use super::page::{Page, PageQuery};
use super::tokens::{self, RevealedTokenResponse};
use super::ApiJson;
use super::{rfc3339, AppAdmin};
use crate::domain::platform_tokens::{self, NewToken, PlatformToken, TokenKind};
use crate::store::{TokenChanges, TokenFilter};

const KIND: TokenKind = TokenKind::EndpointSecondary;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointTokenRequest {
    /// Best the name of the integrating application, so the data viewer tells who calls.
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    #[schema(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub description: Option<String>,
    /// On when left out.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointTokenRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: Option<String>,
    #[schema(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointTokenResponse {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

impl From<PlatformToken> for EndpointTokenResponse {
    fn from(t: PlatformToken) -> Self {
        EndpointTokenResponse {
            id: t.id,
            name: t.name,
            description: t.description,
            enabled: t.enabled,
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedEndpointTokenResponse {
    #[serde(flatten)]
    pub details: EndpointTokenResponse,
    /// 64 alphanumerics; read it again with the reveal call.
    pub token: String,
}

/// Which tokens a list shows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnabledFilter {
    True,
    False,
    All,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EndpointTokenQuery {
    /// `true` (the default) lists the enabled tokens, `false` the disabled ones, `all` both.
    pub enabled: Option<EnabledFilter>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// `GET /admin/v1/apps/{app}/endpoint-tokens?enabled=true|false|all`.
#[utoipa::path(get, operation_id = "list_endpoint_tokens", summary = "List the application's secondary endpoint tokens, oldest first", path = "/admin/v1/apps/{app}/endpoint-tokens", tag = "endpoint tokens",
    params(("app" = String, Path, description = "application id"), EndpointTokenQuery),
    responses((status = 200, description = "one page of tokens, without their values", body = Page<EndpointTokenResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, query: web::Query<EndpointTokenQuery>) -> Result<HttpResponse, ApiError> {
    let bounds = PageQuery { limit: query.limit, offset: query.offset }.bounds()?;
    let enabled = match query.enabled.unwrap_or(EnabledFilter::True) {
        EnabledFilter::True => Some(true),
        EnabledFilter::False => Some(false),
        EnabledFilter::All => None,
    };
    let filter = TokenFilter { enabled, ..TokenFilter::default() };
    let page: Page<EndpointTokenResponse> = tokens::list(&admin, KIND, filter, bounds).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /admin/v1/apps/{app}/endpoint-tokens`.
#[utoipa::path(post, operation_id = "create_endpoint_token", summary = "Create a secondary endpoint token", path = "/admin/v1/apps/{app}/endpoint-tokens", tag = "endpoint tokens",
    params(("app" = String, Path, description = "application id")),
    request_body = CreateEndpointTokenRequest,
    responses((status = 201, description = "created, with its value", body = CreatedEndpointTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(
    admin: AppAdmin,
    body: ApiJson<CreateEndpointTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = &admin;
    let new = NewToken {
        name: &body.name,
        description: body.description.as_deref(),
        disabled: body.enabled == Some(false),
        ..NewToken::default()
    };
    let now = state.clock.now();
    let created =
        platform_tokens::mint(&state.store, &state.config, &state.data_keys, KIND, app, new, now).await?;
    Ok(tokens::created(&CreatedEndpointTokenResponse {
        token: created.token.expose().to_owned(),
        details: created.record.into(),
    }))
}

/// `GET /admin/v1/apps/{app}/endpoint-tokens/{id}`.
#[utoipa::path(get, operation_id = "get_endpoint_token", summary = "Read a secondary endpoint token, without its value", path = "/admin/v1/apps/{app}/endpoint-tokens/{id}", tag = "endpoint tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint token id")),
    responses((status = 200, description = "the token", body = EndpointTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(EndpointTokenResponse::from(tokens::get(&admin, KIND, &id).await?)))
}

/// `PATCH /admin/v1/apps/{app}/endpoint-tokens/{id}`.
#[utoipa::path(patch, operation_id = "update_endpoint_token", summary = "Rename, describe, enable or disable a secondary endpoint token", path = "/admin/v1/apps/{app}/endpoint-tokens/{id}", tag = "endpoint tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint token id")),
    request_body = UpdateEndpointTokenRequest,
    responses((status = 200, description = "the changed token", body = EndpointTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn update(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    body: ApiJson<UpdateEndpointTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    if body.name.is_none() && body.description.is_none() && body.enabled.is_none() {
        return Err(ApiError::BadRequest("give name, description and/or enabled".into()));
    }
    let name = body.name.as_deref().map(platform_tokens::valid_name).transpose()?;
    let description =
        body.description.as_deref().map(|d| crate::domain::valid_text("description", d, 2000)).transpose()?;
    let changes =
        TokenChanges { name: name.as_deref(), enabled: body.enabled, description: description.as_deref() };
    if !admin.state.store.update_platform_token(&admin.app, KIND, &id, changes).await? {
        return Err(tokens::not_found(KIND, &id));
    }
    Ok(HttpResponse::Ok().json(EndpointTokenResponse::from(tokens::get(&admin, KIND, &id).await?)))
}

/// `DELETE /admin/v1/apps/{app}/endpoint-tokens/{id}`.
#[utoipa::path(delete, operation_id = "delete_endpoint_token", summary = "Delete a secondary endpoint token and its mappings", path = "/admin/v1/apps/{app}/endpoint-tokens/{id}", tag = "endpoint tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint token id")),
    responses((status = 204, description = "deleted; it stops at once")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    tokens::delete_one(&admin, KIND, &id).await
}

/// `GET /admin/v1/apps/{app}/endpoint-tokens/{id}/reveal`.
#[utoipa::path(get, operation_id = "reveal_endpoint_token", summary = "Read a secondary endpoint token's value again", path = "/admin/v1/apps/{app}/endpoint-tokens/{id}/reveal", tag = "endpoint tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint token id")),
    responses((status = 200, description = "the token's value", body = RevealedTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn reveal(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    tokens::reveal(&admin, KIND, &id).await
}

/// `POST /admin/v1/apps/{app}/endpoint-tokens/{id}/regenerate`.
#[utoipa::path(post, operation_id = "regenerate_endpoint_token", summary = "Give a secondary endpoint token a new value; the old one stops at once", path = "/admin/v1/apps/{app}/endpoint-tokens/{id}/regenerate", tag = "endpoint tokens",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint token id")),
    responses((status = 200, description = "the new value; its mappings stay", body = RevealedTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn regenerate(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let state = &admin.state;
    let token = platform_tokens::regenerate(&state.store, &state.data_keys, KIND, &admin.app, &id)
        .await?
        .ok_or_else(|| tokens::not_found(KIND, &id))?;
    Ok(secret_answer(token.expose()))
}

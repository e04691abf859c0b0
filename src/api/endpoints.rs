//! Endpoints secured by tokens: create (with their primary tokens), list, read,
//! change, delete; regenerate and reveal a primary; map secondary tokens to an
//! endpoint's methods; and the data viewer of the calls the endpoint check
//! answered.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::page::{Items, Page, PageQuery};
use super::tokens::RevealedTokenResponse;
use super::ApiJson;
use super::{parse_rfc3339, rfc3339, AppAdmin};
use crate::domain::endpoints::{
    self, Assignment, CallCount, Endpoint, EndpointUpdate, EndpointWithTokens, Method, NewEndpoint,
    PrimaryValue, RecordedCalls, TokenAssignment,
};
use crate::domain::platform_tokens::{PlatformToken, TokenKind};
use crate::store::CallFilter;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    /// The endpoint's path, such as `/integrations/orders`; unique in the application.
    #[schema(min_length = 1, max_length = 2000, pattern = r"^/[!-~]*$")]
    pub path: String,
    /// Whether DELETE is accepted: it gets a primary token of its own.
    #[serde(default)]
    pub allow_delete: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 2000, pattern = r"^/[!-~]*$")]
    pub path: Option<String>,
    /// On makes the DELETE primary (answered once); off removes it.
    pub allow_delete: Option<bool>,
}

/// An HTTP method an endpoint protects.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum MethodName {
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "DELETE")]
    Delete,
}

impl From<Method> for MethodName {
    fn from(m: Method) -> Self {
        match m {
            Method::Post => MethodName::Post,
            Method::Get => MethodName::Get,
            Method::Delete => MethodName::Delete,
        }
    }
}

impl From<MethodName> for Method {
    fn from(m: MethodName) -> Self {
        match m {
            MethodName::Post => Method::Post,
            MethodName::Get => Method::Get,
            MethodName::Delete => Method::Delete,
        }
    }
}

/// A primary token, without its value.
#[derive(Serialize, ToSchema)]
pub struct PrimaryTokenResponse {
    pub method: MethodName,
    pub token_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointResponse {
    pub id: String,
    pub name: String,
    pub path: String,
    pub allow_delete: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The methods it accepts, each with its primary token.
    pub primaries: Vec<PrimaryTokenResponse>,
}

impl EndpointResponse {
    fn new(endpoint: Endpoint, primaries: Vec<PlatformToken>) -> Self {
        EndpointResponse {
            primaries: primaries
                .into_iter()
                .filter_map(|t| {
                    Some(PrimaryTokenResponse {
                        method: t.method?.into(),
                        token_id: t.id,
                        created_at: rfc3339(t.created_at),
                        last_used_at: t.last_used_at.map(rfc3339),
                    })
                })
                .collect(),
            id: endpoint.id,
            name: endpoint.name,
            path: endpoint.path,
            allow_delete: endpoint.allow_delete,
            created_at: rfc3339(endpoint.created_at),
        }
    }
}

/// Primary token values by method, shown once: all of them at creation, the
/// DELETE one when allowing deletes makes it.
#[derive(Serialize, ToSchema, Default)]
pub struct PrimaryTokenValues {
    #[serde(rename = "POST", skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    #[serde(rename = "GET", skip_serializing_if = "Option::is_none")]
    pub get: Option<String>,
    #[serde(rename = "DELETE", skip_serializing_if = "Option::is_none")]
    pub delete: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointWithTokensResponse {
    #[serde(flatten)]
    pub details: EndpointResponse,
    pub primary_tokens: PrimaryTokenValues,
}

async fn with_tokens(
    admin: &AppAdmin,
    made: EndpointWithTokens,
) -> Result<EndpointWithTokensResponse, ApiError> {
    let mut values = PrimaryTokenValues::default();
    for (method, token) in made.primaries {
        let slot = match method {
            Method::Post => &mut values.post,
            Method::Get => &mut values.get,
            Method::Delete => &mut values.delete,
        };
        *slot = Some(token.expose().to_owned());
    }
    let primaries = admin.state.store.primary_tokens(&admin.app, &made.endpoint.id).await?;
    Ok(EndpointWithTokensResponse {
        details: EndpointResponse::new(made.endpoint, primaries),
        primary_tokens: values,
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("endpoint `{id}` not found"))
}

async fn endpoint(admin: &AppAdmin, id: &str) -> Result<Endpoint, ApiError> {
    admin.state.store.get_endpoint(&admin.app, id).await?.ok_or_else(|| not_found(id))
}

/// `GET /admin/v1/apps/{app}/endpoints`.
#[utoipa::path(get, operation_id = "list_endpoints", summary = "List the application's endpoints, oldest first", path = "/admin/v1/apps/{app}/endpoints", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), PageQuery),
    responses((status = 200, description = "one page of endpoints, without token values", body = Page<EndpointResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, query: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let (limit, offset) = query.bounds()?;
    let (rows, total) = admin.state.store.list_endpoints(&admin.app, limit, offset).await?;
    let ids: Vec<&str> = rows.iter().map(|e| e.id.as_str()).collect();
    let mut primaries: std::collections::HashMap<String, Vec<PlatformToken>> = Default::default();
    for token in admin.state.store.primary_tokens_of(&admin.app, &ids).await? {
        primaries.entry(token.endpoint_id.clone().unwrap_or_default()).or_default().push(token);
    }
    let items = rows
        .into_iter()
        .map(|endpoint| {
            let own = primaries.remove(&endpoint.id).unwrap_or_default();
            EndpointResponse::new(endpoint, own)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, total, limit, offset }))
}

/// `POST /admin/v1/apps/{app}/endpoints`.
#[utoipa::path(post, operation_id = "create_endpoint", summary = "Create an endpoint with its primary tokens", path = "/admin/v1/apps/{app}/endpoints", tag = "endpoints",
    params(("app" = String, Path, description = "application id")),
    request_body = CreateEndpointRequest,
    responses((status = 201, description = "created, with its primary tokens' values (POST, GET, and DELETE when allowed)", body = EndpointWithTokensResponse),
        (status = 409, description = "the application has an endpoint at this path already", body = super::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(admin: AppAdmin, body: ApiJson<CreateEndpointRequest>) -> Result<HttpResponse, ApiError> {
    let state = &admin.state;
    let new = NewEndpoint { name: &body.name, path: &body.path, allow_delete: body.allow_delete };
    let made =
        endpoints::create(&state.store, &state.config, &state.data_keys, &admin.app, new, state.clock.now())
            .await?;
    Ok(super::tokens::created(&with_tokens(&admin, made).await?))
}

/// `GET /admin/v1/apps/{app}/endpoints/{id}`.
#[utoipa::path(get, operation_id = "get_endpoint", summary = "Read an endpoint, without token values", path = "/admin/v1/apps/{app}/endpoints/{id}", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id")),
    responses((status = 200, description = "the endpoint", body = EndpointResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let endpoint = endpoint(&admin, &id).await?;
    let primaries = admin.state.store.primary_tokens(&admin.app, &id).await?;
    Ok(HttpResponse::Ok().json(EndpointResponse::new(endpoint, primaries)))
}

/// `PATCH /admin/v1/apps/{app}/endpoints/{id}`.
#[utoipa::path(patch, operation_id = "update_endpoint", summary = "Rename, move, or allow or forbid deleting", path = "/admin/v1/apps/{app}/endpoints/{id}", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id")),
    request_body = UpdateEndpointRequest,
    responses((status = 200, description = "the changed endpoint, with the DELETE primary's value when this call made it", body = EndpointWithTokensResponse),
        (status = 409, description = "another endpoint of the application has this path", body = super::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn update(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    body: ApiJson<UpdateEndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    if body.name.is_none() && body.path.is_none() && body.allow_delete.is_none() {
        return Err(ApiError::BadRequest("give name, path and/or allow_delete".into()));
    }
    let state = &admin.state;
    let update = EndpointUpdate {
        name: body.name.as_deref(),
        path: body.path.as_deref(),
        allow_delete: body.allow_delete,
    };
    let now = state.clock.now();
    let made = endpoints::update(&state.store, &state.config, &state.data_keys, &admin.app, &id, update, now)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(with_tokens(&admin, made).await?))
}

/// `DELETE /admin/v1/apps/{app}/endpoints/{id}`.
#[utoipa::path(delete, operation_id = "delete_endpoint", summary = "Delete an endpoint with its primaries, mappings and recorded calls", path = "/admin/v1/apps/{app}/endpoints/{id}", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id")),
    responses((status = 204, description = "deleted; its tokens stop at once")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    if !admin.state.store.delete_endpoint(&admin.app, &id).await? {
        return Err(not_found(&id));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/apps/{app}/endpoints/{id}/primary-tokens/{method}/regenerate`.
#[utoipa::path(post, operation_id = "regenerate_primary_token", summary = "Give a primary token a new value; the old one stops at once", path = "/admin/v1/apps/{app}/endpoints/{id}/primary-tokens/{method}/regenerate", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"),
        ("method" = MethodName, Path, description = "POST, GET or DELETE")),
    responses((status = 200, description = "the new value", body = RevealedTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn regenerate_primary(
    admin: AppAdmin,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    primary_value(admin, path, PrimaryValue::Regenerate).await
}

/// `GET /admin/v1/apps/{app}/endpoints/{id}/primary-tokens/{method}/reveal`.
#[utoipa::path(get, operation_id = "reveal_primary_token", summary = "Read a primary token's value again", path = "/admin/v1/apps/{app}/endpoints/{id}/primary-tokens/{method}/reveal", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"),
        ("method" = MethodName, Path, description = "POST, GET or DELETE")),
    responses((status = 200, description = "the value", body = RevealedTokenResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn reveal_primary(
    admin: AppAdmin,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    primary_value(admin, path, PrimaryValue::Reveal).await
}

async fn primary_value(
    admin: AppAdmin,
    path: web::Path<(String, String, String)>,
    action: PrimaryValue,
) -> Result<HttpResponse, ApiError> {
    let (_, id, method) = path.into_inner();
    let method = Method::parse(&method)
        .ok_or_else(|| ApiError::BadRequest(format!("`{method}` is not one of POST, GET, DELETE")))?;
    let state = &admin.state;
    let token = endpoints::primary_value(&state.store, &state.data_keys, &admin.app, &id, method, action)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("endpoint `{id}` has no {} primary token", method.as_str()))
        })?;
    Ok(secret_answer(token.expose()))
}

/// A token value: 200, never cached.
pub fn secret_answer(token: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RevealedTokenResponse { token: token.to_owned() })
}

/// A secondary token and its mapping to one endpoint.
#[derive(Serialize, ToSchema)]
pub struct AssignmentResponse {
    pub endpoint_id: String,
    pub token_id: String,
    pub token_name: String,
    /// Whether the token itself is enabled.
    pub token_enabled: bool,
    /// Whether the token is mapped to this endpoint.
    pub assigned: bool,
    /// The methods it is mapped to (empty when not assigned).
    pub methods: Vec<MethodName>,
    /// Whether the mapping is on (false when not assigned).
    pub enabled: bool,
}

impl AssignmentResponse {
    fn new(endpoint_id: &str, token: &PlatformToken, assignment: Option<&Assignment>) -> Self {
        AssignmentResponse {
            endpoint_id: endpoint_id.to_owned(),
            token_id: token.id.clone(),
            token_name: token.name.clone(),
            token_enabled: token.enabled,
            assigned: assignment.is_some(),
            methods: assignment
                .map(|a| a.methods.list().into_iter().map(MethodName::from).collect())
                .unwrap_or_default(),
            enabled: assignment.is_some_and(|a| a.enabled),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentsQuery {
    /// `true` hides the tokens not mapped to this endpoint ("Hide unassigned").
    pub assigned: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// `GET /admin/v1/apps/{app}/endpoints/{id}/assignments`.
#[utoipa::path(get, operation_id = "list_endpoint_assignments", summary = "List the application's secondary tokens with their mapping to this endpoint", path = "/admin/v1/apps/{app}/endpoints/{id}/assignments", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"), AssignmentsQuery),
    responses((status = 200, description = "one page of secondary tokens, oldest first, each with `assigned`", body = Page<AssignmentResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_assignments(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    query: web::Query<AssignmentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let (limit, offset) = PageQuery { limit: query.limit, offset: query.offset }.bounds()?;
    endpoint(&admin, &id).await?;
    let assigned_only = query.assigned.unwrap_or(false);
    let (rows, total) =
        admin.state.store.list_token_assignments(&admin.app, &id, assigned_only, limit, offset).await?;
    let items = rows
        .iter()
        .map(|TokenAssignment { token, assignment }| AssignmentResponse::new(&id, token, assignment.as_ref()))
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, total, limit, offset }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequest {
    /// The endpoint's methods the token may call.
    #[schema(min_items = 1, max_items = 3)]
    pub methods: Vec<MethodName>,
    /// Whether the mapping is on; on when left out.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssignmentRequest {
    pub enabled: bool,
}

async fn assignment_answer(
    admin: &AppAdmin,
    endpoint_id: &str,
    token_id: &str,
) -> Result<HttpResponse, ApiError> {
    let store = &admin.state.store;
    let token = store
        .get_platform_token(&admin.app, TokenKind::EndpointSecondary, token_id)
        .await?
        .ok_or_else(|| super::tokens::not_found(TokenKind::EndpointSecondary, token_id))?;
    let assignment = store.get_assignment(&admin.app, endpoint_id, token_id).await?;
    Ok(HttpResponse::Ok().json(AssignmentResponse::new(endpoint_id, &token, assignment.as_ref())))
}

/// `PUT /admin/v1/apps/{app}/endpoints/{id}/assignments/{token_id}`.
#[utoipa::path(put, operation_id = "put_endpoint_assignment", summary = "Map a secondary token to some of the endpoint's methods", path = "/admin/v1/apps/{app}/endpoints/{id}/assignments/{token_id}", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"),
        ("token_id" = String, Path, description = "secondary endpoint token id")),
    request_body = AssignmentRequest,
    responses((status = 200, description = "the mapping", body = AssignmentResponse),
        (status = 422, description = "a method the endpoint has no primary token for", body = super::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = []), ("token" = [])))]
pub async fn put_assignment(
    admin: AppAdmin,
    path: web::Path<(String, String, String)>,
    body: ApiJson<AssignmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id, token_id) = path.into_inner();
    let mut methods: Vec<Method> = body.methods.iter().map(|m| Method::from(*m)).collect();
    methods.sort();
    methods.dedup();
    let state = &admin.state;
    let enabled = body.enabled.unwrap_or(true);
    endpoints::assign(&state.store, &admin.app, &id, &token_id, &methods, enabled, state.clock.now()).await?;
    assignment_answer(&admin, &id, &token_id).await
}

/// `PATCH /admin/v1/apps/{app}/endpoints/{id}/assignments/{token_id}`.
#[utoipa::path(patch, operation_id = "update_endpoint_assignment", summary = "Switch a mapping on or off", path = "/admin/v1/apps/{app}/endpoints/{id}/assignments/{token_id}", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"),
        ("token_id" = String, Path, description = "secondary endpoint token id")),
    request_body = UpdateAssignmentRequest,
    responses((status = 200, description = "the mapping", body = AssignmentResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn update_assignment(
    admin: AppAdmin,
    path: web::Path<(String, String, String)>,
    body: ApiJson<UpdateAssignmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id, token_id) = path.into_inner();
    if !admin.state.store.set_assignment_enabled(&admin.app, &id, &token_id, body.enabled).await? {
        return Err(ApiError::NotFound(format!("token `{token_id}` is not mapped to endpoint `{id}`")));
    }
    assignment_answer(&admin, &id, &token_id).await
}

/// `DELETE /admin/v1/apps/{app}/endpoints/{id}/assignments/{token_id}`.
#[utoipa::path(delete, operation_id = "delete_endpoint_assignment", summary = "Unmap a secondary token from the endpoint", path = "/admin/v1/apps/{app}/endpoints/{id}/assignments/{token_id}", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"),
        ("token_id" = String, Path, description = "secondary endpoint token id")),
    responses((status = 204, description = "unmapped; the token stops working here at once")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete_assignment(
    admin: AppAdmin,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, id, token_id) = path.into_inner();
    if !admin.state.store.delete_assignment(&admin.app, &id, &token_id).await? {
        return Err(ApiError::NotFound(format!("token `{token_id}` is not mapped to endpoint `{id}`")));
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    /// Only the calls made with this token id (primary or secondary).
    pub token: Option<String>,
    /// RFC 3339: calls at or after this time.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339: calls before this time.
    #[param(format = DateTime)]
    pub to: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl CallsQuery {
    fn filter(&self) -> Result<CallFilter<'_>, ApiError> {
        if self.token.as_deref().is_some_and(|t| t.chars().any(char::is_control)) {
            return Err(ApiError::BadRequest("token contains a control character".into()));
        }
        Ok(CallFilter {
            token_id: self.token.as_deref(),
            from: self.from.as_deref().map(|t| parse_rfc3339("from", t)).transpose()?,
            to: self.to.as_deref().map(|t| parse_rfc3339("to", t)).transpose()?,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallSummaryQuery {
    /// Only the calls made with this token id.
    pub token: Option<String>,
    #[param(format = DateTime)]
    pub from: Option<String>,
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// The kind of token a call presented, as the endpoint check names it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointTokenKind {
    Primary,
    Secondary,
}

impl EndpointTokenKind {
    pub fn of(kind: TokenKind) -> Option<Self> {
        match kind {
            TokenKind::EndpointPrimary => Some(EndpointTokenKind::Primary),
            TokenKind::EndpointSecondary => Some(EndpointTokenKind::Secondary),
            _ => None,
        }
    }
}

/// Calls the endpoint check answered: one, or several identical ones (same
/// second, method, outcome and token) counted in `calls`.
#[derive(Serialize, ToSchema)]
pub struct CallResponse {
    #[schema(format = DateTime)]
    pub at: String,
    /// How many identical calls this row stands for.
    #[schema(minimum = 1)]
    pub calls: i64,
    pub method: MethodName,
    pub allowed: bool,
    /// Why it was refused (see the endpoint check).
    pub reason: Option<String>,
    /// The token presented, when it was one of the application's.
    pub token_id: Option<String>,
    pub token_kind: Option<EndpointTokenKind>,
    /// The token's name at the time of the call.
    pub token_name: Option<String>,
}

impl From<RecordedCalls> for CallResponse {
    fn from(RecordedCalls { call: c, calls }: RecordedCalls) -> Self {
        CallResponse {
            at: rfc3339(c.at),
            calls,
            method: c.method.into(),
            allowed: c.allowed,
            reason: c.reason.map(|r| r.as_str().to_owned()),
            token_id: c.token.as_ref().map(|t| t.id.to_string()),
            token_kind: c.token.as_ref().and_then(|t| EndpointTokenKind::of(t.kind)),
            token_name: c.token.as_ref().map(|t| t.name.to_string()),
        }
    }
}

/// Calls of one token on one day.
#[derive(Serialize, ToSchema)]
pub struct CallCountResponse {
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    /// The day (UTC), `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub day: String,
    pub calls: i64,
    pub allowed: i64,
    pub denied: i64,
}

impl From<CallCount> for CallCountResponse {
    fn from(c: CallCount) -> Self {
        CallCountResponse {
            token_id: c.token_id,
            token_name: c.token_name,
            day: rfc3339(c.day * 86_400).get(..10).unwrap_or_default().to_owned(),
            calls: c.calls,
            allowed: c.allowed,
            denied: c.calls - c.allowed,
        }
    }
}

/// Writes this instance's calls still in memory, so that the viewer shows every
/// call answered here until now.
async fn flush_calls(admin: &AppAdmin) -> Result<(), ApiError> {
    admin.state.endpoints.flush(&admin.state.store).await?;
    Ok(())
}

/// `GET /admin/v1/apps/{app}/endpoints/{id}/calls`.
#[utoipa::path(get, operation_id = "list_endpoint_calls", summary = "The endpoint data viewer: recorded calls, newest first (identical calls of one second in one item)", path = "/admin/v1/apps/{app}/endpoints/{id}/calls", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"), CallsQuery),
    responses((status = 200, description = "one page of calls", body = Page<CallResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_calls(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    query: web::Query<CallsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let (limit, offset) = PageQuery { limit: query.limit, offset: query.offset }.bounds()?;
    let filter = query.filter()?;
    endpoint(&admin, &id).await?;
    flush_calls(&admin).await?;
    let (rows, total) = admin.state.store.list_endpoint_calls(&admin.app, &id, filter, limit, offset).await?;
    Ok(HttpResponse::Ok().json(Page::<CallResponse>::of(rows, total, (limit, offset))))
}

/// `GET /admin/v1/apps/{app}/endpoints/{id}/calls/summary`.
#[utoipa::path(get, operation_id = "summarize_endpoint_calls", summary = "Recorded calls counted per token and per day, newest day first", path = "/admin/v1/apps/{app}/endpoints/{id}/calls/summary", tag = "endpoints",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "endpoint id"), CallSummaryQuery),
    responses((status = 200, description = "the counts", body = Items<CallCountResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn call_summary(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    query: web::Query<CallSummaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let query = query.into_inner();
    let calls = CallsQuery { token: query.token, from: query.from, to: query.to, limit: None, offset: None };
    let filter = calls.filter()?;
    endpoint(&admin, &id).await?;
    flush_calls(&admin).await?;
    let rows = admin.state.store.endpoint_call_summary(&admin.app, &id, filter).await?;
    Ok(HttpResponse::Ok().json(Items { items: rows.into_iter().map(CallCountResponse::from).collect() }))
}

//! OAuth clients of an application: listed, registered (a confidential client's
//! secret in the creation answer only), read and deleted.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::page::{Page, PageQuery};
use super::ApiJson;
use super::{rfc3339, AppAdmin};
use crate::domain::clients::{self, Client, ClientChanges, GrantType, NewClient};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    /// `public`, `confidential` or `mobile`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(public|confidential|mobile)$")]
    pub client_type: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to (registered exactly).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types as named in their RFCs; defaults by client type when empty.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Profiles, `admin` and `object:action` scopes the client may ask for.
    #[schema(min_items = 1)]
    pub scopes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientResponse {
    pub client_id: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub name: String,
    #[serde(rename = "type")]
    pub client_type: &'static str,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grants: Vec<&'static str>,
    pub scope: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedClientResponse {
    #[serde(flatten)]
    pub client: ClientResponse,
    /// Confidential clients only, in this answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl From<Client> for ClientResponse {
    fn from(c: Client) -> Self {
        ClientResponse {
            client_id: c.id,
            name: c.name,
            client_type: c.client_type.name(),
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            grants: c.grants.iter().map(|g| g.name()).collect(),
            scope: c.scope,
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    /// Replaces the redirect URIs (registered exactly; https unless loopback).
    #[schema(max_items = 50)]
    pub redirect_uris: Option<Vec<String>>,
    /// Replaces the URIs RP-initiated logout may send the browser back to.
    #[schema(max_items = 50)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Replaces the scopes the client may ask for.
    #[schema(max_items = 50)]
    pub scopes: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientSecretResponse {
    /// The new secret; the old one stopped working. Shown only here.
    pub client_secret: String,
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("client `{id}` not found"))
}

/// `GET /admin/v1/apps/{app}/clients?limit=&offset=`.
#[utoipa::path(get, operation_id = "list_clients", summary = "List the application's clients", path = "/admin/v1/apps/{app}/clients", tag = "clients",
    params(("app" = String, Path, description = "application id"), PageQuery),
    responses((status = 200, description = "one page of clients, oldest first", body = Page<ClientResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, page: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (limit, offset) = page.bounds()?;
    let (rows, total) = state.store.list_clients_page(&app, limit, offset).await?;
    Ok(HttpResponse::Ok().json(Page::<ClientResponse>::of(rows, total, (limit, offset))))
}

/// `POST /admin/v1/apps/{app}/clients`.
#[utoipa::path(post, operation_id = "create_client", summary = "Create a client", path = "/admin/v1/apps/{app}/clients", tag = "clients",
    params(("app" = String, Path, description = "application id")),
    request_body = CreateClientRequest,
    responses((status = 201, description = "registered; `client_secret` is shown only here", body = CreatedClientResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn create(admin: AppAdmin, body: ApiJson<CreateClientRequest>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let body = body.into_inner();
    let grants = body.grants.iter().map(|g| g.parse::<GrantType>()).collect::<Result<Vec<_>, _>>()?;
    let new = NewClient {
        app_id: app,
        name: body.name,
        client_type: body.client_type.parse()?,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        grants,
        scopes: body.scopes,
    };
    let created = clients::create(&state.store, &state.scopes, new, state.clock.now()).await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(
        CreatedClientResponse {
            client_secret: created.secret.map(|s| s.expose().to_owned()),
            client: created.client.into(),
        },
    ))
}

/// `GET /admin/v1/apps/{app}/clients/{id}`.
#[utoipa::path(get, operation_id = "get_client", summary = "Read a client", path = "/admin/v1/apps/{app}/clients/{id}", tag = "clients",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "client id")),
    responses((status = 200, description = "the client, without its secret", body = ClientResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn get(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    let client = state.store.get_app_client(&app, &id).await?.ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(ClientResponse::from(client)))
}

/// `PATCH /admin/v1/apps/{app}/clients/{id}`.
#[utoipa::path(patch, operation_id = "update_client", summary = "Replace a client's redirect URIs or scopes", path = "/admin/v1/apps/{app}/clients/{id}", tag = "clients",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "client id")),
    request_body = UpdateClientRequest,
    responses((status = 200, description = "the client as now registered", body = ClientResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn update(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
    body: ApiJson<UpdateClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    let body = body.into_inner();
    if body.redirect_uris.is_none() && body.post_logout_redirect_uris.is_none() && body.scopes.is_none() {
        return Err(ApiError::BadRequest("give redirect_uris, post_logout_redirect_uris or scopes".into()));
    }
    let changes = ClientChanges {
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        scopes: body.scopes,
    };
    let client = clients::change(&state.store, &state.scopes, &app, &id, changes, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(ClientResponse::from(client)))
}

/// `POST /admin/v1/apps/{app}/clients/{id}/secret/rotate`.
#[utoipa::path(post, operation_id = "rotate_client_secret", summary = "Give a confidential client a new secret", path = "/admin/v1/apps/{app}/clients/{id}/secret/rotate", tag = "clients",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "client id")),
    responses((status = 200, description = "the new secret, shown only here", body = ClientSecretResponse)),
    security(("bearer" = []), ("token" = [])))]
pub async fn rotate_secret(
    admin: AppAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    let secret = clients::rotate_secret(&state.store, &app, &id, state.clock.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ClientSecretResponse { client_secret: secret.expose().to_owned() }))
}

/// `DELETE /admin/v1/apps/{app}/clients/{id}`: with its codes, consents and
/// refresh tokens; every instance forgets it within one cache poll.
#[utoipa::path(delete, operation_id = "delete_client", summary = "Delete a client", path = "/admin/v1/apps/{app}/clients/{id}", tag = "clients",
    params(("app" = String, Path, description = "application id"), ("id" = String, Path, description = "client id")),
    responses((status = 204, description = "deleted")),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(admin: AppAdmin, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let AppAdmin { state, app, .. } = admin;
    let (_, id) = path.into_inner();
    if !state.store.delete_client(&app, &id).await? {
        return Err(not_found(&id));
    }
    Ok(HttpResponse::NoContent().finish())
}

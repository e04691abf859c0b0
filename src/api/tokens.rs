//! What every platform-token kind's admin handlers share: list (paged, filtered),
//! get, delete one or many, reveal. Each kind's module says only what its answers
//! look like.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::page::Page;
use super::AppAdmin;
use crate::domain::platform_tokens::{self, PlatformToken, TokenKind};
use crate::store::TokenFilter;

/// `{"ids": [...]}`: the tokens a bulk delete names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteTokensRequest {
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<String>,
}

impl DeleteTokensRequest {
    /// The ids, checked: 1 to 500 of them.
    pub fn ids(&self) -> Result<&[String], ApiError> {
        if self.ids.is_empty() || self.ids.len() > 500 {
            return Err(ApiError::BadRequest("ids must name 1 to 500 items".into()));
        }
        Ok(&self.ids)
    }
}

/// How many of the named tokens were deleted (ids of other applications are skipped).
#[derive(Serialize, ToSchema)]
pub struct DeletedResponse {
    pub deleted: u64,
}

/// A token's value, read again.
#[derive(Serialize, ToSchema)]
pub struct RevealedTokenResponse {
    pub token: String,
}

pub fn not_found(kind: TokenKind, id: &str) -> ApiError {
    ApiError::NotFound(format!("{} token `{id}` not found", kind.name()))
}

pub async fn list<T: From<PlatformToken>>(
    admin: &AppAdmin,
    kind: TokenKind,
    filter: TokenFilter<'_>,
    (limit, offset): (i64, i64),
) -> Result<Page<T>, ApiError> {
    let (rows, total) =
        admin.state.store.list_platform_tokens(&admin.app, kind, filter, limit, offset).await?;
    Ok(Page::of(rows, total, (limit, offset)))
}

pub async fn get(admin: &AppAdmin, kind: TokenKind, id: &str) -> Result<PlatformToken, ApiError> {
    admin.state.store.get_platform_token(&admin.app, kind, id).await?.ok_or_else(|| not_found(kind, id))
}

pub async fn delete_one(admin: &AppAdmin, kind: TokenKind, id: &str) -> Result<HttpResponse, ApiError> {
    if admin.state.store.delete_platform_tokens(&admin.app, kind, &[id.to_owned()]).await? == 0 {
        return Err(not_found(kind, id));
    }
    Ok(HttpResponse::NoContent().finish())
}

pub async fn delete_many(
    admin: &AppAdmin,
    kind: TokenKind,
    body: &DeleteTokensRequest,
) -> Result<HttpResponse, ApiError> {
    let deleted = admin.state.store.delete_platform_tokens(&admin.app, kind, body.ids()?).await?;
    Ok(HttpResponse::Ok().json(DeletedResponse { deleted }))
}

pub async fn reveal(admin: &AppAdmin, kind: TokenKind, id: &str) -> Result<HttpResponse, ApiError> {
    let state = &admin.state;
    let token = platform_tokens::reveal(&state.store, &state.data_keys, kind, &admin.app, id)
        .await?
        .ok_or_else(|| not_found(kind, id))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RevealedTokenResponse { token: token.expose().to_owned() }))
}

/// A creation answer: 201, never cached.
pub fn created<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

//! `GET /admin/v1/apps/{app}/audit`: the application's audit log, newest first,
//! searchable and bounded in time.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::page::{Page, PageQuery};
use super::{parse_rfc3339, rfc3339, AppAdmin};
use crate::domain::audit::{AuditEntry, AuditFilter};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries whose actor, action or target holds this text.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// RFC 3339: entries at or after this time.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339: entries before this time.
    #[param(format = DateTime)]
    pub to: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryResponse {
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub request_id: String,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(e: AuditEntry) -> Self {
        AuditEntryResponse {
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            request_id: e.request_id,
        }
    }
}

/// `GET /admin/v1/apps/{app}/audit?q=&from=&to=&limit=&offset=`.
#[utoipa::path(get, operation_id = "list_audit", summary = "The application's audit log, newest first", path = "/admin/v1/apps/{app}/audit", tag = "audit",
    params(("app" = String, Path, description = "application id"), AuditQuery),
    responses((status = 200, description = "one page of entries", body = Page<AuditEntryResponse>)),
    security(("bearer" = []), ("token" = [])))]
pub async fn list(admin: AppAdmin, query: web::Query<AuditQuery>) -> Result<HttpResponse, ApiError> {
    let bounds = PageQuery { limit: query.limit, offset: query.offset }.bounds()?;
    let search = query.q.as_deref().filter(|q| !q.is_empty());
    if search.is_some_and(|q| q.chars().count() > 200 || q.chars().any(char::is_control)) {
        return Err(ApiError::BadRequest("q must be up to 200 characters without control characters".into()));
    }
    let filter = AuditFilter {
        search,
        from: query.from.as_deref().map(|t| parse_rfc3339("from", t)).transpose()?,
        to: query.to.as_deref().map(|t| parse_rfc3339("to", t)).transpose()?,
    };
    let (rows, total) = admin.state.store.list_audit(&admin.app, filter, bounds.0, bounds.1).await?;
    Ok(HttpResponse::Ok().json(Page::<AuditEntryResponse>::of(rows, total, bounds)))
}

//! The admin REST API under `/admin/v1`: JSON in and out, errors as
//! `application/problem+json`, callers authenticated by a bearer JWT with the
//! `admin` scope or by the application's master token.
//!
//! Invariants: a mobile token gets 403 on every call; a caller acts only on its
//! own application; no list or get answer holds a secret.

mod api_tokens;
mod apps;
mod audit;
mod clients;
mod departments;
mod endpoint_check;
mod endpoint_tokens;
mod endpoints;
pub mod error;
mod forward_auth;
mod install_tokens;
mod json;
mod mobile_sessions;
mod mobile_tokens;
mod openapi;
mod page;
mod tokens;
mod user_types;
mod users;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpMessage as _, HttpRequest};
use chrono::{DateTime, Utc};

use self::error::ApiError;
pub use self::json::ApiJson;
use crate::domain::apps::DEFAULT_APP;
use crate::domain::platform_tokens::{AdminAccess, TokenKind};
use crate::oauth::inspect::{authenticate, PrincipalKind};
use crate::AppState;

/// Registers every admin route from one table, which `ROUTES` also lists, so the
/// OpenAPI document can be checked against what is served.
macro_rules! admin_routes {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every (method, path) the admin API serves.
        pub const ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), concat!("/admin/v1", $path)) ),* ];

        fn register(scope: actix_web::Scope) -> actix_web::Scope {
            scope $( .route($path, web::$method().to($handler)) )*
        }
    };
}

admin_routes! {
    get "/openapi.json" => openapi::get_openapi,
    get "/apps" => apps::list_apps,
    post "/apps" => apps::create_app,
    get "/apps/{app}" => apps::get_app,
    patch "/apps/{app}" => apps::update_app,
    post "/apps/{app}/master-token/rotate" => apps::rotate_master_token,
    put "/apps/{app}/logo" => apps::put_logo,
    delete "/apps/{app}/logo" => apps::delete_logo,
    get "/apps/{app}/mobile-tokens" => mobile_tokens::list,
    post "/apps/{app}/mobile-tokens" => mobile_tokens::create,
    get "/apps/{app}/mobile-tokens/{id}" => mobile_tokens::get,
    patch "/apps/{app}/mobile-tokens/{id}" => mobile_tokens::update,
    delete "/apps/{app}/mobile-tokens/{id}" => mobile_tokens::delete,
    get "/apps/{app}/api-tokens" => api_tokens::list,
    post "/apps/{app}/api-tokens" => api_tokens::create,
    post "/apps/{app}/api-tokens/delete" => api_tokens::delete_many,
    get "/apps/{app}/api-tokens/{id}" => api_tokens::get,
    delete "/apps/{app}/api-tokens/{id}" => api_tokens::delete,
    get "/apps/{app}/api-tokens/{id}/reveal" => api_tokens::reveal,
    get "/apps/{app}/mobile-sessions" => mobile_sessions::list,
    post "/apps/{app}/mobile-sessions/delete" => mobile_sessions::delete_many,
    get "/apps/{app}/mobile-sessions/{id}" => mobile_sessions::get,
    delete "/apps/{app}/mobile-sessions/{id}" => mobile_sessions::delete,
    get "/apps/{app}/endpoints" => endpoints::list,
    post "/apps/{app}/endpoints" => endpoints::create,
    get "/apps/{app}/endpoints/{id}" => endpoints::get,
    patch "/apps/{app}/endpoints/{id}" => endpoints::update,
    delete "/apps/{app}/endpoints/{id}" => endpoints::delete,
    post "/apps/{app}/endpoints/{id}/primary-tokens/{method}/regenerate" => endpoints::regenerate_primary,
    get "/apps/{app}/endpoints/{id}/primary-tokens/{method}/reveal" => endpoints::reveal_primary,
    get "/apps/{app}/endpoints/{id}/assignments" => endpoints::list_assignments,
    put "/apps/{app}/endpoints/{id}/assignments/{token_id}" => endpoints::put_assignment,
    patch "/apps/{app}/endpoints/{id}/assignments/{token_id}" => endpoints::update_assignment,
    delete "/apps/{app}/endpoints/{id}/assignments/{token_id}" => endpoints::delete_assignment,
    get "/apps/{app}/endpoints/{id}/calls" => endpoints::list_calls,
    get "/apps/{app}/endpoints/{id}/calls/summary" => endpoints::call_summary,
    get "/apps/{app}/endpoint-tokens" => endpoint_tokens::list,
    post "/apps/{app}/endpoint-tokens" => endpoint_tokens::create,
    get "/apps/{app}/endpoint-tokens/{id}" => endpoint_tokens::get,
    patch "/apps/{app}/endpoint-tokens/{id}" => endpoint_tokens::update,
    delete "/apps/{app}/endpoint-tokens/{id}" => endpoint_tokens::delete,
    get "/apps/{app}/endpoint-tokens/{id}/reveal" => endpoint_tokens::reveal,
    post "/apps/{app}/endpoint-tokens/{id}/regenerate" => endpoint_tokens::regenerate,
    get "/apps/{app}/audit" => audit::list,
    get "/apps/{app}/user-types" => user_types::list,
    put "/apps/{app}/user-types/{name}" => user_types::put,
    delete "/apps/{app}/user-types/{name}" => user_types::delete,
    get "/apps/{app}/departments" => departments::list,
    post "/apps/{app}/departments" => departments::create,
    delete "/apps/{app}/departments/{name}" => departments::delete,
    get "/apps/{app}/users" => users::list,
    post "/apps/{app}/users" => users::create,
    get "/apps/{app}/users/{id}" => users::get,
    patch "/apps/{app}/users/{id}" => users::update,
    delete "/apps/{app}/users/{id}" => users::delete,
    get "/apps/{app}/clients" => clients::list,
    post "/apps/{app}/clients" => clients::create,
    get "/apps/{app}/clients/{id}" => clients::get,
    patch "/apps/{app}/clients/{id}" => clients::update,
    delete "/apps/{app}/clients/{id}" => clients::delete,
    post "/apps/{app}/clients/{id}/secret/rotate" => clients::rotate_secret,
}

/// JSON bodies of at most `limit` bytes, every failure a problem answer.
fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(move |err, _req| {
        use actix_web::error::{JsonPayloadError, PayloadError};
        let problem = match &err {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                ApiError::PayloadTooLarge(format!("the JSON body is larger than {limit} bytes"))
            }
            JsonPayloadError::ContentType => {
                ApiError::UnsupportedMediaType("send the body as application/json".into())
            }
            JsonPayloadError::Payload(PayloadError::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                ApiError::Timeout("the request body did not arrive in time".into())
            }
            other => ApiError::BadRequest(format!("the JSON body is not valid: {other}")),
        };
        problem.into()
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let json = json_config(16 * 1024);
    let query = web::QueryConfig::default()
        .error_handler(|err, _req| ApiError::BadRequest(format!("the query is not valid: {err}")).into());
    let path = web::PathConfig::default()
        .error_handler(|err, _req| ApiError::BadRequest(format!("the path is not valid: {err}")).into());
    // The platform's own token calls, beside the admin API: install tokens for
    // devices, and forward auth for gateways.
    cfg.service(
        web::resource("/v3/users/token").app_data(query.clone()).route(web::get().to(install_tokens::issue)),
    );
    cfg.route("/v1/auth/check", web::get().to(forward_auth::check));
    cfg.service(
        web::resource("/v1/endpoint-check")
            .app_data(json_config(endpoint_check::MAX_BODY))
            .route(web::post().to(endpoint_check::check)),
    );
    let scope = web::scope("/admin/v1").app_data(json).app_data(query).app_data(path);
    cfg.service(
        register(scope)
            .default_service(web::to(not_found))
            .wrap(actix_web::middleware::from_fn(after_writes)),
    );
}

/// Who made an admin API call, set by the extractors for the audit log.
#[derive(Clone)]
struct AuditActor(String);

/// After every successful write: the audit record, and the change taking effect
/// on this instance at once (`AppState::changed`).
async fn after_writes(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let writes = !matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if writes && res.status().is_success() {
        if let Some(state) = state {
            audit(&state, res.request()).await;
            state.changed().await;
        }
    }
    Ok(res)
}

/// Records a successful admin API write in the audit log.
async fn audit(state: &AppState, req: &HttpRequest) {
    let Some(actor) = req.extensions().get::<AuditActor>().map(|a| a.0.clone()) else {
        return;
    };
    let pattern = req.match_pattern().unwrap_or_default();
    let entry = crate::domain::audit::AuditEntry {
        app_id: req.match_info().get("app").unwrap_or(DEFAULT_APP).to_owned(),
        at: state.clock.now(),
        actor,
        action: format!("{} {}", req.method(), pattern.strip_prefix("/admin/v1").unwrap_or(&pattern)),
        target: req.path().strip_prefix("/admin/v1").unwrap_or(req.path()).to_owned(),
        request_id: req.extensions().get::<crate::RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
    };
    if let Err(e) = crate::domain::audit::record(&state.store, &entry).await {
        tracing::error!(error = %e, action = %entry.action, "cannot write the audit log");
    }
}

async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no admin API resource answers {} {}", req.method(), req.path())))
}

/// Who is calling the admin API, for which application.
#[derive(Debug)]
pub enum Caller {
    /// A JWT access token with the `admin` scope, of user (or client) `user`.
    AdminToken { app: String, user: String },
    /// The application's master token, with the SHA-256 of the value presented
    /// (a rotation replaces exactly that value).
    Master { app: String, token_hash: [u8; 32] },
    /// An API token of a user whose type carries `admin`.
    ApiToken { app: String, user: String },
}

impl Caller {
    /// Who this is, for the audit log: never a token's value.
    pub fn actor(&self) -> String {
        match self {
            Caller::AdminToken { app, user } => format!("admin token of {user} (application {app})"),
            Caller::Master { app, .. } => format!("master token of application {app}"),
            Caller::ApiToken { app, user } => format!("API token of user {user} (application {app})"),
        }
    }

    /// A platform administrator: an admin JWT of the `default` application, which
    /// may act on every application.
    pub fn is_platform_admin(&self) -> bool {
        matches!(self, Caller::AdminToken { app, .. } if app == DEFAULT_APP)
    }

    /// Checks the caller may act on application `app`.
    fn for_app(self, app: &str) -> Result<Caller, ApiError> {
        let own = match &self {
            Caller::AdminToken { app: own, .. }
            | Caller::Master { app: own, .. }
            | Caller::ApiToken { app: own, .. } => own,
        };
        if own != app && !self.is_platform_admin() {
            return Err(ApiError::Forbidden("these credentials belong to another application".into()));
        }
        Ok(self)
    }
}

/// The server's state, as the extractors need it.
fn app_state(req: &HttpRequest) -> Result<Arc<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .map(|data| data.clone().into_inner())
        .ok_or_else(|| ApiError::Internal("the application state is missing".into()))
}

/// An authenticated caller acting on the path's `{app}`: the extractor every admin
/// handler takes, so that authentication comes before the body is even read.
pub struct AppAdmin {
    pub state: Arc<AppState>,
    pub app: String,
    pub caller: Caller,
}

impl actix_web::FromRequest for AppAdmin {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<AppAdmin, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let app = req
                .match_info()
                .get("app")
                .ok_or_else(|| ApiError::NotFound("no application in the path".into()))?
                .to_owned();
            // Ids and names in the path are identifiers: a control character (a NUL
            // above all, which Postgres cannot even compare) is a bad request.
            if let Some((name, _)) = req.match_info().iter().find(|(_, v)| v.chars().any(char::is_control)) {
                return Err(ApiError::BadRequest(format!(
                    "the path's `{name}` contains a control character"
                )));
            }
            let caller = caller(&state, &req, &app).await?;
            req.extensions_mut().insert(AuditActor(caller.actor()));
            Ok(AppAdmin { state, app, caller })
        })
    }
}

/// A platform administrator (see `Caller::is_platform_admin`), for the calls that
/// are about all applications.
pub struct PlatformAdmin {
    pub state: Arc<AppState>,
}

impl actix_web::FromRequest for PlatformAdmin {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<PlatformAdmin, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let caller = caller(&state, &req, DEFAULT_APP).await?;
            if !caller.is_platform_admin() {
                return Err(ApiError::Forbidden(
                    "only an admin access token of the default application manages all applications".into(),
                ));
            }
            req.extensions_mut().insert(AuditActor(caller.actor()));
            Ok(PlatformAdmin { state })
        })
    }
}

/// Authenticates the caller from `Authorization: Bearer <t>` or `Token <t>`, and
/// checks it may act on `app`.
pub async fn caller(state: &Arc<AppState>, req: &HttpRequest, app: &str) -> Result<Caller, ApiError> {
    let token = bearer_or_token(req)?.ok_or_else(|| {
        ApiError::Unauthenticated("send Authorization: Bearer <token> or Token <token>".into())
    })?;
    let refused = || ApiError::Unauthenticated("the token is not valid, expired or revoked".into());
    let principal = authenticate(state, token).await?.ok_or_else(refused)?;
    let now = state.clock.now();
    let caller = match principal.kind {
        PrincipalKind::Access if principal.scope.has_admin() => {
            Caller::AdminToken { app: principal.app, user: principal.sub.unwrap_or_default() }
        }
        PrincipalKind::Access => {
            return Err(ApiError::Forbidden("the access token lacks the admin scope".into()))
        }
        PrincipalKind::Opaque(kind) => {
            let allowed = match kind.policy().admin_api {
                AdminAccess::Always => true,
                AdminAccess::WithAdminScope => principal.scope.has_admin(),
                AdminAccess::Never => false,
            };
            if !allowed {
                return Err(ApiError::Forbidden(format!(
                    "a {} token cannot use the admin API; use the application's master token \
                     or an API token of an administrator",
                    kind.name()
                )));
            }
            if let Some(id) = &principal.token_id {
                state.token_use.record(id, now);
            }
            match kind {
                TokenKind::Master => Caller::Master {
                    app: principal.app,
                    token_hash: crate::tokens::secret::hash(token.as_bytes()),
                },
                TokenKind::Api | TokenKind::Mobile | TokenKind::Install | TokenKind::Refresh => {
                    Caller::ApiToken { app: principal.app, user: principal.sub.unwrap_or_default() }
                }
                TokenKind::EndpointPrimary | TokenKind::EndpointSecondary => {
                    return Err(ApiError::Forbidden("an endpoint token opens endpoints only".into()))
                }
            }
        }
    };
    caller.for_app(app)
}

/// The token of `Authorization: Bearer <t>` or `Token <t>`; `None` without the
/// header, an error for another scheme.
pub fn bearer_or_token(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("the Authorization header is not valid text".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthenticated("the Authorization scheme must be Bearer or Token".into())),
    }
}

/// RFC 3339 in UTC, as every time in the admin API's JSON.
pub fn rfc3339(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Parses an RFC 3339 time into unix seconds.
pub fn parse_rfc3339(field: &str, text: &str) -> Result<i64, ApiError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.timestamp()).map_err(|_| {
        ApiError::BadRequest(format!("{field} must be an RFC 3339 time, such as 2027-01-31T12:00:00Z"))
    })
}

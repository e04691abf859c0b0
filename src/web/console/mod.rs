//! The admin console under `/console`: server-rendered pages (askama) over the
//! same domain and store calls the admin API makes. It signs administrators in
//! as an OAuth client of this server (`signin`), then keeps its own session.
//!
//! Invariants: every page is `no-store` and cannot be framed; every form posts
//! the session's CSRF token, checked before anything changes; a destructive
//! form needs its `confirm` box; a secret appears only in the answer to the
//! POST that made or revealed it, never in a URL; every change is in the audit
//! log; a session manages its own application, a session of the `default`
//! application every application.

mod clients;
mod endpoints;
mod pages;
mod people;
mod signin;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use super::page_builder;
use crate::config::Environment;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::console::ConsoleSession;
use crate::tokens::secret;
use crate::AppState;

const COOKIE: &str = "tessera_console";
const SCRIPT: &str = include_str!("../../../static/console.js");

/// Registers every console page from one table, which `ROUTES` also lists, so
/// that the tenancy test walks every page.
macro_rules! console_routes {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every (method, path) the console serves.
        pub const ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), concat!("/console", $path)) ),* ];

        fn register(scope: actix_web::Scope) -> actix_web::Scope {
            scope $( .route($path, web::$method().to($handler)) )*
        }
    };
}

console_routes! {
    get "/static/console.js" => get_script,
    get "" => pages::home,
    get "/signin" => signin::start,
    get "/callback" => signin::callback,
    post "/signout" => signin::sign_out,
    get "/apps/{app}" => pages::overview,
    post "/apps/{app}/master-token/rotate" => pages::rotate_master,
    get "/apps/{app}/api-tokens" => pages::api_tokens,
    post "/apps/{app}/api-tokens" => pages::create_api_token,
    post "/apps/{app}/api-tokens/delete" => pages::delete_api_tokens,
    get "/apps/{app}/api-tokens/{id}" => pages::api_token,
    post "/apps/{app}/api-tokens/{id}/reveal" => pages::reveal_api_token,
    get "/apps/{app}/mobile-tokens" => pages::mobile_tokens,
    post "/apps/{app}/mobile-tokens" => pages::create_mobile_token,
    post "/apps/{app}/mobile-tokens/{id}/rename" => pages::rename_mobile_token,
    post "/apps/{app}/mobile-tokens/{id}/toggle" => pages::toggle_mobile_token,
    post "/apps/{app}/mobile-tokens/{id}/delete" => pages::delete_mobile_token,
    get "/apps/{app}/mobile-sessions" => pages::mobile_sessions,
    post "/apps/{app}/mobile-sessions/delete" => pages::revoke_mobile_sessions,
    get "/apps/{app}/mobile-sessions/{id}" => pages::mobile_session,
    get "/apps/{app}/audit" => pages::audit_log,
    get "/apps/{app}/users" => people::users,
    post "/apps/{app}/users" => people::create_user,
    post "/apps/{app}/users/{id}/toggle" => people::toggle_user,
    post "/apps/{app}/users/{id}/delete" => people::delete_user,
    get "/apps/{app}/user-types" => people::user_types,
    post "/apps/{app}/user-types" => people::define_user_type,
    post "/apps/{app}/user-types/{name}/delete" => people::delete_user_type,
    post "/apps/{app}/departments" => people::add_department,
    post "/apps/{app}/departments/{name}/delete" => people::delete_department,
    get "/apps/{app}/clients" => clients::list,
    post "/apps/{app}/clients" => clients::register,
    get "/apps/{app}/clients/{id}" => clients::show,
    post "/apps/{app}/clients/{id}" => clients::change,
    post "/apps/{app}/clients/{id}/secret/rotate" => clients::rotate_secret,
    post "/apps/{app}/clients/{id}/delete" => clients::delete,
    get "/apps/{app}/endpoints" => endpoints::list,
    post "/apps/{app}/endpoints" => endpoints::create,
    get "/apps/{app}/endpoints/{id}" => endpoints::show,
    post "/apps/{app}/endpoints/{id}/delete" => endpoints::delete,
    get "/apps/{app}/endpoints/{id}/calls" => endpoints::calls,
    post "/apps/{app}/endpoints/{id}/primary-tokens/{method}/reveal" => endpoints::reveal_primary,
    post "/apps/{app}/endpoints/{id}/primary-tokens/{method}/regenerate" => endpoints::regenerate_primary,
    post "/apps/{app}/endpoints/{id}/assignments/{token}" => endpoints::assign,
    post "/apps/{app}/endpoints/{id}/assignments/{token}/toggle" => endpoints::toggle_assignment,
    get "/apps/{app}/endpoint-tokens" => endpoints::tokens,
    post "/apps/{app}/endpoint-tokens" => endpoints::create_token,
    post "/apps/{app}/endpoint-tokens/{id}/toggle" => endpoints::toggle_token,
    post "/apps/{app}/endpoint-tokens/{id}/reveal" => endpoints::reveal_token,
    post "/apps/{app}/endpoint-tokens/{id}/delete" => endpoints::delete_token,
    post "/apps/{app}/endpoint-tokens/{id}/regenerate" => endpoints::regenerate_token,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/console.js", web::get().to(get_script));
    cfg.service(
        register(web::scope("/console"))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ConsoleError::NotFound("no console page here".into()))
            }))
            .wrap(actix_web::middleware::from_fn(after_changes)),
    );
}

/// A change made through the console (a form that succeeded: 2xx or a 303 to
/// the next page) takes effect on this instance before the next page
/// (`AppState::changed`), as the admin API's changes do.
async fn after_changes(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let posted = req.method() == actix_web::http::Method::POST;
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    let status = res.status();
    if posted && (status.is_success() || status == StatusCode::SEE_OTHER) {
        if let Some(state) = state {
            state.changed().await;
        }
    }
    Ok(res)
}

async fn get_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}

/// What can go wrong on a console page, each answered as a page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: to the sign-in.
    #[error("sign in first")]
    SignIn,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message) = match self {
            ConsoleError::SignIn => {
                return page_builder(StatusCode::SEE_OTHER)
                    .insert_header((header::LOCATION, "/console/signin"))
                    .finish()
            }
            ConsoleError::Forbidden(m) => ("Not allowed", m.clone()),
            ConsoleError::NotFound(m) => ("Not found", m.clone()),
            ConsoleError::BadRequest(m) => ("That did not work", m.clone()),
            ConsoleError::Internal(cause) => {
                tracing::error!(cause = %cause, "console request failed");
                ("Something went wrong", "The server could not complete this; try again.".to_owned())
            }
        };
        message_page(self.status_code(), title, &message, None)
    }
}

impl From<crate::store::StoreError> for ConsoleError {
    fn from(e: crate::store::StoreError) -> Self {
        ConsoleError::Internal(e.to_string())
    }
}

impl From<crate::domain::DomainError> for ConsoleError {
    fn from(e: crate::domain::DomainError) -> Self {
        use crate::domain::DomainError;
        match e {
            DomainError::Invalid(m) | DomainError::Unprocessable(m) | DomainError::Conflict(m) => {
                ConsoleError::BadRequest(m)
            }
            DomainError::NotFound(what) => ConsoleError::NotFound(format!("{what} not found")),
            other => ConsoleError::Internal(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    signin: Option<&'a str>,
}

/// A stand-alone page (errors, sign-in problems, signed out).
fn message_page(status: StatusCode, title: &str, message: &str, signin: Option<&str>) -> HttpResponse {
    html(status, &MessagePage { title, message, signin })
}

/// Renders a console page with the console's headers: the pages' own, plus the
/// console's script.
fn html(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(body) => page_builder(status)
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; \
                     form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            ))
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => ConsoleError::Internal(format!("rendering failed: {e}")).error_response(),
    }
}

/// What the layout shows around every page.
pub struct Nav {
    pub app: Option<String>,
    pub username: String,
    pub csrf: String,
    pub platform: bool,
    pub section: &'static str,
    pub notice: Option<String>,
}

/// A signed-in administrator on a console page.
pub struct Console {
    pub state: Arc<AppState>,
    pub session: ConsoleSession,
    id_hash: [u8; 32],
    request_id: String,
}

impl FromRequest for Console {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Console, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .map(|d| d.clone().into_inner())
                .ok_or_else(|| ConsoleError::Internal("the application state is missing".into()))?;
            let cookie = req.cookie(COOKIE).ok_or(ConsoleError::SignIn)?;
            let id_hash = secret::hash(cookie.value().as_bytes());
            let idle = state.config.web.console_idle_timeout as i64;
            let session = state
                .store
                .touch_console_session(&id_hash, state.clock.now(), idle)
                .await?
                .ok_or(ConsoleError::SignIn)?;
            let request_id =
                req.extensions().get::<crate::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
            Ok(Console { state, session, id_hash, request_id })
        })
    }
}

use actix_web::HttpMessage as _;

impl Console {
    /// The layout for a page of `app` (or of no application).
    pub fn nav(&self, app: Option<&str>, section: &'static str) -> Nav {
        Nav {
            app: app.map(str::to_owned),
            username: self.session.username.clone(),
            csrf: self.session.csrf_token.clone(),
            platform: self.session.platform_admin,
            section,
            notice: None,
        }
    }

    /// Checks the session may manage `app`.
    pub fn manage(&self, app: &str) -> Result<(), ConsoleError> {
        if self.session.manages(app) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(format!(
                "you administer application {}, not {app}",
                self.session.app_id
            )))
        }
    }

    /// Checks a posted form's CSRF token; nothing changes without it.
    pub fn check(&self, form: &Form) -> Result<(), ConsoleError> {
        let presented = form.get("csrf_token").unwrap_or_default();
        if !secret::constant_time_eq(presented.as_bytes(), self.session.csrf_token.as_bytes()) {
            return Err(ConsoleError::Forbidden(
                "this form is stale or did not come from the console; open the page again".into(),
            ));
        }
        Ok(())
    }

    /// Checks a destructive form's `confirm` box was ticked.
    pub fn confirmed(form: &Form) -> Result<(), ConsoleError> {
        if form.get("confirm") != Some("yes") {
            return Err(ConsoleError::BadRequest("tick the confirmation box to go ahead".into()));
        }
        Ok(())
    }

    /// Records a change made through the console in the audit log.
    pub async fn audit(&self, app: &str, action: &str, target: &str) {
        let entry = AuditEntry {
            app_id: app.to_owned(),
            at: self.state.clock.now(),
            actor: format!("console: {} ({})", self.session.username, self.session.user_id),
            action: format!("console: {action}"),
            target: target.to_owned(),
            request_id: self.request_id.clone(),
        };
        if let Err(e) = audit::record(&self.state.store, &entry).await {
            tracing::error!(error = %e, "cannot write the audit log");
        }
    }
}

/// A form posted to a page of the path's `{app}`: the session may manage that
/// application, it exists, and the form carries the session's CSRF token, all
/// checked before the handler runs.
pub struct AppPost {
    pub console: Console,
    pub app: String,
    pub form: Form,
}

impl FromRequest for AppPost {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<AppPost, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let console = Console::from_request(req, payload);
        let form = Form::from_request(req, payload);
        let app = req.match_info().get("app").map(str::to_owned);
        Box::pin(async move {
            let console = console.await?;
            let form = form.await?;
            console.check(&form)?;
            let app = app.ok_or_else(|| ConsoleError::NotFound("no application in the path".into()))?;
            console.manage(&app)?;
            if console.state.store.get_app(&app).await?.is_none() {
                return Err(ConsoleError::NotFound(format!("application {app} not found")));
            }
            Ok(AppPost { console, app, form })
        })
    }
}

/// A page of the path's `{app}`: the session may manage that application, and
/// it exists; checked before the handler runs.
pub struct AppPage {
    pub console: Console,
    pub app: String,
    /// The application's name.
    pub name: String,
}

impl FromRequest for AppPage {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<AppPage, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let console = Console::from_request(req, payload);
        let app = req.match_info().get("app").map(str::to_owned);
        Box::pin(async move {
            let console = console.await?;
            let app = app.ok_or_else(|| ConsoleError::NotFound("no application in the path".into()))?;
            console.manage(&app)?;
            let found = console.state.store.get_app(&app).await?;
            let name = found
                .map(|a| a.name)
                .ok_or_else(|| ConsoleError::NotFound(format!("application {app} not found")))?;
            Ok(AppPage { console, app, name })
        })
    }
}

/// A posted form, names possibly repeated (`ids`).
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A field's trimmed text, `None` when empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }
}

impl FromRequest for Form {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Form, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body =
                bytes.await.map_err(|e| ConsoleError::BadRequest(format!("the form did not arrive: {e}")))?;
            let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
            if fields.iter().any(|(n, v)| n.chars().any(char::is_control) || v.chars().any(char::is_control))
            {
                return Err(ConsoleError::BadRequest("the form holds a control character".into()));
            }
            Ok(Form(fields))
        })
    }
}

/// The console's session cookie: HttpOnly, SameSite=Strict, only for `/console`,
/// Secure outside development.
fn session_cookie(state: &AppState, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.environment != Environment::Development)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

/// 303 to `location` (after a POST, so a reload does not post again).
fn see_other(location: &str) -> HttpResponse {
    page_builder(StatusCode::SEE_OTHER).insert_header((header::LOCATION, location.to_owned())).finish()
}

/// Page links for a list: previous and next, keeping the search.
fn pager(base: &str, q: &str, offset: i64, limit: i64, total: i64) -> String {
    let q = url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>();
    let base: String = base
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let mut links = Vec::new();
    if offset > 0 {
        links.push(format!(
            "<a href=\"{base}?q={q}&amp;offset={}\">Previous page</a>",
            (offset - limit).max(0)
        ));
    }
    if offset + limit < total {
        links.push(format!("<a href=\"{base}?q={q}&amp;offset={}\">Next page</a>", offset + limit));
    }
    if links.is_empty() {
        return String::new();
    }
    format!("<nav class=\"pager\" aria-label=\"Pages\">{}</nav>", links.join(" "))
}

//! HTML pages of the browser flows (login, consent, errors), their security
//! headers, the stylesheet, and browser sessions with CSRF tokens.
//!
//! Invariants: every page is `no-store`, cannot be framed (`X-Frame-Options: DENY`,
//! CSP `frame-ancestors 'none'`), loads nothing but `/static/`; every form carries
//! the session's CSRF token.

pub mod brand;
pub mod console;
pub mod session;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage as _, HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;

pub use brand::Brand;

use crate::domain::scope::{ScopeModel, ScopeSet, ACTIONS};

const STYLESHEET: &str = include_str!("../../static/tessera.css");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/tessera.css", web::get().to(get_stylesheet));
    brand::routes(cfg);
    console::routes(cfg);
}

async fn get_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub brand: &'a Brand,
    pub action: &'a str,
    /// The id of the authorization request this page answers.
    pub interaction: &'a str,
    pub client_name: &'a str,
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub message: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub brand: &'a Brand,
    pub action: &'a str,
    pub interaction: &'a str,
    pub client_name: &'a str,
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub scopes: ScopeLines,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub brand: &'a Brand,
    pub title: &'a str,
    pub message: &'a str,
    /// What went wrong in the protocol's words, for the application's developers.
    pub detail: Option<&'a str>,
    /// The request's id, to quote to support.
    pub request_id: &'a str,
}

/// The id the request context gave `req`.
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions().get::<crate::RequestId>().map(|r| r.0.clone()).unwrap_or_default()
}

/// A response builder with the headers every page carries.
pub fn page_builder(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ));
    builder
}

/// Renders `template` as a page with `status`.
pub fn render(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(html) => page_builder(status).content_type("text/html; charset=utf-8").body(html),
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            page_builder(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .body("the page could not be shown")
        }
    }
}

/// An error page in tessera's brand.
pub fn error_page(req: &HttpRequest, status: StatusCode, title: &str, message: &str) -> HttpResponse {
    branded_error_page(req, &Brand::tessera(), status, title, message, None)
}

/// An error page in an application's brand, with an optional detail for its developers.
pub fn branded_error_page(
    req: &HttpRequest,
    brand: &Brand,
    status: StatusCode,
    title: &str,
    message: &str,
    detail: Option<&str>,
) -> HttpResponse {
    let request_id = request_id(req);
    render(status, &ErrorPage { brand, title, message, detail, request_id: &request_id })
}

/// The scopes of a grant in plain words: what it lets the application see,
/// and apart from it what it lets it change (write, delete, administer).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScopeLines {
    pub reads: Vec<String>,
    pub writes: Vec<String>,
}

/// The scopes of `set` in plain words, one line per action and identity scope.
pub fn describe_scopes(model: &ScopeModel, set: ScopeSet) -> ScopeLines {
    let mut lines = ScopeLines::default();
    if set.has_openid() {
        lines.reads.push("Know who you are when you sign in".to_owned());
    }
    if set.has_profile() {
        lines.reads.push("See your username".to_owned());
    }
    if set.has_email() {
        lines.reads.push("See your email address".to_owned());
    }
    let mut by_action: Vec<Vec<String>> = vec![Vec::new(); ACTIONS.len()];
    for scope in model.format(set).split(' ').filter(|s| !s.is_empty()) {
        if let Some((object, action)) = scope.split_once(':') {
            if let Some(i) = ACTIONS.iter().position(|a| *a == action) {
                by_action[i].push(object.to_owned());
            }
        }
    }
    if !by_action[1].is_empty() {
        lines.reads.push(format!("See your {}", join_words(&by_action[1])));
    }
    for (i, verb) in [(0, "Add"), (2, "Change"), (3, "Delete")] {
        if !by_action[i].is_empty() {
            lines.writes.push(format!("{verb} your {}", join_words(&by_action[i])));
        }
    }
    if set.has_admin() {
        lines.writes.push("Manage applications, clients, users and tokens (administrator access)".to_owned());
    }
    lines
}

fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScopesConfig;

    #[test]
    fn scopes_read_as_plain_sentences() {
        let model = ScopeModel::new(&ScopesConfig {
            core_objects: vec!["places".into(), "geofences".into()],
            streams: vec!["positions".into()],
        })
        .unwrap();
        let lines = describe_scopes(&model, model.parse("mobile admin openid email").unwrap());
        assert_eq!(
            lines.reads,
            vec![
                "Know who you are when you sign in",
                "See your email address",
                "See your places, geofences and positions",
            ]
        );
        assert_eq!(
            lines.writes,
            vec![
                "Add your positions",
                "Change your positions",
                "Manage applications, clients, users and tokens (administrator access)",
            ]
        );
    }
}

//! An application's brand on the sign-in pages: its display name, its logo and
//! its accent colour, served by tessera itself (`/branding/{app}/...`) so that
//! the pages load nothing from elsewhere.
//!
//! Invariants: a logo is only ever served with the type it was checked to be,
//! `nosniff` and a CSP that runs nothing; the accent colour reaches the pages as
//! a stylesheet, never inline, so the pages' CSP stays `style-src 'self'`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::apps::Application;
use crate::AppState;

/// What a page shows at its top and how it is coloured.
#[derive(Clone, Debug)]
pub struct Brand {
    pub name: String,
    /// The logo's address, when the application has one.
    pub logo: Option<String>,
    /// The application's colour stylesheet, when it has an accent colour.
    pub theme: Option<String>,
}

impl Brand {
    /// tessera's own, for pages that belong to no application (yet).
    pub fn tessera() -> Brand {
        Brand { name: "tessera".to_owned(), logo: None, theme: None }
    }

    pub fn of(app: &Application) -> Brand {
        Brand {
            name: app.shown_name().to_owned(),
            logo: app.logo.as_ref().map(|digest| logo_path(&app.id, digest)),
            theme: app
                .accent_colour
                .as_ref()
                .map(|colour| format!("/branding/{}/theme.css?v={}", app.id, colour.trim_start_matches('#'))),
        }
    }

    /// The brand of application `app_id`, or tessera's when it cannot be read.
    pub async fn load(state: &AppState, app_id: &str) -> Brand {
        match state.store.get_app(app_id).await {
            Ok(Some(app)) => Brand::of(&app),
            Ok(None) => Brand::tessera(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the application's brand");
                Brand::tessera()
            }
        }
    }
}

/// Where application `app_id`'s logo is served; the digest makes each new
/// image a new address, so it can be cached for long.
pub fn logo_path(app_id: &str, digest: &str) -> String {
    format!("/branding/{app_id}/logo?v={digest}")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/branding/{app}/logo", web::get().to(get_logo))
        .route("/branding/{app}/theme.css", web::get().to(get_theme));
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("not found")
}

/// `GET /branding/{app}/logo`.
async fn get_logo(state: web::Data<AppState>, path: web::Path<String>, req: HttpRequest) -> HttpResponse {
    let logo = match state.store.get_logo(&path).await {
        Ok(Some(logo)) => logo,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a logo");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let etag = format!("\"{}\"", logo.digest);
    let fresh = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut response = HttpResponse::build(if fresh { StatusCode::NOT_MODIFIED } else { StatusCode::OK });
    response
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ))
        .insert_header((header::ETAG, etag));
    if fresh {
        return response.finish();
    }
    response.content_type(logo.content_type).body(logo.image)
}

/// `GET /branding/{app}/theme.css`: the accent colour as CSS custom properties.
async fn get_theme(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let colour = match state.store.get_app(&path).await {
        Ok(Some(app)) => app.accent_colour,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read an application's colour");
            return HttpResponse::InternalServerError().finish();
        }
    };
    // The colour was checked to be `#rrggbb` when it was set.
    let css = match colour {
        Some(colour) => format!(":root {{ --accent: {colour}; }}\n"),
        None => String::new(),
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .content_type("text/css; charset=utf-8")
        .body(css)
}

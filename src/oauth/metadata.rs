//! Authorization server metadata (RFC 8414), served at both well-known paths, and
//! the JWKS it names. Both documents are built once at start.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::config::Config;
use crate::oauth::scope::ScopeModel;
use crate::AppState;

/// The metadata document for what this server offers.
pub fn document(config: &Config, scopes: &ScopeModel) -> serde_json::Value {
    let issuer = &config.issuer;
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "scopes_supported": scopes.supported(),
        // No authorization endpoint is served yet, so no response type is supported.
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })
}

/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`.
pub async fn get_metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .content_type("application/json")
        .body(state.metadata.clone())
}

/// `GET /.well-known/jwks.json`.
pub async fn get_jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .content_type("application/jwk-set+json")
        .body(state.jwks.clone())
}

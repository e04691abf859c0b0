//! Authorization server metadata (RFC 8414), served at both well-known paths, and
//! the JWKS it names. Both documents are built once at start.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::config::Config;
use crate::domain::scope::ScopeModel;
use crate::AppState;

/// The metadata document for what this server offers.
pub fn document(config: &Config, scopes: &ScopeModel) -> serde_json::Value {
    let issuer = &config.issuer;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "scopes_supported": scopes.supported(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ],
        // `none`: public and mobile clients, which prove themselves with PKCE.
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": format!("{issuer}/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint": format!("{issuer}/revoke"),
        // `none`: public and mobile clients revoke their own tokens (RFC 7009 §2.1).
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "authorization_response_iss_parameter_supported": true,
        // OpenID Connect Discovery 1.0 §3 and RP-Initiated Logout 1.0 §2.1.
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp",
            "email", "email_verified", "preferred_username", "name",
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`.
pub async fn get_metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .content_type("application/json")
        .body(state.metadata.clone())
}

/// `GET /statuslists/{id}`: a token status list (draft-ietf-oauth-status-list
/// §8), signed, from memory; verifiers may keep it for its `ttl`.
pub async fn get_status_list(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Ok(list_id) = path.parse::<i64>() else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such status list");
    };
    let signer = state.signer.current();
    match state.status.get(&state.store, &state.config, &signer, list_id, state.clock.now()).await {
        Ok(Some(list)) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", list.ttl)))
            .content_type("application/statuslist+jwt")
            .body(list.jwt),
        Ok(None) => {
            HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("no such status list")
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot sign the status lists");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// `GET /.well-known/jwks.json`.
pub async fn get_jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .content_type("application/jwk-set+json")
        .body(state.signer.current().keys().jwks_bytes())
}

//! Forward auth for gateways (nginx `auth_request`, Traefik `ForwardAuth`, Envoy
//! `ext_authz` over HTTP): `GET /v1/auth/check` says whether the original
//! request's credential is good, and hands the gateway identity headers for the
//! upstream, so that a resource server needs no OAuth code at all.
//!
//! Invariants: it answers only for applications that turned it on; it writes
//! nothing on the request path (uses are gathered in memory); a token in the
//! original URI's query never reaches a log line (only the path is logged).

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use super::bearer_or_token;
use super::error::ApiError;
use crate::oauth::inspect::{authenticate, Principal};
use crate::tokens::secret;
use crate::AppState;

const REQUIRE_SCOPE: &str = "x-tessera-require-scope";
const INSTALL_ID: &str = "x-tessera-install-id";

/// The credential of the original request: the Authorization header, or for
/// kinds that may travel in a query (install tokens) `token` and `installid`
/// of the original URI.
struct Presented {
    token: String,
    from_query: bool,
    install_id: Option<String>,
}

fn original_query(req: &HttpRequest) -> Vec<(String, String)> {
    let uri = ["x-forwarded-uri", "x-original-uri"]
        .iter()
        .find_map(|name| req.headers().get(*name).and_then(|v| v.to_str().ok()));
    let Some(uri) = uri else {
        return Vec::new();
    };
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn presented(req: &HttpRequest) -> Result<Option<Presented>, ApiError> {
    let query = original_query(req);
    let from_query = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let install_id = req
        .headers()
        .get(INSTALL_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| from_query("installid"));
    if let Some(token) = bearer_or_token(req)? {
        return Ok(Some(Presented { token: token.to_owned(), from_query: false, install_id }));
    }
    Ok(from_query("token").map(|token| Presented { token, from_query: true, install_id }))
}

fn unauthorized(why: &str) -> HttpResponse {
    let challenge = format!("Bearer realm=\"tessera\", error=\"invalid_token\", error_description=\"{why}\"");
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `GET /v1/auth/check`.
pub async fn check(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(presented) = presented(&req)? else {
        return Ok(unauthorized("no credential"));
    };
    let Some(principal) = authenticate(&state, &presented.token).await? else {
        return Ok(unauthorized("the token is not valid, expired or revoked"));
    };
    let policy = principal.kind.policy();
    if policy.is_some_and(|p| !p.forward_auth) {
        return Ok(unauthorized("this kind of token is not accepted here"));
    }
    if presented.from_query && !policy.is_some_and(|p| p.query_parameter) {
        // Only install tokens may travel in a query; anything else there is ignored.
        return Ok(unauthorized("no credential"));
    }
    if let Some(bound) = &principal.install_id {
        let matches = presented.install_id.as_deref().is_some_and(|sent| {
            sent.len() == bound.len() && secret::constant_time_eq(sent.as_bytes(), bound.as_bytes())
        });
        if !matches {
            return Ok(unauthorized("an install token is valid only with its own installid"));
        }
    }
    if !state.tokens.forward_auth(&state.store, &principal.app).await? {
        return Ok(unauthorized("forward auth is not enabled for this token's application"));
    }
    if let Some(required) = req.headers().get(REQUIRE_SCOPE) {
        let required = required.to_str().ok().and_then(|r| state.scopes.parse(r).ok()).ok_or_else(|| {
            ApiError::BadRequest(format!("{REQUIRE_SCOPE} names scopes this server does not know"))
        })?;
        if !principal.scope.contains(required) {
            let challenge = format!(
                "Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"{}\"",
                state.scopes.format(required)
            );
            return Ok(HttpResponse::Forbidden()
                .insert_header((header::WWW_AUTHENTICATE, challenge))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish());
        }
    }
    if let Some(id) = &principal.token_id {
        state.token_use.record(id, state.clock.now());
    }
    Ok(allowed(&state, &principal))
}

fn allowed(state: &AppState, principal: &Principal) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    let subject = principal.sub.as_deref().or(principal.token_id.as_deref()).unwrap_or_default();
    let scope = state.scopes.format(principal.scope);
    let headers = [
        ("x-tessera-app", Some(principal.app.as_str())),
        ("x-tessera-token-kind", Some(principal.kind.name())),
        ("x-tessera-subject", Some(subject)),
        ("x-tessera-scope", Some(scope.as_str())),
        ("x-tessera-department", principal.department.as_deref()),
        ("x-tessera-user-type", principal.user_type.as_deref()),
        ("x-tessera-install-id", principal.install_id.as_deref()),
    ];
    for (name, value) in headers {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            res.insert_header((HeaderName::from_static(name), value));
        }
    }
    res.finish()
}

//! OpenID Connect Core 1.0 on top of the code flow: the ID token, the userinfo
//! endpoint, and RP-initiated logout 1.0 (`end_session_endpoint`).
//!
//! Invariants: an ID token is issued only for a grant that holds `openid`, with
//! `aud` = the client and `at_hash` binding it to its access token; identity
//! claims follow the granted `email` and `profile` scopes; logout never
//! redirects to a URI the client did not register for it, exactly.

use std::sync::Arc;

use actix_web::cookie::Cookie;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::inspect::{authenticate, PrincipalKind};
use super::request::FormRequest;
use crate::domain::scope::ScopeSet;
use crate::domain::users::User;
use crate::tokens::jwt::JwtError;
use crate::tokens::secret;
use crate::web::session::{self, BrowserSession};
use crate::web::{branded_error_page, render, Brand};
use crate::AppState;

/// What the ID token and userinfo say about the person, by granted scope.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdentityClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// tessera does not verify addresses; administrators enter them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// The person's displayable name: their username, the name tessera knows them by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl IdentityClaims {
    pub fn of(user: &User, granted: ScopeSet) -> IdentityClaims {
        let mut claims = IdentityClaims::default();
        if granted.has_email() {
            if let Some(email) = &user.email {
                claims.email = Some(email.clone());
                claims.email_verified = Some(false);
            }
        }
        if granted.has_profile() {
            claims.preferred_username = Some(user.username.clone());
            claims.name = Some(user.username.clone());
        }
        claims
    }
}

/// An ID token's claims (OpenID Connect Core §2, §3.1.3.6).
#[derive(Debug, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The client the token was issued to (Core §2, one audience).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    #[serde(flatten)]
    pub identity: IdentityClaims,
}

/// What the code remembered of the sign-in.
pub struct SignInFacts<'a> {
    pub nonce: Option<&'a str>,
    pub auth_time: Option<i64>,
}

/// Signs the ID token for `user`'s sign-in to `client_id`, bound to `access_token`.
pub fn mint_id_token(
    state: &AppState,
    user: &User,
    client_id: &str,
    granted: ScopeSet,
    access_token: &str,
    facts: SignInFacts<'_>,
) -> Result<String, JwtError> {
    let now = state.clock.now();
    let claims = IdTokenClaims {
        iss: state.config.issuer.clone(),
        sub: user.id.clone(),
        aud: client_id.to_owned(),
        exp: now + state.config.tokens.access_token_ttl as i64,
        iat: now,
        auth_time: facts.auth_time,
        nonce: facts.nonce.map(str::to_owned),
        at_hash: Some(at_hash(access_token)),
        azp: Some(client_id.to_owned()),
        identity: IdentityClaims::of(user, granted),
    };
    state.signer.current().sign_id_token(&claims)
}

/// Core §3.1.3.6: base64url of the left half of the SHA-256 of the token (ES256).
fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&secret::hash(access_token.as_bytes())[..16])
}

/// `GET` and `POST /userinfo` (Core §5.3): the person an access token with
/// `openid` stands for.
pub async fn userinfo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(token) = bearer(&req) else {
        return bearer_error(StatusCode::UNAUTHORIZED, None, "send the access token as a Bearer token");
    };
    let principal = match authenticate(&state, token).await {
        Ok(Some(p)) if p.kind == PrincipalKind::Access => p,
        Ok(_) => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the access token is not valid, expired or revoked",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "userinfo: token check failed");
            return HttpResponse::InternalServerError().finish();
        }
    };
    if !principal.scope.has_openid() {
        return bearer_error(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the token lacks the openid scope",
        );
    }
    let user = match principal.sub.as_deref() {
        Some(sub) => state.store.get_user(&principal.app, sub).await,
        None => Ok(None),
    };
    let user = match user {
        Ok(Some(user)) if user.enabled => user,
        Ok(_) => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the token's person no longer exists",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "userinfo: user lookup failed");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut body =
        serde_json::to_value(IdentityClaims::of(&user, principal.scope)).unwrap_or_else(|_| json!({}));
    body["sub"] = json!(user.id);
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store"))).json(body)
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// RFC 6750 §3: the challenge says what was wrong.
fn bearer_error(status: StatusCode, code: Option<&str>, description: &str) -> HttpResponse {
    let challenge = match code {
        Some(code) => format!("Bearer error=\"{code}\", error_description=\"{description}\""),
        None => "Bearer".to_owned(),
    };
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.insert_header((header::WWW_AUTHENTICATE, value));
    }
    match code {
        Some(code) => response.json(json!({ "error": code, "error_description": description })),
        None => response.finish(),
    }
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    brand: &'a Brand,
    csrf_token: &'a str,
    client_id: Option<&'a str>,
    post_logout_redirect_uri: Option<&'a str>,
    state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage<'a> {
    brand: &'a Brand,
}

/// The claims of an ID token hint that logout reads.
#[derive(Deserialize)]
struct HintClaims {
    sub: String,
    aud: serde_json::Value,
}

impl HintClaims {
    fn audience(&self) -> Option<&str> {
        match &self.aud {
            serde_json::Value::String(one) => Some(one),
            serde_json::Value::Array(many) if many.len() == 1 => many[0].as_str(),
            _ => None,
        }
    }
}

/// `GET` and `POST /logout` (RP-Initiated Logout 1.0 §2, §3): with a valid
/// `id_token_hint` the person's session ends at once and the browser goes back
/// to the registered `post_logout_redirect_uri`; without one, a page asks them
/// to confirm (a form with the CSRF token).
pub async fn end_session(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let state = state.into_inner();
    match handle_logout(&state, &req, payload).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "logout failed");
            crate::web::error_page(
                &req,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "We could not sign you out. Please try again in a moment.",
            )
        }
    }
}

async fn handle_logout(
    state: &Arc<AppState>,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, String> {
    let params = if req.method() == Method::POST {
        FormRequest::read_body(req, payload, state.config.server.max_body_bytes).await
    } else {
        FormRequest::parse(req.query_string().as_bytes())
    };
    let params = match params {
        Ok(params) => params,
        Err(e) => return Ok(broken_link(req, &Brand::tessera(), &e.to_string())),
    };
    // The hint names the person and the client; an explicit client_id must agree.
    let hint = match params.get("id_token_hint") {
        Some(token) => match state.signer.current().verify_id_token_hint::<HintClaims>(token) {
            Ok(claims) => Some(claims),
            Err(e) => {
                return Ok(broken_link(req, &Brand::tessera(), &format!("id_token_hint is not valid: {e}")))
            }
        },
        None => None,
    };
    let hinted_client = hint.as_ref().and_then(HintClaims::audience);
    let client_id = match (params.get("client_id"), hinted_client) {
        (Some(given), Some(hinted)) if given != hinted => {
            return Ok(broken_link(req, &Brand::tessera(), "client_id is not the audience of id_token_hint"))
        }
        (given, hinted) => given.or(hinted),
    };
    let client = match client_id {
        Some(id) => match state.store.find_client(id).await.map_err(|e| e.to_string())? {
            Some(client) => Some(client),
            None => return Ok(broken_link(req, &Brand::tessera(), "client_id names no registered client")),
        },
        None => None,
    };
    let brand = match &client {
        Some(client) => Brand::load(state, &client.app_id).await,
        None => Brand::tessera(),
    };
    let back = match params.get("post_logout_redirect_uri") {
        Some(uri) => match &client {
            Some(client) if client.post_logout_redirect_uris.iter().any(|r| r == uri) => Some(uri),
            Some(_) => {
                return Ok(broken_link(
                    req,
                    &brand,
                    "post_logout_redirect_uri is not registered for this client",
                ))
            }
            None => {
                return Ok(broken_link(
                    req,
                    &brand,
                    "post_logout_redirect_uri needs id_token_hint or client_id",
                ))
            }
        },
        None => None,
    };
    let return_to = back.map(|uri| ReturnTo { uri, state: params.get("state") });
    let current = session::load(state, req).await.map_err(|e| e.to_string())?;
    let confirmed = req.method() == Method::POST
        && current.as_ref().is_some_and(|s| s.csrf_matches(params.get("csrf_token")));

    match (&hint, &current) {
        // A valid hint for the signed-in person: end the session at once.
        (Some(hint), Some(session)) if session.record.user_id.as_deref() == Some(hint.sub.as_str()) => {
            finish(state, req, &brand, Some(session), return_to).await
        }
        // Nobody, or somebody else, is signed in: nothing of the hinted person to end.
        (Some(_), _) => finish(state, req, &brand, None, return_to).await,
        (None, Some(session)) if confirmed => finish(state, req, &brand, Some(session), return_to).await,
        (None, Some(session)) if session.record.user_id.is_some() => {
            let page = LogoutPage {
                brand: &brand,
                csrf_token: &session.record.csrf_token,
                client_id: client.as_ref().map(|c| c.id.as_str()),
                post_logout_redirect_uri: return_to.as_ref().map(|r| r.uri),
                state: return_to.as_ref().and_then(|r| r.state),
            };
            Ok(render(StatusCode::OK, &page))
        }
        // Not signed in: there is nothing to confirm.
        (None, _) => finish(state, req, &brand, None, return_to).await,
    }
}

/// Where the browser goes after logout, with the client's `state`.
struct ReturnTo<'a> {
    uri: &'a str,
    state: Option<&'a str>,
}

/// Ends `session` (if any), then redirects to `return_to` or shows the page
/// saying the person is signed out.
async fn finish(
    state: &AppState,
    req: &HttpRequest,
    brand: &Brand,
    session: Option<&BrowserSession>,
    return_to: Option<ReturnTo<'_>>,
) -> Result<HttpResponse, String> {
    if let Some(session) = session {
        session::end(state, session).await.map_err(|e| e.to_string())?;
    }
    let mut response = match return_to {
        Some(ReturnTo { uri, state: client_state }) => {
            let mut url =
                url::Url::parse(uri).map_err(|e| format!("a registered logout URI does not parse: {e}"))?;
            if let Some(client_state) = client_state {
                url.query_pairs_mut().append_pair("state", client_state);
            }
            let status = if req.method() == Method::POST { StatusCode::SEE_OTHER } else { StatusCode::FOUND };
            crate::web::page_builder(status).insert_header((header::LOCATION, url.as_str())).finish()
        }
        None => render(StatusCode::OK, &SignedOutPage { brand }),
    };
    if session.is_some() {
        let mut gone = Cookie::new(session::COOKIE_NAME, "");
        gone.set_path("/");
        gone.make_removal();
        response.add_cookie(&gone).map_err(|e| e.to_string())?;
    }
    Ok(response)
}

fn broken_link(req: &HttpRequest, brand: &Brand, detail: &str) -> HttpResponse {
    tracing::info!(reason = detail, "logout request refused");
    branded_error_page(
        req,
        brand,
        StatusCode::BAD_REQUEST,
        "This sign-out link is broken",
        "The app that sent you here made a mistake in the sign-out link. You may still be signed in; \
         go back to the app and sign out again.",
        Some(detail),
    )
}

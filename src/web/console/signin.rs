//! Signing in to the console: it is an OAuth client of this server. `start`
//! registers the console's public client in the chosen application (once),
//! keeps the PKCE verifier and the state in a sealed, short-lived cookie, and
//! sends the browser to `/authorize`; `callback` checks the state, redeems the
//! code through the token endpoint's own grant, and makes a console session for
//! an administrator (the token must carry `admin`).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};

use super::{message_page, see_other, session_cookie, Console, ConsoleError, Form, COOKIE};
use crate::config::Environment;
use crate::domain::apps::DEFAULT_APP;
use crate::domain::console::{self, ConsoleSession};
use crate::tokens::secret;
use crate::AppState;

const PENDING: &str = "tessera_console_signin";
const PENDING_CONTEXT: &[u8] = b"console-signin";
/// How long a sign-in may take, in seconds.
const PENDING_TTL: i64 = 600;

#[derive(Serialize, Deserialize)]
struct Pending {
    app: String,
    state: String,
    verifier: String,
    at: i64,
}

#[derive(Deserialize)]
pub struct StartQuery {
    app: Option<String>,
}

fn callback_uri(state: &AppState) -> String {
    format!("{}/console/callback", state.config.issuer.trim_end_matches('/'))
}

/// `GET /console/signin[?app=APP]`.
pub async fn start(
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let app = query.app.as_deref().map(str::trim).filter(|a| !a.is_empty()).unwrap_or(DEFAULT_APP);
    if app.chars().any(char::is_control) || app.len() > 200 {
        return Err(ConsoleError::BadRequest("that is not an application id".into()));
    }
    let redirect_uri = callback_uri(&state);
    let client_id =
        match console::ensure_client(&state.store, app, &redirect_uri, state.clock.now()).await {
            Ok(id) => id,
            Err(crate::domain::DomainError::NotFound(_)) => return Ok(message_page(
                StatusCode::NOT_FOUND,
                "Unknown application",
                "No application has that id. Administrators of one application sign in with its tenant id.",
                Some(DEFAULT_APP),
            )),
            Err(e) => return Err(e.into()),
        };
    // The cache learns of a client made just now at its next poll; this
    // instance needs it at once.
    state.clients.clear();
    let rng = SystemRandom::new();
    let verifier =
        secret::random_alphanumeric(&rng, 64).map_err(|_| ConsoleError::Internal("random".into()))?;
    let csrf_state =
        secret::random_alphanumeric(&rng, 32).map_err(|_| ConsoleError::Internal("random".into()))?;
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret::hash(verifier.as_bytes()));
    let pending = Pending { app: app.to_owned(), state: csrf_state.clone(), verifier, at: state.clock.now() };
    let plain = serde_json::to_vec(&pending).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let sealed =
        state.data_keys.seal(&plain, PENDING_CONTEXT).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let mut authorize = url::Url::parse(&format!("{}/authorize", state.config.issuer.trim_end_matches('/')))
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "admin")
        .append_pair("state", &csrf_state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let cookie = Cookie::build(PENDING, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.environment != Environment::Development)
        .max_age(actix_web::cookie::time::Duration::seconds(PENDING_TTL))
        .finish();
    let mut res = see_other(authorize.as_str());
    res.add_cookie(&cookie).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /console/callback?code=&state=` (or `?error=`).
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let refuse = |message: &str| {
        Ok(message_page(StatusCode::FORBIDDEN, "No console for this account", message, Some(DEFAULT_APP)))
    };
    let Some(pending) = req.cookie(PENDING).and_then(|c| open_pending(&state, c.value())) else {
        return refuse("The sign-in took too long or did not start here. Start again.");
    };
    if state.clock.now() - pending.at > PENDING_TTL
        || !secret::constant_time_eq(
            query.state.as_deref().unwrap_or_default().as_bytes(),
            pending.state.as_bytes(),
        )
    {
        return refuse("The sign-in took too long or did not start here. Start again.");
    }
    if let Some(error) = &query.error {
        let message = if error == "invalid_scope" || error == "access_denied" {
            "This account is not an administrator of that application, or did not allow the console."
        } else {
            "The sign-in did not finish. Start again."
        };
        return refuse(message);
    }
    let code = query.code.as_deref().unwrap_or_default();
    let client_id = console::client_id(&pending.app);
    let state = state.into_inner();
    let tokens = crate::oauth::token::redeem_code(
        state.clone(),
        &client_id,
        code,
        &callback_uri(&state),
        &pending.verifier,
    )
    .await
    .map_err(|e| ConsoleError::BadRequest(format!("the sign-in did not finish: {e}")))?;
    let claims = state
        .signer
        .current()
        .verify(&tokens.access_token)
        .map_err(|e| ConsoleError::Internal(format!("the console's own token does not verify: {e}")))?;
    let scope = state.scopes.parse(&claims.scope).unwrap_or(crate::domain::scope::ScopeSet::EMPTY);
    if !scope.has_admin() {
        return refuse("This account is not an administrator of that application.");
    }
    let user_id = claims.sub.into_owned();
    let user = state
        .store
        .get_user(&pending.app, &user_id)
        .await?
        .ok_or_else(|| ConsoleError::Forbidden("the account is gone".into()))?;
    let rng = SystemRandom::new();
    let id = secret::generate(&rng, "").map_err(|_| ConsoleError::Internal("random".into()))?;
    let csrf = secret::generate(&rng, "").map_err(|_| ConsoleError::Internal("random".into()))?;
    let now = state.clock.now();
    let ttl = state.config.web.session_ttl as i64;
    let session = ConsoleSession {
        platform_admin: ConsoleSession::is_platform(&pending.app),
        app_id: pending.app.clone(),
        user_id,
        username: user.username,
        csrf_token: csrf.expose().to_owned(),
        created_at: now,
        last_seen: now,
        expires_at: now + ttl,
    };
    state.store.insert_console_session(&secret::hash(id.expose().as_bytes()), &session).await?;
    let target = if session.platform_admin {
        "/console".to_owned()
    } else {
        format!("/console/apps/{}", session.app_id)
    };
    let mut res = see_other(&target);
    let mut spent = Cookie::build(PENDING, "").path("/console").finish();
    spent.make_removal();
    res.add_cookie(&session_cookie(&state, id.expose().to_owned(), ttl))
        .and_then(|_| res.add_cookie(&spent))
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    Ok(res)
}

fn open_pending(state: &AppState, value: &str) -> Option<Pending> {
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value).ok()?;
    let plain = state.data_keys.open(&sealed, PENDING_CONTEXT).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// `POST /console/signout`: ends the session here and now.
pub async fn sign_out(console: Console, form: Form) -> Result<HttpResponse, ConsoleError> {
    console.check(&form)?;
    console.state.store.delete_console_session(&console.id_hash).await?;
    let mut res =
        message_page(StatusCode::OK, "Signed out", "You are signed out of the console.", Some(DEFAULT_APP));
    let mut gone = Cookie::build(COOKIE, "").path("/console").finish();
    gone.make_removal();
    res.add_cookie(&gone).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    Ok(res)
}

//! The authorization endpoint (RFC 6749 §4.1.1, RFC 7636, RFC 9207): oxide-auth's
//! code grant state machine checks the request; the person then signs in and
//! consents on tessera's pages. The request waiting on a page is stored under a
//! random interaction id; the pages' forms post that id and the CSRF token to
//! `/authorize`, never the request's parameters.
//!
//! Invariants: nothing is redirected before the client and its redirect URI are
//! verified (an unknown client or redirect URI gets an HTML page); every redirect
//! to the client carries `iss`; a form is acted on only with the session's CSRF
//! token, and only for the stored request it names (parameters posted beside it
//! are ignored); consent is remembered per user and client.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::cookie::Cookie;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use oxide_auth::code_grant::authorization::{Error as FlowError, ErrorUrl, Request as FlowRequest};
use oxide_auth::code_grant::error::{AuthorizationError, AuthorizationErrorType};
use oxide_auth_async::code_grant::authorization::{authorization_code, Extension, Pending};
use oxide_auth_async::primitives::Authorizer;
use url::Url;

use super::error::{AuthScheme, OAuthError};
use super::primitives::{CodeAuthorizer, FlowMemo, PkceAuthorization, Registrar, SignIn};
use super::request::FormRequest;
use crate::domain::clients::GrantType;
use crate::domain::login::{self, sign_in_bound, LoginAttempt, LoginOutcome};
use crate::domain::scope::ScopeSet;
use crate::domain::users::User;
use crate::tokens::secret::{self, Secret};
use crate::web::session;
use crate::web::{branded_error_page, describe_scopes, error_page, render, Brand, ConsentPage, LoginPage};
use crate::AppState;

/// `GET /authorize` (the request) and `POST /authorize` (the login and consent
/// forms, posted back with the request's query string).
pub async fn authorize(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let state = state.into_inner();
    match handle(&state, &req, payload).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "authorization request failed");
            error_page(
                &req,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The sign-in could not be completed. Please try again in a moment.",
            )
        }
    }
}

async fn handle(
    state: &Arc<AppState>,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, String> {
    let form = if req.method() == Method::POST {
        match FormRequest::read_body(req, payload, state.config.server.max_body_bytes).await {
            Ok(form) => Some(form),
            Err(e) => return Ok(invalid_request_page(req, &e)),
        }
    } else {
        None
    };
    // A form of the login or consent page answers the request stored under its
    // interaction id, whatever the URL it was posted to says.
    let page_form = form.as_ref().is_some_and(|f| {
        ["interaction", "csrf_token", "username", "password", "decision"].iter().any(|n| f.get(n).is_some())
    });
    let (raw_query, interaction, began) = if page_form {
        let Some(id) = form.as_ref().and_then(|f| f.get("interaction")).map(str::to_owned) else {
            return Ok(expired_page(req));
        };
        let stored = state
            .store
            .get_interaction(&secret::hash(id.as_bytes()), state.clock.now())
            .await
            .map_err(|e| e.to_string())?;
        let Some((stored, began)) = stored else {
            return Ok(expired_page(req));
        };
        (stored, Some(id), Some(began))
    } else {
        (req.query_string().to_owned(), None, None)
    };
    let query = match FormRequest::parse(raw_query.as_bytes()) {
        Ok(query) => query,
        Err(e) => return Ok(invalid_request_page(req, &e)),
    };

    let memo = FlowMemo::new();
    let mut flow = AuthorizeFlow {
        registrar: Registrar::new(
            state.clone(),
            GrantType::AuthorizationCode,
            AuthScheme::None,
            memo.clone(),
        ),
        authorizer: CodeAuthorizer::new(state.clone(), memo.clone()),
        extension: PkceAuthorization::new(memo.clone()),
    };
    let pending = match authorization_code(&mut flow, &Input { query: &query }).await {
        Ok(pending) => pending,
        Err(error) => return Ok(refuse(state, &memo, error, req).await),
    };
    let Some(client) = memo.client().cloned() else {
        return Err("the flow bound no client".into());
    };
    let brand = Brand::load(state, &client.client.app_id).await;
    // OpenID Connect Core §3.1.2.1: `prompt` and `max_age`.
    let prompt = match Prompt::parse(query.get("prompt"), query.get("max_age"), query.get("nonce")) {
        Ok(prompt) => prompt,
        Err(why) => {
            let url = error_url(&pending, AuthorizationErrorType::InvalidRequest, &why);
            return Ok(redirect(state, url, req.method() == Method::POST));
        }
    };
    let post = req.method() == Method::POST;
    let action = "/authorize";
    // The id the pages' forms carry: the one posted, else a new one made when a
    // page is first shown (`Interaction::id`).
    let mut interaction = Interaction { state: state.clone(), query: raw_query, id: interaction };
    let loaded = session::load(state, req).await.map_err(|e| e.to_string())?;

    // The signed-in user, if the session has one of this client's application.
    let mut user = match loaded.as_ref().and_then(|s| s.record.user_id.clone()) {
        Some(id) => state
            .store
            .get_user(&client.client.app_id, &id)
            .await
            .map_err(|e| e.to_string())?
            .filter(|u| u.enabled),
        None => None,
    };
    // A login older than this request (prompt=login) or than max_age does not
    // count: the person signs in again.
    if let Some(authenticated_at) = loaded.as_ref().and_then(|s| s.record.authenticated_at) {
        if !prompt.login_counts(authenticated_at, began, state.clock.now()) {
            user = None;
        }
    }
    let mut session = loaded;
    let mut cookie = None;

    if let Some(form) = &form {
        if !session.as_ref().is_some_and(|s| s.csrf_matches(form.get("csrf_token"))) {
            tracing::info!("authorization form without a valid CSRF token");
            let (fresh, new_cookie) = session::start(state).await.map_err(|e| e.to_string())?;
            let interaction_id = interaction.id().await?;
            let page = LoginPage {
                brand: &brand,
                action,
                interaction: &interaction_id,
                client_name: &client.client.name,
                csrf_token: &fresh.record.csrf_token,
                username: "",
                message: Some("This form has expired. Please sign in again."),
            };
            return Ok(with_cookie(render(StatusCode::FORBIDDEN, &page), Some(new_cookie)));
        }
        if form.get("switch_account").is_some() {
            // "Not you? Switch account": the session ends and the login page
            // comes back for the same request.
            let (fresh, new_cookie) =
                session::restart(state, session.take()).await.map_err(|e| e.to_string())?;
            session = Some(fresh);
            cookie = Some(new_cookie);
            user = None;
        } else if let Some(username) = form.get("username") {
            let address = req.peer_addr().map(|a| a.ip().to_string());
            let attempt = LoginAttempt {
                app_id: &client.client.app_id,
                username,
                password: Secret::new(form.get("password").unwrap_or_default().to_owned()),
                address: address.as_deref(),
            };
            let outcome = login::login(
                &state.store,
                &state.config.web,
                &state.config.security,
                attempt,
                state.clock.now(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let current = session.take().ok_or("no session after the CSRF check")?;
            let message = match outcome {
                LoginOutcome::Success(signed_in) => {
                    let (fresh, new_cookie) = session::log_in(state, Some(&current), &signed_in.id)
                        .await
                        .map_err(|e| e.to_string())?;
                    session = Some(fresh);
                    cookie = Some(new_cookie);
                    user = Some(signed_in);
                    None
                }
                LoginOutcome::WrongCredentials => {
                    state.metrics.failed_login("wrong_credentials");
                    Some("The username or password is not correct.".to_owned())
                }
                LoginOutcome::Throttled { retry_after } => {
                    state.metrics.failed_login("throttled");
                    Some(format!("Too many attempts. Please wait {retry_after} seconds and try again."))
                }
            };
            if let Some(message) = message {
                let interaction_id = interaction.id().await?;
                let page = LoginPage {
                    brand: &brand,
                    action,
                    interaction: &interaction_id,
                    client_name: &client.client.name,
                    csrf_token: &current.record.csrf_token,
                    username,
                    message: Some(&message),
                };
                return Ok(render(StatusCode::OK, &page));
            }
            session = session.or(Some(current));
        }
    }

    let Some(user) = user else {
        if prompt.none {
            let url = error_code_url(&pending, "login_required", "the person is not signed in");
            interaction.end().await?;
            return Ok(with_cookie(redirect(state, url, post), cookie));
        }
        // Not signed in: the login page, with a session to carry its CSRF token.
        let current = match session {
            Some(s) => s,
            None => {
                let (fresh, new_cookie) = session::start(state).await.map_err(|e| e.to_string())?;
                cookie = Some(new_cookie);
                fresh
            }
        };
        let interaction_id = interaction.id().await?;
        let page = LoginPage {
            brand: &brand,
            action,
            interaction: &interaction_id,
            client_name: &client.client.name,
            csrf_token: &current.record.csrf_token,
            username: "",
            message: None,
        };
        return Ok(with_cookie(render(StatusCode::OK, &page), cookie));
    };
    let current = session.ok_or("a signed-in user without a session")?;

    // What may be granted: the negotiated scope, within what the user's type allows.
    let negotiated = state.scopes.parse(&pending.pre_grant().scope.to_string()).map_err(|e| e.to_string())?;
    let bound = sign_in_bound(&state.store, &state.config.users, &state.scopes, &user)
        .await
        .map_err(|e| e.to_string())?;
    let grantable = negotiated.intersection(bound);
    if grantable.is_empty() {
        let url = error_url(
            &pending,
            AuthorizationErrorType::InvalidScope,
            "none of the requested scopes is allowed for this user",
        );
        interaction.end().await?;
        return Ok(with_cookie(redirect(state, url, post), cookie));
    }

    let decision = form.as_ref().and_then(|f| f.get("decision"));
    let remembered = consented(state, &user, &client.client.id).await?;
    let approve = match decision {
        Some("allow") => true,
        Some("deny") => {
            let url = match pending.deny() {
                Err(FlowError::Redirect(url)) => url.into(),
                _ => return Err("denying produced no redirect".into()),
            };
            interaction.end().await?;
            return Ok(with_cookie(redirect(state, url, post), cookie));
        }
        Some(_) => {
            return Ok(invalid_request_page(
                req,
                &OAuthError::invalid_request("decision must be allow or deny"),
            ))
        }
        None => !prompt.consent && remembered.contains(grantable),
    };
    if !approve && prompt.none {
        let url = error_code_url(&pending, "consent_required", "the person has not allowed this yet");
        interaction.end().await?;
        return Ok(with_cookie(redirect(state, url, post), cookie));
    }
    if !approve {
        let interaction_id = interaction.id().await?;
        let page = ConsentPage {
            brand: &brand,
            action,
            interaction: &interaction_id,
            client_name: &client.client.name,
            csrf_token: &current.record.csrf_token,
            username: &user.username,
            scopes: describe_scopes(&state.scopes, grantable),
        };
        return Ok(with_cookie(render(StatusCode::OK, &page), cookie));
    }
    if decision.is_some() {
        let scope = state.scopes.format(remembered.union(grantable));
        state
            .store
            .put_consent(&user.id, &client.client.id, &scope, state.clock.now())
            .await
            .map_err(|e| e.to_string())?;
    }
    // Should issuing fail for a reason the client may hear, it hears it here.
    let refused =
        error_url(&pending, AuthorizationErrorType::InvalidScope, "the requested scope cannot be granted");
    memo.set_sign_in(SignIn {
        nonce: query.get("nonce").map(str::to_owned),
        auth_time: current.record.authenticated_at,
    });
    let url = match pending.authorize(&mut flow, Cow::Borrowed(&user.id)).await {
        Ok(url) => url,
        Err(_) => match memo.rejection_or(OAuthError::Server("no code was issued".into())) {
            OAuthError::InvalidScope(_) => refused,
            other => return Err(other.to_string()),
        },
    };
    interaction.end().await?;
    Ok(with_cookie(redirect(state, url, post), cookie))
}

/// How long a request may wait on the login and consent pages, in seconds.
const INTERACTION_TTL: i64 = 1800;

/// The authorization request waiting on a page, and the id its forms carry.
struct Interaction {
    state: Arc<AppState>,
    /// The request's query string, as first received.
    query: String,
    id: Option<String>,
}

impl Interaction {
    /// The id to put in a page's form: the one posted, else a new one, stored now.
    async fn id(&mut self) -> Result<String, String> {
        if let Some(id) = &self.id {
            return Ok(id.clone());
        }
        let id = secret::generate(&ring::rand::SystemRandom::new(), "")
            .map_err(|_| "the system random generator failed".to_owned())?;
        let now = self.state.clock.now();
        self.state
            .store
            .insert_interaction(
                &secret::hash(id.expose().as_bytes()),
                &self.query,
                now,
                now + INTERACTION_TTL,
            )
            .await
            .map_err(|e| e.to_string())?;
        self.id = Some(id.expose().to_owned());
        Ok(id.expose().to_owned())
    }

    /// The request is answered: its id no longer opens it.
    async fn end(&self) -> Result<(), String> {
        if let Some(id) = &self.id {
            self.state
                .store
                .delete_interaction(&secret::hash(id.as_bytes()))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// A form whose interaction is unknown, answered or expired.
fn expired_page(req: &HttpRequest) -> HttpResponse {
    error_page(
        req,
        StatusCode::BAD_REQUEST,
        "This page has expired",
        "This sign-in page is no longer valid. Go back to the app and start again.",
    )
}

fn with_cookie(mut response: HttpResponse, cookie: Option<Cookie<'static>>) -> HttpResponse {
    if let Some(cookie) = cookie {
        if let Err(e) = response.add_cookie(&cookie) {
            tracing::error!(error = %e, "cannot set the session cookie");
        }
    }
    response
}

/// The scopes `user` already consented to for `client_id`.
async fn consented(state: &AppState, user: &User, client_id: &str) -> Result<ScopeSet, String> {
    let stored = state.store.get_consent(&user.id, client_id).await.map_err(|e| e.to_string())?;
    Ok(stored.and_then(|s| state.scopes.parse(&s).ok()).unwrap_or(ScopeSet::EMPTY))
}

/// RFC 9207: every authorization response names the issuer.
fn redirect(state: &AppState, mut url: Url, after_post: bool) -> HttpResponse {
    url.query_pairs_mut().append_pair("iss", &state.config.issuer);
    // RFC 9700 §4.11: 303 after a form, so the browser does not post it again.
    let status = if after_post { StatusCode::SEE_OTHER } else { StatusCode::FOUND };
    let mut response = crate::web::page_builder(status);
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => response.insert_header((header::LOCATION, location)).finish(),
        Err(_) => {
            // A serialised URL is ASCII, so this is not expected.
            tracing::error!("a redirect URL is not a valid header value");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn error_url(pending: &Pending, kind: AuthorizationErrorType, description: &str) -> Url {
    let mut error = AuthorizationError::default();
    error.set_type(kind);
    let base = pending.pre_grant().redirect_uri.to_url();
    with_description(ErrorUrl::new(base, pending.as_solicitation().state(), error).into(), description)
}

/// An error redirect with a code oxide-auth does not know (OpenID Connect's
/// `login_required`, `consent_required`).
fn error_code_url(pending: &Pending, code: &str, description: &str) -> Url {
    let mut url = pending.pre_grant().redirect_uri.to_url();
    {
        let mut pairs = url.query_pairs_mut();
        pairs.append_pair("error", code).append_pair("error_description", description);
        if let Some(state) = pending.as_solicitation().state() {
            pairs.append_pair("state", state);
        }
    }
    url
}

/// The longest `nonce` kept for the ID token.
const MAX_NONCE: usize = 512;

/// What the request's `prompt` and `max_age` ask (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Default)]
struct Prompt {
    /// Show no page: answer at once or with an error.
    none: bool,
    /// Sign in again, whatever the session.
    login: bool,
    /// Ask for consent again, whatever was allowed before.
    consent: bool,
    /// The longest time since the person last signed in, in seconds.
    max_age: Option<i64>,
}

impl Prompt {
    fn parse(prompt: Option<&str>, max_age: Option<&str>, nonce: Option<&str>) -> Result<Prompt, String> {
        if nonce.is_some_and(|n| n.is_empty() || n.len() > MAX_NONCE) {
            return Err(format!("nonce must be 1 to {MAX_NONCE} characters"));
        }
        let mut parsed = Prompt::default();
        for value in prompt.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => parsed.none = true,
                "login" | "select_account" => parsed.login = true,
                "consent" => parsed.consent = true,
                other => {
                    return Err(format!(
                        "prompt `{other}` is not one of none, login, consent, select_account"
                    ))
                }
            }
        }
        if parsed.none && (parsed.login || parsed.consent) {
            return Err("prompt=none cannot be combined with another value".into());
        }
        parsed.max_age = max_age
            .map(|m| m.parse::<i64>().ok().filter(|m| *m >= 0).ok_or("max_age must be a number of seconds"))
            .transpose()?;
        Ok(parsed)
    }

    /// Whether a login at `authenticated_at` serves this request: one that began
    /// at `began` (a page's form), or begins now (`None`).
    fn login_counts(&self, authenticated_at: i64, began: Option<i64>, now: i64) -> bool {
        // prompt=login: only a login made on this request's own page counts.
        if self.login && began.is_none_or(|began| authenticated_at < began) {
            return false;
        }
        self.max_age.is_none_or(|max| now - authenticated_at <= max)
    }
}

/// RFC 6749 §4.1.2.1 names it `error_description`; oxide-auth's own explanation
/// would be sent as `description`, so tessera adds it itself.
fn with_description(mut url: Url, description: &str) -> Url {
    url.query_pairs_mut().append_pair("error_description", description);
    url
}

/// Answers a request oxide-auth refused: an HTML page when the client or its
/// redirect URI could not be verified, else a redirect with the error.
async fn refuse(state: &AppState, memo: &FlowMemo, error: FlowError, req: &HttpRequest) -> HttpResponse {
    let method = req.method();
    let reason =
        memo.rejection_or(OAuthError::invalid_request("client_id or redirect_uri is missing or not valid"));
    match error {
        FlowError::Ignore => {
            tracing::info!(reason = %reason, "authorization request refused without redirect");
            let (title, message) = match &reason {
                OAuthError::InvalidClient { .. } => (
                    "We don't know this app",
                    "The app that sent you here is not registered with us, so we cannot sign you in to it.",
                ),
                OAuthError::UnauthorizedClient(_) => (
                    "This app cannot sign you in here",
                    "The app that sent you here is not set up to sign people in this way.",
                ),
                _ => (
                    "This sign-in link is broken",
                    "The app that sent you here made a mistake in the sign-in link. Go back to it and try again.",
                ),
            };
            let detail = reason.to_string();
            let brand = match memo.client() {
                Some(client) => Brand::load(state, &client.client.app_id).await,
                None => Brand::tessera(),
            };
            branded_error_page(req, &brand, StatusCode::BAD_REQUEST, title, message, Some(&detail))
        }
        FlowError::Redirect(url) => {
            let url = match &reason {
                OAuthError::InvalidRequest(why) | OAuthError::InvalidScope(why) => {
                    with_description(url.into(), why)
                }
                _ => url.into(),
            };
            redirect(state, url, method == Method::POST)
        }
        FlowError::PrimitiveError => {
            tracing::error!(reason = %reason, "authorization request failed");
            error_page(
                req,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The sign-in could not be started. Please try again in a moment.",
            )
        }
    }
}

fn invalid_request_page(req: &HttpRequest, error: &OAuthError) -> HttpResponse {
    let detail = error.to_string();
    branded_error_page(
        req,
        &Brand::tessera(),
        StatusCode::BAD_REQUEST,
        "This sign-in link is broken",
        "The app that sent you here made a mistake in the sign-in link. Go back to it and try again.",
        Some(&detail),
    )
}

/// The primitives of the authorization request.
struct AuthorizeFlow {
    registrar: Registrar,
    authorizer: CodeAuthorizer,
    extension: PkceAuthorization,
}

impl oxide_auth_async::code_grant::authorization::Endpoint for AuthorizeFlow {
    fn registrar(&self) -> &(dyn oxide_auth_async::primitives::Registrar + Sync) {
        &self.registrar
    }
    fn authorizer(&mut self) -> &mut (dyn Authorizer + Send) {
        &mut self.authorizer
    }
    fn extension(&mut self) -> &mut (dyn Extension + Send) {
        &mut self.extension
    }
}

/// The authorization request's query parameters.
struct Input<'a> {
    query: &'a FormRequest,
}

impl FlowRequest for Input<'_> {
    fn valid(&self) -> bool {
        true
    }
    fn client_id(&self) -> Option<Cow<'_, str>> {
        self.query.get("client_id").map(Cow::Borrowed)
    }
    fn scope(&self) -> Option<Cow<'_, str>> {
        self.query.get("scope").map(Cow::Borrowed)
    }
    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        self.query.get("redirect_uri").map(Cow::Borrowed)
    }
    fn state(&self) -> Option<Cow<'_, str>> {
        self.query.get("state").map(Cow::Borrowed)
    }
    fn response_type(&self) -> Option<Cow<'_, str>> {
        self.query.get("response_type").map(Cow::Borrowed)
    }
    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        self.query.get(key).map(Cow::Borrowed)
    }
}

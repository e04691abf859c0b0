//! Browser sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure
//! outside development), the SHA-256 of that id and a CSRF token in the database.
//!
//! Invariant: a login always issues a new session id (no session fixation).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;
use ring::rand::SystemRandom;

use crate::config::Environment;
use crate::domain::login::LoginSession;
use crate::store::StoreError;
use crate::tokens::secret;
use crate::AppState;

pub const COOKIE_NAME: &str = "tessera_session";

/// A live session, as loaded or just made.
pub struct BrowserSession {
    id_hash: [u8; 32],
    pub record: LoginSession,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the system random generator failed")]
    Random,
}

impl BrowserSession {
    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        match presented {
            Some(token) => secret::verify(token.as_bytes(), &secret::hash(self.record.csrf_token.as_bytes())),
            None => false,
        }
    }
}

/// The session the request's cookie names, if it is live.
pub async fn load(state: &AppState, req: &HttpRequest) -> Result<Option<BrowserSession>, SessionError> {
    let Some(cookie) = req.cookie(COOKIE_NAME) else {
        return Ok(None);
    };
    let id_hash = secret::hash(cookie.value().as_bytes());
    let record = state.store.get_session(&id_hash, state.clock.now()).await?;
    Ok(record.map(|record| BrowserSession { id_hash, record }))
}

/// A new anonymous session and the cookie that names it.
pub async fn start(state: &AppState) -> Result<(BrowserSession, Cookie<'static>), SessionError> {
    let fresh = Fresh::new(state)?;
    state.store.insert_session(&fresh.id_hash, fresh.csrf.expose(), fresh.now, fresh.expires_at).await?;
    Ok(fresh.into_session(state, None))
}

/// Replaces `old` (if any) with a new session that belongs to `user_id`.
pub async fn log_in(
    state: &AppState,
    old: Option<&BrowserSession>,
    user_id: &str,
) -> Result<(BrowserSession, Cookie<'static>), SessionError> {
    let fresh = Fresh::new(state)?;
    state
        .store
        .login_session(
            old.map(|s| &s.id_hash[..]),
            &fresh.id_hash,
            fresh.csrf.expose(),
            user_id,
            fresh.now,
            fresh.expires_at,
        )
        .await?;
    Ok(fresh.into_session(state, Some(user_id)))
}

/// Ends `session`: its id no longer opens anything.
pub async fn end(state: &AppState, session: &BrowserSession) -> Result<(), SessionError> {
    state.store.delete_session(&session.id_hash).await?;
    Ok(())
}

/// Ends `session` and starts a new anonymous one in its place (sign-out, or a
/// person switching accounts), answering it and its cookie.
pub async fn restart(
    state: &AppState,
    session: Option<BrowserSession>,
) -> Result<(BrowserSession, Cookie<'static>), SessionError> {
    if let Some(old) = session {
        state.store.delete_session(&old.id_hash).await?;
    }
    start(state).await
}

/// A new session id and CSRF token, not yet stored.
struct Fresh {
    id: secret::Secret,
    id_hash: [u8; 32],
    csrf: secret::Secret,
    now: i64,
    expires_at: i64,
}

impl Fresh {
    fn new(state: &AppState) -> Result<Fresh, SessionError> {
        let rng = SystemRandom::new();
        let id = secret::generate(&rng, "").map_err(|_| SessionError::Random)?;
        let csrf = secret::generate(&rng, "").map_err(|_| SessionError::Random)?;
        let now = state.clock.now();
        let id_hash = secret::hash(id.expose().as_bytes());
        Ok(Fresh { id, id_hash, csrf, now, expires_at: now + state.config.web.session_ttl as i64 })
    }

    fn into_session(self, state: &AppState, user_id: Option<&str>) -> (BrowserSession, Cookie<'static>) {
        let record = LoginSession {
            csrf_token: self.csrf.expose().to_owned(),
            user_id: user_id.map(str::to_owned),
            authenticated_at: user_id.map(|_| self.now),
            expires_at: self.expires_at,
        };
        let cookie = cookie(state, self.id.expose().to_owned());
        (BrowserSession { id_hash: self.id_hash, record }, cookie)
    }
}

fn cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(COOKIE_NAME, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.environment != Environment::Development)
        .max_age(CookieDuration::seconds(state.config.web.session_ttl as i64))
        .finish()
}

//! Browser sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure
//! outside development), the SHA-256 of that id and a CSRF token in the database.
//!
//! Invariant: a login always issues a new session id (no session fixation).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;
use ring::rand::SystemRandom;

use crate::config::Environment;
use crate::store::{SessionRecord, StoreError};
use crate::tokens::secret;
use crate::AppState;

pub const COOKIE_NAME: &str = "tessera_session";

/// A live session, as loaded or just made.
pub struct BrowserSession {
    id_hash: [u8; 32],
    pub record: SessionRecord,
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
    let rng = SystemRandom::new();
    let id = secret::generate(&rng, "").map_err(|_| SessionError::Random)?;
    let csrf = secret::generate(&rng, "").map_err(|_| SessionError::Random)?;
    let now = state.clock.now();
    let expires_at = now + state.config.web.session_ttl as i64;
    let id_hash = secret::hash(id.expose().as_bytes());
    state.store.insert_session(&id_hash, csrf.expose(), now, expires_at).await?;
    let record = SessionRecord {
        csrf_token: csrf.expose().to_owned(),
        user_id: None,
        authenticated_at: None,
        expires_at,
    };
    Ok((BrowserSession { id_hash, record }, cookie(state, id.expose().to_owned())))
}

/// Replaces `old` (if any) with a new session that belongs to `user_id`.
pub async fn log_in(
    state: &AppState,
    old: Option<&BrowserSession>,
    user_id: &str,
) -> Result<(BrowserSession, Cookie<'static>), SessionError> {
    let rng = SystemRandom::new();
    let id = secret::generate(&rng, "").map_err(|_| SessionError::Random)?;
    let csrf = secret::generate(&rng, "").map_err(|_| SessionError::Random)?;
    let now = state.clock.now();
    let expires_at = now + state.config.web.session_ttl as i64;
    let id_hash = secret::hash(id.expose().as_bytes());
    state
        .store
        .login_session(old.map(|s| &s.id_hash[..]), &id_hash, csrf.expose(), user_id, now, expires_at)
        .await?;
    let record = SessionRecord {
        csrf_token: csrf.expose().to_owned(),
        user_id: Some(user_id.to_owned()),
        authenticated_at: Some(now),
        expires_at,
    };
    Ok((BrowserSession { id_hash, record }, cookie(state, id.expose().to_owned())))
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

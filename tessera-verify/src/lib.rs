//! Verifies tessera's access tokens offline, as a resource server should: RFC 9068
//! JWTs (`typ: at+jwt`, ES256 only) against the issuer's JWKS, fetched and kept,
//! fetched again when a token names an unknown key; the token's status list
//! (draft-ietf-oauth-status-list), fetched and kept for its `ttl`, so that a
//! revoked token is refused without asking tessera on every request; and scopes.
//!
//! ```no_run
//! # async fn run() -> Result<(), tessera_verify::VerifyError> {
//! let verifier = tessera_verify::Verifier::new("https://auth.example.com", "tessera-api");
//! let token = verifier.verify("eyJ...").await?;
//! assert!(token.has_scope("places:read"));
//! # Ok(()) }
//! ```
//!
//! With the `actix` feature (on by default) a handler takes `Verified<S>`, where
//! `S` names the scope it needs (`tessera_verify::scope!(PlacesRead, "places:read")`);
//! with the `axum` feature the same extractor works in axum.

use std::collections::HashMap;
use std::io::Read;
use std::marker::PhantomData;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token is not an access token (typ must be at+jwt)")]
    NotAnAccessToken,
    #[error("the token is signed with {0:?}; only ES256 is accepted")]
    Algorithm(Algorithm),
    #[error("the token names a key the issuer does not publish")]
    UnknownKey,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token is revoked")]
    Revoked,
    #[error("the token's status cannot be checked: {0}")]
    StatusUnavailable(String),
    #[error("the issuer's keys cannot be fetched: {0}")]
    KeysUnavailable(String),
}

impl VerifyError {
    /// Whether the token itself is at fault (401), rather than this side's
    /// view of the issuer (503).
    pub fn is_token_fault(&self) -> bool {
        !matches!(self, VerifyError::StatusUnavailable(_) | VerifyError::KeysUnavailable(_))
    }
}

/// `aud`: one audience or several.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// An access token's claims (RFC 9068 §2.2 and tessera's own).
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub profile: Option<String>,
    /// The application (tenant) the token belongs to.
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Status {
    pub status_list: StatusListRef,
}

#[derive(Clone, Debug, Deserialize)]
pub struct StatusListRef {
    pub idx: u64,
    pub uri: String,
}

/// A token that passed every check.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub claims: Claims,
}

impl AccessToken {
    /// Whether the token grants `scope` (one of the space-separated scopes).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.claims.scope.split(' ').filter(|s| !s.is_empty())
    }
}

/// How the verifier behaves; `Verifier::new` fills it for a tessera issuer.
#[derive(Clone, Debug)]
pub struct Settings {
    pub issuer: String,
    pub audience: String,
    pub jwks_uri: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway: u64,
    /// A token naming an unknown key fetches the JWKS again at most this often.
    pub key_refresh_interval: Duration,
}

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

struct CachedList {
    bits: Vec<u8>,
    until: Instant,
}

/// Verifies access tokens of one issuer for one audience; share one per process.
pub struct Verifier {
    settings: Settings,
    http: reqwest::Client,
    keys: RwLock<Keys>,
    lists: RwLock<HashMap<String, CachedList>>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Verifier {
    /// A verifier for `issuer` (its JWKS at `/.well-known/jwks.json`) and `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Verifier {
        let issuer = issuer.into().trim_end_matches('/').to_owned();
        let jwks_uri = format!("{issuer}/.well-known/jwks.json");
        Verifier::with_settings(Settings {
            issuer,
            audience: audience.into(),
            jwks_uri,
            leeway: 30,
            key_refresh_interval: Duration::from_secs(10),
        })
    }

    pub fn with_settings(settings: Settings) -> Verifier {
        // Redirects are not followed: a key or list comes from the issuer itself.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Verifier {
            settings,
            http,
            keys: RwLock::new(Keys { by_kid: HashMap::new(), fetched: None }),
            lists: RwLock::new(HashMap::new()),
        }
    }

    /// Checks `token`: type, algorithm, signature, issuer, audience, expiry and
    /// not-before, then its status list bit.
    pub async fn verify(&self, token: &str) -> Result<AccessToken, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let typ = header.typ.as_deref().unwrap_or_default();
        if !(typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")) {
            return Err(VerifyError::NotAnAccessToken);
        }
        if header.alg != Algorithm::ES256 {
            return Err(VerifyError::Algorithm(header.alg));
        }
        let key = self.key(header.kid.as_deref().ok_or(VerifyError::UnknownKey)?).await?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.validate_nbf = true;
        validation.leeway = self.settings.leeway;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?
            .claims;
        if let Some(status) = &claims.status {
            if self.revoked(&status.status_list).await? {
                return Err(VerifyError::Revoked);
            }
        }
        Ok(AccessToken { claims })
    }

    /// The key `kid`, fetching the JWKS again when it is unknown (at most once
    /// per `key_refresh_interval`).
    async fn key(&self, kid: &str) -> Result<DecodingKey, VerifyError> {
        if let Some(key) = self.keys.read().await.by_kid.get(kid) {
            return Ok(key.clone());
        }
        let mut keys = self.keys.write().await;
        if let Some(key) = keys.by_kid.get(kid) {
            return Ok(key.clone());
        }
        if keys.fetched.is_some_and(|at| at.elapsed() < self.settings.key_refresh_interval) {
            return Err(VerifyError::UnknownKey);
        }
        let fetch = |e: reqwest::Error| VerifyError::KeysUnavailable(e.to_string());
        let set: jsonwebtoken::jwk::JwkSet = self
            .http
            .get(&self.settings.jwks_uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(fetch)?
            .json()
            .await
            .map_err(fetch)?;
        keys.fetched = Some(Instant::now());
        keys.by_kid = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        keys.by_kid.get(kid).cloned().ok_or(VerifyError::UnknownKey)
    }

    /// Whether the status list says the token at `at` is revoked. Lists are kept
    /// for their `ttl`; only lists of this issuer are fetched.
    async fn revoked(&self, at: &StatusListRef) -> Result<bool, VerifyError> {
        let prefix = format!("{}/", self.settings.issuer);
        if !at.uri.starts_with(&prefix) {
            return Err(VerifyError::StatusUnavailable(format!("{} is not a list of the issuer", at.uri)));
        }
        if let Some(list) = self.lists.read().await.get(&at.uri).filter(|l| l.until > Instant::now()) {
            return Ok(bit(&list.bits, at.idx));
        }
        let mut lists = self.lists.write().await;
        if let Some(list) = lists.get(&at.uri).filter(|l| l.until > Instant::now()) {
            return Ok(bit(&list.bits, at.idx));
        }
        let (bits, ttl) = self.fetch_list(&at.uri).await?;
        let revoked = bit(&bits, at.idx);
        lists.insert(at.uri.clone(), CachedList { bits, until: Instant::now() + ttl });
        Ok(revoked)
    }

    async fn fetch_list(&self, uri: &str) -> Result<(Vec<u8>, Duration), VerifyError> {
        let unavailable = |why: String| VerifyError::StatusUnavailable(format!("{uri}: {why}"));
        let jwt = self
            .http
            .get(uri)
            .header("accept", "application/statuslist+jwt")
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| unavailable(e.to_string()))?
            .text()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let header = jsonwebtoken::decode_header(&jwt).map_err(|e| unavailable(e.to_string()))?;
        if header.typ.as_deref() != Some("statuslist+jwt") || header.alg != Algorithm::ES256 {
            return Err(unavailable("not an ES256 statuslist+jwt".into()));
        }
        let key = self.key(header.kid.as_deref().unwrap_or_default()).await?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_aud = false;
        validation.leeway = self.settings.leeway;
        validation.sub = Some(uri.to_owned());
        validation.set_required_spec_claims(&["exp", "sub"]);
        #[derive(Deserialize)]
        struct ListClaims {
            exp: i64,
            #[serde(default)]
            ttl: Option<u64>,
            status_list: ListBits,
        }
        #[derive(Deserialize)]
        struct ListBits {
            bits: u8,
            lst: String,
        }
        let claims = jsonwebtoken::decode::<ListClaims>(&jwt, &key, &validation)
            .map_err(|e| unavailable(e.to_string()))?
            .claims;
        if claims.status_list.bits != 1 {
            return Err(unavailable(format!(
                "{} bits per status are not understood",
                claims.status_list.bits
            )));
        }
        let compressed =
            URL_SAFE_NO_PAD.decode(&claims.status_list.lst).map_err(|e| unavailable(e.to_string()))?;
        let mut bits = Vec::new();
        flate2::read::ZlibDecoder::new(&compressed[..])
            .take(64 * 1024 * 1024)
            .read_to_end(&mut bits)
            .map_err(|e| unavailable(e.to_string()))?;
        // Kept for its ttl, never past its expiry.
        let left = (claims.exp - now()).max(0) as u64;
        let ttl = Duration::from_secs(claims.ttl.unwrap_or(0).min(left));
        Ok((bits, ttl))
    }
}

/// Status `idx` of a one-bit list (least significant bit first); an index past
/// the list's end reads as revoked, so a short list never lets a token through.
fn bit(bits: &[u8], idx: u64) -> bool {
    usize::try_from(idx / 8).ok().and_then(|i| bits.get(i)).is_none_or(|byte| byte & (1 << (idx % 8)) != 0)
}

/// The scope a `Verified` argument requires; see [`scope!`].
pub trait RequiredScope {
    const SCOPE: Option<&'static str>;
}

/// No scope required: any valid token.
pub struct AnyScope;

impl RequiredScope for AnyScope {
    const SCOPE: Option<&'static str> = None;
}

/// Declares a marker type for a required scope: `scope!(PlacesRead, "places:read");`
/// then a handler takes `Verified<PlacesRead>`.
#[macro_export]
macro_rules! scope {
    ($name:ident, $scope:literal) => {
        pub struct $name;
        impl $crate::RequiredScope for $name {
            const SCOPE: Option<&'static str> = Some($scope);
        }
    };
}

/// A verified token holding the scope `S` names: an extractor (with the
/// `actix` or `axum` feature).
pub struct Verified<S: RequiredScope = AnyScope> {
    pub token: AccessToken,
    scope: PhantomData<S>,
}

impl<S: RequiredScope> Verified<S> {
    /// Verifies `token` and checks it holds `S`'s scope.
    pub async fn check(verifier: &Verifier, token: &str) -> Result<Verified<S>, Rejection> {
        let token = verifier.verify(token).await.map_err(Rejection::Token)?;
        if let Some(scope) = S::SCOPE {
            if !token.has_scope(scope) {
                return Err(Rejection::Scope(scope));
            }
        }
        Ok(Verified { token, scope: PhantomData })
    }
}

impl<S: RequiredScope> std::ops::Deref for Verified<S> {
    type Target = AccessToken;
    fn deref(&self) -> &AccessToken {
        &self.token
    }
}

/// Why an extractor refused a request, and the answer it gets (RFC 6750 §3).
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("send an access token: Authorization: Bearer <token>")]
    Missing,
    #[error(transparent)]
    Token(VerifyError),
    #[error("the token lacks the scope {0}")]
    Scope(&'static str),
}

impl Rejection {
    /// The HTTP status: 401, 403, or 503 when the issuer cannot be reached.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Missing => 401,
            Rejection::Token(e) if e.is_token_fault() => 401,
            Rejection::Token(_) => 503,
            Rejection::Scope(_) => 403,
        }
    }

    /// The `WWW-Authenticate` challenge.
    pub fn challenge(&self) -> String {
        match self {
            Rejection::Missing => "Bearer".to_owned(),
            Rejection::Token(e) => {
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    e.to_string().replace('"', "'")
                )
            }
            Rejection::Scope(scope) => format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
        }
    }
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_read_least_significant_first_and_past_the_end_as_revoked() {
        let bits = [0xB9u8, 0xA3];
        let set: Vec<u64> = (0..16).filter(|&i| bit(&bits, i)).collect();
        assert_eq!(set, vec![0, 3, 4, 5, 7, 8, 9, 13, 15]);
        assert!(bit(&bits, 16));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn rejections_answer_as_rfc_6750_says() {
        assert_eq!(Rejection::Missing.challenge(), "Bearer");
        assert_eq!(Rejection::Scope("places:read").status(), 403);
        assert!(Rejection::Scope("places:read").challenge().contains("insufficient_scope"));
        assert_eq!(Rejection::Token(VerifyError::Revoked).status(), 401);
        assert_eq!(Rejection::Token(VerifyError::StatusUnavailable("down".into())).status(), 503);
    }
}

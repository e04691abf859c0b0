//! What a presented token is, whatever its kind: `authenticate` answers the
//! `Principal` it stands for, or `None` for anything inactive. Introspection,
//! token exchange, the admin API's caller and forward auth all start here, and
//! ask the token-kind registry what a kind may do.
//!
//! Invariants: a known opaque token is answered from memory (`TokenCache`), which
//! every change that can alter its worth clears (the `tokens` change counter);
//! times are checked at each use, never cached; nothing here writes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::domain::grants::RefreshToken;
use crate::domain::login::{type_scopes, user_type_bound};
use crate::domain::platform_tokens::{Binding, KindPolicy, PlatformToken, ScopeSource, TokenKind, Verifier};
use crate::domain::scope::{Profile, ScopeSet};
use crate::domain::DomainError;
use crate::store::{ChangeCounter, Store, StoreError};
use crate::tokens::jwt::AccessClaims;
use crate::tokens::secret;
use crate::AppState;

/// A token this server issued, as found, before any check (revocation needs it).
pub enum Found {
    Access(AccessClaims<'static>),
    Refresh(RefreshToken),
    Platform(PlatformToken),
}

/// The token `presented` names, or `None` for anything this server did not issue.
pub async fn find(state: &AppState, presented: &str) -> Result<Option<Found>, StoreError> {
    match TokenKind::of(presented) {
        Some(TokenKind::Refresh) => {
            let hash = secret::hash(presented.as_bytes());
            Ok(state.store.find_refresh(&hash).await?.map(Found::Refresh))
        }
        Some(_) => {
            let hash = secret::hash(presented.as_bytes());
            Ok(state.store.find_platform_token(&hash).await?.map(Found::Platform))
        }
        None => Ok(state.signer.current().verify(presented).ok().map(Found::Access)),
    }
}

/// What kind of token a principal came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A JWT access token.
    Access,
    Opaque(TokenKind),
}

impl PrincipalKind {
    /// Introspection's `token_kind`.
    pub fn name(self) -> &'static str {
        match self {
            PrincipalKind::Access => "access_token",
            PrincipalKind::Opaque(kind) => kind.name(),
        }
    }

    /// The registry's policy, for opaque kinds.
    pub fn policy(self) -> Option<KindPolicy> {
        match self {
            PrincipalKind::Access => None,
            PrincipalKind::Opaque(kind) => Some(kind.policy()),
        }
    }
}

/// An active token: whom it stands for and what it allows (RFC 7662 §2.2 facts).
#[derive(Clone, Debug)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The platform token's id (never its value), for platform tokens.
    pub token_id: Option<String>,
    pub app: String,
    pub scope: ScopeSet,
    pub profile: Option<Profile>,
    pub client_id: Option<String>,
    pub sub: Option<String>,
    pub username: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub department: Option<String>,
    pub user_type: Option<String>,
    /// For device-bound kinds: the install id the token is valid with.
    pub install_id: Option<String>,
}

impl Principal {
    fn live(&self, now: i64) -> bool {
        self.exp.is_none_or(|exp| exp > now)
    }
}

/// The principal `presented` stands for, if it is active now.
pub async fn authenticate(state: &AppState, presented: &str) -> Result<Option<Principal>, DomainError> {
    let now = state.clock.now();
    match TokenKind::of(presented) {
        Some(TokenKind::Refresh) => {
            let hash = secret::hash(presented.as_bytes());
            let Some(record) = state.store.find_refresh(&hash).await? else {
                return Ok(None);
            };
            Ok(refresh_principal(state, record, now))
        }
        Some(kind) => {
            let hash = secret::hash(presented.as_bytes());
            let cached = match state.tokens.peek(&hash) {
                Some(hit) => hit,
                None => {
                    let epoch = state.tokens.epoch();
                    let Some(row) = state.store.find_platform_token(&hash).await? else {
                        return Ok(None);
                    };
                    // A value whose prefix names another kind than its row is not one
                    // this server issued.
                    let resolved =
                        if row.kind == kind { platform_principal(state, row).await? } else { None };
                    state.tokens.insert(hash, epoch, resolved)
                }
            };
            Ok(cached.as_ref().as_ref().filter(|p| p.live(now)).cloned())
        }
        None => {
            let Ok(claims) = state.signer.current().verify(presented) else {
                return Ok(None);
            };
            if state.status.is_revoked(&claims.jti) {
                return Ok(None);
            }
            if let Some(sid) = claims.sid.as_deref() {
                // A token of a login (a mobile session) ends with its family.
                match state.store.get_family(sid).await? {
                    Some(family) if family.revoked_at.is_none() => {}
                    _ => return Ok(None),
                }
            }
            let scope = state.scopes.parse(&claims.scope).unwrap_or(ScopeSet::EMPTY);
            Ok(Some(Principal {
                kind: PrincipalKind::Access,
                token_id: None,
                app: claims.app.into_owned(),
                profile: state.scopes.profile_of(scope),
                scope,
                client_id: Some(claims.client_id.into_owned()),
                sub: Some(claims.sub.into_owned()),
                username: None,
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                jti: Some(claims.jti),
                department: claims.department.map(|d| d.into_owned()),
                user_type: claims.user_type.map(|t| t.into_owned()),
                install_id: None,
            }))
        }
    }
}

fn refresh_principal(state: &AppState, record: RefreshToken, now: i64) -> Option<Principal> {
    let family = record.family;
    let exp = record.expires_at.min(family.expires_at);
    if record.rotated_at.is_some() || family.revoked_at.is_some() || exp <= now {
        return None;
    }
    let scope = state.scopes.parse(&family.scope).unwrap_or(ScopeSet::EMPTY);
    Some(Principal {
        kind: PrincipalKind::Opaque(TokenKind::Refresh),
        token_id: None,
        app: family.app_id,
        profile: state.scopes.profile_of(scope),
        scope,
        client_id: Some(family.client_id),
        sub: Some(family.user_id),
        username: None,
        exp: Some(exp),
        iat: Some(family.created_at),
        jti: None,
        department: None,
        user_type: None,
        install_id: None,
    })
}

/// What a stored platform token stands for, apart from the time: `None` when it
/// is disabled, or its user is gone or disabled.
async fn platform_principal(
    state: &AppState,
    token: PlatformToken,
) -> Result<Option<Principal>, DomainError> {
    if !token.enabled {
        return Ok(None);
    }
    let policy = token.kind.policy();
    // Endpoint tokens open endpoints through the endpoint check, nothing else.
    if policy.verifier != Verifier::Anywhere {
        return Ok(None);
    }
    let user = match policy.binding {
        Binding::Application => None,
        Binding::Endpoint => return Ok(None),
        Binding::User | Binding::Device => {
            let Some(user_id) = token.user_id.as_deref() else {
                return Ok(None);
            };
            match state.store.get_user(&token.app_id, user_id).await? {
                Some(user) if user.enabled => Some(user),
                _ => return Ok(None),
            }
        }
    };
    let (scope, profile) = match policy.scopes {
        ScopeSource::Profile(profile) => (state.scopes.profile(profile), Some(profile)),
        ScopeSource::NoScopes => return Ok(None),
        ScopeSource::UserType | ScopeSource::Grant => {
            let Some(user) = &user else {
                return Ok(None);
            };
            let own = user_type_bound(&state.store, &state.config.users, &state.scopes, user).await?;
            // The token's own user type, never more than the user's type allows now.
            let scope = match token.user_type.as_deref() {
                Some(name) => {
                    type_scopes(&state.store, &state.config.users, &state.scopes, &token.app_id, name)
                        .await?
                        .unwrap_or(ScopeSet::EMPTY)
                        .intersection(own)
                }
                None => own,
            };
            (scope, state.scopes.profile_of(scope))
        }
    };
    let user_type = token.user_type.clone().or_else(|| {
        user.as_ref().map(|u| u.user_type.clone().unwrap_or(state.config.users.default_user_type.clone()))
    });
    let department = token.department.clone().or_else(|| user.as_ref().and_then(|u| u.department.clone()));
    Ok(Some(Principal {
        kind: PrincipalKind::Opaque(token.kind),
        token_id: Some(token.id),
        app: token.app_id,
        scope,
        profile,
        client_id: None,
        sub: user.as_ref().map(|u| u.id.clone()),
        username: user.map(|u| u.username),
        exp: token.expires_at,
        iat: Some(token.created_at),
        jti: None,
        department,
        user_type,
        install_id: token.install_id,
    }))
}

/// Known platform tokens (by SHA-256) and what they stand for, so that a token
/// seen before costs no database read. `None` entries are stored tokens that
/// stand for nothing (disabled, their user gone).
///
/// Invariants: no lock is held across an await; an entry resolved before a clear
/// is never inserted after it (the epoch); the database's `tokens` change counter
/// is polled by `refresh`, so every instance notices a change within one poll.
pub struct TokenCache {
    entries: RwLock<HashMap<[u8; 32], Arc<Option<Principal>>>>,
    epoch: AtomicU64,
    version: AtomicI64,
    /// Applications and whether forward auth is on for them.
    forward_auth: RwLock<HashMap<String, bool>>,
}

/// Entries beyond this are not kept (each costs a few hundred bytes); a token
/// not kept is still answered, from the database.
const MAX_ENTRIES: usize = 100_000;

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            entries: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            version: AtomicI64::new(i64::MIN),
            forward_auth: RwLock::new(HashMap::new()),
        }
    }
}

impl TokenCache {
    fn peek(&self, hash: &[u8; 32]) -> Option<Arc<Option<Principal>>> {
        self.entries.read().ok()?.get(hash).cloned()
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn insert(&self, hash: [u8; 32], epoch: u64, resolved: Option<Principal>) -> Arc<Option<Principal>> {
        let entry = Arc::new(resolved);
        if let Ok(mut entries) = self.entries.write() {
            if self.epoch.load(Ordering::Acquire) == epoch && entries.len() < MAX_ENTRIES {
                entries.insert(hash, entry.clone());
            }
        }
        entry
    }

    /// Whether forward auth is on for `app`.
    pub async fn forward_auth(&self, store: &Store, app: &str) -> Result<bool, StoreError> {
        if let Some(on) = self.forward_auth.read().ok().and_then(|m| m.get(app).copied()) {
            return Ok(on);
        }
        let epoch = self.epoch();
        let on = store.get_app(app).await?.is_some_and(|a| a.forward_auth);
        if let Ok(mut map) = self.forward_auth.write() {
            if self.epoch.load(Ordering::Acquire) == epoch && map.len() < MAX_ENTRIES {
                map.insert(app.to_owned(), on);
            }
        }
        Ok(on)
    }

    pub fn clear(&self) {
        if let (Ok(mut entries), Ok(mut apps)) = (self.entries.write(), self.forward_auth.write()) {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            entries.clear();
            apps.clear();
        }
    }

    /// Clears the cache when the database's `tokens` change counter moved.
    pub async fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let version = store.change_version(ChangeCounter::Tokens).await?;
        if self.version.swap(version, Ordering::AcqRel) != version {
            self.clear();
            return Ok(true);
        }
        Ok(false)
    }
}

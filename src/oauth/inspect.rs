//! What a presented token is, whatever its kind: one lookup path for opaque
//! tokens (by prefix, then SHA-256) and JWT verification for access tokens.
//! Introspection and revocation both start here.

use std::sync::Arc;

use crate::domain::grants::RefreshToken;
use crate::domain::platform_tokens::PlatformToken;
use crate::domain::platform_tokens::TokenKind;
use crate::domain::scope::{Profile, ScopeSet};
use crate::store::StoreError;
use crate::tokens::jwt::AccessClaims;
use crate::tokens::secret;
use crate::AppState;

/// A token this server issued, as found.
pub enum Found {
    Access(AccessClaims<'static>),
    Refresh(RefreshToken),
    Platform(PlatformToken),
}

/// The token `presented` names, or `None` for anything this server did not issue.
pub async fn find(state: &Arc<AppState>, presented: &str) -> Result<Option<Found>, StoreError> {
    match TokenKind::of(presented) {
        Some(TokenKind::Refresh) => {
            let hash = secret::hash(presented.as_bytes());
            Ok(state.store.find_refresh(&hash).await?.map(Found::Refresh))
        }
        Some(_) => {
            let hash = secret::hash(presented.as_bytes());
            Ok(state.store.find_platform_token(&hash).await?.map(Found::Platform))
        }
        None => Ok(state.signer.verify(presented).ok().map(Found::Access)),
    }
}

/// RFC 7662 §2.2 facts of an active token.
pub struct Active {
    pub kind: &'static str,
    /// The platform token's id (never its value), for platform tokens.
    pub token_id: Option<String>,
    pub app: String,
    pub scope: ScopeSet,
    pub profile: Option<Profile>,
    pub client_id: Option<String>,
    pub sub: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub department: Option<String>,
    pub user_type: Option<String>,
}

/// Whether `found` is active now, and what it allows.
pub async fn activity(state: &Arc<AppState>, found: Found) -> Result<Option<Active>, StoreError> {
    let now = state.clock.now();
    let scopes = &state.scopes;
    Ok(match found {
        Found::Access(claims) => {
            if state.store.is_access_token_revoked(&claims.jti).await? {
                return Ok(None);
            }
            let scope = scopes.parse(&claims.scope).unwrap_or(ScopeSet::EMPTY);
            Some(Active {
                kind: "access_token",
                token_id: None,
                app: claims.app.into_owned(),
                profile: scopes.profile_of(scope),
                scope,
                client_id: Some(claims.client_id.into_owned()),
                sub: Some(claims.sub.into_owned()),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                jti: Some(claims.jti),
                department: claims.department.map(|d| d.into_owned()),
                user_type: claims.user_type.map(|t| t.into_owned()),
            })
        }
        Found::Refresh(record) => {
            let family = record.family;
            let live = record.rotated_at.is_none()
                && family.revoked_at.is_none()
                && record.expires_at.min(family.expires_at) > now;
            if !live {
                return Ok(None);
            }
            let scope = scopes.parse(&family.scope).unwrap_or(ScopeSet::EMPTY);
            Some(Active {
                kind: TokenKind::Refresh.name(),
                token_id: None,
                app: family.app_id,
                profile: scopes.profile_of(scope),
                scope,
                client_id: Some(family.client_id),
                sub: Some(family.user_id),
                exp: Some(record.expires_at.min(family.expires_at)),
                iat: Some(family.created_at),
                jti: None,
                department: None,
                user_type: None,
            })
        }
        Found::Platform(token) => {
            let live = token.enabled && token.expires_at.is_none_or(|exp| exp > now);
            let (kind, profile) = match token.kind.as_str() {
                "master" => (TokenKind::Master.name(), Profile::Master),
                "mobile" => (TokenKind::Mobile.name(), Profile::Mobile),
                // Only master and mobile tokens are issued so far; any other
                // kind found here allows nothing.
                _ => return Ok(None),
            };
            if !live {
                return Ok(None);
            }
            Some(Active {
                kind,
                token_id: Some(token.id),
                app: token.app_id,
                scope: scopes.profile(profile),
                profile: Some(profile),
                client_id: None,
                sub: None,
                exp: token.expires_at,
                iat: Some(token.created_at),
                jti: None,
                department: None,
                user_type: None,
            })
        }
    })
}

//! Authorization codes: issued for an approved grant (narrowed to what the user's
//! type allows), redeemed once, atomically. A replayed code revokes what its first
//! redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.5).

use std::sync::Arc;

use async_trait::async_trait;
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::grant::{Extensions, Grant, GrantExtension, Value};
use oxide_auth::primitives::scope::Scope;
use ring::rand::SystemRandom;

use super::FlowMemo;
use crate::domain::grants::{AuthorizationCode, CodeRedemption};
use crate::domain::login::sign_in_bound;
use crate::oauth::error::OAuthError;
use crate::tokens::secret;
use crate::AppState;

pub struct CodeAuthorizer {
    state: Arc<AppState>,
    memo: Arc<FlowMemo>,
}

impl CodeAuthorizer {
    pub fn new(state: Arc<AppState>, memo: Arc<FlowMemo>) -> CodeAuthorizer {
        CodeAuthorizer { state, memo }
    }

    fn fail(&self, error: OAuthError) {
        self.memo.reject(error);
    }
}

#[async_trait]
impl oxide_auth_async::primitives::Authorizer for CodeAuthorizer {
    async fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let state = &self.state;
        let Some(app_id) = self.memo.client().map(|c| c.client.app_id.clone()) else {
            self.fail(OAuthError::Server("no client for the approved grant".into()));
            return Err(());
        };
        let user = match state.store.get_user(&app_id, &grant.owner_id).await {
            Ok(Some(user)) if user.enabled => user,
            Ok(Some(_)) => {
                self.fail(OAuthError::InvalidGrant("the user is disabled".into()));
                return Err(());
            }
            Ok(None) => {
                self.fail(OAuthError::Server(format!("approved owner {} does not exist", grant.owner_id)));
                return Err(());
            }
            Err(e) => {
                self.fail(OAuthError::Server(format!("user lookup failed: {e}")));
                return Err(());
            }
        };
        let requested = state.scopes.parse(&grant.scope.to_string()).map_err(|e| {
            self.fail(OAuthError::Server(format!("approved scope does not parse: {e}")));
        })?;
        // A token for a user never carries more than the user's type allows.
        let bound =
            sign_in_bound(&state.store, &state.config.users, &state.scopes, &user).await.map_err(|e| {
                self.fail(OAuthError::Server(format!("user type lookup failed: {e}")));
            })?;
        let scope = requested.intersection(bound);
        if scope.is_empty() {
            self.fail(OAuthError::InvalidScope(
                "none of the requested scopes is allowed for this user".into(),
            ));
            return Err(());
        }
        let redirect_uri = match self.memo.redirect_uri.get() {
            Some(uri) => uri.clone(),
            None => grant.redirect_uri.to_string(),
        };
        let code_challenge = grant
            .extensions
            .private()
            .find(|(id, _)| *id == Pkce::required().identifier())
            .and_then(|(_, value)| value.map(str::to_owned));
        let code = secret::generate(&SystemRandom::new(), "").map_err(|_| {
            self.fail(OAuthError::Server("the system random generator failed".into()));
        })?;
        let now = state.clock.now();
        let sign_in = self.memo.sign_in.get().cloned().unwrap_or_default();
        let record = AuthorizationCode {
            nonce: sign_in.nonce,
            auth_time: sign_in.auth_time,
            client_id: grant.client_id,
            user_id: user.id,
            redirect_uri,
            scope: state.scopes.format(scope),
            code_challenge,
            created_at: now,
            expires_at: now + state.config.tokens.authorization_code_ttl as i64,
        };
        let hash = secret::hash(code.expose().as_bytes());
        if let Err(e) = state.store.insert_code(&hash, &record).await {
            self.fail(OAuthError::Server(format!("cannot store the code: {e}")));
            return Err(());
        }
        Ok(code.expose().to_owned())
    }

    async fn extract(&mut self, code: &str) -> Result<Option<Grant>, ()> {
        let state = &self.state;
        let hash = secret::hash(code.as_bytes());
        let now = state.clock.now();
        let redemption = state.store.redeem_code(&hash, now).await.map_err(|e| {
            self.fail(OAuthError::Server(format!("cannot redeem the code: {e}")));
        })?;
        let record = match redemption {
            CodeRedemption::Redeemed(record) => record,
            CodeRedemption::Replayed { family_id, access_jti, access_expires_at, access_status } => {
                tracing::warn!("authorization code replayed; revoking what its first use issued");
                if let Some(family) = family_id {
                    state.store.revoke_family(&family, now).await.map_err(|e| {
                        self.fail(OAuthError::Server(format!("cannot revoke the refresh family: {e}")));
                    })?;
                }
                if let (Some(jti), Some(exp)) = (access_jti, access_expires_at) {
                    state.store.revoke_access_token(&jti, exp).await.map_err(|e| {
                        self.fail(OAuthError::Server(format!("cannot revoke the access token: {e}")));
                    })?;
                    state.status.note_revoked(&jti);
                    state.store.revoke_status(access_status, &jti, exp).await.map_err(|e| {
                        self.fail(OAuthError::Server(format!(
                            "cannot revoke the access token's status: {e}"
                        )));
                    })?;
                }
                self.fail(OAuthError::InvalidGrant(
                    "the authorization code was already used; the tokens it issued are revoked".into(),
                ));
                return Ok(None);
            }
            CodeRedemption::Expired => {
                self.fail(OAuthError::InvalidGrant("the authorization code has expired".into()));
                return Ok(None);
            }
            CodeRedemption::Unknown => {
                self.fail(OAuthError::InvalidGrant("the authorization code is not valid".into()));
                return Ok(None);
            }
        };
        let scope = record.scope.parse::<Scope>().map_err(|_| {
            self.fail(OAuthError::Server("a stored code scope does not parse".into()));
        })?;
        let redirect_uri = url::Url::parse(&record.redirect_uri).map_err(|_| {
            self.fail(OAuthError::Server("a stored redirect URI does not parse".into()));
        })?;
        let mut extensions = Extensions::new();
        if let Some(challenge) = &record.code_challenge {
            extensions.set(&Pkce::required(), Value::private(Some(challenge.clone())));
        }
        let grant = Grant {
            owner_id: record.user_id.clone(),
            client_id: record.client_id.clone(),
            scope,
            redirect_uri,
            until: chrono::DateTime::from_timestamp(record.expires_at, 0).ok_or(())?,
            extensions,
        };
        let _ = self.memo.code.set((hash.to_vec(), record));
        Ok(Some(grant))
    }
}

/// The client credentials grant issues no authorization codes; oxide-auth's
/// endpoint still asks for an authorizer, which refuses every use.
pub struct NoCodes;

#[async_trait]
impl oxide_auth_async::primitives::Authorizer for NoCodes {
    async fn authorize(&mut self, _: Grant) -> Result<String, ()> {
        tracing::error!("authorizer: codes asked of a grant without codes");
        Err(())
    }

    async fn extract(&mut self, _: &str) -> Result<Option<Grant>, ()> {
        Ok(None)
    }
}

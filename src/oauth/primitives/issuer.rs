//! The issuer: RFC 9068 access tokens for every grant, and opaque refresh tokens
//! (`tsr_`) for user grants, rotated on every use within a family whose reuse
//! revokes it whole (RFC 9700 §4.14.2).

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::issuer::{IssuedToken, RefreshedToken, TokenType};
use oxide_auth::primitives::scope::Scope;
use ring::rand::SystemRandom;

use super::FlowMemo;
use crate::domain::clients::GrantType;
use crate::domain::grants::{RefreshFamily, Rotation, RotationJob, StatusEntry};
use crate::domain::login::sign_in_bound_of;
use crate::domain::scope::ScopeSet;
use crate::domain::users::User;
use crate::oauth::error::OAuthError;
use crate::store::Store;
use crate::tokens::jwt::{AccessClaims, StatusListRef, TokenStatus};
use crate::tokens::secret;
use crate::AppState;

/// Prefix of refresh tokens, recognisable by secret scanners.
pub const REFRESH_PREFIX: &str = "tsr_";

/// What the issuer minted, for the endpoint's answer.
pub struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
    pub refresh_token: Option<String>,
    /// For a code grant with `openid` (OpenID Connect Core §3.1.3.3).
    pub id_token: Option<String>,
}

pub struct JwtIssuer {
    state: Arc<AppState>,
    memo: Arc<FlowMemo>,
    pub issued: Option<Issued>,
}

/// The access token just signed, with what revoking it needs.
pub struct Minted {
    pub token: String,
    pub jti: String,
    pub exp: i64,
    /// The granted single scopes, space separated.
    pub scope: String,
    /// Where its revocation bit is.
    pub status: crate::domain::status::StatusIndex,
}

/// The department and user type a token for a person carries.
#[derive(Clone, Copy, Debug)]
pub struct PersonClaims<'a> {
    pub department: Option<&'a str>,
    pub user_type: &'a str,
}

impl<'a> PersonClaims<'a> {
    pub fn of(user: &'a User, default_user_type: &'a str) -> PersonClaims<'a> {
        PersonClaims {
            department: user.department.as_deref(),
            user_type: user.user_type.as_deref().unwrap_or(default_user_type),
        }
    }
}

/// Why an access token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error(transparent)]
    Sign(#[from] crate::tokens::jwt::JwtError),
    #[error("status list: {0}")]
    Status(#[from] crate::store::StoreError),
}

/// Signs an RFC 9068 access token for `subject` (a user, a client, a platform
/// token) on behalf of `client_id`, in application `app`, with its index in a
/// token status list (recorded with the login `family`, when there is one, so
/// that ending the login revokes it there too).
pub async fn mint_access_token(
    state: &AppState,
    subject: &str,
    client_id: &str,
    app: &str,
    granted: ScopeSet,
    person: Option<PersonClaims<'_>>,
    family: Option<&str>,
) -> Result<Minted, MintError> {
    let now = state.clock.now();
    let scope = state.scopes.format(granted);
    let status = state.status.allocate(&state.store, &state.config, now).await?;
    let status_uri = crate::domain::status::list_uri(&state.config.issuer, status.list_id);
    let signer = state.signer.current();
    let jti = signer.new_jti();
    let exp = now + state.config.tokens.access_token_ttl as i64;
    let claims = AccessClaims {
        iss: Cow::Borrowed(signer.issuer()),
        sub: Cow::Borrowed(subject),
        aud: Cow::Borrowed(signer.audience()),
        exp,
        iat: now,
        jti: jti.clone(),
        client_id: Cow::Borrowed(client_id),
        scope: Cow::Borrowed(&scope),
        profile: state.scopes.profile_of(granted).map(|p| Cow::Borrowed(p.name())),
        app: Cow::Borrowed(app),
        department: person.and_then(|p| p.department).map(Cow::Borrowed),
        user_type: person.map(|p| Cow::Borrowed(p.user_type)),
        sid: family.map(Cow::Borrowed),
        status: Some(TokenStatus {
            status_list: StatusListRef { idx: status.idx, uri: Cow::Borrowed(&status_uri) },
        }),
    };
    let token = signer.sign(&claims)?;
    Ok(Minted { token, jti, exp, scope, status })
}

impl Minted {
    /// Where this token's revocation bit is, for the login that issued it: the
    /// caller writes it with the login (a new family, a rotation), so that ending
    /// the login sets the bit.
    pub fn status_entry(&self) -> StatusEntry {
        StatusEntry {
            jti: self.jti.clone(),
            list_id: self.status.list_id,
            idx: self.status.idx,
            expires_at: self.exp,
        }
    }
}

impl JwtIssuer {
    pub fn new(state: Arc<AppState>, memo: Arc<FlowMemo>) -> JwtIssuer {
        JwtIssuer { state, memo, issued: None }
    }

    fn fail(&self, error: OAuthError) {
        self.memo.reject(error);
    }

    /// Signs an access token for `subject` (a user, or the client itself).
    async fn mint(
        &self,
        subject: &str,
        client_id: &str,
        app: &str,
        granted: ScopeSet,
        user: Option<&User>,
        family: Option<&str>,
    ) -> Result<Minted, ()> {
        let person = user.map(|u| PersonClaims::of(u, &self.state.config.users.default_user_type));
        mint_access_token(&self.state, subject, client_id, app, granted, person, family)
            .await
            .map_err(|e| self.fail(OAuthError::Server(format!("signing failed: {e}"))))
    }

    /// The grant's user, of application `app`, if it still exists and is enabled.
    async fn user(&self, app: &str, id: &str) -> Result<User, ()> {
        match self.state.store.get_user(app, id).await {
            Ok(Some(user)) if user.enabled => Ok(user),
            Ok(Some(_)) => {
                self.fail(OAuthError::InvalidGrant("the user of this grant is disabled".into()));
                Err(())
            }
            Ok(None) => {
                self.fail(OAuthError::InvalidGrant("the user of this grant no longer exists".into()));
                Err(())
            }
            Err(e) => {
                self.fail(OAuthError::Server(format!("user lookup failed: {e}")));
                Err(())
            }
        }
    }

    fn new_refresh_token(&self) -> Result<secret::Secret, ()> {
        secret::generate_token(&SystemRandom::new(), REFRESH_PREFIX)
            .map_err(|_| self.fail(OAuthError::Server("the system random generator failed".into())))
    }

    fn until(seconds_from_now: i64) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::seconds(seconds_from_now)
    }

    /// A client credentials token: the client is its own subject.
    async fn issue_for_client(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let cached = match self.memo.client().filter(|c| c.client.id == grant.client_id).cloned() {
            Some(cached) => cached,
            None => self.state.clients.peek(&grant.client_id).ok_or_else(|| {
                self.fail(OAuthError::Server("approved client left the cache".into()));
            })?,
        };
        let granted = match self.memo.granted.get() {
            Some(granted) => *granted,
            None => self.state.scopes.parse(&grant.scope.to_string()).map_err(|e| {
                self.fail(OAuthError::Server(format!("approved scope does not parse: {e}")));
            })?,
        };
        let minted =
            self.mint(&grant.owner_id, &grant.client_id, &cached.client.app_id, granted, None, None).await?;
        let ttl = self.state.config.tokens.access_token_ttl;
        self.issued = Some(Issued {
            access_token: minted.token.clone(),
            expires_in: ttl,
            scope: minted.scope,
            refresh_token: None,
            id_token: None,
        });
        Ok(IssuedToken {
            token: minted.token,
            refresh: None,
            until: Self::until(ttl as i64),
            token_type: TokenType::Bearer,
        })
    }

    /// A token for the user who approved an authorization code, with a refresh
    /// token when the client may refresh.
    async fn issue_for_user(&mut self, grant: Grant, code_hash: Vec<u8>) -> Result<IssuedToken, ()> {
        let state = self.state.clone();
        let cached = self.memo.client().cloned().ok_or_else(|| {
            self.fail(OAuthError::Server("no authenticated client for the code".into()));
        })?;
        let user = self.user(&cached.client.app_id, &grant.owner_id).await?;
        let granted = state.scopes.parse(&grant.scope.to_string()).map_err(|e| {
            self.fail(OAuthError::Server(format!("code scope does not parse: {e}")));
        })?;
        let now = state.clock.now();
        let mut refresh = None;
        let family_id = if cached.client.allows_grant(GrantType::RefreshToken) {
            Some(secret::generate_id(&SystemRandom::new()).map_err(|_| {
                self.fail(OAuthError::Server("the system random generator failed".into()));
            })?)
        } else {
            None
        };
        let minted = self
            .mint(
                &user.id,
                &grant.client_id,
                &cached.client.app_id,
                granted,
                Some(&user),
                family_id.as_deref(),
            )
            .await?;
        if let Some(family_id) = &family_id {
            let entry = minted.status_entry();
            state
                .store
                .insert_status_entry(&entry.jti, entry.list_id, entry.idx, family_id, entry.expires_at)
                .await
                .map_err(|e| {
                    self.fail(OAuthError::Server(format!("cannot record the token's status: {e}")))
                })?;
            let token = self.new_refresh_token()?;
            let tokens = &state.config.tokens;
            let family = RefreshFamily {
                id: family_id.clone(),
                app_id: cached.client.app_id.clone(),
                client_id: grant.client_id.clone(),
                user_id: user.id.clone(),
                scope: minted.scope.clone(),
                created_at: now,
                last_used_at: now,
                expires_at: now + tokens.refresh_token_max_lifetime as i64,
                revoked_at: None,
            };
            let token_expires_at = now + tokens.refresh_token_ttl as i64;
            let hash = secret::hash(token.expose().as_bytes());
            state.store.insert_family(&family, &hash, token_expires_at).await.map_err(|e| {
                self.fail(OAuthError::Server(format!("cannot store the refresh token: {e}")));
            })?;
            refresh = Some(token.expose().to_owned());
        }
        let replayed = state
            .store
            .record_code_issue(
                &code_hash,
                family_id.as_deref(),
                &minted.jti,
                minted.exp,
                (minted.status.list_id, minted.status.idx),
            )
            .await
            .map_err(|e| self.fail(OAuthError::Server(format!("cannot record the code's tokens: {e}"))))?;
        if replayed {
            // The code was replayed while this first use was being answered: what it
            // issued is revoked at once (RFC 6749 §4.1.2).
            if let Some(family) = &family_id {
                let _ = state.store.revoke_family(family, now).await;
            }
            let _ = state.store.revoke_access_token(&minted.jti, minted.exp).await;
            state.status.note_revoked(&minted.jti);
            let at = Some((minted.status.list_id, minted.status.idx));
            let _ = state.store.revoke_status(at, &minted.jti, minted.exp).await;
        }
        let id_token = if granted.has_openid() {
            let code = self.memo.code.get().map(|(_, code)| code);
            let facts = crate::oauth::oidc::SignInFacts {
                nonce: code.and_then(|c| c.nonce.as_deref()),
                auth_time: code.and_then(|c| c.auth_time),
            };
            let signed = crate::oauth::oidc::mint_id_token(
                &state,
                &user,
                &grant.client_id,
                granted,
                &minted.token,
                facts,
            )
            .map_err(|e| self.fail(OAuthError::Server(format!("signing the ID token failed: {e}"))))?;
            Some(signed)
        } else {
            None
        };
        let ttl = state.config.tokens.access_token_ttl;
        self.issued = Some(Issued {
            access_token: minted.token.clone(),
            expires_in: ttl,
            scope: minted.scope,
            refresh_token: refresh.clone(),
            id_token,
        });
        Ok(IssuedToken {
            token: minted.token,
            refresh,
            until: Self::until(ttl as i64),
            token_type: TokenType::Bearer,
        })
    }
}

#[async_trait]
impl oxide_auth_async::primitives::Issuer for JwtIssuer {
    async fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        match self.memo.code.get().map(|(hash, _)| hash.clone()) {
            Some(code_hash) => self.issue_for_user(grant, code_hash).await,
            None => self.issue_for_client(grant).await,
        }
    }

    async fn refresh(&mut self, refresh: &str, grant: Grant) -> Result<RefreshedToken, ()> {
        let state = self.state.clone();
        let Some((hash, presented)) = self.memo.refresh.get().cloned() else {
            self.fail(OAuthError::Server("refresh without a recovered token".into()));
            return Err(());
        };
        debug_assert_eq!(secret::hash(refresh.as_bytes()).to_vec(), hash);
        let now = state.clock.now();
        let family = &presented.token.family;
        let user = match presented.user {
            Some(user) if user.enabled => user,
            Some(_) => {
                self.fail(OAuthError::InvalidGrant("the user of this grant is disabled".into()));
                return Err(());
            }
            None => {
                self.fail(OAuthError::InvalidGrant("the user of this grant no longer exists".into()));
                return Err(());
            }
        };
        // The person's tokens never exceed what their user type allows now: a
        // demoted user, or a user type narrowed since the login, gets less.
        let bound =
            sign_in_bound_of(&state.config.users, &state.scopes, &user, presented.own_type_scope.as_deref());
        // The access token may carry a narrower scope than the family (RFC 6749 §6);
        // the rotated refresh token keeps the family's.
        let requested = state.scopes.parse(&grant.scope.to_string()).map_err(|e| {
            self.fail(OAuthError::Server(format!("refreshed scope does not parse: {e}")));
        })?;
        let granted = requested.intersection(bound);
        if granted.is_empty() {
            self.fail(OAuthError::InvalidGrant(
                "the user's type no longer allows any scope of this login".into(),
            ));
            return Err(());
        }
        // Signed first, so that the rotation writes the new refresh token and the
        // access token's status entry in one transaction; a rotation that fails
        // throws the signed token away unseen.
        let minted = self
            .mint(&user.id, &family.client_id, &family.app_id, granted, Some(&user), Some(&family.id))
            .await?;
        let token = self.new_refresh_token()?;
        let job = RotationJob {
            family_id: family.id.clone(),
            old_hash: hash,
            new_hash: secret::hash(token.expose().as_bytes()).to_vec(),
            new_expires_at: (now + state.config.tokens.refresh_token_ttl as i64).min(family.expires_at),
            access: minted.status_entry(),
        };
        let batch_state = state.clone();
        let rotation = state
            .rotations
            .submit(job, move |jobs| {
                let state = batch_state.clone();
                async move { rotate_batch(&state.store, jobs, state.clock.now()).await }
            })
            .await
            .unwrap_or_else(|| Err("the rotation batch ended without an answer".to_owned()))
            .map_err(|e| {
                self.fail(OAuthError::Server(format!("cannot rotate the refresh token: {e}")));
            })?;
        match rotation {
            Rotation::Rotated => {}
            Rotation::AlreadySpent => {
                tracing::warn!(family = %family.id, "refresh token reused; revoking its family");
                let _ = state.store.revoke_family(&family.id, now).await;
                self.fail(OAuthError::InvalidGrant(
                    "the refresh token was already used; every token of its login is revoked".into(),
                ));
                return Err(());
            }
            Rotation::FamilyEnded => {
                self.fail(OAuthError::InvalidGrant("the refresh token is revoked or expired".into()));
                return Err(());
            }
        }
        let ttl = state.config.tokens.access_token_ttl;
        self.issued = Some(Issued {
            access_token: minted.token.clone(),
            expires_in: ttl,
            scope: minted.scope,
            refresh_token: Some(token.expose().to_owned()),
            id_token: None,
        });
        Ok(RefreshedToken {
            token: minted.token,
            refresh: Some(token.expose().to_owned()),
            until: Self::until(ttl as i64),
            token_type: TokenType::Bearer,
        })
    }

    async fn recover_token(&mut self, token: &str) -> Result<Option<Grant>, ()> {
        let Ok(claims) = self.state.signer.current().verify(token) else {
            return Ok(None);
        };
        let scope = claims.scope.parse::<Scope>().map_err(|_| ())?;
        let until = chrono::DateTime::from_timestamp(claims.exp, 0).ok_or(())?;
        let redirect_uri = url::Url::parse(&claims.iss).map_err(|_| ())?;
        Ok(Some(Grant {
            owner_id: claims.sub.into_owned(),
            client_id: claims.client_id.into_owned(),
            scope,
            redirect_uri,
            until,
            extensions: Default::default(),
        }))
    }

    async fn recover_refresh(&mut self, token: &str) -> Result<Option<Grant>, ()> {
        let state = self.state.clone();
        let invalid = |memo: &FlowMemo, why: &str| {
            memo.reject(OAuthError::InvalidGrant(why.to_owned()));
            Ok(None)
        };
        if !token.starts_with(REFRESH_PREFIX) {
            return invalid(&self.memo, "the refresh token is not valid");
        }
        let hash = secret::hash(token.as_bytes());
        let found = state.store.find_refresh_grant(&hash, &state.config.users.default_user_type).await;
        let presented = match found {
            Ok(Some(presented)) => presented,
            Ok(None) => return invalid(&self.memo, "the refresh token is not valid"),
            Err(e) => {
                self.fail(OAuthError::Server(format!("refresh token lookup failed: {e}")));
                return Err(());
            }
        };
        let now = state.clock.now();
        let record = &presented.token;
        let family = &record.family;
        if record.rotated_at.is_some() {
            tracing::warn!(family = %family.id, "rotated refresh token presented again; revoking its family");
            let _ = state.store.revoke_family(&family.id, now).await;
            return invalid(
                &self.memo,
                "the refresh token was already used; every token of its login is revoked",
            );
        }
        if family.revoked_at.is_some() {
            return invalid(&self.memo, "the refresh token is revoked");
        }
        if record.expires_at <= now || family.expires_at <= now {
            return invalid(&self.memo, "the refresh token has expired");
        }
        if self.memo.presented_client.get().is_some_and(|id| *id != family.client_id) {
            return invalid(&self.memo, "the refresh token was issued to another client");
        }
        // The family's scope in single scopes, so that oxide-auth can check that a
        // requested narrower scope is within it.
        let set = state.scopes.parse(&family.scope).map_err(|_| ())?;
        let scope = state.scopes.format(set).parse::<Scope>().map_err(|_| ())?;
        let until = Self::until(record.expires_at.min(family.expires_at) - now);
        let grant = Grant {
            owner_id: family.user_id.clone(),
            client_id: family.client_id.clone(),
            scope,
            redirect_uri: state.issuer_url.clone(),
            until,
            extensions: Default::default(),
        };
        let _ = self.memo.refresh.set((hash.to_vec(), presented));
        Ok(Some(grant))
    }
}

/// One batch of the group commit behind refresh rotations: every job's outcome,
/// or the batch's error for each.
async fn rotate_batch(store: &Store, jobs: Vec<RotationJob>, now: i64) -> Vec<Result<Rotation, String>> {
    match store.rotate_refresh_batch(&jobs, now).await {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) => {
            let e = e.to_string();
            jobs.iter().map(|_| Err(e.clone())).collect()
        }
    }
}

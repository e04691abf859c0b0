//! tessera's implementations of oxide-auth's async primitives: the registrar over
//! the client cache, the issuer over the JWT signer.
//!
//! oxide-auth's primitives answer `Err(())` or an unspecific `RegistrarError`; the
//! precise reason (unknown client, grant not allowed, scope outside the registration,
//! database failure) is kept in `Rejection` so the endpoint can answer the right
//! RFC 6749 error and log the cause.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::issuer::{IssuedToken, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, PreGrant, RegisteredUrl, RegistrarError};
use oxide_auth::primitives::scope::Scope;

use super::error::{AuthScheme, OAuthError};
use crate::domain::client_cache::CachedClient;
use crate::domain::clients::GrantType;
use crate::oauth::scope::ScopeSet;
use crate::tokens::jwt::AccessClaims;
use crate::tokens::secret;
use crate::AppState;

/// Why a primitive refused, kept for the endpoint's answer.
#[derive(Default)]
pub struct Rejection(Mutex<Option<OAuthError>>);

impl Rejection {
    fn set(&self, error: OAuthError) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(error);
        }
    }

    /// The recorded reason, or `fallback` when none was recorded.
    pub fn take_or(&self, fallback: OAuthError) -> OAuthError {
        self.0.lock().ok().and_then(|mut slot| slot.take()).unwrap_or(fallback)
    }
}

/// What one request's primitives learnt, shared so that each is worked out once:
/// the client (looked up by the registrar) and the granted scope (negotiated by it),
/// both read again by the issuer.
#[derive(Default)]
pub struct FlowMemo {
    client: OnceLock<Arc<CachedClient>>,
    granted: OnceLock<ScopeSet>,
}

/// Looks clients up through the cache and decides what they may be granted.
pub struct Registrar {
    state: Arc<AppState>,
    /// The grant being asked for, which the client must be registered for.
    grant: GrantType,
    scheme: AuthScheme,
    memo: Arc<FlowMemo>,
    pub rejection: Rejection,
}

impl Registrar {
    pub fn new(state: Arc<AppState>, grant: GrantType, scheme: AuthScheme, memo: Arc<FlowMemo>) -> Registrar {
        Registrar { state, grant, scheme, memo, rejection: Rejection::default() }
    }

    async fn client(&self, id: &str) -> Result<Option<Arc<CachedClient>>, RegistrarError> {
        if let Some(known) = self.memo.client.get().filter(|c| c.client.id == id) {
            return Ok(Some(known.clone()));
        }
        let found = self.state.clients.get(&self.state.store, &self.state.scopes, id).await.map_err(|e| {
            self.rejection.set(OAuthError::Server(format!("client lookup failed: {e}")));
            RegistrarError::PrimitiveError
        })?;
        if let Some(client) = &found {
            let _ = self.memo.client.set(client.clone());
        }
        Ok(found)
    }

    fn unknown_client(&self, id: &str) -> RegistrarError {
        tracing::info!(client_id = %id, "unknown client");
        self.rejection.set(OAuthError::invalid_client("client authentication failed", self.scheme));
        RegistrarError::Unspecified
    }
}

#[async_trait]
impl oxide_auth_async::primitives::Registrar for Registrar {
    async fn bound_redirect<'a>(&self, bound: ClientUrl<'a>) -> Result<BoundClient<'a>, RegistrarError> {
        let Some(cached) = self.client(&bound.client_id).await? else {
            return Err(self.unknown_client(&bound.client_id));
        };
        if !cached.client.allows_grant(self.grant) {
            self.rejection.set(OAuthError::UnauthorizedClient(format!(
                "this client is not registered for the {} grant",
                self.grant
            )));
            return Err(RegistrarError::Unspecified);
        }
        // oxide-auth binds every grant to a URL. A client credentials grant has no
        // redirect; it is bound to the issuer, a URL that is never redirected to.
        let url = cached
            .client
            .redirect_uris
            .first()
            .and_then(|u| url::Url::parse(u).ok())
            .unwrap_or_else(|| self.state.issuer_url.clone());
        Ok(BoundClient { client_id: bound.client_id, redirect_uri: Cow::Owned(RegisteredUrl::Semantic(url)) })
    }

    async fn negotiate<'a>(
        &self,
        bound: BoundClient<'a>,
        scope: Option<Scope>,
    ) -> Result<PreGrant, RegistrarError> {
        let Some(cached) = self.client(&bound.client_id).await? else {
            return Err(self.unknown_client(&bound.client_id));
        };
        let requested = scope.map(|s| s.to_string());
        let granted = self.state.scopes.grant(requested.as_deref(), cached.allowed).map_err(|e| {
            self.rejection.set(OAuthError::InvalidScope(e.to_string()));
            RegistrarError::Unspecified
        })?;
        if granted.is_empty() {
            self.rejection.set(OAuthError::InvalidScope("no scope was requested or registered".into()));
            return Err(RegistrarError::Unspecified);
        }
        let _ = self.memo.granted.set(granted);
        // oxide-auth carries the grant in tessera's scope language; the compact form
        // (`mobile` rather than its ten single scopes) keeps its copies small.
        let scope = self
            .state
            .scopes
            .format_compact(granted)
            .parse::<Scope>()
            .map_err(|_| RegistrarError::PrimitiveError)?;
        Ok(PreGrant {
            client_id: bound.client_id.into_owned(),
            redirect_uri: bound.redirect_uri.into_owned(),
            scope,
        })
    }

    async fn check(&self, client_id: &str, passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        let Some(cached) = self.client(client_id).await? else {
            return Err(self.unknown_client(client_id));
        };
        let ok = match (&cached.client.secret_hash, passphrase) {
            (Some(stored), Some(presented)) => secret::verify(presented, stored),
            _ => false,
        };
        if !ok {
            tracing::info!(client_id = %client_id, "client secret mismatch or missing");
            self.rejection.set(OAuthError::invalid_client("client authentication failed", self.scheme));
            return Err(RegistrarError::Unspecified);
        }
        Ok(())
    }
}

/// What the issuer minted, for the endpoint's answer.
pub struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
}

/// Mints RFC 9068 access tokens for grants oxide-auth has approved.
pub struct JwtIssuer {
    state: Arc<AppState>,
    memo: Arc<FlowMemo>,
    pub issued: Option<Issued>,
}

impl JwtIssuer {
    pub fn new(state: Arc<AppState>, memo: Arc<FlowMemo>) -> JwtIssuer {
        JwtIssuer { state, memo, issued: None }
    }
}

#[async_trait]
impl oxide_auth_async::primitives::Issuer for JwtIssuer {
    async fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let state = &self.state;
        let memo_client = self.memo.client.get().filter(|c| c.client.id == grant.client_id).cloned();
        let Some(cached) = memo_client.or_else(|| state.clients.peek(&grant.client_id)) else {
            tracing::error!(client_id = %grant.client_id, "issuer: approved client left the cache");
            return Err(());
        };
        let granted = match self.memo.granted.get() {
            Some(granted) => *granted,
            None => state.scopes.parse(&grant.scope.to_string()).map_err(|e| {
                tracing::error!(error = %e, "issuer: approved scope does not parse");
            })?,
        };
        let now = crate::domain::now();
        let ttl = state.config.tokens.access_token_ttl;
        let scope = state.scopes.format(granted);
        let claims = AccessClaims {
            iss: Cow::Borrowed(state.signer.issuer()),
            sub: Cow::Owned(grant.owner_id),
            aud: Cow::Borrowed(state.signer.audience()),
            exp: now + ttl as i64,
            iat: now,
            jti: state.signer.new_jti(),
            client_id: Cow::Owned(grant.client_id),
            scope: Cow::Borrowed(&scope),
            profile: state.scopes.profile_of(granted).map(|p| Cow::Borrowed(p.name())),
            app: Cow::Borrowed(&cached.client.app_id),
            department: None,
            user_type: None,
        };
        let token =
            state.signer.sign(&claims).map_err(|e| tracing::error!(error = %e, "issuer: signing failed"))?;
        self.issued = Some(Issued { access_token: token.clone(), expires_in: ttl, scope });
        Ok(IssuedToken {
            token,
            refresh: None,
            until: chrono::Utc::now() + chrono::Duration::seconds(ttl as i64),
            token_type: TokenType::Bearer,
        })
    }

    async fn refresh(&mut self, _refresh: &str, _grant: Grant) -> Result<RefreshedToken, ()> {
        // This issuer mints access tokens only; refresh tokens belong to the refresh grant.
        tracing::error!("issuer: refresh asked of the JWT issuer");
        Err(())
    }

    async fn recover_token(&mut self, token: &str) -> Result<Option<Grant>, ()> {
        let Ok(claims) = self.state.signer.verify(token) else {
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

    async fn recover_refresh(&mut self, _token: &str) -> Result<Option<Grant>, ()> {
        // No refresh token is ever minted by this issuer, so none is known to it.
        Ok(None)
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

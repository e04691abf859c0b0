//! The registrar: finds clients through the cache, binds redirect URIs by exact
//! string match, negotiates scope within the registration and authenticates
//! clients (a secret for confidential clients, none for public and mobile ones).

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, PreGrant, RegisteredUrl, RegistrarError,
};
use oxide_auth::primitives::scope::Scope;

use super::FlowMemo;
use crate::domain::client_cache::CachedClient;
use crate::domain::clients::GrantType;
use crate::oauth::error::{AuthScheme, OAuthError};
use crate::tokens::secret;
use crate::AppState;

pub struct Registrar {
    state: Arc<AppState>,
    /// The grant being asked for, which the client must be registered for (none
    /// at endpoints that are not grants: introspection, revocation).
    grant: Option<GrantType>,
    scheme: AuthScheme,
    memo: Arc<FlowMemo>,
}

impl Registrar {
    pub fn new(state: Arc<AppState>, grant: GrantType, scheme: AuthScheme, memo: Arc<FlowMemo>) -> Registrar {
        Registrar { state, grant: Some(grant), scheme, memo }
    }

    /// A registrar that only authenticates clients, for endpoints that are not grants.
    pub fn authenticator(state: Arc<AppState>, scheme: AuthScheme, memo: Arc<FlowMemo>) -> Registrar {
        Registrar { state, grant: None, scheme, memo }
    }

    async fn client(&self, id: &str) -> Result<Arc<CachedClient>, RegistrarError> {
        if let Some(known) = self.memo.client.get().filter(|c| c.client.id == id) {
            return Ok(known.clone());
        }
        let found = self.state.clients.get(&self.state.store, &self.state.scopes, id).await.map_err(|e| {
            self.memo.reject(OAuthError::Server(format!("client lookup failed: {e}")));
            RegistrarError::PrimitiveError
        })?;
        let Some(client) = found else {
            tracing::info!(client_id = %id, "unknown client");
            self.memo.reject(OAuthError::invalid_client("client authentication failed", self.scheme));
            return Err(RegistrarError::Unspecified);
        };
        let _ = self.memo.client.set(client.clone());
        Ok(client)
    }

    fn refuse(&self, error: OAuthError) -> RegistrarError {
        self.memo.reject(error);
        RegistrarError::Unspecified
    }

    /// RFC 6749 §3.1.2.3 and RFC 9700 §2.1: the redirect URI must equal a
    /// registered one exactly; it may be left out only when just one is registered.
    fn bind_exact(
        &self,
        client: &CachedClient,
        requested: Option<&ExactUrl>,
    ) -> Result<ExactUrl, RegistrarError> {
        let registered = &client.client.redirect_uris;
        let chosen = match requested {
            Some(uri) if registered.iter().any(|r| r == uri.as_str()) => uri.as_str().to_owned(),
            Some(_) => {
                return Err(
                    self.refuse(OAuthError::invalid_request("redirect_uri is not one the client registered"))
                )
            }
            None if registered.len() == 1 => registered[0].clone(),
            None => {
                return Err(self.refuse(OAuthError::invalid_request(
                    "redirect_uri is required: the client registered more than one",
                )))
            }
        };
        let exact = chosen.parse::<ExactUrl>().map_err(|_| {
            self.refuse(OAuthError::Server(format!("registered redirect URI `{chosen}` does not parse")))
        })?;
        let _ = self.memo.redirect_uri.set(chosen);
        Ok(exact)
    }
}

#[async_trait]
impl oxide_auth_async::primitives::Registrar for Registrar {
    async fn bound_redirect<'a>(&self, bound: ClientUrl<'a>) -> Result<BoundClient<'a>, RegistrarError> {
        let cached = self.client(&bound.client_id).await?;
        let redirect_uri = match self.grant {
            Some(GrantType::AuthorizationCode) => {
                if !cached.client.allows_grant(GrantType::AuthorizationCode) {
                    return Err(self.refuse(OAuthError::UnauthorizedClient(
                        "this client is not registered for the authorization_code grant".into(),
                    )));
                }
                RegisteredUrl::Exact(self.bind_exact(&cached, bound.redirect_uri.as_deref())?)
            }
            // oxide-auth binds every grant to a URL. The other grants have no
            // redirect; they are bound to the issuer, a URL never redirected to.
            _ => RegisteredUrl::Semantic(self.state.issuer_url.clone()),
        };
        Ok(BoundClient { client_id: bound.client_id, redirect_uri: Cow::Owned(redirect_uri) })
    }

    async fn negotiate<'a>(
        &self,
        bound: BoundClient<'a>,
        scope: Option<Scope>,
    ) -> Result<PreGrant, RegistrarError> {
        let cached = self.client(&bound.client_id).await?;
        let requested = scope.map(|s| s.to_string());
        let granted = self
            .state
            .scopes
            .grant(requested.as_deref(), cached.allowed)
            .map_err(|e| self.refuse(OAuthError::InvalidScope(e.to_string())))?;
        if granted.is_empty() {
            return Err(self.refuse(OAuthError::InvalidScope("no scope was requested or registered".into())));
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
        let cached = self.client(client_id).await?;
        let client = &cached.client;
        let authenticated = match (&client.secret_hash, passphrase) {
            (Some(stored), Some(presented)) => secret::verify(presented, stored),
            // Public and mobile clients have no secret to present (RFC 6749 §2.1).
            (None, None) => !client.client_type.is_confidential(),
            _ => false,
        };
        if !authenticated {
            tracing::info!(client_id = %client_id, "client authentication failed");
            return Err(self.refuse(OAuthError::invalid_client("client authentication failed", self.scheme)));
        }
        if let Some(grant) = self.grant.filter(|g| !client.allows_grant(*g)) {
            return Err(self.refuse(OAuthError::UnauthorizedClient(format!(
                "this client is not registered for the {grant} grant"
            ))));
        }
        Ok(())
    }
}

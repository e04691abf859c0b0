//! The client credentials grant (RFC 6749 §4.4), run through oxide-auth-async's
//! state machine with tessera's registrar and JWT issuer.

use std::borrow::Cow;
use std::sync::Arc;

use oxide_auth::code_grant::accesstoken::ErrorDescription;
use oxide_auth::code_grant::client_credentials::{Error as FlowError, Request as FlowRequest};
use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth::primitives::scope::Scope;
use oxide_auth_async::code_grant::client_credentials::{client_credentials, Endpoint, Extension};
use oxide_auth_async::primitives::{Authorizer, Issuer};

use super::TokenResponse;
use crate::domain::clients::GrantType;
use crate::oauth::client_auth::PresentedClient;
use crate::oauth::error::{AuthScheme, OAuthError};
use crate::oauth::primitives::{FlowMemo, JwtIssuer, NoCodes, Registrar};
use crate::oauth::request::FormRequest;
use crate::AppState;

pub async fn grant(
    state: Arc<AppState>,
    client: Option<PresentedClient>,
    form: &FormRequest,
) -> Result<TokenResponse, OAuthError> {
    // RFC 6749 §4.4.2: only confidential clients, which must authenticate.
    let client =
        match client {
            Some(c) if c.secret.is_some() => c,
            Some(c) => return Err(OAuthError::invalid_client(
                "client_credentials needs client authentication (client_secret_basic or client_secret_post)",
                c.scheme,
            )),
            None => return Err(OAuthError::invalid_client(
                "client_credentials needs client authentication (client_secret_basic or client_secret_post)",
                AuthScheme::None,
            )),
        };
    let scope = form.get("scope");
    if let Some(scope) = scope {
        // RFC 6749 §3.3 scope-token syntax, checked here so that it answers invalid_scope.
        scope.parse::<Scope>().map_err(|_| {
            OAuthError::InvalidScope("the scope holds a character RFC 6749 §3.3 forbids".into())
        })?;
    }
    let memo = Arc::new(FlowMemo::default());
    let mut endpoint = CredentialsEndpoint {
        registrar: Registrar::new(state.clone(), GrantType::ClientCredentials, client.scheme, memo.clone()),
        issuer: JwtIssuer::new(state, memo),
        authorizer: NoCodes,
        extension: (),
    };
    let request = Input { client: &client, scope };
    let pending = client_credentials(&mut endpoint, &request).await;
    let result = match pending {
        // The owner of a client credentials grant is the client itself.
        Ok(pending) => pending.issue(&mut endpoint, client.client_id.clone(), false).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(error) = result {
        return Err(map_error(error, &endpoint.registrar, client.scheme));
    }
    let issued = endpoint
        .issuer
        .issued
        .take()
        .ok_or_else(|| OAuthError::Server("the issuer approved no token".into()))?;
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scope,
    })
}

fn map_error(error: FlowError, registrar: &Registrar, scheme: AuthScheme) -> OAuthError {
    match error {
        FlowError::Unauthorized(..) => {
            registrar.rejection.take_or(OAuthError::invalid_client("client authentication failed", scheme))
        }
        FlowError::Invalid(mut description) => {
            registrar.rejection.take_or(from_description(&mut description))
        }
        FlowError::Ignore => registrar
            .rejection
            .take_or(OAuthError::Server("the client credentials flow refused without a reason".into())),
        FlowError::Primitive(_) => registrar
            .rejection
            .take_or(OAuthError::Server("a primitive of the client credentials flow failed".into())),
    }
}

fn from_description(description: &mut ErrorDescription) -> OAuthError {
    let error = description.description();
    match error.kind() {
        AccessTokenErrorType::InvalidClient => {
            OAuthError::invalid_client("client authentication failed", AuthScheme::None)
        }
        AccessTokenErrorType::InvalidGrant => OAuthError::InvalidGrant("the grant is invalid".into()),
        AccessTokenErrorType::UnauthorizedClient => {
            OAuthError::UnauthorizedClient("the client may not use this grant".into())
        }
        AccessTokenErrorType::UnsupportedGrantType => {
            OAuthError::UnsupportedGrantType("unsupported grant type".into())
        }
        AccessTokenErrorType::InvalidScope => OAuthError::InvalidScope("the scope is invalid".into()),
        AccessTokenErrorType::InvalidRequest => OAuthError::invalid_request("the request is malformed"),
    }
}

/// The grant's inputs, already read and checked by the endpoint.
struct Input<'a> {
    client: &'a PresentedClient,
    scope: Option<&'a str>,
}

impl FlowRequest for Input<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn authorization(&self) -> Option<(Cow<'_, str>, Cow<'_, [u8]>)> {
        // Both client_secret_basic and client_secret_post arrive here as one pair.
        let secret = self.client.secret.as_ref()?;
        Some((Cow::Borrowed(self.client.client_id.as_str()), Cow::Borrowed(secret.expose().as_bytes())))
    }

    fn scope(&self) -> Option<Cow<'_, str>> {
        self.scope.map(Cow::Borrowed)
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("client_credentials"))
    }

    fn extension(&self, _key: &str) -> Option<Cow<'_, str>> {
        None
    }
}

struct CredentialsEndpoint {
    registrar: Registrar,
    issuer: JwtIssuer,
    authorizer: NoCodes,
    extension: (),
}

impl Endpoint for CredentialsEndpoint {
    fn registrar(&self) -> &(dyn oxide_auth_async::primitives::Registrar + Sync) {
        &self.registrar
    }

    fn authorizer(&mut self) -> &mut (dyn Authorizer + Send) {
        &mut self.authorizer
    }

    fn issuer(&mut self) -> &mut (dyn Issuer + Send) {
        &mut self.issuer
    }

    fn extension(&mut self) -> &mut (dyn Extension + Send) {
        &mut self.extension
    }
}

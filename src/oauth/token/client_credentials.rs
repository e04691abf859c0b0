//! The client credentials grant (RFC 6749 §4.4), run through oxide-auth-async's
//! state machine with tessera's registrar and JWT issuer.

use std::borrow::Cow;
use std::sync::Arc;

use oxide_auth::code_grant::client_credentials::{Error as FlowError, Request as FlowRequest};
use oxide_auth::primitives::scope::Scope;
use oxide_auth_async::code_grant::client_credentials::client_credentials;

use super::{Flow, TokenResponse};
use crate::domain::clients::GrantType;
use crate::oauth::client_auth::PresentedClient;
use crate::oauth::error::{AuthScheme, OAuthError};
use crate::oauth::primitives::NoCodes;
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
            other => return Err(OAuthError::invalid_client(
                "client_credentials needs client authentication (client_secret_basic or client_secret_post)",
                other.map_or(AuthScheme::None, |c| c.scheme),
            )),
        };
    let scope = form.get("scope");
    if let Some(scope) = scope {
        // RFC 6749 §3.3 scope-token syntax, checked here so that it answers invalid_scope.
        scope.parse::<Scope>().map_err(|_| {
            OAuthError::InvalidScope("the scope holds a character RFC 6749 §3.3 forbids".into())
        })?;
    }
    let mut flow = Flow::new(state, GrantType::ClientCredentials, client.scheme, |_| NoCodes, |_| ());
    let request = Input { client: &client, scope };
    let result = match client_credentials(&mut flow, &request).await {
        // The owner of a client credentials grant is the client itself.
        Ok(pending) => pending.issue(&mut flow, client.client_id.clone(), false).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => flow.issued(),
        Err(FlowError::Unauthorized(..)) => Err(flow.refusal(
            Some(oxide_auth::code_grant::error::AccessTokenErrorType::InvalidClient),
            client.scheme,
        )),
        Err(FlowError::Invalid(mut description)) => {
            Err(flow.refusal(Some(description.description().kind()), client.scheme))
        }
        Err(FlowError::Ignore | FlowError::Primitive(_)) => Err(flow.refusal(None, client.scheme)),
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

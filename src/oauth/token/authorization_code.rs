//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3, RFC 7636
//! §4.5): the code is redeemed once, the verifier checked, and the user's access
//! token (with a refresh token when the client may refresh) issued.

use std::borrow::Cow;
use std::sync::Arc;

use oxide_auth::code_grant::accesstoken::{Authorization, Error as FlowError, Request as FlowRequest};
use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth_async::code_grant::access_token::access_token;

use super::{Flow, TokenResponse};
use crate::domain::clients::GrantType;
use crate::oauth::client_auth::PresentedClient;
use crate::oauth::error::OAuthError;
use crate::oauth::primitives::{CodeAuthorizer, PkceToken};
use crate::oauth::request::FormRequest;
use crate::AppState;

pub async fn grant(
    state: Arc<AppState>,
    client: Option<PresentedClient>,
    form: &FormRequest,
) -> Result<TokenResponse, OAuthError> {
    let client = super::named_client(client)?;
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let authorizer_state = state.clone();
    let mut flow = Flow::new(
        state,
        GrantType::AuthorizationCode,
        client.scheme,
        |memo| CodeAuthorizer::new(authorizer_state, memo),
        PkceToken::new,
    );
    let request = Input { client: &client, code, redirect_uri, form };
    match access_token(&mut flow, &request).await {
        Ok(_) => flow.issued(),
        Err(FlowError::Unauthorized(..)) => {
            Err(flow.refusal(Some(AccessTokenErrorType::InvalidClient), client.scheme))
        }
        Err(FlowError::Invalid(mut description)) => {
            Err(flow.refusal(Some(description.description().kind()), client.scheme))
        }
        Err(FlowError::Primitive(_)) => Err(flow.refusal(None, client.scheme)),
    }
}

struct Input<'a> {
    client: &'a PresentedClient,
    code: &'a str,
    redirect_uri: &'a str,
    form: &'a FormRequest,
}

impl FlowRequest for Input<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.code))
    }

    fn authorization(&self) -> Authorization<'_> {
        let id = Cow::Borrowed(self.client.client_id.as_str());
        match &self.client.secret {
            Some(secret) => Authorization::UsernamePassword(id, Cow::Borrowed(secret.expose().as_bytes())),
            // A public client names itself without a secret (RFC 6749 §4.1.3).
            None => Authorization::Username(id),
        }
    }

    fn client_id(&self) -> Option<Cow<'_, str>> {
        None
    }

    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.redirect_uri))
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("authorization_code"))
    }

    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        self.form.get(key).map(Cow::Borrowed)
    }
}

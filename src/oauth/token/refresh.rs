//! The refresh token grant (RFC 6749 §6): the presented token is rotated, the
//! scope may be narrowed but never widened, and a reused token revokes its family.

use std::borrow::Cow;
use std::sync::Arc;

use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth::code_grant::refresh::{Error as FlowError, Request as FlowRequest};
use oxide_auth_async::code_grant::refresh::refresh;

use super::{Flow, TokenResponse};
use crate::domain::clients::GrantType;
use crate::oauth::client_auth::PresentedClient;
use crate::oauth::error::OAuthError;
use crate::oauth::primitives::NoCodes;
use crate::oauth::request::FormRequest;
use crate::AppState;

pub async fn grant(
    state: Arc<AppState>,
    client: Option<PresentedClient>,
    form: &FormRequest,
) -> Result<TokenResponse, OAuthError> {
    let client = super::named_client(client)?;
    let refresh_token = form.require("refresh_token")?;
    // Requested scope in single scopes, so that oxide-auth's subset check compares
    // like with like (`mobile` is the same as its ten single scopes).
    let scope = match form.get("scope") {
        Some(text) => {
            let set = state.scopes.parse(text).map_err(|e| OAuthError::InvalidScope(e.to_string()))?;
            Some(state.scopes.format(set))
        }
        None => None,
    };
    let scheme = client.scheme;
    let mut flow = Flow::new(state, GrantType::RefreshToken, scheme, |_| NoCodes, |_| ());
    if client.secret.is_none() {
        flow.memo.set_presented_client(&client.client_id);
    }
    let request = Input { client: &client, refresh_token, scope: scope.as_deref() };
    match refresh(&mut flow, &request).await {
        Ok(_) => flow.issued(),
        Err(FlowError::Unauthorized(..)) => {
            Err(flow.refusal(Some(AccessTokenErrorType::InvalidClient), scheme))
        }
        Err(FlowError::Invalid(mut description)) => {
            let scope_widened = description.description().kind() == AccessTokenErrorType::InvalidScope;
            if scope_widened {
                return Err(OAuthError::InvalidScope(
                    "the requested scope is wider than the one originally granted".into(),
                ));
            }
            Err(flow.refusal(Some(description.description().kind()), scheme))
        }
        Err(FlowError::Primitive) => Err(flow.refusal(None, scheme)),
    }
}

struct Input<'a> {
    client: &'a PresentedClient,
    refresh_token: &'a str,
    scope: Option<&'a str>,
}

impl FlowRequest for Input<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn refresh_token(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.refresh_token))
    }

    fn scope(&self) -> Option<Cow<'_, str>> {
        self.scope.map(Cow::Borrowed)
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("refresh_token"))
    }

    fn authorization(&self) -> Option<(Cow<'_, str>, Cow<'_, [u8]>)> {
        // A confidential client authenticates; a public one is checked against the
        // client the token was issued to (see `FlowMemo::set_presented_client`).
        let secret = self.client.secret.as_ref()?;
        Some((Cow::Borrowed(self.client.client_id.as_str()), Cow::Borrowed(secret.expose().as_bytes())))
    }

    fn extension(&self, _key: &str) -> Option<Cow<'_, str>> {
        None
    }
}

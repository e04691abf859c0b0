//! Token exchange (RFC 8693): a master or mobile token (the subject token) is
//! exchanged for a short JWT access token with that token's scopes, naming the
//! exchanging client in `client_id` and the subject token's application in `app`.
//! oxide-auth has no state machine for this grant; it is written here in the same
//! shape: authenticate the client, recover the subject, negotiate scope, issue.

use std::sync::Arc;

use oxide_auth_async::primitives::Registrar as _;

use super::TokenResponse;
use crate::domain::clients::GrantType;
use crate::oauth::client_auth::PresentedClient;
use crate::oauth::error::OAuthError;
use crate::oauth::inspect::authenticate;
use crate::oauth::primitives::{mint_access_token, FlowMemo, PersonClaims, Registrar};
use crate::oauth::request::FormRequest;
use crate::AppState;

/// RFC 8693 §3: the token type this server takes and issues.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

pub async fn grant(
    state: Arc<AppState>,
    client: Option<PresentedClient>,
    form: &FormRequest,
) -> Result<TokenResponse, OAuthError> {
    let client = super::named_client(client)?;
    let subject_token = form.require("subject_token")?;
    let subject_type = form.require("subject_token_type")?;
    if subject_type != ACCESS_TOKEN_TYPE {
        return Err(OAuthError::invalid_request(format!("subject_token_type must be {ACCESS_TOKEN_TYPE}")));
    }
    if form.get("requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request(format!("requested_token_type must be {ACCESS_TOKEN_TYPE}")));
    }
    if form.get("actor_token").is_some() {
        return Err(OAuthError::invalid_request("delegation (actor_token) is not supported"));
    }

    // Authenticate: a secret for confidential clients, none for public and mobile
    // ones (a mobile SDK exchanging its mobile token).
    let memo = FlowMemo::new();
    let registrar = Registrar::new(state.clone(), GrantType::TokenExchange, client.scheme, memo.clone());
    let secret = client.secret.as_ref().map(|s| s.expose().as_bytes());
    if registrar.check(&client.client_id, secret).await.is_err() {
        return Err(
            memo.rejection_or(OAuthError::invalid_client("client authentication failed", client.scheme))
        );
    }
    let cached =
        memo.client().cloned().ok_or_else(|| OAuthError::Server("no authenticated client".into()))?;

    // Recover the subject: an active token of the client's application, of a kind
    // the registry lets be exchanged.
    let invalid = || {
        OAuthError::InvalidGrant(
            "the subject_token is not an active master, mobile, API or install token".into(),
        )
    };
    let subject = authenticate(&state, subject_token)
        .await
        .map_err(|e| OAuthError::Server(format!("subject token lookup failed: {e}")))?
        .ok_or_else(invalid)?;
    let token_id = match (subject.kind.policy(), &subject.token_id) {
        (Some(policy), Some(id)) if policy.exchange => id.clone(),
        _ => return Err(invalid()),
    };
    if subject.app != cached.client.app_id {
        return Err(OAuthError::InvalidGrant("the subject_token belongs to another application".into()));
    }

    state.token_use.record(&token_id, state.clock.now());

    // Negotiate: the subject's scopes within the exchanging client's registration,
    // or fewer when the client asks for fewer. A client never leaves with more than
    // it was registered for, whatever the subject token allows.
    let allowed = subject.scope.intersection(cached.allowed);
    if allowed.is_empty() {
        return Err(OAuthError::InvalidScope(
            "the client's registration allows none of the subject token's scopes".into(),
        ));
    }
    let granted = state.scopes.grant(form.get("scope"), allowed).map_err(|e| {
        OAuthError::InvalidScope(format!(
            "{e} (the subject token and the client registration do not allow it)"
        ))
    })?;
    // A user-bound subject (API, install token) speaks for its user: the JWT names
    // the user and carries their department and user type.
    let subject_id = subject.sub.clone().unwrap_or(token_id);
    let person = subject
        .user_type
        .as_deref()
        .map(|user_type| PersonClaims { department: subject.department.as_deref(), user_type });
    let minted =
        mint_access_token(&state, &subject_id, &cached.client.id, &subject.app, granted, person, None)
            .await
            .map_err(|e| OAuthError::Server(format!("signing failed: {e}")))?;
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: "Bearer",
        expires_in: state.config.tokens.access_token_ttl,
        scope: minted.scope,
        refresh_token: None,
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
        id_token: None,
    })
}

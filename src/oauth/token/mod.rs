//! The token endpoint (RFC 6749 §3.2): reads the form, finds the grant type and
//! dispatches to the grant's module with one exhaustive `match`. Each grant runs
//! an oxide-auth-async state machine over tessera's primitives (`Flow`).

mod authorization_code;
mod client_credentials;
pub mod exchange;
mod refresh;

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth_async::primitives::{Authorizer, Issuer};
use serde::Serialize;

use super::client_auth::{presented_client, PresentedClient};
use super::error::{AuthScheme, OAuthError};
use super::primitives::{FlowMemo, Issued, JwtIssuer, Registrar};
use super::request::FormRequest;
use crate::domain::clients::GrantType;
use crate::AppState;

/// A successful token answer (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// RFC 8693 §2.2.1, for token exchange answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    /// OpenID Connect Core §3.1.3.3, for a code grant with `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl From<Issued> for TokenResponse {
    fn from(issued: Issued) -> Self {
        TokenResponse {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: issued.scope,
            refresh_token: issued.refresh_token,
            issued_token_type: None,
            id_token: issued.id_token,
        }
    }
}

/// Redeems an authorization code for a public client of this server itself (the
/// admin console), through the same grant as `POST /token`.
pub async fn redeem_code(
    state: Arc<AppState>,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<TokenResponse, OAuthError> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", verifier)
        .append_pair("client_id", client_id)
        .finish();
    let form = FormRequest::parse(body.as_bytes())?;
    let client = PresentedClient { client_id: client_id.to_owned(), secret: None, scheme: AuthScheme::None };
    authorization_code::grant(state, Some(client), &form).await
}

/// `POST /token`.
pub async fn post_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = FormRequest::read(&req, payload, state.config.server.max_body_bytes).await?;
    let client = presented_client(&req, &form)?;
    let grant_type = form.require("grant_type")?;
    let grant: GrantType = grant_type.parse().map_err(|_| {
        OAuthError::UnsupportedGrantType(format!("grant type `{grant_type}` is not supported"))
    })?;
    let state: Arc<AppState> = state.into_inner();
    let response = match grant {
        GrantType::ClientCredentials => client_credentials::grant(state.clone(), client, &form).await?,
        GrantType::AuthorizationCode => authorization_code::grant(state.clone(), client, &form).await?,
        GrantType::RefreshToken => refresh::grant(state.clone(), client, &form).await?,
        GrantType::TokenExchange => exchange::grant(state.clone(), client, &form).await?,
    };
    state.metrics.token_issued("access_token", grant.name());
    if response.refresh_token.is_some() {
        state.metrics.token_issued("refresh_token", grant.name());
    }
    if response.id_token.is_some() {
        state.metrics.token_issued("id_token", grant.name());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(response))
}

/// The client a code or refresh request names: public clients by `client_id`,
/// confidential ones by their authentication.
fn named_client(client: Option<PresentedClient>) -> Result<PresentedClient, OAuthError> {
    client.ok_or_else(|| {
        OAuthError::invalid_client(
            "name the client: client_id in the body, or client authentication for confidential clients",
            AuthScheme::None,
        )
    })
}

/// Any other method on `/token` (RFC 6749 §3.2: POST only).
pub async fn token_method_not_allowed() -> Result<HttpResponse, OAuthError> {
    Err(OAuthError::MethodNotAllowed)
}

/// The primitives one grant's state machine runs over.
struct Flow<A, X> {
    memo: Arc<FlowMemo>,
    registrar: Registrar,
    authorizer: A,
    issuer: JwtIssuer,
    extension: X,
}

impl<A, X> Flow<A, X> {
    fn new(
        state: Arc<AppState>,
        grant: GrantType,
        scheme: AuthScheme,
        authorizer: impl FnOnce(Arc<FlowMemo>) -> A,
        extension: impl FnOnce(Arc<FlowMemo>) -> X,
    ) -> Self {
        let memo = FlowMemo::new();
        Flow {
            registrar: Registrar::new(state.clone(), grant, scheme, memo.clone()),
            authorizer: authorizer(memo.clone()),
            issuer: JwtIssuer::new(state, memo.clone()),
            extension: extension(memo.clone()),
            memo,
        }
    }

    /// The answer once the state machine succeeded.
    fn issued(&mut self) -> Result<TokenResponse, OAuthError> {
        self.issuer
            .issued
            .take()
            .map(TokenResponse::from)
            .ok_or_else(|| OAuthError::Server("the flow succeeded but the issuer minted nothing".into()))
    }

    /// The answer for a refusal: the reason a primitive recorded, else one made from
    /// oxide-auth's error kind.
    fn refusal(&self, kind: Option<AccessTokenErrorType>, scheme: AuthScheme) -> OAuthError {
        let fallback = match kind {
            Some(AccessTokenErrorType::InvalidClient) => {
                OAuthError::invalid_client("client authentication failed", scheme)
            }
            Some(AccessTokenErrorType::InvalidGrant) => {
                OAuthError::InvalidGrant("the grant is not valid".into())
            }
            Some(AccessTokenErrorType::UnauthorizedClient) => {
                OAuthError::UnauthorizedClient("the client may not use this grant".into())
            }
            Some(AccessTokenErrorType::UnsupportedGrantType) => {
                OAuthError::UnsupportedGrantType("unsupported grant type".into())
            }
            Some(AccessTokenErrorType::InvalidScope) => {
                OAuthError::InvalidScope("the scope is not valid".into())
            }
            Some(AccessTokenErrorType::InvalidRequest) => {
                OAuthError::invalid_request("the request is malformed")
            }
            None => OAuthError::Server("a primitive of the token flow failed".into()),
        };
        self.memo.rejection_or(fallback)
    }
}

impl<A: Authorizer + Send, X: Send + Sync> oxide_auth_async::code_grant::client_credentials::Endpoint
    for Flow<A, X>
where
    X: oxide_auth_async::code_grant::client_credentials::Extension,
{
    fn registrar(&self) -> &(dyn oxide_auth_async::primitives::Registrar + Sync) {
        &self.registrar
    }
    fn authorizer(&mut self) -> &mut (dyn Authorizer + Send) {
        &mut self.authorizer
    }
    fn issuer(&mut self) -> &mut (dyn Issuer + Send) {
        &mut self.issuer
    }
    fn extension(&mut self) -> &mut (dyn oxide_auth_async::code_grant::client_credentials::Extension + Send) {
        &mut self.extension
    }
}

impl<A: Authorizer + Send, X: Send + Sync> oxide_auth_async::code_grant::access_token::Endpoint for Flow<A, X>
where
    X: oxide_auth_async::code_grant::access_token::Extension,
{
    fn registrar(&self) -> &(dyn oxide_auth_async::primitives::Registrar + Sync) {
        &self.registrar
    }
    fn authorizer(&mut self) -> &mut (dyn Authorizer + Send) {
        &mut self.authorizer
    }
    fn issuer(&mut self) -> &mut (dyn Issuer + Send) {
        &mut self.issuer
    }
    fn extension(&mut self) -> &mut (dyn oxide_auth_async::code_grant::access_token::Extension + Send) {
        &mut self.extension
    }
}

impl<A, X> oxide_auth_async::code_grant::refresh::Endpoint for Flow<A, X> {
    fn registrar(&self) -> &(dyn oxide_auth_async::primitives::Registrar + Sync) {
        &self.registrar
    }
    fn issuer(&mut self) -> &mut (dyn Issuer + Send) {
        &mut self.issuer
    }
}

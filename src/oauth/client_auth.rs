//! Client authentication at the token endpoint (RFC 6749 §2.3.1):
//! `client_secret_basic` or `client_secret_post`, never both at once.

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use std::sync::Arc;

use oxide_auth_async::primitives::Registrar as _;

use super::error::{AuthScheme, OAuthError};
use super::primitives::{FlowMemo, Registrar};
use super::request::FormRequest;
use crate::domain::client_cache::CachedClient;
use crate::tokens::secret::Secret;
use crate::AppState;

/// What the client presented: its id and, for confidential clients, its secret.
#[derive(Debug)]
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<Secret>,
    pub scheme: AuthScheme,
}

/// Reads the client's credentials from the `Authorization` header or the body.
/// `Ok(None)` when the request names no client at all.
pub fn presented_client(
    req: &HttpRequest,
    form: &FormRequest,
) -> Result<Option<PresentedClient>, OAuthError> {
    let mut headers = req.headers().get_all(header::AUTHORIZATION);
    let authorization = headers.next();
    if headers.next().is_some() {
        return Err(OAuthError::invalid_request("the Authorization header is repeated"));
    }
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    match authorization {
        Some(value) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method: the Authorization header or client_secret in the body, not both",
                ));
            }
            let (client_id, secret) = parse_basic(value.as_bytes())?;
            if body_id.is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Authorization header",
                ));
            }
            Ok(Some(PresentedClient { client_id, secret: Some(secret), scheme: AuthScheme::Basic }))
        }
        None => match (body_id, body_secret) {
            (Some(id), secret) => Ok(Some(PresentedClient {
                client_id: id.to_owned(),
                secret: secret.map(|s| Secret::new(s.to_owned())),
                scheme: if secret.is_some() { AuthScheme::Post } else { AuthScheme::None },
            })),
            (None, Some(_)) => Err(OAuthError::invalid_request("client_secret given without client_id")),
            (None, None) => Ok(None),
        },
    }
}

/// Authenticates a confidential client at an endpoint that is not a grant
/// (introspection, revocation), through the same registrar as the grants.
pub async fn authenticate_confidential(
    state: &Arc<AppState>,
    presented: Option<PresentedClient>,
) -> Result<Arc<CachedClient>, OAuthError> {
    let presented = presented
        .ok_or_else(|| OAuthError::invalid_client("client authentication is required", AuthScheme::None))?;
    let Some(secret) = &presented.secret else {
        return Err(OAuthError::invalid_client(
            "this endpoint needs a confidential client's authentication",
            presented.scheme,
        ));
    };
    let memo = FlowMemo::new();
    let registrar = Registrar::authenticator(state.clone(), presented.scheme, memo.clone());
    let fallback = || OAuthError::invalid_client("client authentication failed", presented.scheme);
    match registrar.check(&presented.client_id, Some(secret.expose().as_bytes())).await {
        Ok(()) => memo.client().cloned().ok_or_else(fallback),
        Err(_) => Err(memo.rejection_or(fallback())),
    }
}

/// The form of a request to an endpoint that takes only confidential clients
/// (introspection, revocation), and the client, authenticated.
pub async fn authenticated_form(
    req: &actix_web::HttpRequest,
    payload: actix_web::web::Payload,
    state: &Arc<AppState>,
) -> Result<(FormRequest, Arc<CachedClient>), OAuthError> {
    let form = FormRequest::read(req, payload, state.config.server.max_body_bytes).await?;
    let client = authenticate_confidential(state, presented_client(req, &form)?).await?;
    Ok((form, client))
}

/// The form of a revocation request and its client (RFC 7009 §2.1): a
/// confidential client authenticates; a public or mobile client, which has no
/// secret, names itself with `client_id` alone, and may then revoke only the
/// tokens issued to it (so that an app can sign out).
pub async fn revoking_form(
    req: &actix_web::HttpRequest,
    payload: actix_web::web::Payload,
    state: &Arc<AppState>,
) -> Result<(FormRequest, Arc<CachedClient>), OAuthError> {
    let form = FormRequest::read(req, payload, state.config.server.max_body_bytes).await?;
    let presented = presented_client(req, &form)?;
    if let Some(public) = presented.as_ref().filter(|p| p.secret.is_none()) {
        let unknown = || OAuthError::invalid_client("unknown client", public.scheme);
        let client = state
            .clients
            .get(&state.store, &state.scopes, &public.client_id)
            .await
            .map_err(|e| OAuthError::Server(format!("client lookup failed: {e}")))?
            .ok_or_else(unknown)?;
        if client.client.client_type.is_confidential() {
            return Err(OAuthError::invalid_client(
                "a confidential client must authenticate with its secret",
                public.scheme,
            ));
        }
        return Ok((form, client));
    }
    let client = authenticate_confidential(state, presented).await?;
    Ok((form, client))
}

/// `Basic base64(urlencoded(id) ":" urlencoded(secret))`.
fn parse_basic(value: &[u8]) -> Result<(String, Secret), OAuthError> {
    let malformed = || OAuthError::invalid_client("malformed Basic authorization header", AuthScheme::Basic);
    let value = std::str::from_utf8(value).map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "the token endpoint takes Basic client authentication",
            AuthScheme::Basic,
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = percent_decode(id).ok_or_else(malformed)?;
    let secret = percent_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    if id.chars().any(char::is_control) || secret.contains('\0') {
        return Err(malformed());
    }
    Ok((id, Secret::new(secret)))
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
fn percent_decode(s: &str) -> Option<String> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Some(s.to_owned());
    }
    let encoded = format!("v={s}");
    let mut pairs = url::form_urlencoded::parse(encoded.as_bytes()).collect::<Vec<_>>();
    match pairs.pop() {
        Some((_, v)) if pairs.is_empty() => Some(v.into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_urldecoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:s%3Acret"));
        let (id, secret) = parse_basic(header.as_bytes()).unwrap();
        assert_eq!(id, "my client");
        assert_eq!(secret.expose(), "s:cret");
    }

    #[test]
    fn malformed_basic_is_invalid_client_with_challenge() {
        for bad in ["Basic !!!", "Basic", "Bearer abc", &format!("Basic {}", STANDARD.encode("nocolon"))] {
            match parse_basic(bad.as_bytes()) {
                Err(OAuthError::InvalidClient { scheme: AuthScheme::Basic, .. }) => {}
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}

//! PKCE (RFC 7636) as oxide-auth extensions: S256 only, required for public and
//! mobile clients and accepted from confidential ones. The token side also checks
//! that `redirect_uri` is exactly the one of the authorization request.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use oxide_auth::code_grant::accesstoken::Request as TokenRequest;
use oxide_auth::code_grant::authorization::Request as AuthorizationRequest;
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::grant::Extensions;

use super::FlowMemo;
use crate::oauth::error::OAuthError;

/// Whether PKCE is required of the memo's client.
fn pkce_for(memo: &FlowMemo) -> Pkce {
    match memo.client() {
        Some(c) if c.client.client_type.is_confidential() => Pkce::optional(),
        _ => Pkce::required(),
    }
}

/// RFC 7636 §4.1/§4.2: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].
fn is_pkce_string(s: &str, min: usize) -> bool {
    (min..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// At the authorization endpoint: records the S256 challenge with the grant.
pub struct PkceAuthorization {
    memo: Arc<FlowMemo>,
}

impl PkceAuthorization {
    pub fn new(memo: Arc<FlowMemo>) -> Self {
        PkceAuthorization { memo }
    }

    fn refuse(&self, why: &str) -> Result<Extensions, ()> {
        self.memo.reject(OAuthError::invalid_request(why));
        Err(())
    }
}

#[async_trait]
impl oxide_auth_async::code_grant::authorization::Extension for PkceAuthorization {
    async fn extend(&mut self, request: &(dyn AuthorizationRequest + Sync)) -> Result<Extensions, ()> {
        let pkce = pkce_for(&self.memo);
        let challenge = request.extension("code_challenge");
        let method = request.extension("code_challenge_method");
        match (challenge.as_deref(), method.as_deref()) {
            (None, None) if self.memo.client().is_some_and(|c| c.client.client_type.is_confidential()) => {
                Ok(Extensions::new())
            }
            (None, _) => {
                self.refuse("code_challenge with code_challenge_method=S256 is required for this client")
            }
            (Some(_), Some("plain")) => self.refuse("code_challenge_method plain is not supported; use S256"),
            (Some(_), None) => self.refuse("code_challenge_method=S256 is required; plain is not supported"),
            (Some(_), Some(m)) if m != "S256" => self.refuse("code_challenge_method must be S256"),
            // The base64url SHA-256 of a verifier is always 43 characters.
            (Some(c), Some(_)) if c.len() != 43 || !is_pkce_string(c, 43) => self
                .refuse("code_challenge must be the base64url SHA-256 of the code verifier (43 characters)"),
            (Some(_), Some(_)) => {
                let value = pkce.challenge(method, challenge).map_err(|()| {
                    self.memo.reject(OAuthError::invalid_request("the code challenge is not valid"));
                })?;
                let mut extensions = Extensions::new();
                if let Some(value) = value {
                    extensions.set(&pkce, value);
                }
                Ok(extensions)
            }
        }
    }
}

/// At the token endpoint: checks the verifier against the recorded challenge.
pub struct PkceToken {
    memo: Arc<FlowMemo>,
}

impl PkceToken {
    pub fn new(memo: Arc<FlowMemo>) -> Self {
        PkceToken { memo }
    }
}

#[async_trait]
impl oxide_auth_async::code_grant::access_token::Extension for PkceToken {
    async fn extend(
        &mut self,
        request: &(dyn TokenRequest + Sync),
        mut data: Extensions,
    ) -> Result<Extensions, ()> {
        let invalid_grant = |why: &str| {
            self.memo.reject(OAuthError::InvalidGrant(why.to_owned()));
        };
        // RFC 6749 §4.1.3: the same redirect_uri as the authorization request, exactly.
        let expected = self.memo.code.get().map(|(_, code)| code.redirect_uri.as_str());
        if request.redirect_uri().as_deref() != expected {
            invalid_grant("redirect_uri differs from the one of the authorization request");
            return Err(());
        }
        let pkce = pkce_for(&self.memo);
        let verifier = request.extension("code_verifier");
        if let Some(v) = verifier.as_deref() {
            if !is_pkce_string(v, 43) {
                invalid_grant("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
                return Err(());
            }
        }
        let challenge = data.remove(&pkce);
        if challenge.is_none() && verifier.is_some() {
            invalid_grant("code_verifier given, but the authorization request had no code_challenge");
            return Err(());
        }
        pkce.verify(challenge, verifier.map(|v| Cow::Owned(v.into_owned()))).map_err(|()| {
            invalid_grant("code_verifier does not match the code_challenge");
        })?;
        Ok(Extensions::new())
    }
}

//! JWT access tokens (RFC 9068): minting with the active ES256 key and verifying
//! against the published keys.
//!
//! Signing goes straight to ring with a key pair parsed once at start, and the
//! header of each key is encoded once: this is the token endpoint's hot path.
//! Verification uses `jsonwebtoken`, as a resource server would.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};

use super::keys::{KeySet, ALGORITHM};
use super::secret;

/// Claims of an access token (RFC 9068 §2.2 plus tessera's own). Borrowed where
/// the value already lives elsewhere (issuer, audience, application), so minting
/// copies nothing it does not have to.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims<'a> {
    pub iss: Cow<'a, str>,
    pub sub: Cow<'a, str>,
    pub aud: Cow<'a, str>,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: Cow<'a, str>,
    pub scope: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Cow<'a, str>>,
    /// The application (tenant) the token belongs to.
    pub app: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<Cow<'a, str>>,
    /// The login (refresh token family) the token was issued in, so that ending
    /// the login (a revoked mobile session) makes it inactive at introspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Cow<'a, str>>,
    /// Where the token's revocation bit is (draft-ietf-oauth-status-list §6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TokenStatus<'a>>,
}

/// `{"status_list": {"idx": N, "uri": U}}`.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, Clone)]
pub struct TokenStatus<'a> {
    pub status_list: StatusListRef<'a>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, Clone)]
pub struct StatusListRef<'a> {
    pub idx: i64,
    pub uri: Cow<'a, str>,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("the system random generator failed")]
    Random,
    #[error("signing failed")]
    Sign,
    #[error("cannot encode claims: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("token rejected: {0}")]
    Invalid(String),
}

/// The signer in use: swapped whole (signer, keys and JWKS together) when the
/// key set changes, read without a lock on every token.
pub struct Signer(arc_swap::ArcSwap<JwtSigner>);

impl Signer {
    pub fn new(signer: JwtSigner) -> Signer {
        Signer(arc_swap::ArcSwap::from_pointee(signer))
    }

    pub fn current(&self) -> arc_swap::Guard<Arc<JwtSigner>> {
        self.0.load()
    }

    pub fn replace(&self, signer: JwtSigner) {
        self.0.store(Arc::new(signer));
    }
}

/// Mints and verifies access tokens with the server's key set.
pub struct JwtSigner {
    keys: Arc<KeySet>,
    /// `base64url(header)` for the active key, with `typ: at+jwt`.
    header_b64: String,
    /// The same with `typ: JWT`, for ID tokens (OpenID Connect Core §2).
    id_header_b64: String,
    /// The same with `typ: statuslist+jwt`, for token status lists.
    status_header_b64: String,
    issuer: String,
    audience: String,
    rng: SystemRandom,
    /// `jti` = 64 random bits chosen at start, then a 64-bit counter: unique across
    /// instances and restarts without a system call per token.
    jti_prefix: [u8; 8],
    jti_counter: AtomicU64,
}

impl JwtSigner {
    pub fn new(keys: Arc<KeySet>, issuer: String, audience: String) -> Result<JwtSigner, JwtError> {
        let header = serde_json::json!({ "alg": ALGORITHM, "typ": "at+jwt", "kid": keys.active().kid });
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        let id_header = serde_json::json!({ "alg": ALGORITHM, "typ": "JWT", "kid": keys.active().kid });
        let id_header_b64 = URL_SAFE_NO_PAD.encode(id_header.to_string());
        let status_header =
            serde_json::json!({ "alg": ALGORITHM, "typ": "statuslist+jwt", "kid": keys.active().kid });
        let status_header_b64 = URL_SAFE_NO_PAD.encode(status_header.to_string());
        let rng = SystemRandom::new();
        let jti_prefix = secret::random_bytes::<8>(&rng).map_err(|_| JwtError::Random)?;
        Ok(JwtSigner {
            keys,
            header_b64,
            id_header_b64,
            status_header_b64,
            issuer,
            audience,
            rng,
            jti_prefix,
            jti_counter: AtomicU64::new(0),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// A fresh `jti` (RFC 7519 §4.1.7): never the same twice for one signer, and a
    /// negligible chance of a clash between signers (independent 64-bit prefixes).
    pub fn new_jti(&self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.jti_prefix);
        bytes[8..].copy_from_slice(&self.jti_counter.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Signs `claims` as a compact JWS with the active key.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, JwtError> {
        self.sign_with(&self.header_b64, &serde_json::to_vec(claims)?)
    }

    /// Signs an ID token's claims (`typ: JWT`) with the active key.
    pub fn sign_id_token(&self, claims: &impl Serialize) -> Result<String, JwtError> {
        self.sign_with(&self.id_header_b64, &serde_json::to_vec(claims)?)
    }

    /// Signs a token status list's claims (`typ: statuslist+jwt`) with the active key.
    pub fn sign_status_list(&self, claims: &impl Serialize) -> Result<String, JwtError> {
        self.sign_with(&self.status_header_b64, &serde_json::to_vec(claims)?)
    }

    /// Verifies an ID token this server issued (signature, `typ`, issuer), expired
    /// or not: RP-initiated logout accepts an expired one as a hint (§2).
    pub fn verify_id_token_hint<T: serde::de::DeserializeOwned>(&self, token: &str) -> Result<T, JwtError> {
        let decoding = self.key_for(token, |typ| typ == "JWT", "not an ID token")?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(jsonwebtoken::decode::<T>(token, decoding, &validation).map_err(invalid)?.claims)
    }

    /// The published key that `token`'s header names, when its `typ` passes `typ_ok`.
    fn key_for(
        &self,
        token: &str,
        typ_ok: impl Fn(&str) -> bool,
        wrong_typ: &str,
    ) -> Result<&jsonwebtoken::DecodingKey, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        if !header.typ.as_deref().is_some_and(typ_ok) {
            return Err(JwtError::Invalid(wrong_typ.to_owned()));
        }
        let kid = header.kid.ok_or_else(|| JwtError::Invalid("no kid".into()))?;
        let key = self.keys.find(&kid).ok_or_else(|| JwtError::Invalid("unknown kid".into()))?;
        Ok(key.decoding_key())
    }

    fn sign_with(&self, header_b64: &str, payload: &[u8]) -> Result<String, JwtError> {
        let mut token = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 100);
        token.push_str(header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature =
            self.keys.active().pair().sign(&self.rng, token.as_bytes()).map_err(|_| JwtError::Sign)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }

    /// Verifies signature, `typ`, issuer, audience and expiry; answers the claims.
    pub fn verify(&self, token: &str) -> Result<AccessClaims<'static>, JwtError> {
        let decoding =
            self.key_for(token, |typ| typ.eq_ignore_ascii_case("at+jwt"), "not an at+jwt token")?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<AccessClaims<'static>>(token, decoding, &validation).map_err(invalid)?;
        Ok(data.claims)
    }
}

fn invalid(e: jsonwebtoken::errors::Error) -> JwtError {
    JwtError::Invalid(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::keys::{generate, KeyOrigin};

    fn signer() -> (tempfile::TempDir, JwtSigner) {
        let dir = tempfile::tempdir().unwrap();
        let rng = SystemRandom::new();
        let key = generate(dir.path(), KeyOrigin::Cli, 1, &rng).unwrap();
        let set = Arc::new(KeySet::new(vec![key], dir.path()).unwrap());
        (dir, JwtSigner::new(set, "http://issuer".into(), "api".into()).unwrap())
    }

    fn claims(exp: i64) -> AccessClaims<'static> {
        AccessClaims {
            iss: "http://issuer".into(),
            sub: "c1".into(),
            aud: "api".into(),
            exp,
            iat: 0,
            jti: "j".into(),
            client_id: "c1".into(),
            scope: "places:read".into(),
            profile: None,
            app: "default".into(),
            department: None,
            user_type: None,
            sid: None,
            status: None,
        }
    }

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
    }

    #[test]
    fn signed_token_verifies_and_round_trips_claims() {
        let (_dir, signer) = signer();
        let c = claims(now() + 60);
        let token = signer.sign(&c).unwrap();
        assert_eq!(signer.verify(&token).unwrap(), c);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(signer.keys().active().kid.as_str()));
    }

    #[test]
    fn jtis_are_unique_within_and_across_signers() {
        let (_dir, a) = signer();
        let (_dir2, b) = signer();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(a.new_jti()));
            assert!(seen.insert(b.new_jti()));
        }
        assert_eq!(a.new_jti().len(), 22);
    }

    #[test]
    fn expired_or_tampered_tokens_are_refused() {
        let (_dir, signer) = signer();
        assert!(signer.verify(&signer.sign(&claims(now() - 10)).unwrap()).is_err());
        let token = signer.sign(&claims(now() + 60)).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&AccessClaims { sub: "x".into(), ..claims(now() + 60) }).unwrap());
        parts[1] = &other;
        assert!(signer.verify(&parts.join(".")).is_err());
    }
}

//! tessera's implementations of oxide-auth's async primitives: the registrar over
//! the client cache, the authorizer over the code store, the issuer over the JWT
//! signer and the refresh token store, and the PKCE extension.
//!
//! oxide-auth's primitives answer `Err(())` or an unspecific `RegistrarError`; the
//! precise reason (unknown client, grant not allowed, scope outside the registration,
//! a spent code, a reused refresh token, a database failure) is kept in the flow's
//! `FlowMemo` so the endpoint can answer the right RFC 6749 error and log the cause.

mod authorizer;
mod issuer;
mod pkce;
mod registrar;

use std::sync::{Arc, Mutex, OnceLock};

pub use authorizer::{CodeAuthorizer, NoCodes};
pub use issuer::{mint_access_token, Issued, JwtIssuer, Minted, PersonClaims};
pub use pkce::{PkceAuthorization, PkceToken};
pub use registrar::Registrar;

use super::error::OAuthError;
use crate::domain::client_cache::CachedClient;
use crate::domain::grants::{AuthorizationCode, PresentedRefresh};
use crate::domain::scope::ScopeSet;

/// What one request's primitives learnt, shared so that each is worked out once
/// and each refusal keeps its reason.
#[derive(Default)]
pub struct FlowMemo {
    /// The client, as the registrar found it.
    client: OnceLock<Arc<CachedClient>>,
    /// The scope the registrar negotiated.
    granted: OnceLock<ScopeSet>,
    /// The code being redeemed (its SHA-256 and row).
    code: OnceLock<(Vec<u8>, AuthorizationCode)>,
    /// The refresh token being rotated (its SHA-256 and row).
    refresh: OnceLock<(Vec<u8>, PresentedRefresh)>,
    /// The redirect URI exactly as the authorization request gave it (or the one
    /// registered, when it gave none).
    redirect_uri: OnceLock<String>,
    /// A public client's `client_id` from the request body, which a refresh token
    /// must have been issued to.
    presented_client: OnceLock<String>,
    /// The authorization request's `nonce` and the person's sign-in time, which
    /// the code carries into the ID token.
    sign_in: OnceLock<SignIn>,
    rejection: Mutex<Option<OAuthError>>,
}

impl FlowMemo {
    pub fn new() -> Arc<FlowMemo> {
        Arc::new(FlowMemo::default())
    }

    /// Keeps the first reason a primitive gave for refusing.
    pub fn reject(&self, error: OAuthError) {
        if let Ok(mut slot) = self.rejection.lock() {
            slot.get_or_insert(error);
        }
    }

    /// The recorded reason, or `fallback` when none was recorded.
    pub fn rejection_or(&self, fallback: OAuthError) -> OAuthError {
        self.rejection.lock().ok().and_then(|mut slot| slot.take()).unwrap_or(fallback)
    }

    pub fn client(&self) -> Option<&Arc<CachedClient>> {
        self.client.get()
    }

    pub fn set_presented_client(&self, client_id: &str) {
        let _ = self.presented_client.set(client_id.to_owned());
    }

    pub fn set_sign_in(&self, sign_in: SignIn) {
        let _ = self.sign_in.set(sign_in);
    }
}

/// What the authorization endpoint knows of the sign-in a code is issued for.
#[derive(Clone, Debug, Default)]
pub struct SignIn {
    pub nonce: Option<String>,
    pub auth_time: Option<i64>,
}

//! The admin console's own footing: its OAuth client in each application (the
//! console signs people in through tessera's authorization endpoint like any
//! app, with code + PKCE), and its sessions.
//!
//! Invariants: the console client is public, may only run the code flow to the
//! console's own callback and asks only for `admin`; a console session belongs
//! to one user of one application, and only a session of the `default`
//! application manages every application.

use super::apps::DEFAULT_APP;
use super::clients::{Client, ClientType, GrantType};
use super::DomainError;
use crate::store::{Store, StoreError};

/// The console's client id in application `app_id`.
pub fn client_id(app_id: &str) -> String {
    format!("tessera-console-{app_id}")
}

/// Registers the console's client in `app_id` unless it is there already.
pub async fn ensure_client(
    store: &Store,
    app_id: &str,
    redirect_uri: &str,
    now: i64,
) -> Result<String, DomainError> {
    super::apps::require(store, app_id).await?;
    let id = client_id(app_id);
    if let Some(client) = store.get_app_client(app_id, &id).await? {
        if client.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Ok(id);
        }
        return Err(DomainError::Conflict(format!(
            "the console client of application {app_id} is registered for another address; \
             the issuer changed since it was made"
        )));
    }
    let client = Client {
        id: id.clone(),
        app_id: app_id.to_owned(),
        name: "tessera console".to_owned(),
        client_type: ClientType::Public,
        secret_hash: None,
        redirect_uris: vec![redirect_uri.to_owned()],
        post_logout_redirect_uris: Vec::new(),
        grants: vec![GrantType::AuthorizationCode],
        scope: "admin".to_owned(),
        created_at: now,
        updated_at: now,
    };
    match store.insert_client(&client).await {
        // Another request made it meanwhile.
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(id),
        Err(e) => Err(e.into()),
    }
}

/// A signed-in administrator's console session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    pub app_id: String,
    pub user_id: String,
    pub username: String,
    pub platform_admin: bool,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
}

impl ConsoleSession {
    /// Whether this session may manage application `app_id`.
    pub fn manages(&self, app_id: &str) -> bool {
        self.platform_admin || self.app_id == app_id
    }

    /// Whether a session of `app_id` manages every application.
    pub fn is_platform(app_id: &str) -> bool {
        app_id == DEFAULT_APP
    }
}

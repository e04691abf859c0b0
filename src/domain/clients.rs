//! OAuth clients: their registration (type, grants, redirect URIs, scope) and the
//! rules for creating one.
//!
//! Invariants: only confidential clients have a secret, and it is stored as its
//! SHA-256 only; a public or mobile client never holds the client credentials grant;
//! the registered scope parses under the configured scope model.

use std::fmt;
use std::str::FromStr;

use ring::rand::SystemRandom;

use super::{apps, DomainError};
use crate::domain::scope::ScopeModel;
use crate::store::Store;
use crate::tokens::secret::{self, Secret};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    Public,
    Confidential,
    /// A public client whose logins are listed as mobile sessions.
    Mobile,
}

impl ClientType {
    pub fn name(self) -> &'static str {
        match self {
            ClientType::Public => "public",
            ClientType::Confidential => "confidential",
            ClientType::Mobile => "mobile",
        }
    }

    pub fn is_confidential(self) -> bool {
        self == ClientType::Confidential
    }
}

impl FromStr for ClientType {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(ClientType::Public),
            "confidential" => Ok(ClientType::Confidential),
            "mobile" => Ok(ClientType::Mobile),
            other => Err(DomainError::Invalid(format!(
                "unknown client type `{other}`: use public, confidential or mobile"
            ))),
        }
    }
}

/// Grant types, named as in their RFCs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    TokenExchange,
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::TokenExchange,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }
}

impl FromStr for GrantType {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| DomainError::Invalid(format!("unknown grant type `{s}`")))
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub client_type: ClientType,
    /// SHA-256 of the secret; confidential clients only.
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    pub grants: Vec<GrantType>,
    /// The registered scope string: profiles, `admin` and single scopes.
    pub scope: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("app_id", &self.app_id)
            .field("name", &self.name)
            .field("client_type", &self.client_type)
            .field("secret_hash", &self.secret_hash.as_ref().map(|_| "[redacted]"))
            .field("grants", &self.grants)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grants.contains(&grant)
    }
}

/// What an administrator asks for when registering a client.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub app_id: String,
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grants: Vec<GrantType>,
    pub scopes: Vec<String>,
}

/// A client just created, with its secret (confidential clients), shown once.
#[derive(Debug)]
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<Secret>,
}

/// Validates and stores a new client; a confidential one gets a 256-bit secret.
pub async fn create(
    store: &Store,
    scopes: &ScopeModel,
    new: NewClient,
    now: i64,
) -> Result<CreatedClient, DomainError> {
    apps::require(store, &new.app_id).await?;
    let name = super::valid_text("the client name", &new.name, 200)?;
    let name = name.as_str();
    let mut grants = new.grants.clone();
    if grants.is_empty() {
        grants = match new.client_type {
            ClientType::Confidential => vec![GrantType::ClientCredentials],
            ClientType::Public | ClientType::Mobile => {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            }
        };
    }
    grants.dedup();
    if !new.client_type.is_confidential() && grants.contains(&GrantType::ClientCredentials) {
        return Err(DomainError::Invalid(format!(
            "a {} client has no secret, so it cannot use client_credentials",
            new.client_type.name()
        )));
    }
    for uri in &new.redirect_uris {
        validate_redirect_uri(uri)?;
    }
    for uri in &new.post_logout_redirect_uris {
        validate_redirect_uri(uri)?;
    }
    if grants.contains(&GrantType::AuthorizationCode) && new.redirect_uris.is_empty() {
        return Err(DomainError::Invalid("authorization_code needs at least one --redirect-uri".into()));
    }
    let scope_tokens: Vec<&str> =
        new.scopes.iter().flat_map(|s| s.split(' ')).filter(|t| !t.is_empty()).collect();
    if scope_tokens.is_empty() {
        return Err(DomainError::Invalid(
            "give at least one --scope (a profile such as mobile, or object:action)".into(),
        ));
    }
    let scope = scope_tokens.join(" ");
    scopes.parse(&scope).map_err(|e| DomainError::Invalid(e.to_string()))?;

    let rng = SystemRandom::new();
    let secret = match new.client_type {
        ClientType::Confidential => Some(secret::generate(&rng, "")?),
        ClientType::Public | ClientType::Mobile => None,
    };
    let client = Client {
        id: secret::generate_id(&rng)?,
        app_id: new.app_id,
        name: name.to_owned(),
        client_type: new.client_type,
        secret_hash: secret.as_ref().map(|s| secret::hash(s.expose().as_bytes()).to_vec()),
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        grants,
        scope,
        created_at: now,
        updated_at: now,
    };
    store.insert_client(&client).await?;
    Ok(CreatedClient { client, secret })
}

/// What a client change replaces; `None` keeps a field.
#[derive(Debug, Default)]
pub struct ClientChanges {
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
}

/// Replaces a client's redirect URIs and/or scopes, checked as at registration.
pub async fn change(
    store: &Store,
    scopes: &ScopeModel,
    app_id: &str,
    id: &str,
    changes: ClientChanges,
    now: i64,
) -> Result<Client, DomainError> {
    let not_found = || DomainError::NotFound(format!("client `{id}`"));
    let client = store.get_app_client(app_id, id).await?.ok_or_else(not_found)?;
    let redirect_uris = changes.redirect_uris.unwrap_or_else(|| client.redirect_uris.clone());
    for uri in &redirect_uris {
        validate_redirect_uri(uri)?;
    }
    if client.grants.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err(DomainError::Invalid("a client of the code flow needs at least one redirect URI".into()));
    }
    let post_logout_redirect_uris =
        changes.post_logout_redirect_uris.unwrap_or_else(|| client.post_logout_redirect_uris.clone());
    for uri in &post_logout_redirect_uris {
        validate_redirect_uri(uri)?;
    }
    let scope = match changes.scopes {
        Some(given) => {
            let tokens: Vec<&str> =
                given.iter().flat_map(|s| s.split(' ')).filter(|t| !t.is_empty()).collect();
            if tokens.is_empty() {
                return Err(DomainError::Invalid("give at least one scope".into()));
            }
            let scope = tokens.join(" ");
            scopes.parse(&scope).map_err(|e| DomainError::Invalid(e.to_string()))?;
            scope
        }
        None => client.scope.clone(),
    };
    if !store.update_client(app_id, id, &redirect_uris, &post_logout_redirect_uris, &scope, now).await? {
        return Err(not_found());
    }
    Ok(Client { redirect_uris, post_logout_redirect_uris, scope, updated_at: now, ..client })
}

/// Gives a confidential client a new 256-bit secret (shown once); the old one
/// stops at once.
pub async fn rotate_secret(store: &Store, app_id: &str, id: &str, now: i64) -> Result<Secret, DomainError> {
    let client = store
        .get_app_client(app_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("client `{id}`")))?;
    if !client.client_type.is_confidential() {
        return Err(DomainError::Invalid(format!(
            "a {} client has no secret to rotate",
            client.client_type.name()
        )));
    }
    let secret = secret::generate(&SystemRandom::new(), "")?;
    if !store.set_client_secret(app_id, id, &secret::hash(secret.expose().as_bytes()), now).await? {
        return Err(DomainError::NotFound(format!("client `{id}`")));
    }
    Ok(secret)
}

/// RFC 6749 §3.1.2: absolute, no fragment; https unless it is a loopback or a
/// private-use scheme of a native app (RFC 8252 §7).
fn validate_redirect_uri(uri: &str) -> Result<(), DomainError> {
    if uri.chars().any(char::is_control) || uri.len() > 2000 {
        return Err(DomainError::Invalid(
            "a redirect URI is at most 2000 characters, none a control character".into(),
        ));
    }
    let parsed = url::Url::parse(uri)
        .map_err(|_| DomainError::Invalid(format!("redirect URI `{uri}` is not an absolute URL")))?;
    if parsed.fragment().is_some() {
        return Err(DomainError::Invalid(format!("redirect URI `{uri}` must not have a fragment")));
    }
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    if parsed.scheme() == "http" && !loopback {
        return Err(DomainError::Invalid(format!(
            "redirect URI `{uri}` must use https (plain http only for loopback addresses)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_rfc_6749_and_8252() {
        assert!(validate_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:7777/cb").is_ok());
        assert!(validate_redirect_uri("com.example.app:/oauth").is_ok());
        assert!(validate_redirect_uri("http://app.example.com/cb").is_err());
        assert!(validate_redirect_uri("https://app.example.com/cb#x").is_err());
        assert!(validate_redirect_uri("/relative").is_err());
    }

    #[test]
    fn grant_names_round_trip() {
        for grant in GrantType::ALL {
            assert_eq!(grant.name().parse::<GrantType>().unwrap(), grant);
        }
        assert!("password".parse::<GrantType>().is_err());
    }
}

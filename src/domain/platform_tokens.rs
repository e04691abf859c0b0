//! Platform tokens: opaque secrets whose prefix names their kind (`tsm_` master,
//! `tsb_` mobile, `tsa_` API, `tsi_` install, `tsr_` refresh), so a leaked one is
//! recognisable, and whose SHA-256 finds them.

use std::collections::HashMap;
use std::sync::Mutex;

use ring::rand::SystemRandom;

use super::DomainError;
use crate::store::Store;
use crate::tokens::secret::{self, Secret};

/// The kinds of opaque token, with their prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Master,
    Mobile,
    Api,
    Install,
    Refresh,
}

impl TokenKind {
    pub const ALL: [TokenKind; 5] =
        [TokenKind::Master, TokenKind::Mobile, TokenKind::Api, TokenKind::Install, TokenKind::Refresh];

    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Master => "tsm_",
            TokenKind::Mobile => "tsb_",
            TokenKind::Api => "tsa_",
            TokenKind::Install => "tsi_",
            TokenKind::Refresh => "tsr_",
        }
    }

    /// The name stored with the token and answered as introspection's `token_kind`.
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Master => "master",
            TokenKind::Mobile => "mobile",
            TokenKind::Api => "api",
            TokenKind::Install => "install",
            TokenKind::Refresh => "refresh_token",
        }
    }

    /// The kind a presented value claims by its prefix.
    pub fn of(presented: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| presented.starts_with(k.prefix()))
    }
}

/// A token just made, with its value, shown only now.
#[derive(Debug)]
pub struct CreatedToken {
    pub record: PlatformToken,
    pub token: Secret,
}

/// Makes a mobile token for `app_id`, valid until `expires_at` (or forever).
pub async fn create_mobile(
    store: &Store,
    app_id: &str,
    name: &str,
    expires_at: Option<i64>,
    now: i64,
) -> Result<CreatedToken, DomainError> {
    let name = valid_name(name)?;
    if expires_at.is_some_and(|exp| exp <= now) {
        return Err(DomainError::Invalid("expires_at must be in the future".into()));
    }
    let rng = SystemRandom::new();
    let token = secret::generate(&rng, TokenKind::Mobile.prefix())?;
    let record = PlatformToken {
        id: secret::generate_id(&rng)?,
        kind: TokenKind::Mobile.name().to_owned(),
        app_id: app_id.to_owned(),
        name,
        enabled: true,
        created_at: now,
        expires_at,
        last_used_at: None,
    };
    store.insert_platform_token(&record, &secret::hash(token.expose().as_bytes())).await?;
    Ok(CreatedToken { record, token })
}

/// Gives every application without a master token one (the `default` application
/// is made by the first migration, which cannot draw a random secret). Its value
/// is shown to nobody: rotating it is how an administrator gets one.
pub async fn ensure_master_tokens(store: &Store, now: i64) -> Result<Vec<String>, DomainError> {
    let missing = store.apps_without_master().await?;
    let rng = SystemRandom::new();
    for app_id in &missing {
        let token = secret::generate(&rng, TokenKind::Master.prefix())?;
        let record = PlatformToken {
            id: secret::generate_id(&rng)?,
            kind: TokenKind::Master.name().to_owned(),
            app_id: app_id.clone(),
            name: "master".to_owned(),
            enabled: true,
            created_at: now,
            expires_at: None,
            last_used_at: None,
        };
        match store.insert_platform_token(&record, &secret::hash(token.expose().as_bytes())).await {
            // Another instance or the CLI got there first: one master token either way.
            Ok(()) | Err(crate::store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(missing)
}

/// Gives `app_id` a new master token; the old one stops working at once.
/// `presented` is the master token the caller authenticated with, if it did: the
/// rotation replaces that value only, so of concurrent rotations one wins and the
/// others are a conflict, never a token that silently does not work.
pub async fn rotate_master(
    store: &Store,
    app_id: &str,
    presented: Option<&[u8]>,
    now: i64,
) -> Result<Secret, DomainError> {
    let expected = match presented {
        Some(hash) => hash.to_vec(),
        None => store
            .master_token_hash(app_id)
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("a master token of application `{app_id}`")))?,
    };
    let token = secret::generate(&SystemRandom::new(), TokenKind::Master.prefix())?;
    if !store.rotate_master_token(app_id, &expected, &secret::hash(token.expose().as_bytes()), now).await? {
        return Err(DomainError::Conflict(
            "the master token was rotated meanwhile by another request; use the newest one".into(),
        ));
    }
    Ok(token)
}

/// A token name: 1 to 200 characters, trimmed.
pub fn valid_name(name: &str) -> Result<String, DomainError> {
    super::valid_text("name", name, 200)
}

/// When platform tokens were last used, gathered in memory and written in batches
/// (by the change poller), so that using a token costs no write.
#[derive(Default)]
pub struct UsageLog(Mutex<HashMap<String, i64>>);

impl UsageLog {
    pub fn record(&self, token_id: &str, at: i64) {
        if let Ok(mut uses) = self.0.lock() {
            let seen = uses.entry(token_id.to_owned()).or_insert(at);
            *seen = (*seen).max(at);
        }
    }

    /// Everything recorded since the last drain.
    pub fn drain(&self) -> Vec<(String, i64)> {
        self.0.lock().map(|mut uses| uses.drain().collect()).unwrap_or_default()
    }
}

/// A platform token as stored: never the secret, only what describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformToken {
    pub id: String,
    pub kind: String,
    pub app_id: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_name_the_kind() {
        assert_eq!(TokenKind::of("tsm_abc"), Some(TokenKind::Master));
        assert_eq!(TokenKind::of("tsb_abc"), Some(TokenKind::Mobile));
        assert_eq!(TokenKind::of("tsr_abc"), Some(TokenKind::Refresh));
        assert_eq!(TokenKind::of("eyJhbGciOi"), None);
    }
}

//! Signing keys in the database: sealed under the data key, one active at a
//! time, retired ones published until every token they signed has expired.
//!
//! Invariants: every instance over one database signs with the same active key
//! and publishes the same keys; a private key is never stored or logged in the
//! clear; `rotate` and `import` take effect on every instance within one poll
//! (the `keys` change counter).

use std::fmt;
use std::path::Path;

use ring::rand::SystemRandom;

use crate::store::{Store, StoreError};
use crate::tokens::keys::{self, KeyError, KeyOrigin, KeySet, SigningKey};
use crate::tokens::sealed::DataKeys;

/// A key as the database keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub origin: String,
    pub created_at: i64,
    /// The PKCS#8 document sealed under the data key.
    pub private_key: Option<Vec<u8>>,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("origin", &self.origin)
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Signs new tokens.
    Active,
    /// Signs nothing new; published while tokens it signed may be live.
    Retired,
    /// Its tokens have all expired: no longer published.
    Expired,
}

impl KeyState {
    pub fn name(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Expired => "expired",
        }
    }
}

impl StoredKey {
    /// The key's state at `now`, when what it signs lives at most `lifetime` seconds.
    pub fn state(&self, now: i64, lifetime: i64) -> KeyState {
        match (self.private_key.is_some(), self.activated_at, self.retired_at) {
            (false, _, _) => KeyState::Expired,
            (true, Some(_), None) => KeyState::Active,
            (true, _, Some(retired)) if retired + lifetime > now => KeyState::Retired,
            _ => KeyState::Expired,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("key {kid}: {reason}")]
    Sealed { kid: String, reason: String },
}

/// The published key set at `now`, and when it next changes by itself (a
/// retired key's tokens all expire), if ever.
pub struct Loaded {
    pub set: KeySet,
    pub next_change: Option<i64>,
    /// Origins of the published keys, for production's refusal of generated ones.
    pub origins: Vec<(String, KeyOrigin)>,
}

/// The active and retired keys from the database; `None` when there is no active key.
pub async fn load(
    store: &Store,
    data_keys: &DataKeys,
    now: i64,
    lifetime: i64,
    dir: &Path,
) -> Result<Option<Loaded>, KeyringError> {
    let rng = SystemRandom::new();
    let mut published = Vec::new();
    let mut active = None;
    let mut next_change = None::<i64>;
    let mut origins = Vec::new();
    for row in store.list_keys().await? {
        let state = row.state(now, lifetime);
        if state == KeyState::Expired {
            continue;
        }
        if state == KeyState::Active {
            active = Some(row.kid.clone());
        }
        if let (KeyState::Retired, Some(retired)) = (state, row.retired_at) {
            let ends = retired + lifetime;
            next_change = Some(next_change.map_or(ends, |n| n.min(ends)));
        }
        let sealed = row.private_key.as_deref().unwrap_or_default();
        let der = data_keys
            .open(sealed, context(&row.kid).as_bytes())
            .map_err(|e| KeyringError::Sealed { kid: row.kid.clone(), reason: e.to_string() })?;
        let origin = KeyOrigin::parse(&row.origin);
        let key = SigningKey::from_der(&der, origin, row.created_at, &rng)?;
        origins.push((key.kid.clone(), origin));
        published.push(key);
    }
    let Some(active) = active else {
        return Ok(None);
    };
    Ok(Some(Loaded { set: KeySet::with_active(published, &active, dir)?, next_change, origins }))
}

/// What the seal of a key's private key is bound to.
fn context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// Stores `key` sealed; with `activate`, it signs from now on (on every instance
/// within one poll) and the previous active key is retired.
pub async fn store_key(
    store: &Store,
    data_keys: &DataKeys,
    key: &SigningKey,
    activate: bool,
    now: i64,
) -> Result<(), KeyringError> {
    let sealed = data_keys
        .seal(key.pkcs8(), context(&key.kid).as_bytes())
        .map_err(|e| KeyringError::Sealed { kid: key.kid.clone(), reason: e.to_string() })?;
    let stored = StoredKey {
        kid: key.kid.clone(),
        alg: keys::ALGORITHM.to_owned(),
        origin: key.origin.name().to_owned(),
        created_at: key.created_at,
        private_key: Some(sealed),
        activated_at: None,
        retired_at: None,
    };
    store.put_key(&stored, activate.then_some(now), now).await?;
    Ok(())
}

/// `tessera keys rotate`: a new key, active from now on; the previous one retires.
pub async fn rotate(store: &Store, data_keys: &DataKeys, now: i64) -> Result<SigningKey, KeyringError> {
    let key = keys::generate_in_memory(KeyOrigin::Cli, now, &SystemRandom::new())?;
    store_key(store, data_keys, &key, true, now).await?;
    Ok(key)
}

/// Imports key files: each one not yet in the database (with its private key)
/// is stored, and the newest becomes active when it is newer than the active
/// key (or there is none). Answers the kids imported.
pub async fn import(
    store: &Store,
    data_keys: &DataKeys,
    files: Vec<SigningKey>,
    now: i64,
) -> Result<Vec<String>, KeyringError> {
    let known = store.list_keys().await?;
    let active_created = known
        .iter()
        .filter(|k| k.private_key.is_some() && k.activated_at.is_some() && k.retired_at.is_none())
        .map(|k| k.created_at)
        .max();
    let mut fresh: Vec<SigningKey> = files
        .into_iter()
        .filter(|f| !known.iter().any(|k| k.kid == f.kid && k.private_key.is_some()))
        .collect();
    fresh.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.kid.cmp(&b.kid)));
    let newest = fresh.last().map(|k| (k.kid.clone(), k.created_at));
    let mut imported = Vec::new();
    for key in &fresh {
        let activate = newest.as_ref().is_some_and(|(kid, created)| {
            *kid == key.kid && active_created.is_none_or(|active| *created > active)
        });
        store_key(store, data_keys, key, activate, now).await?;
        imported.push(key.kid.clone());
    }
    Ok(imported)
}

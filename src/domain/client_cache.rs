//! An in-memory cache of clients for the token endpoint's hot path, which must not
//! touch the database for a client it has seen.
//!
//! Invariants: no lock is held across an await; an entry fetched before a change
//! was noticed is never inserted after the cache was cleared for that change
//! (the epoch check in `get`). Changes made by other processes are noticed by
//! `refresh`, which compares the database's change counter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::clients::Client;
use crate::domain::scope::{ScopeModel, ScopeSet};
use crate::store::{ChangeCounter, Store, StoreError};

/// A client with its registered scope already parsed.
#[derive(Debug)]
pub struct CachedClient {
    pub client: Client,
    pub allowed: ScopeSet,
}

pub struct ClientCache {
    entries: RwLock<HashMap<String, Arc<CachedClient>>>,
    /// Bumped on every clear, so that a fetch racing a clear is not inserted.
    epoch: AtomicU64,
    /// The database change counter the entries reflect.
    version: AtomicI64,
}

impl Default for ClientCache {
    fn default() -> Self {
        ClientCache {
            entries: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            version: AtomicI64::new(i64::MIN),
        }
    }
}

impl ClientCache {
    /// The client `id`, from memory when cached, else from the store.
    pub async fn get(
        &self,
        store: &Store,
        scopes: &ScopeModel,
        id: &str,
    ) -> Result<Option<Arc<CachedClient>>, StoreError> {
        if let Some(hit) = self.peek(id) {
            return Ok(Some(hit));
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let Some(client) = store.find_client(id).await? else {
            return Ok(None);
        };
        // A registration that no longer parses (objects removed from the
        // configuration) allows nothing rather than failing every request.
        let allowed = scopes.parse(&client.scope).unwrap_or_else(|e| {
            tracing::warn!(client_id = %client.id, error = %e, "registered scope no longer parses");
            ScopeSet::EMPTY
        });
        let entry = Arc::new(CachedClient { client, allowed });
        if let Ok(mut entries) = self.entries.write() {
            if self.epoch.load(Ordering::Acquire) == epoch {
                entries.insert(id.to_owned(), entry.clone());
            }
        }
        Ok(Some(entry))
    }

    /// The cached client `id`, without going to the store.
    pub fn peek(&self, id: &str) -> Option<Arc<CachedClient>> {
        self.entries.read().ok()?.get(id).cloned()
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            entries.clear();
        }
    }

    /// Clears the cache when the database's client change counter moved.
    pub async fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let version = store.change_version(ChangeCounter::Clients).await?;
        if self.version.swap(version, Ordering::AcqRel) != version {
            self.clear();
            return Ok(true);
        }
        Ok(false)
    }

    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

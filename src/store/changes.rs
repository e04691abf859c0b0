//! Change counters: bumped with every change to a cached table so that every
//! instance (and the CLI's changes) can invalidate in-memory caches.

use super::{on_pool, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeCounter {
    Clients,
    /// Anything that changes what a presented platform token is worth: a token,
    /// a user, a user type, an application's forward-auth switch.
    Tokens,
    /// Endpoints, their primary tokens, secondary endpoint tokens and mappings:
    /// what the endpoint check's index holds.
    Endpoints,
    /// Signing keys: what every instance signs with and publishes.
    Keys,
    /// Revocations that set a bit of a token status list.
    Status,
}

impl ChangeCounter {
    fn name(self) -> &'static str {
        match self {
            ChangeCounter::Clients => "clients",
            ChangeCounter::Tokens => "tokens",
            ChangeCounter::Endpoints => "endpoints",
            ChangeCounter::Keys => "keys",
            ChangeCounter::Status => "status",
        }
    }
}

impl Store {
    pub async fn change_version(&self, counter: ChangeCounter) -> Result<i64, StoreError> {
        let version = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT version FROM change_counters WHERE name = $1")
                .bind(counter.name())
                .fetch_one(pool)
                .await?
        });
        Ok(version)
    }
}

/// The statement that bumps a counter, to run inside the changing transaction.
pub(super) const BUMP: &str = "UPDATE change_counters SET version = version + 1 WHERE name = $1";

pub(super) fn bump_name(counter: ChangeCounter) -> &'static str {
    counter.name()
}

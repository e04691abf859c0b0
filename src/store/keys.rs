//! Signing keys: their private keys sealed under the data key, and when each was
//! active. Every change bumps the `keys` change counter in its transaction.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::keys::StoredKey;

domain_row!(KeyRow => StoredKey {
    kid: String,
    alg: String,
    origin: String,
    created_at: i64,
    private_key: Option<Vec<u8>>,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
});

impl Store {
    /// Stores a key (or its sealed private key, for a kid known without one).
    /// With `activate_at`, the key becomes the active one and the previous active
    /// key is retired at that time, in one transaction; without, a new key is
    /// stored retired at `now`.
    pub async fn put_key(
        &self,
        key: &StoredKey,
        activate_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, origin, created_at, seen_at, private_key, activated_at, retired_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, NULL, $5) \
                 ON CONFLICT (kid) DO UPDATE SET private_key = excluded.private_key",
            )
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.origin)
            .bind(key.created_at)
            .bind(now)
            .bind(key.private_key.as_deref())
            .execute(&mut *tx)
            .await?;
            if let Some(at) = activate_at {
                sqlx::query(
                    "UPDATE signing_keys SET retired_at = $2 WHERE retired_at IS NULL AND kid <> $1",
                )
                .bind(&key.kid)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE signing_keys SET activated_at = $2, retired_at = NULL WHERE kid = $1")
                    .bind(&key.kid)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Keys)).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every key, oldest first.
    pub async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, KeyRow>(
                "SELECT kid, alg, origin, created_at, private_key, activated_at, retired_at FROM signing_keys \
                 ORDER BY created_at, kid",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

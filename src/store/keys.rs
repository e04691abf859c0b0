//! Signing keys' metadata (the private keys themselves live in the keys directory).

use super::{domain_row, on_pool, Store, StoreError};
use crate::domain::keys::SigningKeyInfo;

domain_row!(KeyRow => SigningKeyInfo {
    kid: String,
    alg: String,
    origin: String,
    created_at: i64,
    seen_at: i64,
});

impl Store {
    /// Records a key this environment signs with; a known key only gets `seen_at` moved.
    pub async fn register_key(&self, key: &SigningKeyInfo) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, origin, created_at, seen_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (kid) DO UPDATE SET seen_at = excluded.seen_at",
            )
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.origin)
            .bind(key.created_at)
            .bind(key.seen_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn list_keys(&self) -> Result<Vec<SigningKeyInfo>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, KeyRow>(
                "SELECT kid, alg, origin, created_at, seen_at FROM signing_keys ORDER BY created_at, kid",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

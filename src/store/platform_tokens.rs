//! Opaque platform tokens (master, mobile, ...), found by SHA-256.

use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::platform_tokens::PlatformToken;

domain_row!(PlatformTokenRow => PlatformToken {
    id: String,
    kind: String,
    app_id: String,
    name: String,
    enabled: bool,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
});

const COLUMNS: &str = "id, kind, app_id, name, enabled, created_at, expires_at, last_used_at";

impl Store {
    pub async fn insert_platform_token(
        &self,
        token: &PlatformToken,
        token_hash: &[u8],
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(&format!(
                "INSERT INTO platform_tokens (token_hash, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(token_hash)
            .bind(&token.id)
            .bind(&token.kind)
            .bind(&token.app_id)
            .bind(&token.name)
            .bind(token.enabled)
            .bind(token.created_at)
            .bind(token.expires_at)
            .bind(token.last_used_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The token whose value hashes to `token_hash`, of any kind.
    pub async fn find_platform_token(&self, token_hash: &[u8]) -> Result<Option<PlatformToken>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, PlatformTokenRow>(&format!(
                "SELECT {COLUMNS} FROM platform_tokens WHERE token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Into::into))
    }

    /// The SHA-256 the application's master token has now.
    pub async fn master_token_hash(&self, app_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let hash = on_pool!(self, pool => {
            sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT token_hash FROM platform_tokens WHERE app_id = $1 AND kind = 'master'",
            )
            .bind(app_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(hash)
    }

    /// Gives the application's master token a new value if it still hashes to
    /// `expected` (compare and swap); the old one stops at once. Of concurrent
    /// rotations from the same token, exactly one succeeds.
    pub async fn rotate_master_token(
        &self,
        app_id: &str,
        expected: &[u8],
        token_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE platform_tokens SET token_hash = $3, created_at = $4, last_used_at = NULL \
                 WHERE app_id = $1 AND kind = 'master' AND token_hash = $2",
            )
            .bind(app_id)
            .bind(expected)
            .bind(token_hash)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// One page of an application's tokens of `kind`, oldest first, and the total.
    pub async fn list_platform_tokens(
        &self,
        app_id: &str,
        kind: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<PlatformToken>, i64), StoreError> {
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, PlatformTokenRow>(&format!(
                "SELECT {COLUMNS} FROM platform_tokens WHERE app_id = $1 AND kind = $2 \
                 ORDER BY created_at, id LIMIT $3 OFFSET $4"
            ))
            .bind(app_id)
            .bind(kind)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM platform_tokens WHERE app_id = $1 AND kind = $2",
            )
            .bind(app_id)
            .bind(kind)
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    pub async fn get_platform_token(
        &self,
        app_id: &str,
        kind: &str,
        id: &str,
    ) -> Result<Option<PlatformToken>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, PlatformTokenRow>(&format!(
                "SELECT {COLUMNS} FROM platform_tokens WHERE app_id = $1 AND kind = $2 AND id = $3"
            ))
            .bind(app_id)
            .bind(kind)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Into::into))
    }

    /// Renames and/or enables or disables a token; answers whether it exists.
    pub async fn update_platform_token(
        &self,
        app_id: &str,
        kind: &str,
        id: &str,
        name: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE platform_tokens SET name = COALESCE($4, name), enabled = COALESCE($5, enabled) \
                 WHERE app_id = $1 AND kind = $2 AND id = $3",
            )
            .bind(app_id)
            .bind(kind)
            .bind(id)
            .bind(name)
            .bind(enabled)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    pub async fn delete_platform_token(
        &self,
        app_id: &str,
        kind: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM platform_tokens WHERE app_id = $1 AND kind = $2 AND id = $3")
                .bind(app_id)
                .bind(kind)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted == 1)
    }

    /// Moves `last_used_at` forward (never back) for each (id, time).
    pub async fn record_token_use(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (id, at) in uses {
                sqlx::query(
                    "UPDATE platform_tokens SET last_used_at = $2 \
                     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
                )
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

//! Opaque platform tokens (master, mobile, ...), found by SHA-256.

use super::{on_pool, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PlatformTokenRecord {
    pub id: String,
    pub kind: String,
    pub app_id: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, app_id, name, enabled, created_at, expires_at, last_used_at";

impl Store {
    pub async fn insert_platform_token(
        &self,
        token: &PlatformTokenRecord,
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
    pub async fn find_platform_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<PlatformTokenRecord>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, PlatformTokenRecord>(&format!(
                "SELECT {COLUMNS} FROM platform_tokens WHERE token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Gives the application's master token a new value; the old one stops at once.
    pub async fn rotate_master_token(
        &self,
        app_id: &str,
        token_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE platform_tokens SET token_hash = $2, created_at = $3, last_used_at = NULL \
                 WHERE app_id = $1 AND kind = 'master'",
            )
            .bind(app_id)
            .bind(token_hash)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }
}

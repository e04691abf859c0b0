//! Console sessions (see `domain::console`), found by the SHA-256 of their
//! cookie's value.

use super::{domain_row, on_pool, Store, StoreError};
use crate::domain::console::ConsoleSession;

domain_row!(ConsoleSessionRow => ConsoleSession {
    app_id: String,
    user_id: String,
    username: String,
    platform_admin: bool,
    csrf_token: String,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
});

const COLUMNS: &str =
    "app_id, user_id, username, platform_admin, csrf_token, created_at, last_seen, expires_at";

impl Store {
    pub async fn insert_console_session(&self, id_hash: &[u8], s: &ConsoleSession) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(&format!(
                "INSERT INTO console_sessions (id_hash, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(id_hash)
            .bind(&s.app_id)
            .bind(&s.user_id)
            .bind(&s.username)
            .bind(s.platform_admin)
            .bind(&s.csrf_token)
            .bind(s.created_at)
            .bind(s.last_seen)
            .bind(s.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session, if it is neither expired nor idle longer than `idle`
    /// seconds; seeing it counts as activity.
    pub async fn touch_console_session(
        &self,
        id_hash: &[u8],
        now: i64,
        idle: i64,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, ConsoleSessionRow>(&format!(
                "UPDATE console_sessions SET last_seen = $2 \
                 WHERE id_hash = $1 AND expires_at > $2 AND last_seen >= $2 - $3 RETURNING {COLUMNS}"
            ))
            .bind(id_hash)
            .bind(now)
            .bind(idle)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(ConsoleSession::from))
    }

    pub async fn delete_console_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1").bind(id_hash).execute(pool).await?;
        });
        Ok(())
    }
}

//! The sweeper's statements: rows past their lifetime deleted in small batches
//! (`DELETE ... WHERE key IN (SELECT key ... LIMIT n)`), so that no statement
//! holds a lock for long and the tables stop growing once lifetimes are reached.

use super::{on_pool, BeginWrite, Store, StoreError};

/// A table the sweeper keeps bounded, and what makes one of its rows dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swept {
    /// Authorization codes past their expiry (a replay of one is then "expired").
    Codes,
    /// Browser sessions past their expiry.
    Sessions,
    /// Login failures older than the backoff remembers.
    LoginFailures,
    /// Revoked access token ids past the tokens' own expiry.
    RevokedJtis,
    /// Install tokens past their expiry.
    InstallTokens,
    /// Authorization requests that waited on a page past their expiry.
    Interactions,
    /// Admin console sessions past their expiry.
    ConsoleSessions,
    /// Audit entries older than the retention.
    Audit,
    /// Status list entries and single revocations of tokens past their expiry.
    StatusEntries,
    StatusRevocations,
}

impl Swept {
    pub const ALL: [Swept; 10] = [
        Swept::Codes,
        Swept::Sessions,
        Swept::LoginFailures,
        Swept::RevokedJtis,
        Swept::InstallTokens,
        Swept::Interactions,
        Swept::ConsoleSessions,
        Swept::Audit,
        Swept::StatusEntries,
        Swept::StatusRevocations,
    ];

    /// The table's name, as metrics and `tessera sweep` report it.
    pub fn table(self) -> &'static str {
        match self {
            Swept::Codes => "authorization_codes",
            Swept::Sessions => "sessions",
            Swept::LoginFailures => "login_failures",
            Swept::RevokedJtis => "revoked_access_tokens",
            Swept::InstallTokens => "install_tokens",
            Swept::Interactions => "authorization_interactions",
            Swept::ConsoleSessions => "console_sessions",
            Swept::Audit => "audit_log",
            Swept::StatusEntries => "status_entries",
            Swept::StatusRevocations => "status_revocations",
        }
    }

    /// One batch's statement: `$1` is the cut-off time, `$2` the batch size.
    fn statement(self) -> &'static str {
        match self {
            Swept::Codes => {
                "DELETE FROM authorization_codes WHERE code_hash IN \
                 (SELECT code_hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2)"
            }
            Swept::Sessions => {
                "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at < $1 LIMIT $2)"
            }
            Swept::LoginFailures => {
                "DELETE FROM login_failures WHERE subject IN \
                 (SELECT subject FROM login_failures WHERE last_failure_at < $1 LIMIT $2)"
            }
            Swept::RevokedJtis => {
                "DELETE FROM revoked_access_tokens WHERE jti IN \
                 (SELECT jti FROM revoked_access_tokens WHERE expires_at < $1 LIMIT $2)"
            }
            Swept::InstallTokens => {
                "DELETE FROM platform_tokens WHERE id IN (SELECT id FROM platform_tokens \
                 WHERE kind = 'install' AND expires_at < $1 LIMIT $2)"
            }
            Swept::Interactions => {
                "DELETE FROM authorization_interactions WHERE id_hash IN \
                 (SELECT id_hash FROM authorization_interactions WHERE expires_at < $1 LIMIT $2)"
            }
            Swept::ConsoleSessions => {
                "DELETE FROM console_sessions WHERE id_hash IN \
                 (SELECT id_hash FROM console_sessions WHERE expires_at < $1 LIMIT $2)"
            }
            Swept::Audit => "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 LIMIT $2)",
            Swept::StatusEntries => {
                "DELETE FROM status_entries WHERE jti IN (SELECT jti FROM status_entries WHERE expires_at < $1 LIMIT $2)"
            }
            Swept::StatusRevocations => {
                "DELETE FROM status_revocations WHERE (list_id, idx) IN \
                 (SELECT list_id, idx FROM status_revocations WHERE expires_at < $1 LIMIT $2)"
            }
        }
    }
}

impl Store {
    /// Deletes at most `batch` dead rows of `table`: those that died before `before`.
    pub async fn sweep_batch(&self, table: Swept, before: i64, batch: i64) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query(table.statement()).bind(before).bind(batch).execute(pool).await?.rows_affected()
        });
        Ok(deleted)
    }

    /// Deletes at most `batch` refresh token families that ended (absolute bound,
    /// sliding expiry or revocation before `revoked_before`), with their tokens;
    /// answers how many families went.
    pub async fn sweep_families(
        &self,
        now: i64,
        idle_before: i64,
        revoked_before: i64,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let dead = "SELECT id FROM refresh_families WHERE expires_at < $1 OR last_used_at < $2 \
                    OR (revoked_at IS NOT NULL AND revoked_at < $3) LIMIT $4";
        let deleted = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let ids: Vec<String> = sqlx::query_scalar(dead)
                .bind(now)
                .bind(idle_before)
                .bind(revoked_before)
                .bind(batch)
                .fetch_all(&mut *tx)
                .await?;
            for id in &ids {
                sqlx::query("DELETE FROM refresh_tokens WHERE family_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM refresh_families WHERE id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            ids.len() as u64
        });
        Ok(deleted)
    }

    /// Deletes closed status lists no live token can name any more (closed
    /// before `before`); their entries and revocations are past expiry already.
    pub async fn sweep_status_lists(&self, before: i64) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM status_lists WHERE closed_at IS NOT NULL AND closed_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted)
    }

    /// How many rows `table` holds, for the soak bench and `tessera sweep --json`.
    pub async fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        let known = [
            "authorization_codes",
            "sessions",
            "login_failures",
            "revoked_access_tokens",
            "platform_tokens",
            "authorization_interactions",
            "console_sessions",
            "audit_log",
            "refresh_families",
            "refresh_tokens",
            "endpoint_calls",
            "consents",
            "status_entries",
            "status_revocations",
            "status_lists",
        ];
        if !known.contains(&table) {
            return Err(StoreError::Database(format!("`{table}` is not a table the sweeper knows")));
        }
        let count = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(pool).await?
        });
        Ok(count)
    }
}

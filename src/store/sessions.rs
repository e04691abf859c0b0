//! Browser sessions and remembered consent.

use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::login::LoginSession;

domain_row!(SessionRow => LoginSession {
    csrf_token: String,
    user_id: Option<String>,
    authenticated_at: Option<i64>,
    expires_at: i64,
});

impl Store {
    /// Stores a new anonymous session, dropping expired ones on the way.
    pub async fn insert_session(
        &self,
        id_hash: &[u8],
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(pool).await?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, csrf_token, user_id, authenticated_at, created_at, expires_at) \
                 VALUES ($1, $2, NULL, NULL, $3, $4)",
            )
            .bind(id_hash)
            .bind(csrf_token)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Ends a browser session (sign-out); answers whether it existed.
    pub async fn delete_session(&self, id_hash: &[u8]) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted == 1)
    }

    /// The live session with this id hash.
    pub async fn get_session(&self, id_hash: &[u8], now: i64) -> Result<Option<LoginSession>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, SessionRow>(
                "SELECT csrf_token, user_id, authenticated_at, expires_at FROM sessions \
                 WHERE id_hash = $1 AND expires_at > $2",
            )
            .bind(id_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Into::into))
    }

    /// Replaces a session by a new one (new id, new CSRF token) that belongs to
    /// `user_id`: a login never keeps the id it was given (session fixation).
    pub async fn login_session(
        &self,
        old_hash: Option<&[u8]>,
        new_hash: &[u8],
        csrf_token: &str,
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(old) = old_hash {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(old).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO sessions (id_hash, csrf_token, user_id, authenticated_at, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(new_hash)
            .bind(csrf_token)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The scope `user_id` consented to for `client_id`, if any.
    pub async fn get_consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        let scope = on_pool!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
                .bind(user_id)
                .bind(client_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(scope)
    }

    pub async fn put_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
            )
            .bind(user_id)
            .bind(client_id)
            .bind(scope)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Claims one login attempt for every subject (a username, a client address)
    /// at once: in one write transaction each subject's row is locked and read,
    /// `wait(failures, last_failure_at, index)` says how long that subject must
    /// still wait, and only when none must wait is the attempt counted (as a
    /// failure, until `clear_login_failures` or `forgive_login_attempt` says it was
    /// not) and allowed. Answers the longest wait, 0 when the attempt may go on, so
    /// that parallel guesses cannot all pass the check before any is counted.
    pub async fn claim_login_attempt(
        &self,
        subjects: &[&str],
        now: i64,
        wait: impl Fn(i64, i64, usize) -> i64,
    ) -> Result<i64, StoreError> {
        // SQLite's BEGIN IMMEDIATE already serialises writers; Postgres locks the rows.
        let lock = match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => " FOR UPDATE",
        };
        let retry_after = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut retry_after = 0;
            for (index, subject) in subjects.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES ($1, 0, $2) \
                     ON CONFLICT (subject) DO NOTHING",
                )
                .bind(subject)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let (failures, last) = sqlx::query_as::<_, (i64, i64)>(&format!(
                    "SELECT failures, last_failure_at FROM login_failures WHERE subject = $1{lock}"
                ))
                .bind(subject)
                .fetch_one(&mut *tx)
                .await?;
                retry_after = retry_after.max(wait(failures, last, index));
            }
            if retry_after > 0 {
                tx.rollback().await?;
            } else {
                for subject in subjects {
                    sqlx::query(
                        "UPDATE login_failures SET failures = CASE \
                         WHEN last_failure_at < $2 - 3600 THEN 1 ELSE failures + 1 END, \
                         last_failure_at = $2 WHERE subject = $1",
                    )
                    .bind(subject)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
            retry_after
        });
        Ok(retry_after)
    }

    /// Takes back one claimed attempt of `subject` that turned out to succeed.
    pub async fn forgive_login_attempt(&self, subject: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE login_failures SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END \
                 WHERE subject = $1",
            )
            .bind(subject)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM login_failures WHERE subject = $1").bind(subject).execute(pool).await?;
        });
        Ok(())
    }

    /// Stores a pending authorization request (its query string) under the hash
    /// of an interaction id.
    pub async fn insert_interaction(
        &self,
        id_hash: &[u8],
        query: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO authorization_interactions (id_hash, query, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id_hash)
            .bind(query)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The pending request stored under `id_hash` and when it began, unless it
    /// expired.
    pub async fn get_interaction(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let query = on_pool!(self, pool => {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT query, created_at FROM authorization_interactions WHERE id_hash = $1 AND expires_at > $2",
            )
            .bind(id_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        Ok(query)
    }

    /// Ends an interaction: its request was answered.
    pub async fn delete_interaction(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM authorization_interactions WHERE id_hash = $1").bind(id_hash).execute(pool).await?;
        });
        Ok(())
    }
}

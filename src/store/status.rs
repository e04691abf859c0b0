//! Token status lists: index blocks handed out from the open list, the index of
//! each token issued in a login, single revocations, and the revoked indexes of
//! a list. Every change that sets a bit bumps the `status` change counter.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{on_pool, BeginWrite, Store, StoreError};

/// Indexes `start..end` of list `list_id`, this instance's to hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusBlock {
    pub list_id: i64,
    pub start: i64,
    pub end: i64,
}

/// The revoked indexes of a list: single revocations, and the tokens of logins
/// that ended (a revoked family, or one no longer there).
const REVOKED_IN_LIST: &str = "SELECT idx FROM status_revocations WHERE list_id = $1 \
     UNION SELECT e.idx FROM status_entries e LEFT JOIN refresh_families f ON f.id = e.family_id \
     WHERE e.list_id = $1 AND (f.id IS NULL OR f.revoked_at IS NOT NULL)";

impl Store {
    /// Takes `block` fresh indexes from the open list, opening a new list of
    /// `size` indexes when there is none or it is full. Two instances never get
    /// the same index: the take is one conditional `UPDATE`.
    pub async fn allocate_status_block(
        &self,
        size: i64,
        block: i64,
        now: i64,
    ) -> Result<StatusBlock, StoreError> {
        // Each pass either takes a block or opens a list; another instance can
        // fill the new list before this one takes from it, rarely twice running.
        for _ in 0..20 {
            let taken = on_pool!(self, pool => {
                sqlx::query_as::<_, (i64, i64)>(
                    "UPDATE status_lists SET next_index = next_index + $1 \
                     WHERE id = (SELECT MAX(id) FROM status_lists WHERE closed_at IS NULL) \
                     AND next_index + $1 <= size RETURNING id, next_index",
                )
                .bind(block)
                .fetch_optional(pool)
                .await?
            });
            if let Some((list_id, next)) = taken {
                return Ok(StatusBlock { list_id, start: next - block, end: next });
            }
            // No open list, or it is full: close it and open the next one.
            on_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                sqlx::query("UPDATE status_lists SET closed_at = $1 WHERE closed_at IS NULL")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO status_lists (id, size, next_index, created_at, closed_at) \
                     SELECT COALESCE(MAX(id), 0) + 1, $1, 0, $2, NULL FROM status_lists WHERE TRUE \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(size)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            });
        }
        Err(StoreError::Database("no status list index could be taken".into()))
    }

    /// Records the index of a token issued in login `family_id`.
    pub async fn insert_status_entry(
        &self,
        jti: &str,
        list_id: i64,
        idx: i64,
        family_id: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO status_entries (jti, list_id, idx, family_id, expires_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (jti) DO NOTHING",
            )
            .bind(jti)
            .bind(list_id)
            .bind(idx)
            .bind(family_id)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Sets the bit of one token, known by its list and index (or, without them,
    /// by its `jti` when it was issued in a login).
    pub async fn revoke_status(
        &self,
        at: Option<(i64, i64)>,
        jti: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            match at {
                Some((list_id, idx)) => {
                    sqlx::query(
                        "INSERT INTO status_revocations (list_id, idx, expires_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (list_id, idx) DO NOTHING",
                    )
                    .bind(list_id)
                    .bind(idx)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO status_revocations (list_id, idx, expires_at) \
                         SELECT list_id, idx, expires_at FROM status_entries WHERE jti = $1 \
                         ON CONFLICT (list_id, idx) DO NOTHING",
                    )
                    .bind(jti)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Status)).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Lists still in use at `now`: open, or closed less than `lifetime` ago (a
    /// token that holds one of their indexes may still be live). Id and size.
    pub async fn live_status_lists(&self, now: i64, lifetime: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT id, size FROM status_lists WHERE closed_at IS NULL OR closed_at > $1 ORDER BY id",
            )
            .bind(now - lifetime)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// The revoked indexes of list `list_id`.
    pub async fn revoked_indexes(&self, list_id: i64) -> Result<Vec<i64>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(REVOKED_IN_LIST).bind(list_id).fetch_all(pool).await?
        });
        Ok(rows)
    }
}

//! Refresh token families and their tokens. Rotation spends the presented token
//! atomically; a token found already spent is reuse, which revokes its family.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::grants::{RefreshFamily, RefreshToken, Rotation};

domain_row!(FamilyRow => RefreshFamily {
    id: String,
    app_id: String,
    client_id: String,
    user_id: String,
    scope: String,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
});

#[derive(sqlx::FromRow)]
struct RefreshRow {
    id: String,
    app_id: String,
    client_id: String,
    user_id: String,
    scope: String,
    created_at: i64,
    last_used_at: i64,
    family_expires_at: i64,
    revoked_at: Option<i64>,
    token_expires_at: i64,
    rotated_at: Option<i64>,
}

impl Store {
    /// Starts a family with its first token.
    pub async fn insert_family(
        &self,
        family: &RefreshFamily,
        token_hash: &[u8],
        token_expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO refresh_families (id, app_id, client_id, user_id, scope, created_at, last_used_at, \
                 expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
            )
            .bind(&family.id)
            .bind(&family.app_id)
            .bind(&family.client_id)
            .bind(&family.user_id)
            .bind(&family.scope)
            .bind(family.created_at)
            .bind(family.last_used_at)
            .bind(family.expires_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at, rotated_at) \
                 VALUES ($1, $2, $3, $4, NULL)",
            )
            .bind(token_hash)
            .bind(&family.id)
            .bind(family.created_at)
            .bind(token_expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn find_refresh(&self, token_hash: &[u8]) -> Result<Option<RefreshToken>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, RefreshRow>(
                "SELECT f.id, f.app_id, f.client_id, f.user_id, f.scope, f.created_at, f.last_used_at, \
                 f.expires_at AS family_expires_at, f.revoked_at, t.expires_at AS token_expires_at, t.rotated_at \
                 FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| RefreshToken {
            family: RefreshFamily {
                id: r.id,
                app_id: r.app_id,
                client_id: r.client_id,
                user_id: r.user_id,
                scope: r.scope,
                created_at: r.created_at,
                last_used_at: r.last_used_at,
                expires_at: r.family_expires_at,
                revoked_at: r.revoked_at,
            },
            expires_at: r.token_expires_at,
            rotated_at: r.rotated_at,
        }))
    }

    /// Spends `old_hash` and adds `new_hash` to the same family, in one transaction.
    pub async fn rotate_refresh(
        &self,
        family_id: &str,
        old_hash: &[u8],
        new_hash: &[u8],
        new_expires_at: i64,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let spent = sqlx::query(
                "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL",
            )
            .bind(old_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if spent == 0 {
                tx.rollback().await?;
                Rotation::AlreadySpent
            } else {
                let live = sqlx::query(
                    "UPDATE refresh_families SET last_used_at = $2 \
                     WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(family_id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if live == 0 {
                    tx.rollback().await?;
                    Rotation::FamilyEnded
                } else {
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at, rotated_at) \
                         VALUES ($1, $2, $3, $4, NULL)",
                    )
                    .bind(new_hash)
                    .bind(family_id)
                    .bind(now)
                    .bind(new_expires_at)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Rotation::Rotated
                }
            }
        });
        Ok(outcome)
    }

    /// Ends a family: none of its tokens refreshes again.
    pub async fn revoke_family(&self, family_id: &str, now: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(family_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // The login's access tokens are revoked in the status lists too.
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Status)).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn get_family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, FamilyRow>(
                "SELECT id, app_id, client_id, user_id, scope, created_at, last_used_at, expires_at, revoked_at \
                 FROM refresh_families WHERE id = $1",
            )
            .bind(family_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Into::into))
    }
}

//! Mobile sessions: the live refresh token families of people who signed in
//! through a client of type `mobile`. Revoking one ends its family, so its
//! refresh token stops and the access tokens it issued (which carry its id as
//! `sid`) are inactive at introspection.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{like_pattern, on_pool, BeginWrite, Store, StoreError};
use crate::domain::grants::MobileSession;

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    app_id: String,
    client_id: String,
    user_id: String,
    username: String,
    email: Option<String>,
    department: Option<String>,
    user_type: Option<String>,
    created_at: i64,
    last_used_at: i64,
    family_expires_at: i64,
    token_expires_at: Option<i64>,
}

impl From<SessionRow> for MobileSession {
    fn from(r: SessionRow) -> Self {
        MobileSession {
            id: r.id,
            app_id: r.app_id,
            client_id: r.client_id,
            user_id: r.user_id,
            username: r.username,
            email: r.email,
            department: r.department,
            user_type: r.user_type,
            created_at: r.created_at,
            last_active: r.last_used_at,
            expires_at: r.token_expires_at.map_or(r.family_expires_at, |t| t.min(r.family_expires_at)),
        }
    }
}

/// The live mobile families of application `$1` at time `$2`; `$3` is an
/// optional user id, `$4` an optional family id, `$5` an optional LIKE pattern
/// of the username.
const LIVE: &str = "FROM refresh_families f \
     JOIN clients c ON c.id = f.client_id AND c.app_id = f.app_id AND c.client_type = 'mobile' \
     JOIN users u ON u.id = f.user_id AND u.app_id = f.app_id \
     WHERE f.app_id = $1 AND f.revoked_at IS NULL AND f.expires_at > $2 \
     AND ($3 IS NULL OR f.user_id = $3) AND ($4 IS NULL OR f.id = $4) AND ($5 IS NULL OR u.username LIKE $5) \
     AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.rotated_at IS NULL AND t.expires_at > $2)";

const COLUMNS: &str =
    "f.id, f.app_id, f.client_id, f.user_id, u.username, u.email, u.department, u.user_type, \
     f.created_at, f.last_used_at, f.expires_at AS family_expires_at, \
     (SELECT MAX(t.expires_at) FROM refresh_tokens t WHERE t.family_id = f.id AND t.rotated_at IS NULL) \
     AS token_expires_at";

/// Which live sessions a list shows: one user's, or those whose username holds
/// a text, or all.
#[derive(Clone, Copy, Debug, Default)]
pub struct SessionFilter<'a> {
    pub user_id: Option<&'a str>,
    pub username_contains: Option<&'a str>,
}

impl Store {
    /// One page of the application's mobile sessions, most recently active first,
    /// and the total.
    pub async fn list_mobile_sessions(
        &self,
        app_id: &str,
        filter: SessionFilter<'_>,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<MobileSession>, i64), StoreError> {
        let username = filter.username_contains.map(like_pattern);
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, SessionRow>(&format!(
                "SELECT {COLUMNS} {LIVE} ORDER BY f.last_used_at DESC, f.id LIMIT $6 OFFSET $7"
            ))
            .bind(app_id)
            .bind(now)
            .bind(filter.user_id)
            .bind(None::<String>)
            .bind(username.as_deref())
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) {LIVE}"))
                .bind(app_id)
                .bind(now)
                .bind(filter.user_id)
                .bind(None::<String>)
                .bind(username.as_deref())
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    pub async fn get_mobile_session(
        &self,
        app_id: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<MobileSession>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, SessionRow>(&format!("SELECT {COLUMNS} {LIVE}"))
                .bind(app_id)
                .bind(now)
                .bind(None::<String>)
                .bind(id)
                .bind(None::<String>)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Into::into))
    }

    /// Revokes the application's live mobile sessions among `ids`; ids of another
    /// application, of other clients' families or already ended are skipped.
    /// Answers how many were revoked.
    pub async fn revoke_mobile_sessions(
        &self,
        app_id: &str,
        ids: &[String],
        now: i64,
    ) -> Result<u64, StoreError> {
        let revoked = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut revoked = 0;
            for id in ids {
                revoked += sqlx::query(
                    "UPDATE refresh_families SET revoked_at = $3 \
                     WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL AND client_id IN \
                     (SELECT c.id FROM clients c WHERE c.app_id = $1 AND c.client_type = 'mobile')",
                )
                .bind(app_id)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            // The sessions' access tokens are revoked in the status lists too.
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Status)).execute(&mut *tx).await?;
            tx.commit().await?;
            revoked
        });
        Ok(revoked)
    }
}

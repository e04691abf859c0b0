//! Refresh token families and their tokens. Rotation spends the presented token
//! atomically; a token found already spent is reuse, which revokes its family.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::grants::{PresentedRefresh, RefreshFamily, RefreshToken, Rotation, RotationJob};
use crate::domain::users::User;

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

impl RefreshRow {
    fn into_domain(self) -> RefreshToken {
        RefreshToken {
            family: RefreshFamily {
                id: self.id,
                app_id: self.app_id,
                client_id: self.client_id,
                user_id: self.user_id,
                scope: self.scope,
                created_at: self.created_at,
                last_used_at: self.last_used_at,
                expires_at: self.family_expires_at,
                revoked_at: self.revoked_at,
            },
            expires_at: self.token_expires_at,
            rotated_at: self.rotated_at,
        }
    }
}

/// A refresh token's row with its family's user and that user's type, read at once.
#[derive(sqlx::FromRow)]
struct GrantRow {
    #[sqlx(flatten)]
    token: RefreshRow,
    u_id: Option<String>,
    u_username: Option<String>,
    u_email: Option<String>,
    u_password_hash: Option<String>,
    u_department: Option<String>,
    u_user_type: Option<String>,
    u_is_admin: Option<bool>,
    u_enabled: Option<bool>,
    u_created_at: Option<i64>,
    type_scope: Option<String>,
}

impl GrantRow {
    fn into_domain(self) -> PresentedRefresh {
        let token = self.token.into_domain();
        let user = match (self.u_id, self.u_username, self.u_password_hash, self.u_is_admin, self.u_enabled) {
            (Some(id), Some(username), Some(password_hash), Some(is_admin), Some(enabled)) => Some(User {
                id,
                app_id: token.family.app_id.clone(),
                username,
                email: self.u_email,
                password_hash,
                department: self.u_department,
                user_type: self.u_user_type,
                is_admin,
                enabled,
                created_at: self.u_created_at.unwrap_or_default(),
            }),
            _ => None,
        };
        PresentedRefresh { token, user, own_type_scope: self.type_scope }
    }
}

/// The columns of a refresh token with its family (`t`, `f`), as a literal so that
/// the statements below are built at compile time, not per request.
macro_rules! refresh_columns {
    () => {
        "f.id, f.app_id, f.client_id, f.user_id, f.scope, f.created_at, f.last_used_at, \
         f.expires_at AS family_expires_at, f.revoked_at, t.expires_at AS token_expires_at, t.rotated_at"
    };
}

/// `$1, $2, ...` from `$first` on, `n` of them.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
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
            sqlx::query_as::<_, RefreshRow>(concat!(
                "SELECT ",
                refresh_columns!(),
                " FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(RefreshRow::into_domain))
    }

    /// A presented refresh token with its family, the family's user and the
    /// application's definition of that user's type (`default_user_type` when the
    /// user names none), in one query: a refresh grant reads nothing else.
    pub async fn find_refresh_grant(
        &self,
        token_hash: &[u8],
        default_user_type: &str,
    ) -> Result<Option<PresentedRefresh>, StoreError> {
        let sql = concat!(
            "SELECT ",
            refresh_columns!(),
            ", u.id AS u_id, u.username AS u_username, \
             u.email AS u_email, u.password_hash AS u_password_hash, u.department AS u_department, \
             u.user_type AS u_user_type, u.is_admin AS u_is_admin, u.enabled AS u_enabled, \
             u.created_at AS u_created_at, ut.scope AS type_scope \
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
             LEFT JOIN users u ON u.app_id = f.app_id AND u.id = f.user_id \
             LEFT JOIN user_types ut ON ut.app_id = f.app_id AND ut.name = COALESCE(u.user_type, $2) \
             WHERE t.token_hash = $1"
        );
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, GrantRow>(sql).bind(token_hash).bind(default_user_type).fetch_optional(pool).await?
        });
        Ok(row.map(GrantRow::into_domain))
    }

    /// Rotates a batch of refresh tokens in one transaction, answering for each
    /// job in order. A job is `Rotated` when its family is live at `now` and its
    /// token was unspent (the first job of a batch to present a token spends it),
    /// and then its new token and its access token's status entry are written;
    /// `FamilyEnded` when the family is revoked or past its end; `AlreadySpent`
    /// otherwise (reuse). Nothing of a job that did not rotate is written.
    pub async fn rotate_refresh_batch(
        &self,
        jobs: &[RotationJob],
        now: i64,
    ) -> Result<Vec<Rotation>, StoreError> {
        let mut families: Vec<&str> = jobs.iter().map(|j| j.family_id.as_str()).collect();
        families.sort_unstable();
        families.dedup();
        let outcomes = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let live: Vec<String> = {
                let sql = format!(
                    "UPDATE refresh_families SET last_used_at = $1 \
                     WHERE revoked_at IS NULL AND expires_at > $1 AND id IN ({}) RETURNING id",
                    placeholders(2, families.len())
                );
                let mut query = sqlx::query_scalar::<_, String>(&sql).bind(now);
                for family in &families {
                    query = query.bind(*family);
                }
                query.fetch_all(&mut *tx).await?
            };
            let candidates: Vec<&RotationJob> =
                jobs.iter().filter(|j| live.contains(&j.family_id)).collect();
            let spent: Vec<Vec<u8>> = if candidates.is_empty() {
                Vec::new()
            } else {
                let sql = format!(
                    "UPDATE refresh_tokens SET rotated_at = $1 \
                     WHERE rotated_at IS NULL AND token_hash IN ({}) RETURNING token_hash",
                    placeholders(2, candidates.len())
                );
                let mut query = sqlx::query_scalar::<_, Vec<u8>>(&sql).bind(now);
                for job in &candidates {
                    query = query.bind(job.old_hash.as_slice());
                }
                query.fetch_all(&mut *tx).await?
            };
            let mut claimed: Vec<&[u8]> = Vec::new();
            let outcomes: Vec<Rotation> = jobs
                .iter()
                .map(|job| {
                    if !live.contains(&job.family_id) {
                        Rotation::FamilyEnded
                    } else if spent.contains(&job.old_hash) && !claimed.contains(&job.old_hash.as_slice()) {
                        claimed.push(&job.old_hash);
                        Rotation::Rotated
                    } else {
                        Rotation::AlreadySpent
                    }
                })
                .collect();
            let rotated: Vec<&RotationJob> =
                jobs.iter().zip(&outcomes).filter(|(_, o)| **o == Rotation::Rotated).map(|(j, _)| j).collect();
            if !rotated.is_empty() {
                let rows = (0..rotated.len())
                    .map(|i| format!("(${}, ${}, $1, ${}, NULL)", 2 + 3 * i, 3 + 3 * i, 4 + 3 * i))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at, rotated_at) VALUES {rows}"
                );
                let mut query = sqlx::query(&sql).bind(now);
                for job in &rotated {
                    query = query.bind(job.new_hash.as_slice()).bind(&job.family_id).bind(job.new_expires_at);
                }
                query.execute(&mut *tx).await?;
                let rows = (0..rotated.len())
                    .map(|i| {
                        let p = 1 + 5 * i;
                        format!("(${}, ${}, ${}, ${}, ${})", p, p + 1, p + 2, p + 3, p + 4)
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO status_entries (jti, list_id, idx, family_id, expires_at) VALUES {rows} \
                     ON CONFLICT (jti) DO NOTHING"
                );
                let mut query = sqlx::query(&sql);
                for job in &rotated {
                    let a = &job.access;
                    query = query.bind(&a.jti).bind(a.list_id).bind(a.idx).bind(&job.family_id).bind(a.expires_at);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            outcomes
        });
        Ok(outcomes)
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

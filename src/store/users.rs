//! Users.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{domain_row, like_pattern, on_pool, BeginWrite, Store, StoreError};
use crate::domain::users::{User, UserUpdate};

/// Revokes the user's refresh families and deletes their browser sessions, inside
/// the caller's transaction `$tx` (of either backend); both statements name the
/// application.
macro_rules! end_logins {
    ($tx:expr, $app_id:expr, $user_id:expr, $now:expr) => {{
        sqlx::query(
            "UPDATE refresh_families SET revoked_at = $3 \
             WHERE app_id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind($app_id)
        .bind($user_id)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id IN (SELECT u.id FROM users u WHERE u.app_id = $1 AND u.id = $2)",
        )
        .bind($app_id)
        .bind($user_id)
        .execute(&mut *$tx)
        .await?;
        // Their access tokens are revoked in the status lists too.
        sqlx::query(BUMP).bind(bump_name(ChangeCounter::Status)).execute(&mut *$tx).await?;
    }};
}
domain_row!(UserRow => User {
    id: String,
    app_id: String,
    username: String,
    email: Option<String>,
    password_hash: String,
    department: Option<String>,
    user_type: Option<String>,
    is_admin: bool,
    enabled: bool,
    created_at: i64,
});

const COLUMNS: &str =
    "id, app_id, username, email, password_hash, department, user_type, is_admin, enabled, created_at";

impl Store {
    pub async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let result = on_pool!(self, pool => {
            sqlx::query(&format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
                .bind(&user.id)
                .bind(&user.app_id)
                .bind(&user.username)
                .bind(user.email.as_deref())
                .bind(&user.password_hash)
                .bind(user.department.as_deref())
                .bind(user.user_type.as_deref())
                .bind(user.is_admin)
                .bind(user.enabled)
                .bind(user.created_at)
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Err(StoreError::Conflict(_)) => Err(StoreError::Conflict(format!("user `{}`", user.username))),
            other => other,
        }
    }

    pub async fn find_user(&self, app_id: &str, username: &str) -> Result<Option<User>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE app_id = $1 AND username = $2"))
                .bind(app_id)
                .bind(username)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(User::from))
    }

    /// The user `id` of application `app_id`; another application's answers `None`.
    pub async fn get_user(&self, app_id: &str, id: &str) -> Result<Option<User>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE app_id = $1 AND id = $2"))
                .bind(app_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(User::from))
    }

    /// One page of an application's users, by username, and the total.
    pub async fn list_users(
        &self,
        app_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), StoreError> {
        self.search_users(app_id, None, limit, offset).await
    }

    /// One page of the application's users whose username holds `name` (all
    /// without it), by username, and the total.
    pub async fn search_users(
        &self,
        app_id: &str,
        name: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), StoreError> {
        let pattern = name.map(like_pattern);
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, UserRow>(&format!(
                "SELECT {COLUMNS} FROM users WHERE app_id = $1 AND ($4 IS NULL OR username LIKE $4) \
                 ORDER BY username LIMIT $2 OFFSET $3"
            ))
            .bind(app_id)
            .bind(limit)
            .bind(offset)
            .bind(pattern.as_deref())
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users WHERE app_id = $1 AND ($2 IS NULL OR username LIKE $2)",
            )
            .bind(app_id)
            .bind(pattern.as_deref())
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(User::from).collect(), total))
    }

    /// Changes the given columns of user `id` of `app_id`, and no others, so that
    /// two concurrent changes of different fields both hold. A new password, a
    /// different user type, or disabling ends every login of the user (refresh
    /// families revoked, browser sessions deleted) in the same transaction.
    /// `None` when the application has no such user.
    pub async fn update_user(
        &self,
        app_id: &str,
        id: &str,
        change: &UserUpdate<'_>,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let updated = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let before = sqlx::query_scalar::<_, Option<String>>(
                "SELECT user_type FROM users WHERE app_id = $1 AND id = $2",
            )
            .bind(app_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            match before {
                None => {
                    tx.rollback().await?;
                    None
                }
                Some(old_type) => {
                    let row = sqlx::query_as::<_, UserRow>(&format!(
                        "UPDATE users SET \
                         email = CASE WHEN $3 THEN $4 ELSE email END, \
                         password_hash = COALESCE($5, password_hash), \
                         department = CASE WHEN $6 THEN $7 ELSE department END, \
                         user_type = CASE WHEN $8 THEN $9 ELSE user_type END, \
                         is_admin = COALESCE($10, is_admin), \
                         enabled = COALESCE($11, enabled) \
                         WHERE app_id = $1 AND id = $2 RETURNING {COLUMNS}"
                    ))
                    .bind(app_id)
                    .bind(id)
                    .bind(change.email.is_some())
                    .bind(change.email.flatten())
                    .bind(change.password_hash)
                    .bind(change.department.is_some())
                    .bind(change.department.flatten())
                    .bind(change.user_type.is_some())
                    .bind(change.user_type.flatten())
                    .bind(change.is_admin)
                    .bind(change.enabled)
                    .fetch_one(&mut *tx)
                    .await?;
                    let ends_logins = change.password_hash.is_some()
                        || change.enabled == Some(false)
                        || change.user_type.is_some_and(|t| t != old_type.as_deref());
                    if ends_logins {
                        end_logins!(tx, app_id, id, now);
                    }
                    // The user's API and install tokens are worth what the user is.
                    sqlx::query(BUMP).bind(bump_name(ChangeCounter::Tokens)).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Some(row)
                }
            }
        });
        Ok(updated.map(User::from))
    }

    /// Deletes a user of `app_id` with everything that is theirs: sessions,
    /// consents, codes, refresh token families (so every login of theirs ends),
    /// API and install tokens.
    /// A user id of another application matches nothing and changes nothing.
    pub async fn delete_user(&self, app_id: &str, id: &str) -> Result<bool, StoreError> {
        const OWNED: &str = "(SELECT u.id FROM users u WHERE u.app_id = $1 AND u.id = $2)";
        let statements = [
            format!(
                "DELETE FROM refresh_tokens WHERE family_id IN \
                     (SELECT f.id FROM refresh_families f WHERE f.app_id = $1 AND f.user_id IN {OWNED})"
            ),
            format!("DELETE FROM refresh_families WHERE app_id = $1 AND user_id IN {OWNED}"),
            format!("DELETE FROM authorization_codes WHERE user_id IN {OWNED}"),
            format!("DELETE FROM consents WHERE user_id IN {OWNED}"),
            format!("DELETE FROM sessions WHERE user_id IN {OWNED}"),
            "DELETE FROM platform_tokens WHERE app_id = $1 AND user_id = $2".to_owned(),
            "DELETE FROM users WHERE app_id = $1 AND id = $2".to_owned(),
            // Their logins' access tokens are revoked in the status lists too
            // (the two binds every statement here gets, unused).
            "UPDATE change_counters SET version = version + 1 WHERE name = 'status' \
             AND CAST($1 AS TEXT) IS NOT NULL AND CAST($2 AS TEXT) IS NOT NULL"
                .to_owned(),
        ];
        self.delete_owned(
            app_id,
            id,
            "SELECT id FROM users WHERE app_id = $1 AND id = $2",
            &statements,
            Some(ChangeCounter::Tokens),
        )
        .await
    }

    /// Whether any application has a user allowed the `admin` scope (the
    /// console's administrators): the first start says how to make one.
    pub async fn any_admin(&self) -> Result<bool, StoreError> {
        let found = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE is_admin")
                .fetch_one(pool)
                .await?
        });
        Ok(found > 0)
    }
}

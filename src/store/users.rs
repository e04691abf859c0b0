//! Users.

use super::{on_pool, Store, StoreError};
use crate::domain::users::User;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    app_id: String,
    username: String,
    email: Option<String>,
    password_hash: String,
    department: Option<String>,
    user_type: Option<String>,
    is_admin: bool,
    created_at: i64,
}

const COLUMNS: &str =
    "id, app_id, username, email, password_hash, department, user_type, is_admin, created_at";

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            app_id: r.app_id,
            username: r.username,
            email: r.email,
            password_hash: r.password_hash,
            department: r.department,
            user_type: r.user_type,
            is_admin: r.is_admin,
            created_at: r.created_at,
        }
    }
}

impl Store {
    pub async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let result = on_pool!(self, pool => {
            sqlx::query(&format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                .bind(&user.id)
                .bind(&user.app_id)
                .bind(&user.username)
                .bind(user.email.as_deref())
                .bind(&user.password_hash)
                .bind(user.department.as_deref())
                .bind(user.user_type.as_deref())
                .bind(user.is_admin)
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

    pub async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
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
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, UserRow>(&format!(
                "SELECT {COLUMNS} FROM users WHERE app_id = $1 ORDER BY username LIMIT $2 OFFSET $3"
            ))
            .bind(app_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE app_id = $1")
                .bind(app_id)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(User::from).collect(), total))
    }

    /// Writes a user's changeable fields (not id, app, username, creation).
    pub async fn update_user(&self, user: &User) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE users SET email = $2, password_hash = $3, department = $4, user_type = $5, is_admin = $6 \
                 WHERE id = $1",
            )
            .bind(&user.id)
            .bind(user.email.as_deref())
            .bind(&user.password_hash)
            .bind(user.department.as_deref())
            .bind(user.user_type.as_deref())
            .bind(user.is_admin)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Deletes a user with everything that is theirs: sessions, consents, codes,
    /// refresh token families (so every login of theirs ends).
    pub async fn delete_user(&self, app_id: &str, id: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for statement in [
                "DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM refresh_families WHERE user_id = $1)",
                "DELETE FROM refresh_families WHERE user_id = $1",
                "DELETE FROM authorization_codes WHERE user_id = $1",
                "DELETE FROM consents WHERE user_id = $1",
                "DELETE FROM sessions WHERE user_id = $1",
            ] {
                sqlx::query(statement).bind(id).execute(&mut *tx).await?;
            }
            let deleted = sqlx::query("DELETE FROM users WHERE app_id = $1 AND id = $2")
                .bind(app_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        });
        Ok(deleted == 1)
    }
}

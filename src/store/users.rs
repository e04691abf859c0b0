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
}

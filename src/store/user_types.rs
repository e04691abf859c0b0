//! User types an application defines: name to scope.

use super::{on_pool, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UserTypeRecord {
    pub name: String,
    pub scope: String,
    pub updated_at: i64,
}

impl Store {
    pub async fn get_user_type(
        &self,
        app_id: &str,
        name: &str,
    ) -> Result<Option<UserTypeRecord>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, UserTypeRecord>(
                "SELECT name, scope, updated_at FROM user_types WHERE app_id = $1 AND name = $2",
            )
            .bind(app_id)
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    pub async fn list_user_types(&self, app_id: &str) -> Result<Vec<UserTypeRecord>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, UserTypeRecord>(
                "SELECT name, scope, updated_at FROM user_types WHERE app_id = $1 ORDER BY name",
            )
            .bind(app_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    pub async fn put_user_type(
        &self,
        app_id: &str,
        name: &str,
        scope: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO user_types (app_id, name, scope, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (app_id, name) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at",
            )
            .bind(app_id)
            .bind(name)
            .bind(scope)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn delete_user_type(&self, app_id: &str, name: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM user_types WHERE app_id = $1 AND name = $2")
                .bind(app_id)
                .bind(name)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted == 1)
    }
}

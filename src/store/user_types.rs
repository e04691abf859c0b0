//! User types an application defines: name to scope.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::users::DefinedUserType;

domain_row!(UserTypeRow => DefinedUserType {
    name: String,
    scope: String,
    updated_at: i64,
});

impl Store {
    pub async fn get_user_type(
        &self,
        app_id: &str,
        name: &str,
    ) -> Result<Option<DefinedUserType>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, UserTypeRow>(
                "SELECT name, scope, updated_at FROM user_types WHERE app_id = $1 AND name = $2",
            )
            .bind(app_id)
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Into::into))
    }

    pub async fn list_user_types(&self, app_id: &str) -> Result<Vec<DefinedUserType>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, UserTypeRow>(
                "SELECT name, scope, updated_at FROM user_types WHERE app_id = $1 ORDER BY name",
            )
            .bind(app_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn put_user_type(
        &self,
        app_id: &str,
        name: &str,
        scope: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO user_types (app_id, name, scope, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (app_id, name) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at",
            )
            .bind(app_id)
            .bind(name)
            .bind(scope)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Tokens)).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Removes the application's own definition of `name`. While users of the
    /// application have that type it is `Err(InUse)`, unless `fallback` says a
    /// configured type of the same name would apply to them instead.
    pub async fn delete_user_type(
        &self,
        app_id: &str,
        name: &str,
        fallback: bool,
    ) -> Result<bool, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let used = sqlx::query_scalar::<_, String>(
                "SELECT id FROM users WHERE app_id = $1 AND user_type = $2 LIMIT 1",
            )
            .bind(app_id)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
            if used.is_some() && !fallback {
                tx.rollback().await?;
                None
            } else {
                let deleted = sqlx::query("DELETE FROM user_types WHERE app_id = $1 AND name = $2")
                    .bind(app_id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query(BUMP).bind(bump_name(ChangeCounter::Tokens)).execute(&mut *tx).await?;
                tx.commit().await?;
                Some(deleted == 1)
            }
        });
        outcome.ok_or_else(|| StoreError::InUse(format!("user type `{name}` has users and is")))
    }
}

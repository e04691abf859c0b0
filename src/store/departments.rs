//! Departments of an application.

use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::users::Department;

domain_row!(DepartmentRow => Department {
    name: String,
    created_at: i64,
    users: i64,
});

impl Store {
    /// Adds a department; answers false when it already existed.
    pub async fn insert_department(&self, app_id: &str, name: &str, now: i64) -> Result<bool, StoreError> {
        let added = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO departments (app_id, name, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (app_id, name) DO NOTHING",
            )
            .bind(app_id)
            .bind(name)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(added == 1)
    }

    pub async fn department_exists(&self, app_id: &str, name: &str) -> Result<bool, StoreError> {
        let found = on_pool!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT name FROM departments WHERE app_id = $1 AND name = $2")
                .bind(app_id)
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        Ok(found.is_some())
    }

    pub async fn list_departments(&self, app_id: &str) -> Result<Vec<Department>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, DepartmentRow>(
                "SELECT d.name, d.created_at, \
                 (SELECT COUNT(*) FROM users u WHERE u.app_id = d.app_id AND u.department = d.name) AS users \
                 FROM departments d WHERE d.app_id = $1 ORDER BY d.name",
            )
            .bind(app_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Removes an empty department; `Err(Conflict)` while users belong to it.
    pub async fn delete_department(&self, app_id: &str, name: &str) -> Result<bool, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let members = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users WHERE app_id = $1 AND department = $2",
            )
            .bind(app_id)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            if members > 0 {
                tx.rollback().await?;
                None
            } else {
                let deleted = sqlx::query("DELETE FROM departments WHERE app_id = $1 AND name = $2")
                    .bind(app_id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Some(deleted == 1)
            }
        });
        outcome.ok_or_else(|| StoreError::InUse(format!("department `{name}` has users and is")))
    }
}

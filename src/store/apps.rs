//! Applications.

use super::{on_pool, Store, StoreError};
use crate::domain::apps::Application;

#[derive(sqlx::FromRow)]
struct AppRow {
    id: String,
    name: String,
    created_at: i64,
}

impl From<AppRow> for Application {
    fn from(row: AppRow) -> Self {
        Application { id: row.id, name: row.name, created_at: row.created_at }
    }
}

impl Store {
    pub async fn insert_app(&self, app: &Application) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO applications (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(&app.id)
                .bind(&app.name)
                .bind(app.created_at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn get_app(&self, id: &str) -> Result<Option<Application>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, AppRow>("SELECT id, name, created_at FROM applications WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Application::from))
    }

    pub async fn list_apps(&self) -> Result<Vec<Application>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, AppRow>("SELECT id, name, created_at FROM applications ORDER BY created_at, id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(Application::from).collect())
    }
}

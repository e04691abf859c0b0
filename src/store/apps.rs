//! Applications.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{domain_row, on_pool, BeginWrite, Store, StoreError};
use crate::domain::apps::{Application, Logo};

domain_row!(AppRow => Application {
    id: String,
    name: String,
    created_at: i64,
    forward_auth: bool,
    display_name: Option<String>,
    accent_colour: Option<String>,
    logo: Option<String>,
});

const COLUMNS: &str = "id, name, created_at, forward_auth, display_name, accent_colour, \
     (SELECT l.digest FROM application_logos l WHERE l.app_id = applications.id) AS logo";

#[derive(sqlx::FromRow)]
struct LogoRow {
    content_type: String,
    image: Vec<u8>,
    digest: String,
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

    /// Creates an application together with its master token, in one transaction.
    pub async fn insert_app_with_master(
        &self,
        app: &Application,
        master: &crate::domain::platform_tokens::PlatformToken,
        master_hash: &[u8],
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO applications (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(&app.id)
                .bind(&app.name)
                .bind(app.created_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO platform_tokens (token_hash, id, kind, app_id, name, enabled, created_at, expires_at, \
                 last_used_at) VALUES ($1, $2, 'master', $3, $4, TRUE, $5, NULL, NULL)",
            )
            .bind(master_hash)
            .bind(&master.id)
            .bind(&app.id)
            .bind(&master.name)
            .bind(master.created_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn get_app(&self, id: &str) -> Result<Option<Application>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, AppRow>(&format!("SELECT {COLUMNS} FROM applications WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Application::from))
    }

    pub async fn list_apps(&self) -> Result<Vec<Application>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, AppRow>(&format!("SELECT {COLUMNS} FROM applications ORDER BY created_at, id"))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(Application::from).collect())
    }

    /// Applications that have no master token (the seeded `default` one, at first).
    pub async fn apps_without_master(&self) -> Result<Vec<String>, StoreError> {
        let ids = on_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT a.id FROM applications a WHERE NOT EXISTS \
                 (SELECT 1 FROM platform_tokens t WHERE t.app_id = a.id AND t.kind = 'master') ORDER BY a.id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(ids)
    }

    /// Turns forward auth (`/v1/auth/check`) on or off; answers whether the
    /// application exists.
    pub async fn set_forward_auth(&self, id: &str, enabled: bool) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query("UPDATE applications SET forward_auth = $2 WHERE id = $1")
                .bind(id)
                .bind(enabled)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Tokens)).execute(&mut *tx).await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// Sets an application's display name and accent colour; answers whether it exists.
    pub async fn set_branding(
        &self,
        id: &str,
        display_name: Option<&str>,
        accent_colour: Option<&str>,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            sqlx::query("UPDATE applications SET display_name = $2, accent_colour = $3 WHERE id = $1")
                .bind(id)
                .bind(display_name)
                .bind(accent_colour)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Stores (or replaces) application `app_id`'s logo.
    pub async fn put_logo(&self, app_id: &str, logo: &Logo, now: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO application_logos (app_id, content_type, image, digest, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (app_id) DO UPDATE SET \
                 content_type = excluded.content_type, image = excluded.image, digest = excluded.digest, \
                 updated_at = excluded.updated_at",
            )
            .bind(app_id)
            .bind(&logo.content_type)
            .bind(&logo.image)
            .bind(&logo.digest)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Application `app_id`'s logo, if it has one.
    pub async fn get_logo(&self, app_id: &str) -> Result<Option<Logo>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, LogoRow>(
                "SELECT content_type, image, digest FROM application_logos WHERE app_id = $1",
            )
            .bind(app_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| Logo { content_type: r.content_type, image: r.image, digest: r.digest }))
    }

    /// Removes application `app_id`'s logo; answers whether it had one.
    pub async fn delete_logo(&self, app_id: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM application_logos WHERE app_id = $1")
                .bind(app_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted == 1)
    }
}

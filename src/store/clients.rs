//! OAuth clients. Every change bumps the `clients` change counter in the same
//! transaction, so caches elsewhere notice it.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{corrupt, like_pattern, on_pool, BeginWrite, Store, StoreError};
use crate::domain::clients::{Client, ClientType, GrantType};

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    app_id: String,
    name: String,
    client_type: String,
    secret_hash: Option<Vec<u8>>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grants: String,
    scope: String,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str =
    "id, app_id, name, client_type, secret_hash, redirect_uris, post_logout_redirect_uris, \
     grants, scope, created_at, updated_at";

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        let client_type: ClientType = row.client_type.parse().map_err(|e| corrupt("clients", e))?;
        let grants = row
            .grants
            .split(' ')
            .filter(|g| !g.is_empty())
            .map(|g| g.parse::<GrantType>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt("clients", e))?;
        let redirect_uris: Vec<String> =
            serde_json::from_str(&row.redirect_uris).map_err(|e| corrupt("clients", e))?;
        let post_logout_redirect_uris: Vec<String> =
            serde_json::from_str(&row.post_logout_redirect_uris).map_err(|e| corrupt("clients", e))?;
        Ok(Client {
            id: row.id,
            app_id: row.app_id,
            name: row.name,
            client_type,
            secret_hash: row.secret_hash,
            redirect_uris,
            post_logout_redirect_uris,
            grants,
            scope: row.scope,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Store {
    pub async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        let grants = client.grants.iter().map(|g| g.name()).collect::<Vec<_>>().join(" ");
        let redirect_uris =
            serde_json::to_string(&client.redirect_uris).map_err(|e| StoreError::Database(e.to_string()))?;
        let post_logout_redirect_uris = serde_json::to_string(&client.post_logout_redirect_uris)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&format!(
                "INSERT INTO clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ))
                .bind(&client.id)
                .bind(&client.app_id)
                .bind(&client.name)
                .bind(client.client_type.name())
                .bind(client.secret_hash.as_deref())
                .bind(&redirect_uris)
                .bind(&post_logout_redirect_uris)
                .bind(&grants)
                .bind(&client.scope)
                .bind(client.created_at)
                .bind(client.updated_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Clients)).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The client `id` of application `app_id`; another application's answers `None`.
    pub async fn get_app_client(&self, app_id: &str, id: &str) -> Result<Option<Client>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, ClientRow>(&format!("SELECT {COLUMNS} FROM clients WHERE app_id = $1 AND id = $2"))
                .bind(app_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Client::try_from).transpose()
    }

    /// The client a protocol request names by its public `client_id`, in whatever
    /// application: the OAuth endpoints learn the application from the client.
    pub async fn find_client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, ClientRow>(&format!("SELECT {COLUMNS} FROM clients WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Client::try_from).transpose()
    }

    pub async fn list_clients(&self, app_id: &str) -> Result<Vec<Client>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, ClientRow>(&format!(
                "SELECT {COLUMNS} FROM clients WHERE app_id = $1 ORDER BY created_at, id"
            ))
            .bind(app_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Client::try_from).collect()
    }

    /// One page of an application's clients, oldest first, and the total.
    pub async fn list_clients_page(
        &self,
        app_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Client>, i64), StoreError> {
        self.search_clients(app_id, None, limit, offset).await
    }

    /// One page of the application's clients whose name holds `name` (all
    /// without it), oldest first, and the total.
    pub async fn search_clients(
        &self,
        app_id: &str,
        name: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Client>, i64), StoreError> {
        let pattern = name.map(like_pattern);
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, ClientRow>(&format!(
                "SELECT {COLUMNS} FROM clients WHERE app_id = $1 AND ($4 IS NULL OR name LIKE $4) \
                 ORDER BY created_at, id LIMIT $2 OFFSET $3"
            ))
            .bind(app_id)
            .bind(limit)
            .bind(offset)
            .bind(pattern.as_deref())
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM clients WHERE app_id = $1 AND ($2 IS NULL OR name LIKE $2)",
            )
            .bind(app_id)
            .bind(pattern.as_deref())
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(Client::try_from).collect::<Result<_, _>>()?, total))
    }

    /// Deletes a client of `app_id` with its codes, consents and refresh families,
    /// and bumps the change counter so that every instance drops it from its cache.
    /// Every statement names the application: a client id of another application
    /// matches nothing, and the transaction is rolled back untouched.
    pub async fn delete_client(&self, app_id: &str, id: &str) -> Result<bool, StoreError> {
        const OWNED: &str = "(SELECT c.id FROM clients c WHERE c.app_id = $1 AND c.id = $2)";
        let statements = [
            format!(
                "DELETE FROM refresh_tokens WHERE family_id IN \
                     (SELECT f.id FROM refresh_families f WHERE f.app_id = $1 AND f.client_id IN {OWNED})"
            ),
            format!("DELETE FROM refresh_families WHERE app_id = $1 AND client_id IN {OWNED}"),
            format!("DELETE FROM authorization_codes WHERE client_id IN {OWNED}"),
            format!("DELETE FROM consents WHERE client_id IN {OWNED}"),
            "DELETE FROM clients WHERE app_id = $1 AND id = $2".to_owned(),
        ];
        self.delete_owned(
            app_id,
            id,
            "SELECT id FROM clients WHERE app_id = $1 AND id = $2",
            &statements,
            Some(ChangeCounter::Clients),
        )
        .await
    }

    /// Replaces a client's redirect URIs, logout redirect URIs and scope; answers
    /// whether it exists.
    pub async fn update_client(
        &self,
        app_id: &str,
        id: &str,
        redirect_uris: &[String],
        post_logout_redirect_uris: &[String],
        scope: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let json =
            |uris: &[String]| serde_json::to_string(uris).map_err(|e| StoreError::Database(e.to_string()));
        let (redirect_uris, post_logout_redirect_uris) =
            (json(redirect_uris)?, json(post_logout_redirect_uris)?);
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE clients SET redirect_uris = $3, post_logout_redirect_uris = $4, scope = $5, updated_at = $6 \
                 WHERE app_id = $1 AND id = $2",
            )
            .bind(app_id)
            .bind(id)
            .bind(&redirect_uris)
            .bind(&post_logout_redirect_uris)
            .bind(scope)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Clients)).execute(&mut *tx).await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// Gives a confidential client a new secret hash; the old secret stops at
    /// once. Answers whether such a client exists.
    pub async fn set_client_secret(
        &self,
        app_id: &str,
        id: &str,
        secret_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE clients SET secret_hash = $3, updated_at = $4 \
                 WHERE app_id = $1 AND id = $2 AND secret_hash IS NOT NULL",
            )
            .bind(app_id)
            .bind(id)
            .bind(secret_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Clients)).execute(&mut *tx).await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }
}

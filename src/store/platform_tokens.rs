//! Opaque platform tokens of every kind the registry (`domain::platform_tokens`)
//! names, found by SHA-256. Every change bumps the `tokens` change counter in the
//! same transaction, so that every instance drops its token cache.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::{corrupt, like_pattern, on_pool, BeginWrite, Store, StoreError};
use crate::domain::endpoints::Method;
use crate::domain::platform_tokens::{PlatformToken, TokenKind, Verifier};

#[derive(sqlx::FromRow)]
pub(super) struct PlatformTokenRow {
    id: String,
    kind: String,
    app_id: String,
    name: String,
    enabled: bool,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    user_id: Option<String>,
    department: Option<String>,
    user_type: Option<String>,
    install_id: Option<String>,
    description: Option<String>,
    endpoint_id: Option<String>,
    method: Option<String>,
}

impl TryFrom<PlatformTokenRow> for PlatformToken {
    type Error = StoreError;

    fn try_from(r: PlatformTokenRow) -> Result<Self, StoreError> {
        let kind = TokenKind::from_name(&r.kind)
            .ok_or_else(|| corrupt("platform_tokens", format!("unknown kind `{}`", r.kind)))?;
        let method = r
            .method
            .map(|m| {
                Method::parse(&m).ok_or_else(|| corrupt("platform_tokens", format!("unknown method `{m}`")))
            })
            .transpose()?;
        Ok(PlatformToken {
            id: r.id,
            kind,
            app_id: r.app_id,
            name: r.name,
            enabled: r.enabled,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            user_id: r.user_id,
            department: r.department,
            user_type: r.user_type,
            install_id: r.install_id,
            description: r.description,
            endpoint_id: r.endpoint_id,
            method,
        })
    }
}

pub(super) fn convert(rows: Vec<PlatformTokenRow>) -> Result<Vec<PlatformToken>, StoreError> {
    rows.into_iter().map(PlatformToken::try_from).collect()
}

pub(super) const COLUMNS: &str = "id, kind, app_id, name, enabled, created_at, expires_at, last_used_at, \
                       user_id, department, user_type, install_id, description, endpoint_id, method";

/// The counter a change to a token of `kind` bumps: endpoint tokens are read by
/// the endpoint check's index, every other kind by the token cache.
pub(super) fn counter_for(kind: TokenKind) -> ChangeCounter {
    match kind.policy().verifier {
        Verifier::Anywhere => ChangeCounter::Tokens,
        Verifier::EndpointCheck => ChangeCounter::Endpoints,
    }
}

/// Which of an application's tokens of one kind a list shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenFilter<'a> {
    pub user_id: Option<&'a str>,
    /// Only the enabled (`Some(true)`) or the disabled ones.
    pub enabled: Option<bool>,
    /// Only those whose name holds this text.
    pub name_contains: Option<&'a str>,
    /// Most recently used (or made) first, instead of oldest first.
    pub recent_first: bool,
}

/// What a token update changes; `None` leaves a field as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenChanges<'a> {
    pub name: Option<&'a str>,
    pub enabled: Option<bool>,
    pub description: Option<&'a str>,
}

/// Inserts `token` (a `PlatformToken`) with its hash and ciphertext, on `exec`.
macro_rules! insert_token {
    ($exec:expr, $token:expr, $hash:expr, $ciphertext:expr) => {{
        let token: &PlatformToken = $token;
        sqlx::query(&format!(
            "INSERT INTO platform_tokens (token_hash, secret_ciphertext, {COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind($hash)
        .bind($ciphertext)
        .bind(&token.id)
        .bind(token.kind.name())
        .bind(&token.app_id)
        .bind(&token.name)
        .bind(token.enabled)
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.last_used_at)
        .bind(token.user_id.as_deref())
        .bind(token.department.as_deref())
        .bind(token.user_type.as_deref())
        .bind(token.install_id.as_deref())
        .bind(token.description.as_deref())
        .bind(token.endpoint_id.as_deref())
        .bind(token.method.map(|m| m.as_str()))
        .execute($exec)
        .await?
    }};
}
pub(super) use insert_token;

impl Store {
    /// Stores a new token (with the ciphertext of its value for kinds an
    /// administrator may reveal).
    pub async fn insert_platform_token(
        &self,
        token: &PlatformToken,
        token_hash: &[u8],
        ciphertext: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            insert_token!(&mut *tx, token, token_hash, ciphertext);
            sqlx::query(BUMP).bind(bump_name(counter_for(token.kind))).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Gives the application's token `id` of `kind` a new value (hash and
    /// ciphertext); the old one stops at once. Answers whether it exists.
    pub async fn replace_platform_token_value(
        &self,
        app_id: &str,
        kind: TokenKind,
        id: &str,
        token_hash: &[u8],
        ciphertext: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE platform_tokens SET token_hash = $4, secret_ciphertext = $5, last_used_at = NULL \
                 WHERE app_id = $1 AND kind = $2 AND id = $3",
            )
            .bind(app_id)
            .bind(kind.name())
            .bind(id)
            .bind(token_hash)
            .bind(ciphertext)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(BUMP).bind(bump_name(counter_for(kind))).execute(&mut *tx).await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// The token whose value hashes to `token_hash`, of any kind.
    pub async fn find_platform_token(&self, token_hash: &[u8]) -> Result<Option<PlatformToken>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, PlatformTokenRow>(&format!(
                "SELECT {COLUMNS} FROM platform_tokens WHERE token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(PlatformToken::try_from).transpose()
    }

    /// The SHA-256 the application's master token has now.
    pub async fn master_token_hash(&self, app_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let hash = on_pool!(self, pool => {
            sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT token_hash FROM platform_tokens WHERE app_id = $1 AND kind = 'master'",
            )
            .bind(app_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(hash)
    }

    /// Gives the application's master token a new value if it still hashes to
    /// `expected` (compare and swap); the old one stops at once. Of concurrent
    /// rotations from the same token, exactly one succeeds.
    pub async fn rotate_master_token(
        &self,
        app_id: &str,
        expected: &[u8],
        token_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE platform_tokens SET token_hash = $3, created_at = $4, last_used_at = NULL \
                 WHERE app_id = $1 AND kind = 'master' AND token_hash = $2",
            )
            .bind(app_id)
            .bind(expected)
            .bind(token_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Tokens)).execute(&mut *tx).await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// One page of an application's tokens of `kind`, oldest first, and the total.
    pub async fn list_platform_tokens(
        &self,
        app_id: &str,
        kind: TokenKind,
        filter: TokenFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<PlatformToken>, i64), StoreError> {
        let order = if filter.recent_first {
            "COALESCE(last_used_at, created_at) DESC, id"
        } else {
            "created_at, id"
        };
        let name = filter.name_contains.map(like_pattern);
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, PlatformTokenRow>(&format!(
                "SELECT {COLUMNS} FROM platform_tokens WHERE app_id = $1 AND kind = $2 \
                 AND ($3 IS NULL OR user_id = $3) AND ($6 IS NULL OR enabled = $6) \
                 AND ($7 IS NULL OR name LIKE $7) ORDER BY {order} LIMIT $4 OFFSET $5"
            ))
            .bind(app_id)
            .bind(kind.name())
            .bind(filter.user_id)
            .bind(limit)
            .bind(offset)
            .bind(filter.enabled)
            .bind(name.as_deref())
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM platform_tokens WHERE app_id = $1 AND kind = $2 \
                 AND ($3 IS NULL OR user_id = $3) AND ($4 IS NULL OR enabled = $4) \
                 AND ($5 IS NULL OR name LIKE $5)",
            )
            .bind(app_id)
            .bind(kind.name())
            .bind(filter.user_id)
            .bind(filter.enabled)
            .bind(name.as_deref())
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        Ok((convert(rows)?, total))
    }

    pub async fn get_platform_token(
        &self,
        app_id: &str,
        kind: TokenKind,
        id: &str,
    ) -> Result<Option<PlatformToken>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, PlatformTokenRow>(&format!(
                "SELECT {COLUMNS} FROM platform_tokens WHERE app_id = $1 AND kind = $2 AND id = $3"
            ))
            .bind(app_id)
            .bind(kind.name())
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(PlatformToken::try_from).transpose()
    }

    /// The stored ciphertext of a token's value (kinds an administrator may reveal).
    pub async fn platform_token_ciphertext(
        &self,
        app_id: &str,
        kind: TokenKind,
        id: &str,
    ) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_scalar::<_, Option<Vec<u8>>>(
                "SELECT secret_ciphertext FROM platform_tokens WHERE app_id = $1 AND kind = $2 AND id = $3",
            )
            .bind(app_id)
            .bind(kind.name())
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Changes what `changes` names of a token; answers whether it exists.
    pub async fn update_platform_token(
        &self,
        app_id: &str,
        kind: TokenKind,
        id: &str,
        changes: TokenChanges<'_>,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE platform_tokens SET name = COALESCE($4, name), enabled = COALESCE($5, enabled), \
                 description = COALESCE($6, description) WHERE app_id = $1 AND kind = $2 AND id = $3",
            )
            .bind(app_id)
            .bind(kind.name())
            .bind(id)
            .bind(changes.name)
            .bind(changes.enabled)
            .bind(changes.description)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(BUMP).bind(bump_name(counter_for(kind))).execute(&mut *tx).await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// Deletes the application's tokens of `kind` among `ids`; ids of another
    /// application or kind are skipped. Answers how many were deleted.
    pub async fn delete_platform_tokens(
        &self,
        app_id: &str,
        kind: TokenKind,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut deleted = 0;
            for id in ids {
                deleted += sqlx::query("DELETE FROM platform_tokens WHERE app_id = $1 AND kind = $2 AND id = $3")
                    .bind(app_id)
                    .bind(kind.name())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                // A secondary endpoint token leaves its mappings with it.
                sqlx::query("DELETE FROM endpoint_assignments WHERE app_id = $1 AND token_id = $2")
                    .bind(app_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(BUMP).bind(bump_name(counter_for(kind))).execute(&mut *tx).await?;
            tx.commit().await?;
            deleted
        });
        Ok(deleted)
    }

    /// Moves `last_used_at` forward (never back) for each (id, time). Not a change
    /// that bumps a counter: what a token is worth does not depend on it.
    pub async fn record_token_use(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (id, at) in uses {
                sqlx::query(
                    "UPDATE platform_tokens SET last_used_at = $2 \
                     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
                )
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

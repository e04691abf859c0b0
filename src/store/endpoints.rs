//! Endpoints, their mappings to secondary tokens, and the calls the endpoint
//! check recorded. Endpoint tokens themselves live in `platform_tokens` (a
//! primary names its endpoint and method there). Every change bumps the
//! `endpoints` change counter in its transaction; recording calls does not.

use super::changes::{bump_name, ChangeCounter, BUMP};
use super::platform_tokens::{convert, insert_token, PlatformTokenRow, COLUMNS};
use super::{corrupt, domain_row, like_pattern, on_pool, BeginWrite, Store, StoreError};
use crate::domain::endpoints::{
    Assignment, CallCount, CallToken, Endpoint, EndpointCall, IndexRows, Method, Methods, Reason,
    RecordedCalls, TokenAssignment,
};
use crate::domain::platform_tokens::{PlatformToken, Prepared, TokenKind};

domain_row!(EndpointRow => Endpoint {
    id: String,
    app_id: String,
    name: String,
    path: String,
    allow_delete: bool,
    created_at: i64,
});

const ENDPOINT_COLUMNS: &str = "id, app_id, name, path, allow_delete, created_at";

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    app_id: String,
    endpoint_id: String,
    token_id: String,
    methods: String,
    enabled: bool,
    created_at: i64,
}

impl TryFrom<AssignmentRow> for Assignment {
    type Error = StoreError;

    fn try_from(r: AssignmentRow) -> Result<Self, StoreError> {
        let methods = Methods::from_text(&r.methods)
            .ok_or_else(|| corrupt("endpoint_assignments", format!("methods `{}`", r.methods)))?;
        Ok(Assignment {
            app_id: r.app_id,
            endpoint_id: r.endpoint_id,
            token_id: r.token_id,
            methods,
            enabled: r.enabled,
            created_at: r.created_at,
        })
    }
}

const ASSIGNMENT_COLUMNS: &str = "app_id, endpoint_id, token_id, methods, enabled, created_at";

/// A secondary token beside its mapping to one endpoint (the mapping's columns
/// are NULL when it has none).
#[derive(sqlx::FromRow)]
struct TokenAssignmentRow {
    #[sqlx(flatten)]
    token: PlatformTokenRow,
    a_methods: Option<String>,
    a_enabled: Option<bool>,
    a_created_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct IndexTokenRow {
    #[sqlx(flatten)]
    token: PlatformTokenRow,
    token_hash: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    app_id: String,
    endpoint_id: String,
    at: i64,
    method: String,
    allowed: bool,
    reason: Option<String>,
    token_id: Option<String>,
    token_kind: Option<String>,
    token_name: Option<String>,
    calls: i64,
}

impl TryFrom<CallRow> for RecordedCalls {
    type Error = StoreError;

    fn try_from(r: CallRow) -> Result<Self, StoreError> {
        let bad = |what: String| corrupt("endpoint_calls", what);
        let method = Method::parse(&r.method).ok_or_else(|| bad(format!("method `{}`", r.method)))?;
        let reason =
            r.reason.map(|t| Reason::parse(&t).ok_or_else(|| bad(format!("reason `{t}`")))).transpose()?;
        let token = match (r.token_id, r.token_kind) {
            (Some(id), Some(kind)) => Some(CallToken {
                id: id.into(),
                kind: TokenKind::from_name(&kind).ok_or_else(|| bad(format!("token kind `{kind}`")))?,
                name: r.token_name.unwrap_or_default().into(),
            }),
            _ => None,
        };
        let call = EndpointCall {
            app_id: r.app_id.into(),
            endpoint_id: r.endpoint_id.into(),
            at: r.at,
            method,
            allowed: r.allowed,
            reason,
            token,
        };
        Ok(RecordedCalls { call, calls: r.calls })
    }
}

domain_row!(CallCountRow => CallCount {
    token_id: Option<String>,
    token_name: Option<String>,
    day: i64,
    calls: i64,
    allowed: i64,
});

/// Which of an endpoint's recorded calls to read: one token's, within [from, to).
#[derive(Clone, Copy, Debug, Default)]
pub struct CallFilter<'a> {
    pub token_id: Option<&'a str>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

const CALL_FILTER: &str = "app_id = $1 AND endpoint_id = $2 AND ($3 IS NULL OR token_id = $3) \
                           AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5)";

/// What an endpoint update changes; `None` leaves a field as it is.
#[derive(Clone, Copy, Default)]
pub struct EndpointChanges<'a> {
    pub name: Option<&'a str>,
    pub path: Option<&'a str>,
    pub allow_delete: Option<bool>,
    /// The DELETE primary to store when `allow_delete` turns on and it has none.
    pub delete_primary: Option<&'a Prepared>,
}

impl Store {
    /// Stores an endpoint and its primary tokens, in one transaction.
    pub async fn insert_endpoint(
        &self,
        endpoint: &Endpoint,
        primaries: &[Prepared],
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&format!("INSERT INTO endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(&endpoint.id)
                .bind(&endpoint.app_id)
                .bind(&endpoint.name)
                .bind(&endpoint.path)
                .bind(endpoint.allow_delete)
                .bind(endpoint.created_at)
                .execute(&mut *tx)
                .await?;
            for p in primaries {
                insert_token!(&mut *tx, &p.record, &p.value.hash[..], p.value.ciphertext.as_deref());
            }
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Endpoints)).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn get_endpoint(&self, app_id: &str, id: &str) -> Result<Option<Endpoint>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, EndpointRow>(&format!(
                "SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE app_id = $1 AND id = $2"
            ))
            .bind(app_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Endpoint::from))
    }

    /// One page of the application's endpoints, oldest first, and the total.
    pub async fn list_endpoints(
        &self,
        app_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Endpoint>, i64), StoreError> {
        self.search_endpoints(app_id, None, limit, offset).await
    }

    /// One page of the application's endpoints whose name or path holds `text`
    /// (all without it), oldest first, and the total.
    pub async fn search_endpoints(
        &self,
        app_id: &str,
        text: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Endpoint>, i64), StoreError> {
        let pattern = text.map(like_pattern);
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, EndpointRow>(&format!(
                "SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE app_id = $1 \
                 AND ($4 IS NULL OR name LIKE $4 OR path LIKE $4) ORDER BY created_at, id LIMIT $2 OFFSET $3"
            ))
            .bind(app_id)
            .bind(limit)
            .bind(offset)
            .bind(pattern.as_deref())
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM endpoints WHERE app_id = $1 AND ($2 IS NULL OR name LIKE $2 OR path LIKE $2)",
            )
            .bind(app_id)
            .bind(pattern.as_deref())
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(Endpoint::from).collect(), total))
    }

    /// Changes an endpoint; turning `allow_delete` off removes its DELETE primary,
    /// on stores `delete_primary` unless it has one. Answers the endpoint as it is
    /// now and whether a DELETE primary was stored, or `None` when the
    /// application has no such endpoint.
    pub async fn update_endpoint(
        &self,
        app_id: &str,
        id: &str,
        changes: EndpointChanges<'_>,
    ) -> Result<Option<(Endpoint, bool)>, StoreError> {
        let answer = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query_as::<_, EndpointRow>(&format!(
                "UPDATE endpoints SET name = COALESCE($3, name), path = COALESCE($4, path), \
                 allow_delete = COALESCE($5, allow_delete) WHERE app_id = $1 AND id = $2 \
                 RETURNING {ENDPOINT_COLUMNS}"
            ))
            .bind(app_id)
            .bind(id)
            .bind(changes.name)
            .bind(changes.path)
            .bind(changes.allow_delete)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                None => {
                    tx.rollback().await?;
                    None
                }
                Some(row) => {
                    let mut made = false;
                    match changes.allow_delete {
                        Some(false) => {
                            sqlx::query(
                                "DELETE FROM platform_tokens WHERE app_id = $1 AND endpoint_id = $2 \
                                 AND kind = 'endpoint_primary' AND method = 'DELETE'",
                            )
                            .bind(app_id)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        Some(true) => {
                            let has = sqlx::query_scalar::<_, String>(
                                "SELECT id FROM platform_tokens WHERE app_id = $1 AND endpoint_id = $2 \
                                 AND kind = 'endpoint_primary' AND method = 'DELETE'",
                            )
                            .bind(app_id)
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                            if let (None, Some(p)) = (has, changes.delete_primary) {
                                insert_token!(&mut *tx, &p.record, &p.value.hash[..], p.value.ciphertext.as_deref());
                                made = true;
                            }
                        }
                        None => {}
                    }
                    sqlx::query(BUMP).bind(bump_name(ChangeCounter::Endpoints)).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Some((Endpoint::from(row), made))
                }
            }
        });
        Ok(answer)
    }

    /// Deletes an endpoint with its primaries, mappings and recorded calls.
    pub async fn delete_endpoint(&self, app_id: &str, id: &str) -> Result<bool, StoreError> {
        let statements = [
            "DELETE FROM endpoint_assignments WHERE app_id = $1 AND endpoint_id = $2".to_owned(),
            "DELETE FROM platform_tokens WHERE app_id = $1 AND endpoint_id = $2 AND kind = 'endpoint_primary'"
                .to_owned(),
            "DELETE FROM endpoint_calls WHERE app_id = $1 AND endpoint_id = $2".to_owned(),
            "DELETE FROM endpoints WHERE app_id = $1 AND id = $2".to_owned(),
        ];
        self.delete_owned(
            app_id,
            id,
            "SELECT id FROM endpoints WHERE app_id = $1 AND id = $2",
            &statements,
            Some(ChangeCounter::Endpoints),
        )
        .await
    }

    /// The endpoint's primary tokens, in method order.
    pub async fn primary_tokens(
        &self,
        app_id: &str,
        endpoint_id: &str,
    ) -> Result<Vec<PlatformToken>, StoreError> {
        self.primary_tokens_of(app_id, &[endpoint_id]).await
    }

    /// The primary tokens of the application's endpoints among `endpoint_ids`, in
    /// one statement, by endpoint and method.
    pub async fn primary_tokens_of(
        &self,
        app_id: &str,
        endpoint_ids: &[&str],
    ) -> Result<Vec<PlatformToken>, StoreError> {
        if endpoint_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = on_pool!(self, pool => {
            let mut query =
                sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM platform_tokens WHERE app_id = "));
            query.push_bind(app_id).push(" AND kind = 'endpoint_primary' AND endpoint_id IN (");
            let mut ids = query.separated(", ");
            for id in endpoint_ids {
                ids.push_bind(*id);
            }
            query.push(")");
            query.build_query_as::<PlatformTokenRow>().fetch_all(pool).await?
        });
        let mut tokens = convert(rows)?;
        tokens.sort_by(|a, b| (&a.endpoint_id, a.method).cmp(&(&b.endpoint_id, b.method)));
        Ok(tokens)
    }

    pub async fn primary_token(
        &self,
        app_id: &str,
        endpoint_id: &str,
        method: Method,
    ) -> Result<Option<PlatformToken>, StoreError> {
        Ok(self.primary_tokens(app_id, endpoint_id).await?.into_iter().find(|t| t.method == Some(method)))
    }

    /// Maps a secondary token to an endpoint (replacing its earlier mapping), if
    /// both belong to the application; answers whether they do.
    pub async fn put_assignment(&self, a: &Assignment) -> Result<bool, StoreError> {
        let stored = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let endpoint = sqlx::query_scalar::<_, String>("SELECT id FROM endpoints WHERE app_id = $1 AND id = $2")
                .bind(&a.app_id)
                .bind(&a.endpoint_id)
                .fetch_optional(&mut *tx)
                .await?;
            let token = sqlx::query_scalar::<_, String>(
                "SELECT id FROM platform_tokens WHERE app_id = $1 AND id = $2 AND kind = 'endpoint_secondary'",
            )
            .bind(&a.app_id)
            .bind(&a.token_id)
            .fetch_optional(&mut *tx)
            .await?;
            if endpoint.is_none() || token.is_none() {
                tx.rollback().await?;
                false
            } else {
                sqlx::query(&format!(
                    "INSERT INTO endpoint_assignments ({ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (endpoint_id, token_id) DO UPDATE SET methods = excluded.methods, \
                     enabled = excluded.enabled"
                ))
                .bind(&a.app_id)
                .bind(&a.endpoint_id)
                .bind(&a.token_id)
                .bind(a.methods.to_text())
                .bind(a.enabled)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(BUMP).bind(bump_name(ChangeCounter::Endpoints)).execute(&mut *tx).await?;
                tx.commit().await?;
                true
            }
        });
        Ok(stored)
    }

    pub async fn get_assignment(
        &self,
        app_id: &str,
        endpoint_id: &str,
        token_id: &str,
    ) -> Result<Option<Assignment>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, AssignmentRow>(&format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM endpoint_assignments \
                 WHERE app_id = $1 AND endpoint_id = $2 AND token_id = $3"
            ))
            .bind(app_id)
            .bind(endpoint_id)
            .bind(token_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(Assignment::try_from).transpose()
    }

    /// Switches a mapping on or off; answers whether it exists.
    pub async fn set_assignment_enabled(
        &self,
        app_id: &str,
        endpoint_id: &str,
        token_id: &str,
        enabled: bool,
    ) -> Result<bool, StoreError> {
        self.change_assignment(
            "UPDATE endpoint_assignments SET enabled = $4 WHERE app_id = $1 AND endpoint_id = $2 AND token_id = $3",
            app_id,
            endpoint_id,
            token_id,
            Some(enabled),
        )
        .await
    }

    /// Unmaps a token from an endpoint; answers whether it was mapped.
    pub async fn delete_assignment(
        &self,
        app_id: &str,
        endpoint_id: &str,
        token_id: &str,
    ) -> Result<bool, StoreError> {
        self.change_assignment(
            "DELETE FROM endpoint_assignments WHERE app_id = $1 AND endpoint_id = $2 AND token_id = $3",
            app_id,
            endpoint_id,
            token_id,
            None,
        )
        .await
    }

    async fn change_assignment(
        &self,
        statement: &str,
        app_id: &str,
        endpoint_id: &str,
        token_id: &str,
        enabled: Option<bool>,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut query = sqlx::query(statement).bind(app_id).bind(endpoint_id).bind(token_id);
            if let Some(enabled) = enabled {
                query = query.bind(enabled);
            }
            let changed = query.execute(&mut *tx).await?.rows_affected();
            sqlx::query(BUMP).bind(bump_name(ChangeCounter::Endpoints)).execute(&mut *tx).await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// One page of the application's secondary tokens with their mapping to the
    /// endpoint (only the mapped ones when `assigned_only`), oldest first, and the total.
    pub async fn list_token_assignments(
        &self,
        app_id: &str,
        endpoint_id: &str,
        assigned_only: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<TokenAssignment>, i64), StoreError> {
        let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("t.{c}")).collect();
        let from = "FROM platform_tokens t LEFT JOIN endpoint_assignments a \
                    ON a.token_id = t.id AND a.endpoint_id = $2 AND a.app_id = $1 \
                    WHERE t.app_id = $1 AND t.kind = 'endpoint_secondary' \
                    AND ($3 = FALSE OR a.token_id IS NOT NULL)";
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, TokenAssignmentRow>(&format!(
                "SELECT {}, a.methods AS a_methods, a.enabled AS a_enabled, a.created_at AS a_created_at \
                 {from} ORDER BY t.created_at, t.id LIMIT $4 OFFSET $5",
                columns.join(", ")
            ))
            .bind(app_id)
            .bind(endpoint_id)
            .bind(assigned_only)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) {from}"))
                .bind(app_id)
                .bind(endpoint_id)
                .bind(assigned_only)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        let items = rows
            .into_iter()
            .map(|r| {
                let token = PlatformToken::try_from(r.token)?;
                let assignment = match (r.a_methods, r.a_enabled, r.a_created_at) {
                    (Some(methods), Some(enabled), Some(created_at)) => {
                        Some(Assignment::try_from(AssignmentRow {
                            app_id: token.app_id.clone(),
                            endpoint_id: endpoint_id.to_owned(),
                            token_id: token.id.clone(),
                            methods,
                            enabled,
                            created_at,
                        })?)
                    }
                    _ => None,
                };
                Ok(TokenAssignment { token, assignment })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((items, total))
    }

    /// Everything the endpoint check's index holds, of every application: each
    /// row carries its application, and the index matches a token only with an
    /// endpoint of the same one.
    pub async fn endpoint_index_rows(&self) -> Result<IndexRows, StoreError> {
        let (endpoints, tokens, assignments) = on_pool!(self, pool => {
            let endpoints = sqlx::query_as::<_, EndpointRow>(&format!("SELECT {ENDPOINT_COLUMNS} FROM endpoints"))
                .fetch_all(pool)
                .await?;
            let tokens = sqlx::query_as::<_, IndexTokenRow>(&format!(
                "SELECT {COLUMNS}, token_hash FROM platform_tokens \
                 WHERE kind IN ('endpoint_primary', 'endpoint_secondary')"
            ))
            .fetch_all(pool)
            .await?;
            let assignments = sqlx::query_as::<_, AssignmentRow>(&format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM endpoint_assignments"
            ))
            .fetch_all(pool)
            .await?;
            (endpoints, tokens, assignments)
        });
        Ok(IndexRows {
            endpoints: endpoints.into_iter().map(Endpoint::from).collect(),
            tokens: tokens
                .into_iter()
                .map(|r| Ok((PlatformToken::try_from(r.token)?, r.token_hash)))
                .collect::<Result<_, StoreError>>()?,
            assignments: assignments.into_iter().map(Assignment::try_from).collect::<Result<_, _>>()?,
        })
    }

    /// Writes recorded calls: one transaction, `batch` rows per statement.
    pub async fn insert_endpoint_calls(
        &self,
        calls: &[RecordedCalls],
        batch: usize,
    ) -> Result<(), StoreError> {
        if calls.is_empty() {
            return Ok(());
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in calls.chunks(batch.max(1)) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO endpoint_calls \
                     (app_id, endpoint_id, at, method, allowed, reason, token_id, token_kind, token_name, calls) ",
                );
                query.push_values(chunk, |mut row, RecordedCalls { call, calls }| {
                    let token = call.token.as_ref();
                    row.push_bind(&*call.app_id)
                        .push_bind(&*call.endpoint_id)
                        .push_bind(call.at)
                        .push_bind(call.method.as_str())
                        .push_bind(call.allowed)
                        .push_bind(call.reason.map(|r| r.as_str()))
                        .push_bind(token.map(|t| &*t.id))
                        .push_bind(token.map(|t| t.kind.name()))
                        .push_bind(token.map(|t| &*t.name))
                        .push_bind(*calls);
                });
                query.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// One page of an endpoint's recorded calls (identical calls of one second
    /// in one row), newest first, and the total number of rows.
    pub async fn list_endpoint_calls(
        &self,
        app_id: &str,
        endpoint_id: &str,
        filter: CallFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RecordedCalls>, i64), StoreError> {
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, CallRow>(&format!(
                "SELECT app_id, endpoint_id, at, method, allowed, reason, token_id, token_kind, token_name, calls \
                 FROM endpoint_calls WHERE {CALL_FILTER} ORDER BY at DESC, id DESC LIMIT $6 OFFSET $7"
            ))
            .bind(app_id)
            .bind(endpoint_id)
            .bind(filter.token_id)
            .bind(filter.from)
            .bind(filter.to)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM endpoint_calls WHERE {CALL_FILTER}"))
                .bind(app_id)
                .bind(endpoint_id)
                .bind(filter.token_id)
                .bind(filter.from)
                .bind(filter.to)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        let calls = rows.into_iter().map(RecordedCalls::try_from).collect::<Result<_, _>>()?;
        Ok((calls, total))
    }

    /// An endpoint's recorded calls counted per token and per day (UTC), newest
    /// day first.
    pub async fn endpoint_call_summary(
        &self,
        app_id: &str,
        endpoint_id: &str,
        filter: CallFilter<'_>,
    ) -> Result<Vec<CallCount>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, CallCountRow>(&format!(
                "SELECT token_id, MAX(token_name) AS token_name, at / 86400 AS day, CAST(SUM(calls) AS BIGINT) AS calls, \
                 CAST(SUM(CASE WHEN allowed THEN calls ELSE 0 END) AS BIGINT) AS allowed \
                 FROM endpoint_calls WHERE {CALL_FILTER} \
                 GROUP BY token_id, at / 86400 ORDER BY day DESC, calls DESC, token_id"
            ))
            .bind(app_id)
            .bind(endpoint_id)
            .bind(filter.token_id)
            .bind(filter.from)
            .bind(filter.to)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(CallCount::from).collect())
    }

    /// Every endpoint's id with its application: what the retention sweep walks.
    pub async fn all_endpoint_ids(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, (String, String)>("SELECT app_id, id FROM endpoints ORDER BY app_id, id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Deletes up to `batch` of the endpoint's calls recorded before `before`;
    /// answers how many.
    pub async fn sweep_endpoint_calls(
        &self,
        app_id: &str,
        endpoint_id: &str,
        before: i64,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM endpoint_calls WHERE id IN (SELECT id FROM endpoint_calls \
                 WHERE endpoint_id = $2 AND at < $3 AND app_id = $1 ORDER BY at LIMIT $4)",
            )
            .bind(app_id)
            .bind(endpoint_id)
            .bind(before)
            .bind(batch)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted)
    }
}

//! The audit log's rows (see `domain::audit`).

use super::{domain_row, like_pattern, on_pool, Store, StoreError};
use crate::domain::audit::{AuditEntry, AuditFilter};

domain_row!(AuditRow => AuditEntry {
    app_id: String,
    at: i64,
    actor: String,
    action: String,
    target: String,
    request_id: String,
});

const FILTER: &str = "app_id = $1 AND ($2 IS NULL OR actor LIKE $2 OR action LIKE $2 OR target LIKE $2) \
                      AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)";

impl Store {
    pub async fn insert_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO audit_log (app_id, at, actor, action, target, request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&e.app_id)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(&e.request_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// One page of the application's audit entries, newest first, and the total.
    pub async fn list_audit(
        &self,
        app_id: &str,
        filter: AuditFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64), StoreError> {
        let search = filter.search.map(like_pattern);
        let (rows, total) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, AuditRow>(&format!(
                "SELECT app_id, at, actor, action, target, request_id FROM audit_log WHERE {FILTER} \
                 ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6"
            ))
            .bind(app_id)
            .bind(search.as_deref())
            .bind(filter.from)
            .bind(filter.to)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM audit_log WHERE {FILTER}"))
                .bind(app_id)
                .bind(search.as_deref())
                .bind(filter.from)
                .bind(filter.to)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(AuditEntry::from).collect(), total))
    }
}

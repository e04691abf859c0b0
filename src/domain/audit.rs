//! The audit log: every change made through the admin API or the console, with
//! who made it, in which application, what and on what, when, and the request id
//! that finds it in the server's logs.
//!
//! Invariant: an entry never holds a secret: actors are named by kind and user
//! id, targets by path or id, never by a token's value.

use super::DomainError;
use crate::store::Store;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub app_id: String,
    pub at: i64,
    /// Who: `master token`, `admin token of user U`, `API token of user U`,
    /// `console: NAME (U)`.
    pub actor: String,
    /// What, such as `POST /apps/{app}/api-tokens` or `console: create API token`.
    pub action: String,
    /// On what: the path called, or the id changed.
    pub target: String,
    pub request_id: String,
}

/// Which entries a list shows: the text given must be in the actor, the action
/// or the target; within [from, to).
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditFilter<'a> {
    pub search: Option<&'a str>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

pub async fn record(store: &Store, entry: &AuditEntry) -> Result<(), DomainError> {
    store.insert_audit(entry).await?;
    Ok(())
}

//! The sweeper: every table that grows with use is kept bounded by deleting rows
//! past their lifetime, in small batches, continuously (a job in `lib.rs`) or in
//! one pass (`tessera sweep`).
//!
//! Invariant: a row is swept only once nothing can still use it: codes, sessions,
//! interactions and revoked ids past their expiry, refresh families past their
//! bound or idle past the sliding lifetime (or revoked longer ago than an access
//! token lives), login failures the backoff has forgotten, install tokens past
//! their expiry, endpoint calls and audit entries past their retention.

use crate::config::Config;
use crate::store::{Store, StoreError, Swept};

/// What one pass deleted, per table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub deleted: Vec<(&'static str, u64)>,
}

impl SweepReport {
    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

/// One pass over every swept table at time `now`.
pub async fn sweep_once(store: &Store, config: &Config, now: i64) -> Result<SweepReport, StoreError> {
    let batch = config.sweeper.batch.max(1) as i64;
    let mut report = SweepReport::default();
    for table in Swept::ALL {
        let before = match table {
            Swept::LoginFailures => now - super::login::FORGET_AFTER,
            Swept::Audit => now - config.sweeper.audit_retention as i64,
            _ => now,
        };
        let mut deleted = 0;
        loop {
            let n = store.sweep_batch(table, before, batch).await?;
            deleted += n;
            if n < batch as u64 {
                break;
            }
            // Let other work at the database between batches.
            tokio::task::yield_now().await;
        }
        report.deleted.push((table.table(), deleted));
    }
    let idle_before = now - config.tokens.refresh_token_ttl as i64;
    let revoked_before = now - config.tokens.access_token_ttl as i64;
    let mut families = 0;
    loop {
        let n = store.sweep_families(now, idle_before, revoked_before, batch).await?;
        families += n;
        if n < batch as u64 {
            break;
        }
        tokio::task::yield_now().await;
    }
    report.deleted.push(("refresh_families", families));
    let lists = store.sweep_status_lists(now - config.tokens.access_token_ttl as i64).await?;
    report.deleted.push(("status_lists", lists));
    let calls = super::endpoints::sweep_calls(store, now - config.endpoints.call_retention as i64).await?;
    report.deleted.push(("endpoint_calls", calls));
    Ok(report)
}

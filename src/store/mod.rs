//! Persistence with sqlx over SQLite or Postgres, one module per aggregate.
//!
//! Invariants: `Store` is the only way to the database; both backends run the same
//! SQL text (`$n` placeholders work in both) from their own migration folder;
//! nothing here returns an sqlx type to its callers: the store answers in the
//! domain's types (`domain::*`), read through private rows (`domain_row!`), so the
//! domain stays free of sqlx.

mod apps;
mod audit;
mod changes;
mod clients;
mod codes;
mod console;
mod departments;
mod endpoints;
mod keys;
mod mobile_sessions;
mod platform_tokens;
mod refresh;
mod sessions;
mod status;
mod sweep;
mod user_types;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use changes::ChangeCounter;
pub use endpoints::{CallFilter, EndpointChanges};
pub use mobile_sessions::SessionFilter;
pub use platform_tokens::{TokenChanges, TokenFilter};
pub use status::StatusBlock;
pub use sweep::Swept;

use crate::config::{redact_url_password, DatabaseConfig};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The database, whichever backend the configuration names.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} still in use")]
    InUse(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.table().unwrap_or("row").to_owned());
            }
        }
        StoreError::Database(e.to_string())
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Declares `$row`, the private row sqlx reads, with the fields of the domain
/// type `$ty`, and the conversion into it.
macro_rules! domain_row {
    ($row:ident => $ty:ident { $($field:ident: $fty:ty),* $(,)? }) => {
        #[derive(sqlx::FromRow)]
        struct $row {
            $($field: $fty),*
        }

        impl From<$row> for $ty {
            fn from(row: $row) -> Self {
                $ty { $($field: row.$field),* }
            }
        }
    };
}
pub(crate) use domain_row;

/// Opens a write transaction. On SQLite it is `BEGIN IMMEDIATE`: a deferred
/// transaction that reads first and writes later cannot take the write lock when
/// another writer came in between, and fails with "database is locked" instead of
/// waiting for the busy timeout. Postgres serialises writers with row locks.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

impl Store {
    /// In one write transaction: when `owner` (a query binding `$1` = `app_id`,
    /// `$2` = `id`) finds the row, runs each of `statements` with the same two
    /// binds, bumps `bump` if given, and commits; otherwise rolls back untouched.
    /// The shape of every tenant-scoped delete of a row with children.
    async fn delete_owned(
        &self,
        app_id: &str,
        id: &str,
        owner: &str,
        statements: &[String],
        bump: Option<ChangeCounter>,
    ) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let owned = sqlx::query_scalar::<_, String>(owner)
                .bind(app_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if owned.is_none() {
                tx.rollback().await?;
                false
            } else {
                for statement in statements {
                    sqlx::query(statement).bind(app_id).bind(id).execute(&mut *tx).await?;
                }
                if let Some(counter) = bump {
                    sqlx::query(changes::BUMP).bind(changes::bump_name(counter)).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                true
            }
        });
        Ok(deleted)
    }

    /// Opens the database named by `config.url`: `sqlite://path` (file and parent
    /// directory created, WAL mode, busy timeout) or `postgres://...`.
    pub async fn connect(config: &DatabaseConfig) -> Result<Store, StoreError> {
        let url = config.url.as_str();
        let fail = |reason: String| StoreError::Connect { url: redact_url_password(url), reason };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .idle_timeout(Duration::from_millis(config.idle_timeout_ms))
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(|e| fail(e.to_string()))?;
            return Ok(Store::Postgres(pool));
        }
        if !url.starts_with("sqlite:") {
            return Err(fail("the URL must start with sqlite:// or postgres://".into()));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| fail(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(config.busy_timeout_ms))
            // A negative cache_size is in KiB. Eight connections at SQLite's
            // default (2 MiB each) kept an idle server 7-9 MiB larger after load.
            .pragma("cache_size", format!("-{}", config.cache_kib));
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
            }
        }
        // A connection to a file does not go stale, and sqlx runs each SQLite
        // connection on a thread of its own: the ping before every checkout would
        // cost one more round trip to that thread per query, for nothing.
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .test_before_acquire(false)
            .idle_timeout(Duration::from_millis(config.idle_timeout_ms))
            .connect_with(options)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(Store::Sqlite(pool))
    }

    /// Applies pending migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match self {
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|e| StoreError::Migrate(e.to_string()))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The pool's open and idle connections and its bound.
    pub fn pool_figures(&self) -> crate::metrics::PoolFigures {
        on_pool!(self, pool => crate::metrics::PoolFigures {
            open: pool.size(),
            idle: pool.num_idle(),
            max: pool.options().get_max_connections(),
        })
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// A LIKE pattern matching names that hold `text`; the text's own wildcards are
/// dropped (escaping them would need ESCAPE clauses that differ by backend).
pub(crate) fn like_pattern(text: &str) -> String {
    format!("%{}%", text.replace(['%', '_', '\\'], ""))
}

fn corrupt(table: &'static str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt { table, reason: reason.to_string() }
}

//! tessera: an OAuth 2.0 authorization server and token manager.
//!
//! This file wires: it turns a loaded `Config` into the shared `AppState` (database
//! connected and migrated, keys loaded, caches made) and serves it with actix-web on
//! a listener the caller bound. See `docs/architecture.md` for the code map.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod config;
pub mod domain;
pub mod metrics;
pub mod oauth;
pub mod ops;
pub mod store;
pub mod tokens;
pub mod web;
mod web_context;

pub use web_context::RequestId;

use std::net::TcpListener;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer};
use ring::rand::SystemRandom;

use crate::config::{Config, Environment};
use crate::domain::client_cache::ClientCache;
use crate::domain::keys::{KeyringError, Loaded};
use crate::domain::scope::ScopeModel;
use crate::store::{ChangeCounter, Store, StoreError};
use crate::tokens::jwt::{JwtSigner, Signer};
use crate::tokens::keys::{self, KeyError, KeyOrigin};

/// Everything a request handler may use; built once at start.
pub struct AppState {
    pub config: Config,
    /// `config.issuer`, parsed once.
    pub issuer_url: url::Url,
    pub store: Store,
    pub scopes: ScopeModel,
    /// The active key's signer with the published keys and their JWKS, swapped
    /// whole when the keys change (`tessera keys rotate`, a retired key's end).
    pub signer: Signer,
    /// The `keys` change counter the signer reflects, and when the published
    /// set next changes by itself.
    keys_version: AtomicI64,
    keys_next_change: AtomicI64,
    /// Counters and histograms for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Token status lists: the indexes this instance hands out, the lists it serves.
    pub status: domain::status::StatusLists,
    pub clients: ClientCache,
    pub clock: domain::Clock,
    /// Platform token uses not yet written to the database.
    pub token_use: domain::platform_tokens::UsageLog,
    /// Known platform tokens and what they stand for.
    pub tokens: oauth::inspect::TokenCache,
    /// The endpoint check's index and the calls it recorded.
    pub endpoints: domain::endpoints::EndpointGuard,
    /// The data keys that seal revealable secrets.
    pub data_keys: tokens::sealed::DataKeys,
    /// The RFC 8414 metadata document, serialized.
    pub metadata: actix_web::web::Bytes,
    /// Refresh rotations of concurrent requests, written one batch per transaction.
    pub rotations: domain::group_commit::GroupCommit<
        domain::grants::RotationJob,
        Result<domain::grants::Rotation, String>,
    >,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error(transparent)]
    Signer(#[from] tokens::jwt::JwtError),
    #[error("refusing to start in production: {0}")]
    Production(String),
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
    #[error("the system random generator failed")]
    Random,
}

impl AppState {
    /// A change made on this instance (the admin API, the console) takes effect
    /// here before its answer: the token cache is cleared, and the client cache
    /// and the endpoint index reload if their change counters moved (the write
    /// bumped them in its transaction). Other instances notice within one poll.
    pub async fn changed(&self) {
        self.tokens.clear();
        if let Err(e) = self.clients.refresh(&self.store).await {
            tracing::warn!(error = %e, "cannot check for client changes; the next poll will");
        }
        if let Err(e) = self.endpoints.refresh(&self.store).await {
            tracing::warn!(error = %e, "cannot reload the endpoint index; the next poll will");
        }
    }

    /// Loads the keys again when the `keys` counter moved (a rotation or import
    /// anywhere) or a retired key's tokens have all expired; answers whether the
    /// signer changed.
    pub async fn refresh_keys(&self) -> Result<bool, KeyringError> {
        let version = self.store.change_version(ChangeCounter::Keys).await?;
        let now = self.clock.now();
        let next = self.keys_next_change.load(Ordering::Acquire);
        if version == self.keys_version.load(Ordering::Acquire) && now < next {
            return Ok(false);
        }
        let lifetime = self.config.tokens.access_token_ttl as i64;
        let Some(loaded) =
            domain::keys::load(&self.store, &self.data_keys, now, lifetime, &self.config.keys.dir).await?
        else {
            tracing::error!("no active signing key in the database; signing with the keys loaded before");
            return Ok(false);
        };
        let active = loaded.set.active().kid.clone();
        let signer = JwtSigner::new(
            Arc::new(loaded.set),
            self.config.issuer.clone(),
            self.config.tokens.audience.clone(),
        )
        .map_err(|e| KeyringError::Sealed { kid: active.clone(), reason: e.to_string() })?;
        self.signer.replace(signer);
        self.keys_version.store(version, Ordering::Release);
        self.keys_next_change.store(loaded.next_change.unwrap_or(i64::MAX), Ordering::Release);
        self.metrics.key_reloaded();
        tracing::info!(active = %active, "signing keys reloaded");
        Ok(true)
    }
}

/// The most refresh rotations one transaction writes: each takes five binds in
/// its two inserts, far below either backend's limit on binds.
const ROTATION_BATCH: usize = 64;

/// Opens the database (migrating it), loads or (where allowed) generates the
/// signing keys, and builds the state.
pub async fn prepare(config: Config) -> Result<AppState, StartError> {
    let scopes = ScopeModel::new(&config.scopes).map_err(|e| config::ConfigError::Invalid(e.to_string()))?;
    let store = Store::connect(&config.database).await?;
    store.migrate().await?;
    let data_keys = tokens::sealed::DataKeys::new(&load_data_keys(&config)?);
    let keys_version = store.change_version(ChangeCounter::Keys).await?;
    let loaded = load_keys(&config, &store, &data_keys).await?;
    let given = domain::platform_tokens::ensure_master_tokens(&store, domain::now())
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?;
    for app in given {
        tracing::info!(app = %app, "made the application's master token; rotate it through the admin API to see it");
    }
    if !store.any_admin().await? {
        tracing::info!(
            console = %format!("{}/console", config.issuer.trim_end_matches('/')),
            "no administrator yet: make one with `tessera admin create --username NAME --password-stdin`, then sign in at the console"
        );
    }
    let keys_next_change = loaded.next_change.unwrap_or(i64::MAX);
    let signer = JwtSigner::new(Arc::new(loaded.set), config.issuer.clone(), config.tokens.audience.clone())?;
    let metadata = actix_web::web::Bytes::from(oauth::metadata::document(&config, &scopes).to_string());
    let clients = ClientCache::default();
    clients.refresh(&store).await?;
    let endpoints = domain::endpoints::EndpointGuard::new(config.endpoints.call_buffer);
    endpoints.reload(&store).await?;
    let status = domain::status::StatusLists::default();
    status.load_revoked(&store, domain::now(), store.change_version(ChangeCounter::Status).await?).await?;
    let issuer_url = url::Url::parse(&config.issuer)
        .map_err(|_| config::ConfigError::Invalid(format!("issuer `{}` is not a URL", config.issuer)))?;
    Ok(AppState {
        config,
        issuer_url,
        store,
        scopes,
        signer: Signer::new(signer),
        keys_version: AtomicI64::new(keys_version),
        keys_next_change: AtomicI64::new(keys_next_change),
        metrics: metrics::Metrics::new()?,
        status,
        clients,
        clock: domain::Clock::default(),
        token_use: Default::default(),
        tokens: Default::default(),
        endpoints,
        data_keys,
        metadata,
        rotations: domain::group_commit::GroupCommit::new(ROTATION_BATCH),
    })
}

/// The configured data keys; without any, outside production, the one kept in
/// `security.data_key_file`, generated there (readable by the owner only) on
/// first start.
pub fn load_data_keys(config: &Config) -> Result<Vec<[u8; 32]>, StartError> {
    let configured = config.security.data_key_bytes()?;
    if !configured.is_empty() || config.environment == Environment::Production {
        return Ok(configured);
    }
    let path = &config.security.data_key_file;
    let io = |e: std::io::Error| {
        StartError::Io(std::io::Error::new(e.kind(), format!("data key file {}: {e}", path.display())))
    };
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(vec![config::decode_data_key(&path.display().to_string(), &text)?]),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use base64::Engine;
            let key =
                tokens::secret::random_bytes::<32>(&SystemRandom::new()).map_err(|_| StartError::Random)?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io)?;
            std::io::Write::write_all(
                &mut file,
                base64::engine::general_purpose::STANDARD.encode(key).as_bytes(),
            )
            .map_err(io)?;
            tracing::info!(path = %path.display(), "generated a data key for this environment");
            Ok(vec![key])
        }
        Err(e) => Err(io(e)),
    }
}

/// The keys to sign with: key files in `keys.dir` not yet in the database are
/// imported (the newest becomes active when it is newer than the active key);
/// with no key at all, development generates one (into `keys.dir` too).
async fn load_keys(
    config: &Config,
    store: &Store,
    data_keys: &tokens::sealed::DataKeys,
) -> Result<Loaded, StartError> {
    let rng = SystemRandom::new();
    let dir = &config.keys.dir;
    let now = domain::now();
    let lifetime = config.tokens.access_token_ttl as i64;
    let imported = domain::keys::import(store, data_keys, keys::load_dir(dir, &rng)?, now).await?;
    for kid in &imported {
        tracing::info!(kid = %kid, dir = %dir.display(), "imported a signing key file into the database");
    }
    let mut loaded = domain::keys::load(store, data_keys, now, lifetime, dir).await?;
    if loaded.is_none() && config.keys.auto_generate {
        let key = keys::generate(dir, KeyOrigin::Auto, now, &rng)?;
        domain::keys::store_key(store, data_keys, &key, true, now).await?;
        tracing::info!(kid = %key.kid, dir = %dir.display(), "generated a development signing key");
        loaded = domain::keys::load(store, data_keys, now, lifetime, dir).await?;
    }
    let loaded = loaded.ok_or_else(|| KeyError::NoKeys(dir.clone()))?;
    if config.environment == Environment::Production {
        if let Some((kid, _)) = loaded.origins.iter().find(|(_, origin)| *origin == KeyOrigin::Auto) {
            return Err(StartError::Production(format!(
                "signing key {kid} was generated automatically; make production keys with `tessera --env production keys generate`",
            )));
        }
    }
    Ok(loaded)
}

/// A running server: its address, a handle to stop it, and the future that drives it.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub server: actix_web::dev::Server,
    pub state: Arc<AppState>,
    jobs: Vec<tokio::task::JoinHandle<()>>,
    metrics_server: Option<actix_web::dev::ServerHandle>,
}

impl Running {
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (by its handle or a signal).
    pub async fn wait(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(metrics) = &self.metrics_server {
            metrics.stop(true).await;
        }
        for job in &self.jobs {
            job.abort();
        }
        // What was answered is not lost: the calls and token uses still in memory.
        write_endpoint_calls(&self.state).await;
        write_token_use(&self.state).await;
        self.state.store.close().await;
        result
    }
}

/// Prepares the state from `config` and serves it on `listener`.
pub async fn run(config: Config, listener: TcpListener) -> Result<Running, StartError> {
    let state = Arc::new(prepare(config).await?);
    serve(state, listener)
}

/// Serves a prepared state on `listener`.
pub fn serve(state: Arc<AppState>, listener: TcpListener) -> Result<Running, StartError> {
    let addr = listener.local_addr()?;
    let data = actix_web::web::Data::from(state.clone());
    let workers = state.config.server.workers;
    let metrics_apart = !state.config.server.metrics_bind.is_empty();
    let app_data = data.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_data.clone())
            .wrap(actix_web::middleware::from_fn(web_context::request_context))
            .configure(oauth::routes)
            .configure(web::routes)
            .configure(api::routes)
            .configure(|cfg| ops::routes(cfg, !metrics_apart))
    })
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.run();
    // `/metrics` on an address of its own, for a scraper on a private network.
    let metrics_server = if metrics_apart {
        let bind = &state.config.server.metrics_bind;
        let metrics_data = data.clone();
        let listener = TcpListener::bind(bind).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot listen on server.metrics_bind {bind}: {e}"))
        })?;
        tracing::info!(addr = %listener.local_addr()?, "metrics served apart");
        let metrics =
            HttpServer::new(move || App::new().app_data(metrics_data.clone()).configure(ops::metrics_routes))
                .workers(1)
                .disable_signals()
                .listen(listener)?
                .run();
        let handle = metrics.handle();
        tokio::spawn(metrics);
        Some(handle)
    } else {
        None
    };
    let jobs = vec![
        tokio::spawn(poll_changes(state.clone())),
        tokio::spawn(record_endpoint_calls(state.clone())),
        tokio::spawn(sweep(state.clone())),
    ];
    tracing::info!(%addr, issuer = %state.config.issuer, environment = %state.config.environment,
        database = state.store.backend(), "tessera serving");
    Ok(Running { addr, server, state, jobs, metrics_server })
}

/// Notices client changes made by other processes and drops the client cache;
/// writes the platform token uses gathered since the last tick.
async fn poll_changes(state: Arc<AppState>) {
    let period = Duration::from_millis(state.config.cache.poll_interval_ms.max(50));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match state.clients.refresh(&state.store).await {
            Ok(true) => tracing::debug!("client cache cleared after a change"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check for client changes"),
        }
        match state.tokens.refresh(&state.store).await {
            Ok(true) => tracing::debug!("token cache cleared after a change"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check for token changes"),
        }
        match state.endpoints.refresh(&state.store).await {
            Ok(true) => tracing::debug!("endpoint index reloaded after a change"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check for endpoint changes"),
        }
        if let Err(e) = state.refresh_keys().await {
            tracing::warn!(error = %e, "cannot check for signing key changes");
        }
        let signer = state.signer.current();
        let now = state.clock.now();
        if let Err(e) = state.status.refresh(&state.store, &state.config, &signer, now).await {
            tracing::warn!(error = %e, "cannot read revocations or sign the token status lists again");
        }
        write_token_use(&state).await;
    }
}

async fn write_token_use(state: &AppState) {
    let uses = state.token_use.drain();
    if !uses.is_empty() {
        if let Err(e) = state.store.record_token_use(&uses).await {
            tracing::warn!(error = %e, "cannot record token use");
        }
    }
}

/// Writes the calls the endpoint check recorded, in batches.
async fn record_endpoint_calls(state: Arc<AppState>) {
    let period = Duration::from_millis(state.config.endpoints.flush_interval_ms.max(10));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        write_endpoint_calls(&state).await;
    }
}

/// Deletes rows past their lifetime, every `sweeper.interval_ms`.
async fn sweep(state: Arc<AppState>) {
    let period = Duration::from_millis(state.config.sweeper.interval_ms.max(10));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        sweep_now(&state).await;
    }
}

/// One sweeper pass, with its figures in the log and the metrics.
pub async fn sweep_now(state: &AppState) {
    match domain::sweep::sweep_once(&state.store, &state.config, state.clock.now()).await {
        Ok(report) => {
            for (table, n) in &report.deleted {
                state.metrics.swept(table, *n);
            }
            if report.total() > 0 {
                tracing::info!(deleted = report.total(), "rows past their lifetime deleted");
            }
        }
        Err(e) => tracing::warn!(error = %e, "the sweeper failed; the next pass tries again"),
    }
}

async fn write_endpoint_calls(state: &AppState) {
    if let Err(e) = state.endpoints.flush(&state.store).await {
        tracing::warn!(error = %e, "cannot write endpoint calls; they wait for the next try");
    }
    let dropped = state.endpoints.calls.take_dropped();
    state.metrics.calls_dropped(dropped);
    if dropped > 0 {
        tracing::warn!(
            dropped,
            buffer = state.config.endpoints.call_buffer,
            "endpoint calls dropped: more arrived than the buffer holds between writes"
        );
    }
}

//! Starts the real server on 127.0.0.1:0 with a fresh database (a SQLite file in a
//! temporary directory, or a new Postgres database when TESSERA_TEST_POSTGRES_URL
//! is set), and runs the real `tessera` binary against the same configuration.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sqlx::Connection;
use tessera::config::{Config, Environment};

pub const POSTGRES_ENV: &str = "TESSERA_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named scenario
/// `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// A database made for one test and removed by `TestEnv::finish`.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// `None` for Postgres when no server is configured (the test is then skipped).
    pub async fn create(backend: Backend, dir: &Path) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => Some(TestDatabase {
                url: format!("sqlite://{}", dir.join("tessera.db").display()),
                postgres: None,
            }),
            Backend::Postgres => {
                let Ok(admin) = std::env::var(POSTGRES_ENV) else {
                    eprintln!("skipped: {POSTGRES_ENV} is not set");
                    return None;
                };
                let name = format!("tessera_t_{}_{}", std::process::id(), random_suffix());
                let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to postgres");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).expect("postgres url");
                url.set_path(&name);
                Some(TestDatabase { url: url.to_string(), postgres: Some((admin, name)) })
            }
        }
    }

    pub async fn drop_database(&self) {
        if let Some((admin, name)) = &self.postgres {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
        }
    }
}

fn random_suffix() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 6];
    ring::rand::SystemRandom::new().fill(&mut bytes).expect("random");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Settings for one server: an environment and `TESSERA__*` overrides.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub db: TestDatabase,
    pub environment: Environment,
    pub vars: Vec<(String, String)>,
}

impl TestEnv {
    pub async fn new(backend: Backend) -> Option<TestEnv> {
        TestEnv::with(backend, Environment::Development, &[]).await
    }

    pub async fn with(backend: Backend, environment: Environment, extra: &[(&str, &str)]) -> Option<TestEnv> {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = TestDatabase::create(backend, dir.path()).await?;
        let mut vars = vec![
            ("TESSERA__DATABASE__URL".to_owned(), db.url.clone()),
            ("TESSERA__KEYS__DIR".to_owned(), dir.path().join("keys").display().to_string()),
            (
                "TESSERA__SECURITY__DATA_KEY_FILE".to_owned(),
                dir.path().join("data").join("data.key").display().to_string(),
            ),
            ("TESSERA__SERVER__WORKERS".to_owned(), "1".to_owned()),
            ("TESSERA__DATABASE__MAX_CONNECTIONS".to_owned(), "4".to_owned()),
            ("TESSERA__SECURITY__ARGON2_MEMORY_KIB".to_owned(), "1024".to_owned()),
            ("TESSERA__SECURITY__ARGON2_ITERATIONS".to_owned(), "1".to_owned()),
            ("TESSERA__CACHE__POLL_INTERVAL_MS".to_owned(), "100".to_owned()),
        ];
        for (k, v) in extra {
            vars.retain(|(name, _)| name != k);
            vars.push((k.to_string(), v.to_string()));
        }
        Some(TestEnv { dir, db, environment, vars })
    }

    pub fn config_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
    }

    /// Loads the configuration with an issuer naming `port`, unless one is set.
    pub fn config(&self, port: u16) -> Result<Config, tessera::config::ConfigError> {
        let mut vars = self.vars.clone();
        if !vars.iter().any(|(k, _)| k == "TESSERA__ISSUER") {
            vars.push(("TESSERA__ISSUER".to_owned(), format!("http://127.0.0.1:{port}")));
        }
        Config::load(&Self::config_dir(), self.environment, vars)
    }

    /// Runs the `tessera` binary with this environment's settings.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.args(["--env", self.environment.name()])
            .args(args)
            .current_dir(self.dir.path())
            .env("TESSERA_CONFIG_DIR", Self::config_dir())
            .env_remove("TESSERA_ENV")
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = cmd.spawn().expect("spawn tessera");
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("tessera output")
    }

    /// Runs the binary, requires success and parses its stdout as JSON.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cli(args, None);
        assert!(out.status.success(), "tessera {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json on stdout")
    }

    /// Starts the server in-process on a random port.
    pub async fn start(self) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let config = self.config(port).expect("config");
        let running = tessera::run(config, listener).await.expect("server starts");
        let handle = running.handle();
        let issuer = running.state.config.issuer.clone();
        let state = running.state.clone();
        let task = tokio::spawn(running.wait());
        TestServer {
            base: format!("http://127.0.0.1:{port}"),
            issuer,
            http: reqwest::Client::new(),
            handle,
            task: Some(task),
            state,
            env: self,
        }
    }

    pub async fn finish(self) {
        self.db.drop_database().await;
    }
}

pub struct TestServer {
    pub base: String,
    pub issuer: String,
    pub http: reqwest::Client,
    pub env: TestEnv,
    /// The running server's state: its clock and store, for what a test must
    /// move (time) or look at (revocations).
    pub state: std::sync::Arc<tessera::AppState>,
    handle: actix_web::dev::ServerHandle,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A client registered through the CLI.
pub struct TestClient {
    pub id: String,
    pub secret: String,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Some(TestEnv::new(backend).await?.start().await)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `tessera client create --type confidential --grant client_credentials --scope ... --json`.
    pub fn confidential_client(&self, scopes: &[&str]) -> TestClient {
        let mut args = vec![
            "client",
            "create",
            "--name",
            "robot",
            "--type",
            "confidential",
            "--grant",
            "client_credentials",
            "--json",
        ];
        for s in scopes {
            args.extend(["--scope", s]);
        }
        let out = self.env.cli_json(&args);
        TestClient {
            id: out["client_id"].as_str().expect("client_id").to_owned(),
            secret: out["client_secret"].as_str().expect("client_secret").to_owned(),
        }
    }

    /// POSTs a form to `/token` with Basic authentication.
    pub async fn token_basic(&self, client: &TestClient, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/token"))
            .basic_auth(&client.id, Some(&client.secret))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// POSTs a form to `/token` with the credentials in the body (client_secret_post).
    pub async fn token_post(&self, client: &TestClient, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = vec![("client_id", client.id.as_str()), ("client_secret", client.secret.as_str())];
        fields.extend_from_slice(form);
        self.http.post(self.url("/token")).form(&fields).send().await.expect("token request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let res = self.http.get(self.url(path)).send().await.expect("get");
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("json")
    }

    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.env.finish().await;
    }
}

/// Verifies `token` as a resource server would: keys from the JWKS that the
/// metadata names, ES256, the expected issuer and audience.
pub async fn verify_with_jwks(
    http: &reqwest::Client,
    metadata_url: &str,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<serde_json::Value, String> {
    let metadata: serde_json::Value = http
        .get(metadata_url)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    // The issuer may name a public host (production behind a proxy); the test
    // fetches the same path from the server it talks to, never from the network.
    let jwks_uri =
        url::Url::parse(metadata["jwks_uri"].as_str().ok_or("no jwks_uri")?).map_err(|e| e.to_string())?;
    let mut local = url::Url::parse(metadata_url).map_err(|e| e.to_string())?;
    local.set_path(jwks_uri.path());
    let jwks: jsonwebtoken::jwk::JwkSet =
        http.get(local).send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or("kid not in the JWKS")?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    let data =
        jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| e.to_string())?;
    Ok(data.claims)
}

/// The claims of a JWT without checking anything (for tests that already
/// verified a token of the same kind).
pub fn claims_unverified(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("json claims")
}

pub mod browser;
pub mod flow;

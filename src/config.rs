//! Layered settings: the built-in `default.toml` (compiled in), then a
//! `config/default.toml` where one exists, then the built-in and on-disk
//! `<env>.toml`, then `TESSERA__<SECTION>__<KEY>` environment variables. An
//! installed binary runs from any directory: files only layer over what is built in.
//!
//! Invariant: a `Config` that `validate` accepted is safe to serve with; production
//! never starts on development defaults (plain-http issuer, generated keys, no data key).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine;
use serde::Deserialize;

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "TESSERA__";

/// The deployment environment; each one has its own issuer, database and keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Staging,
    Production,
}

impl Environment {
    pub fn name(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

impl FromStr for Environment {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "development" | "dev" => Ok(Environment::Development),
            "staging" => Ok(Environment::Staging),
            "production" | "prod" => Ok(Environment::Production),
            other => Err(ConfigError::UnknownEnvironment(other.to_owned())),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown environment `{0}`: use development, staging or production")]
    UnknownEnvironment(String),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid TOML: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("environment variable {name}: {reason}")]
    Variable { name: String, reason: String },
    #[error("invalid settings: {0}")]
    Invalid(String),
    #[error("refusing to start in production: {0}")]
    Production(String),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    pub issuer: String,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub keys: KeysConfig,
    pub tokens: TokensConfig,
    pub web: WebConfig,
    pub users: UsersConfig,
    pub scopes: ScopesConfig,
    pub security: SecurityConfig,
    pub cache: CacheConfig,
    pub endpoints: EndpointsConfig,
    pub status: StatusConfig,
    pub sweeper: SweeperConfig,
    pub log: LogConfig,
}

/// Token status lists (`domain::status`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusConfig {
    /// Indexes per list.
    pub list_size: u64,
    /// Indexes an instance takes from the database at a time.
    pub block: u64,
    /// Seconds a verifier may cache a list.
    pub ttl: u64,
    /// Seconds a signed list is valid.
    pub validity: u64,
}

/// The sweeper keeps every growing table bounded (`domain::sweep`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweeperConfig {
    /// How often a pass runs, in milliseconds.
    pub interval_ms: u64,
    /// Rows deleted per statement, so that no statement holds a lock for long.
    pub batch: u32,
    /// How long audit entries are kept, in seconds.
    pub audit_retention: u64,
}

fn default_environment() -> Environment {
    Environment::Development
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: String,
    pub workers: usize,
    pub max_body_bytes: usize,
    /// A request body must arrive in full within this many milliseconds of the
    /// request's start; a slower one is refused (408, or 400 at OAuth endpoints).
    pub body_timeout_ms: u64,
    /// Where `/metrics` is served: empty for the main address, else an address
    /// of its own (and then not on the main one).
    pub metrics_bind: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    pub busy_timeout_ms: u64,
    /// A pooled connection idle this long is closed.
    pub idle_timeout_ms: u64,
    /// SQLite's page cache per connection, in KiB.
    pub cache_kib: u32,
}

impl fmt::Debug for DatabaseConfig {
    // A database URL may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url_password(&self.url))
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    pub dir: PathBuf,
    pub auto_generate: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    pub access_token_ttl: u64,
    pub audience: String,
    pub authorization_code_ttl: u64,
    pub refresh_token_ttl: u64,
    pub refresh_token_max_lifetime: u64,
    /// The longest an API token may live, in seconds (its expiry is required).
    pub api_max_lifetime: u64,
    /// Lifetime of install tokens, in seconds.
    pub install_ttl: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    pub session_ttl: u64,
    /// A console session ends after this many seconds without a page view.
    pub console_idle_timeout: u64,
    pub login_backoff_after: u32,
    pub login_backoff_after_per_address: u32,
    pub login_backoff_max_seconds: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersConfig {
    pub default_user_type: String,
    /// User type name to the scope string it allows.
    pub user_types: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopesConfig {
    pub core_objects: Vec<String>,
    pub streams: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Base64 of 32 bytes each: the first seals, all open (see `tokens::sealed`).
    /// A single string is one key.
    #[serde(deserialize_with = "one_or_many")]
    pub data_keys: Vec<String>,
    /// Where development and staging keep a data key they generate themselves
    /// when `data_keys` is empty; production never does.
    pub data_key_file: PathBuf,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

impl fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("data_keys", &format!("{} [redacted]", self.data_keys.len()))
            .field("data_key_file", &self.data_key_file)
            .field("argon2_memory_kib", &self.argon2_memory_kib)
            .field("argon2_iterations", &self.argon2_iterations)
            .field("argon2_parallelism", &self.argon2_parallelism)
            .finish()
    }
}

impl SecurityConfig {
    /// The configured 32-byte data keys, in order.
    pub fn data_key_bytes(&self) -> Result<Vec<[u8; 32]>, ConfigError> {
        self.data_keys
            .iter()
            .enumerate()
            .map(|(i, key)| decode_data_key(&format!("security.data_keys[{i}]"), key))
            .collect()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    pub poll_interval_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointsConfig {
    /// Recorded endpoint calls are kept this long, in seconds.
    pub call_retention: u64,
    /// At most this many calls wait in memory to be written; more are dropped
    /// (and counted) rather than holding a request.
    pub call_buffer: usize,
    /// How often recorded calls are written, in milliseconds.
    pub flush_interval_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Loads the built-in `default.toml` and `<env>.toml`, each followed by the
    /// file of that name in `dir` when there is one, then applies `vars`
    /// (normally `std::env::vars()`), then validates.
    pub fn load(
        dir: &Path,
        environment: Environment,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = toml::Table::new();
        let mut names = vec!["default.toml".to_owned()];
        if environment != Environment::Development {
            names.push(format!("{}.toml", environment.name()));
        }
        for name in names {
            if let Some((_, text)) = BUILT_IN.iter().find(|(built, _)| *built == name) {
                let built: toml::Table = text.parse().map_err(|source| ConfigError::Parse {
                    path: PathBuf::from(format!("(built-in) {name}")),
                    source,
                })?;
                merge(&mut table, built);
            }
            if let Some(layer) = read_optional_table(&dir.join(&name))? {
                merge(&mut table, layer);
            }
        }
        apply_variables(&mut table, vars)?;
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        config.environment = environment;
        config.issuer = config.issuer.trim_end_matches('/').to_owned();
        config.validate()?;
        Ok(config)
    }

    /// The configuration directory: `TESSERA_CONFIG_DIR`, else `./config`.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("TESSERA_CONFIG_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("config"))
    }

    /// Checks that hold in every environment, then production's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let status = &self.status;
        if status.block == 0 || status.list_size < status.block || status.list_size % 8 != 0 {
            return Err(ConfigError::Invalid(
                "status.list_size must be a multiple of 8 and at least status.block, which must be positive"
                    .into(),
            ));
        }
        let issuer = url::Url::parse(&self.issuer)
            .map_err(|_| ConfigError::Invalid(format!("issuer `{}` is not a URL", self.issuer)));
        if self.environment == Environment::Production {
            match &issuer {
                Ok(url) if url.scheme() == "https" => {}
                _ => {
                    return Err(ConfigError::Production(format!(
                        "the issuer must be an https URL (got `{}`); set TESSERA__ISSUER",
                        self.issuer
                    )))
                }
            }
            if self.keys.auto_generate {
                return Err(ConfigError::Production(
                    "keys.auto_generate must be false; make keys with `tessera --env production keys generate`"
                        .into(),
                ));
            }
            if self.security.data_keys.is_empty() {
                return Err(ConfigError::Production(
                    "no data key; set TESSERA__SECURITY__DATA_KEYS to base64 of 32 random bytes".into(),
                ));
            }
        }
        let issuer = issuer?;
        if issuer.query().is_some() || issuer.fragment().is_some() {
            // RFC 8414 §2: the issuer has no query or fragment.
            return Err(ConfigError::Invalid("the issuer must not have a query or fragment".into()));
        }
        self.security.data_key_bytes()?;
        if self.tokens.access_token_ttl == 0 {
            return Err(ConfigError::Invalid("tokens.access_token_ttl must be positive".into()));
        }
        if self.tokens.audience.is_empty() {
            return Err(ConfigError::Invalid("tokens.audience must not be empty".into()));
        }
        if self.database.url.is_empty() {
            return Err(ConfigError::Invalid("database.url is empty; set TESSERA__DATABASE__URL".into()));
        }
        let scopes = crate::domain::scope::ScopeModel::new(&self.scopes)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        for (name, scope) in &self.users.user_types {
            scopes.parse(scope).map_err(|e| ConfigError::Invalid(format!("users.user_types.{name}: {e}")))?;
        }
        if !self.users.user_types.contains_key(&self.users.default_user_type) {
            return Err(ConfigError::Invalid(format!(
                "users.default_user_type `{}` is not in users.user_types",
                self.users.default_user_type
            )));
        }
        if self.endpoints.call_retention == 0 || self.endpoints.call_buffer == 0 {
            return Err(ConfigError::Invalid(
                "endpoints.call_retention and endpoints.call_buffer must be positive".into(),
            ));
        }
        if self.tokens.api_max_lifetime == 0 || self.tokens.install_ttl == 0 {
            return Err(ConfigError::Invalid(
                "tokens.api_max_lifetime and tokens.install_ttl must be positive".into(),
            ));
        }
        if self.tokens.refresh_token_max_lifetime < self.tokens.refresh_token_ttl {
            return Err(ConfigError::Invalid(
                "tokens.refresh_token_max_lifetime must be at least tokens.refresh_token_ttl".into(),
            ));
        }
        Ok(())
    }
}

/// A data key: base64 of exactly 32 bytes; `what` names it in errors.
pub fn decode_data_key(what: &str, text: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| ConfigError::Invalid(format!("{what} is not base64")))?;
    bytes.try_into().map_err(|_| ConfigError::Invalid(format!("{what} must decode to exactly 32 bytes")))
}

/// A list, or one string (an environment variable), or a comma-separated string.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => {
            s.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect()
        }
        OneOrMany::Many(v) => v,
    })
}

/// The configuration files compiled into the binary.
const BUILT_IN: [(&str, &str); 3] = [
    ("default.toml", include_str!("../config/default.toml")),
    ("staging.toml", include_str!("../config/staging.toml")),
    ("production.toml", include_str!("../config/production.toml")),
];

/// The table in `path`, or `None` when there is no such file.
fn read_optional_table(path: &Path) -> Result<Option<toml::Table>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
    };
    text.parse::<toml::Table>()
        .map(Some)
        .map_err(|source| ConfigError::Parse { path: path.to_owned(), source })
}

/// Deep merge: tables merge key by key, anything else in `over` replaces `base`.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Applies `TESSERA__SECTION__KEY=value` variables. A value is read as TOML when it
/// parses as one (numbers, booleans, arrays), else taken as a plain string.
fn apply_variables(
    table: &mut toml::Table,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    // Sorted so the outcome does not depend on the order of the process environment.
    let vars: BTreeMap<String, String> =
        vars.into_iter().filter(|(name, _)| name.starts_with(ENV_PREFIX)).collect();
    for (name, raw) in vars {
        let path: Vec<String> =
            name[ENV_PREFIX.len()..].split("__").map(|part| part.to_ascii_lowercase()).collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Variable { name, reason: "empty path segment".into() });
        }
        let value = parse_value(&raw);
        let (last, sections) = match path.split_last() {
            Some(split) => split,
            None => continue,
        };
        let mut cursor = &mut *table;
        for section in sections {
            let entry =
                cursor.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            cursor = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigError::Variable {
                        name: name.clone(),
                        reason: format!("`{section}` is a value, not a section"),
                    })
                }
            };
        }
        cursor.insert(last.clone(), value);
    }
    Ok(())
}

fn parse_value(raw: &str) -> toml::Value {
    let probe = format!("v = {raw}");
    match probe.parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

/// `postgres://user:secret@host/db` becomes `postgres://user:***@host/db`.
pub fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn development_is_the_default_file_alone() {
        let config = Config::load(&dir(), Environment::Development, vars(&[])).unwrap();
        assert_eq!(config.issuer, "http://127.0.0.1:8080");
        assert_eq!(config.server.bind, "127.0.0.1:8080");
        assert_eq!(config.database.url, "sqlite://data/tessera.db");
    }

    #[test]
    fn staging_file_overrides_default_and_keeps_the_rest() {
        let config = Config::load(&dir(), Environment::Staging, vars(&[])).unwrap();
        assert_eq!(config.database.url, "sqlite://data/staging.db");
        assert_eq!(config.keys.dir, PathBuf::from("keys/staging"));
        assert_eq!(config.tokens.access_token_ttl, 600);
    }

    #[test]
    fn variables_override_files_with_typed_values() {
        let config = Config::load(
            &dir(),
            Environment::Staging,
            vars(&[
                ("TESSERA__SERVER__BIND", "127.0.0.1:9000"),
                ("TESSERA__TOKENS__ACCESS_TOKEN_TTL", "60"),
                ("TESSERA__ISSUER", "http://127.0.0.1:9000/"),
                ("TESSERA__SCOPES__STREAMS", "[\"positions\"]"),
                ("OTHER__SERVER__BIND", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.bind, "127.0.0.1:9000");
        assert_eq!(config.tokens.access_token_ttl, 60);
        assert_eq!(config.issuer, "http://127.0.0.1:9000");
        assert_eq!(config.scopes.streams, vec!["positions".to_owned()]);
    }

    #[test]
    fn unknown_setting_is_refused() {
        let err = Config::load(&dir(), Environment::Development, vars(&[("TESSERA__SERVER__BINDD", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("bindd"), "{err}");
    }

    #[test]
    fn production_refuses_an_http_issuer() {
        let err = Config::load(
            &dir(),
            Environment::Production,
            vars(&[
                ("TESSERA__ISSUER", "http://auth.example.com"),
                ("TESSERA__SECURITY__DATA_KEYS", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ]),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Production(_)), "{err}");
        assert!(err.to_string().contains("https"), "{err}");
    }

    #[test]
    fn production_refuses_a_missing_data_key() {
        let err = Config::load(
            &dir(),
            Environment::Production,
            vars(&[("TESSERA__ISSUER", "https://auth.example.com")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("data key"), "{err}");
    }

    #[test]
    fn production_refuses_generated_keys() {
        let err = Config::load(
            &dir(),
            Environment::Production,
            vars(&[
                ("TESSERA__ISSUER", "https://auth.example.com"),
                ("TESSERA__SECURITY__DATA_KEYS", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                ("TESSERA__KEYS__AUTO_GENERATE", "true"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("auto_generate"), "{err}");
    }

    #[test]
    fn data_key_must_be_32_bytes() {
        let err = Config::load(
            &dir(),
            Environment::Development,
            vars(&[("TESSERA__SECURITY__DATA_KEYS", "c2hvcnQ=")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("32 bytes"), "{err}");
    }

    #[test]
    fn user_types_must_parse_and_name_the_default() {
        let err = Config::load(
            &dir(),
            Environment::Development,
            vars(&[("TESSERA__USERS__USER_TYPES__OPERATOR", "cars:read")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("users.user_types.operator"), "{err}");
        let err = Config::load(
            &dir(),
            Environment::Development,
            vars(&[("TESSERA__USERS__DEFAULT_USER_TYPE", "pilot")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("pilot"), "{err}");
    }

    #[test]
    fn database_password_is_redacted() {
        assert_eq!(redact_url_password("postgres://u:hunter2@localhost/db"), "postgres://u:***@localhost/db");
    }
}

//! The token-kind registry: every opaque token kind, and per kind what it looks
//! like, how long it lives, what it is bound to, where its scopes come from and
//! what it may do. Every other place asks the registry (`TokenKind::policy`),
//! whose matches are exhaustive, so a new kind is a compile error until each
//! question is answered.
//!
//! Invariants: a token's value is made only by `TokenKind::new_value` (prefix,
//! 256 random bits, checksum); it is stored only as its SHA-256 and, for kinds an
//! administrator may reveal, as AES-256-GCM ciphertext under the data key.

use std::collections::HashMap;
use std::sync::Mutex;

use ring::rand::SystemRandom;

use super::endpoints::Method;
use super::users::{self, User};
use super::DomainError;
use crate::config::Config;
use crate::domain::scope::Profile;
use crate::store::{Store, StoreError};
use crate::tokens::sealed::DataKeys;
use crate::tokens::secret::{self, Secret};

/// The kinds of opaque token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Master,
    Mobile,
    Api,
    Install,
    Refresh,
    /// An endpoint's token for one method, made with the endpoint.
    EndpointPrimary,
    /// An application's token for integrations, mapped to endpoints' methods.
    EndpointSecondary,
}

/// How long a kind lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// Until rotated (the master token).
    UntilRotated,
    /// An expiry is optional.
    Optional,
    /// An expiry is required, at most `tokens.api_max_lifetime` ahead.
    RequiredBounded,
    /// Fixed at issue: `tokens.install_ttl`.
    Fixed,
    /// Sliding, within its family's bound (refresh tokens).
    Sliding,
    /// Until regenerated (an endpoint's primary tokens).
    UntilRegenerated,
    /// Until disabled or deleted (secondary endpoint tokens).
    UntilDeleted,
}

/// What a token stands for besides its application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The application itself.
    Application,
    /// A user of the application (with a department and a user type).
    User,
    /// A user, and one device's install id, which must come with it.
    Device,
    /// One method of one endpoint of the application.
    Endpoint,
}

/// Where a token's scopes come from, at each check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeSource {
    Profile(Profile),
    /// The token's user type, never more than the user's own type allows now.
    UserType,
    /// Its row: what the login granted (refresh families).
    Grant,
    /// None: the token opens endpoints, checked by the endpoint check alone.
    NoScopes,
}

/// What a token's value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The kind's prefix, 256 random bits in base62, a CRC32 checksum: a secret
    /// scanner can tell it from noise offline.
    Checksummed,
    /// This many random alphanumerics, no prefix (the seed's endpoint tokens).
    Alphanumeric(usize),
}

/// Who may accept a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verifier {
    /// Wherever a token is presented: introspection, the admin API, token
    /// exchange, forward auth, as the kind's other abilities allow.
    Anywhere,
    /// The endpoint check (`POST /v1/endpoint-check`) alone.
    EndpointCheck,
}

/// Whether a kind opens the admin API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminAccess {
    Always,
    /// When its scopes hold `admin` (an API token of an admin-type user).
    WithAdminScope,
    Never,
}

/// What the registry says about one kind.
#[derive(Clone, Copy, Debug)]
pub struct KindPolicy {
    /// Empty for kinds without a prefix (`Form::Alphanumeric`).
    pub prefix: &'static str,
    pub form: Form,
    pub verifier: Verifier,
    /// Stored with the token and answered as introspection's `token_kind`.
    pub name: &'static str,
    pub lifetime: Lifetime,
    pub binding: Binding,
    pub scopes: ScopeSource,
    pub admin_api: AdminAccess,
    /// May be a `subject_token` of token exchange.
    pub exchange: bool,
    /// May travel in a `token` query parameter (forward auth).
    pub query_parameter: bool,
    /// An administrator may read its value again (kept encrypted under the data key).
    pub revealable: bool,
    /// Forward auth accepts it.
    pub forward_auth: bool,
}

impl TokenKind {
    pub const ALL: [TokenKind; 7] = [
        TokenKind::Master,
        TokenKind::Mobile,
        TokenKind::Api,
        TokenKind::Install,
        TokenKind::Refresh,
        TokenKind::EndpointPrimary,
        TokenKind::EndpointSecondary,
    ];

    pub const fn policy(self) -> KindPolicy {
        match self {
            TokenKind::Master => KindPolicy {
                prefix: "tsm_",
                form: Form::Checksummed,
                verifier: Verifier::Anywhere,
                name: "master",
                lifetime: Lifetime::UntilRotated,
                binding: Binding::Application,
                scopes: ScopeSource::Profile(Profile::Master),
                admin_api: AdminAccess::Always,
                exchange: true,
                query_parameter: false,
                revealable: false,
                forward_auth: true,
            },
            TokenKind::Mobile => KindPolicy {
                prefix: "tsb_",
                form: Form::Checksummed,
                verifier: Verifier::Anywhere,
                name: "mobile",
                lifetime: Lifetime::Optional,
                binding: Binding::Application,
                scopes: ScopeSource::Profile(Profile::Mobile),
                admin_api: AdminAccess::Never,
                exchange: true,
                query_parameter: false,
                revealable: false,
                forward_auth: true,
            },
            TokenKind::Api => KindPolicy {
                prefix: "tsa_",
                form: Form::Checksummed,
                verifier: Verifier::Anywhere,
                name: "api",
                lifetime: Lifetime::RequiredBounded,
                binding: Binding::User,
                scopes: ScopeSource::UserType,
                admin_api: AdminAccess::WithAdminScope,
                exchange: true,
                query_parameter: false,
                revealable: true,
                forward_auth: true,
            },
            TokenKind::Install => KindPolicy {
                prefix: "tsi_",
                form: Form::Checksummed,
                verifier: Verifier::Anywhere,
                name: "install",
                lifetime: Lifetime::Fixed,
                binding: Binding::Device,
                scopes: ScopeSource::UserType,
                admin_api: AdminAccess::Never,
                exchange: true,
                query_parameter: true,
                revealable: false,
                forward_auth: true,
            },
            TokenKind::Refresh => KindPolicy {
                prefix: "tsr_",
                form: Form::Checksummed,
                verifier: Verifier::Anywhere,
                name: "refresh_token",
                lifetime: Lifetime::Sliding,
                binding: Binding::User,
                scopes: ScopeSource::Grant,
                admin_api: AdminAccess::Never,
                exchange: false,
                query_parameter: false,
                revealable: false,
                forward_auth: false,
            },
            TokenKind::EndpointPrimary => KindPolicy {
                prefix: "",
                form: Form::Alphanumeric(ENDPOINT_TOKEN_LENGTH),
                verifier: Verifier::EndpointCheck,
                name: "endpoint_primary",
                lifetime: Lifetime::UntilRegenerated,
                binding: Binding::Endpoint,
                scopes: ScopeSource::NoScopes,
                admin_api: AdminAccess::Never,
                exchange: false,
                query_parameter: false,
                revealable: true,
                forward_auth: false,
            },
            TokenKind::EndpointSecondary => KindPolicy {
                prefix: "",
                form: Form::Alphanumeric(ENDPOINT_TOKEN_LENGTH),
                verifier: Verifier::EndpointCheck,
                name: "endpoint_secondary",
                lifetime: Lifetime::UntilDeleted,
                binding: Binding::Application,
                scopes: ScopeSource::NoScopes,
                admin_api: AdminAccess::Never,
                exchange: false,
                query_parameter: false,
                revealable: true,
                forward_auth: false,
            },
        }
    }

    pub fn prefix(self) -> &'static str {
        self.policy().prefix
    }

    pub fn name(self) -> &'static str {
        self.policy().name
    }

    /// The kind stored under `name`.
    pub fn from_name(name: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind a presented value claims by its prefix (kinds without one are
    /// never named this way: only the endpoint check knows them).
    pub fn of(presented: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| !k.prefix().is_empty() && presented.starts_with(k.prefix()))
    }

    /// A new value of this kind, in its form.
    pub fn new_value(self, rng: &SystemRandom) -> Result<Secret, DomainError> {
        match self.policy().form {
            Form::Checksummed => Ok(secret::generate_token(rng, self.prefix())?),
            Form::Alphanumeric(n) => Ok(Secret::new(secret::random_alphanumeric(rng, n)?)),
        }
    }
}

/// The length of endpoint tokens (primary and secondary): the seed's 64.
pub const ENDPOINT_TOKEN_LENGTH: usize = 64;

/// Whether `presented` has the form of an endpoint token: 64 ASCII alphanumerics.
pub fn is_endpoint_token_form(presented: &str) -> bool {
    presented.len() == ENDPOINT_TOKEN_LENGTH && presented.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `presented` is a well-formed tessera token, and of which kind: what
/// `tessera token check` answers, offline. Endpoint tokens carry no prefix nor
/// checksum, so only their form can be told.
pub fn check_format(presented: &str) -> Result<TokenKind, String> {
    let kind = TokenKind::of(presented).ok_or_else(|| {
        if is_endpoint_token_form(presented) {
            return "it has the form of an endpoint token (64 alphanumerics), which carries no \
                    checksum: only the endpoint check can tell a real one"
                .to_owned();
        }
        let prefixes: Vec<&str> =
            TokenKind::ALL.iter().map(|k| k.prefix()).filter(|p| !p.is_empty()).collect();
        format!("it starts with none of the prefixes {}", prefixes.join(", "))
    })?;
    secret::check_token_format(kind.prefix(), presented).map_err(|e| e.to_string())?;
    Ok(kind)
}

/// A platform token as stored: never the secret, only what describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformToken {
    pub id: String,
    pub kind: TokenKind,
    pub app_id: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// For user- and device-bound kinds.
    pub user_id: Option<String>,
    pub department: Option<String>,
    pub user_type: Option<String>,
    /// For device-bound kinds.
    pub install_id: Option<String>,
    pub description: Option<String>,
    /// For endpoint-bound kinds (primaries): the endpoint and the method.
    pub endpoint_id: Option<String>,
    pub method: Option<Method>,
}

/// A token just made, with its value, shown only now.
#[derive(Debug)]
pub struct CreatedToken {
    pub record: PlatformToken,
    pub token: Secret,
}

/// What a new token of any kind is made of; the registry checks it fits the kind.
#[derive(Debug, Default)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub expires_at: Option<i64>,
    /// For user- and device-bound kinds: the user, with the department and user
    /// type the token acts with.
    pub user: Option<&'a User>,
    pub department: Option<&'a str>,
    pub user_type: Option<&'a str>,
    pub install_id: Option<&'a str>,
    pub description: Option<&'a str>,
    /// For endpoint-bound kinds: the endpoint's id and the method.
    pub endpoint: Option<(&'a str, Method)>,
    /// Made switched off (kinds that can be enabled later).
    pub disabled: bool,
}

/// A token's new value, with what is stored of it: its SHA-256 and, for kinds an
/// administrator may reveal, its ciphertext bound to the token's id.
pub struct FreshValue {
    pub token: Secret,
    pub hash: [u8; 32],
    pub ciphertext: Option<Vec<u8>>,
}

impl FreshValue {
    pub fn new(data_keys: &DataKeys, kind: TokenKind, id: &str) -> Result<FreshValue, DomainError> {
        let token = kind.new_value(&SystemRandom::new())?;
        let ciphertext = if kind.policy().revealable {
            Some(data_keys.seal(token.expose().as_bytes(), reveal_context(id).as_bytes())?)
        } else {
            None
        };
        Ok(FreshValue { hash: secret::hash(token.expose().as_bytes()), token, ciphertext })
    }
}

/// A token made but not yet stored (so that it can be stored with what it
/// belongs to, in one transaction).
pub struct Prepared {
    pub record: PlatformToken,
    pub value: FreshValue,
}

/// Makes and stores a token of `kind` for `app_id`: the one way every kind except
/// the master (made with its application, then only rotated) and refresh tokens
/// (made by the token endpoint in their family) comes to be.
pub async fn mint(
    store: &Store,
    config: &Config,
    data_keys: &DataKeys,
    kind: TokenKind,
    app_id: &str,
    new: NewToken<'_>,
    now: i64,
) -> Result<CreatedToken, DomainError> {
    let Prepared { record, value } = prepare(store, config, data_keys, kind, app_id, new, now).await?;
    store.insert_platform_token(&record, &value.hash, value.ciphertext.as_deref()).await?;
    Ok(CreatedToken { record, token: value.token })
}

/// Checks `new` fits `kind` and makes the token's row and value, without
/// storing them.
pub async fn prepare(
    store: &Store,
    config: &Config,
    data_keys: &DataKeys,
    kind: TokenKind,
    app_id: &str,
    new: NewToken<'_>,
    now: i64,
) -> Result<Prepared, DomainError> {
    let policy = kind.policy();
    let name = valid_name(new.name)?;
    let expires_at = match policy.lifetime {
        Lifetime::Optional => {
            if new.expires_at.is_some_and(|exp| exp <= now) {
                return Err(DomainError::Invalid("expires_at must be in the future".into()));
            }
            new.expires_at
        }
        Lifetime::RequiredBounded => {
            let exp = new.expires_at.ok_or_else(|| DomainError::Invalid("expires_at is required".into()))?;
            if exp <= now {
                return Err(DomainError::Invalid("expires_at must be in the future".into()));
            }
            let max = config.tokens.api_max_lifetime as i64;
            if exp - now > max {
                return Err(DomainError::Unprocessable(format!(
                    "expires_at is more than {} days ahead, the longest an API token may live",
                    max / 86_400
                )));
            }
            Some(exp)
        }
        Lifetime::Fixed => Some(now + config.tokens.install_ttl as i64),
        Lifetime::UntilRegenerated | Lifetime::UntilDeleted => {
            if new.expires_at.is_some() {
                return Err(DomainError::Invalid(format!("a {} token does not expire", policy.name)));
            }
            None
        }
        Lifetime::UntilRotated | Lifetime::Sliding => {
            return Err(DomainError::Invalid(format!("a {} token is not minted on its own", policy.name)))
        }
    };
    let (user_id, department, user_type) = match policy.binding {
        Binding::Application | Binding::Endpoint => (None, None, None),
        Binding::User | Binding::Device => {
            let user = new.user.ok_or_else(|| DomainError::Invalid("a user is required".into()))?;
            if user.app_id != app_id {
                return Err(DomainError::Unprocessable("the user belongs to another application".into()));
            }
            if !user.enabled {
                return Err(DomainError::Unprocessable(format!("user `{}` is disabled", user.username)));
            }
            // The department and user type the token acts with: as given (they
            // must exist), else the user's own.
            let department = match new.department.filter(|d| !d.is_empty()) {
                Some(d) => {
                    users::require_department(store, app_id, d).await?;
                    Some(d.to_owned())
                }
                None => user.department.clone(),
            };
            let user_type = match new.user_type.filter(|t| !t.is_empty()) {
                Some(t) => {
                    users::require_user_type(store, &config.users, app_id, t).await?;
                    t.to_owned()
                }
                None => user.user_type.clone().unwrap_or_else(|| config.users.default_user_type.clone()),
            };
            (Some(user.id.clone()), department, Some(user_type))
        }
    };
    let install_id = match policy.binding {
        Binding::Device => Some(valid_install_id(new.install_id.unwrap_or_default())?),
        Binding::Application | Binding::User | Binding::Endpoint => None,
    };
    let (endpoint_id, method) = match policy.binding {
        Binding::Endpoint => {
            let (endpoint_id, method) =
                new.endpoint.ok_or_else(|| DomainError::Invalid("an endpoint is required".into()))?;
            (Some(endpoint_id.to_owned()), Some(method))
        }
        Binding::Application | Binding::User | Binding::Device => (None, None),
    };
    let description = new.description.map(|d| super::valid_text("description", d, 2000)).transpose()?;
    let rng = SystemRandom::new();
    let record = PlatformToken {
        id: secret::generate_id(&rng)?,
        kind,
        app_id: app_id.to_owned(),
        name,
        enabled: !new.disabled,
        created_at: now,
        expires_at,
        last_used_at: None,
        user_id,
        department,
        user_type,
        install_id,
        description,
        endpoint_id,
        method,
    };
    let value = FreshValue::new(data_keys, kind, &record.id)?;
    Ok(Prepared { record, value })
}

/// Gives a revealable token a new value; the old one stops at once. `None` when
/// the application has no such token.
pub async fn regenerate(
    store: &Store,
    data_keys: &DataKeys,
    kind: TokenKind,
    app_id: &str,
    id: &str,
) -> Result<Option<Secret>, DomainError> {
    if !kind.policy().revealable {
        return Err(DomainError::Invalid(format!("a {} token is not regenerated", kind.name())));
    }
    let value = FreshValue::new(data_keys, kind, id)?;
    let found = store
        .replace_platform_token_value(app_id, kind, id, &value.hash, value.ciphertext.as_deref())
        .await?;
    Ok(found.then_some(value.token))
}

/// The value of a revealable token, decrypted; `None` when the application has
/// no such token.
pub async fn reveal(
    store: &Store,
    data_keys: &DataKeys,
    kind: TokenKind,
    app_id: &str,
    id: &str,
) -> Result<Option<Secret>, DomainError> {
    if !kind.policy().revealable {
        return Err(DomainError::Invalid(format!("a {} token cannot be revealed", kind.name())));
    }
    let Some(ciphertext) = store.platform_token_ciphertext(app_id, kind, id).await? else {
        return Ok(None);
    };
    let ciphertext =
        ciphertext.ok_or_else(|| DomainError::Conflict("this token has no stored value".into()))?;
    let plain = data_keys.open(&ciphertext, reveal_context(id).as_bytes())?;
    let value =
        String::from_utf8(plain).map_err(|_| DomainError::Conflict("the stored value is corrupt".into()))?;
    Ok(Some(Secret::new(value)))
}

/// Binds a ciphertext to its row, so that it cannot be moved to another.
fn reveal_context(id: &str) -> String {
    format!("platform_tokens:{id}")
}

/// An install id: 1 to 200 printable characters without spaces.
pub fn valid_install_id(install_id: &str) -> Result<String, DomainError> {
    if install_id.is_empty() || install_id.len() > 200 || !install_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::Invalid(
            "installid must be 1 to 200 printable characters without spaces".into(),
        ));
    }
    Ok(install_id.to_owned())
}

/// Gives every application without a master token one (the `default` application
/// is made by the first migration, which cannot draw a random secret). Its value
/// is shown to nobody: rotating it is how an administrator gets one.
pub async fn ensure_master_tokens(store: &Store, now: i64) -> Result<Vec<String>, DomainError> {
    let missing = store.apps_without_master().await?;
    let rng = SystemRandom::new();
    for app_id in &missing {
        let token = TokenKind::Master.new_value(&rng)?;
        let record = master_record(&rng, app_id, now)?;
        match store.insert_platform_token(&record, &secret::hash(token.expose().as_bytes()), None).await {
            // Another instance or the CLI got there first: one master token either way.
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(missing)
}

/// The row of an application's master token.
pub fn master_record(rng: &SystemRandom, app_id: &str, now: i64) -> Result<PlatformToken, DomainError> {
    Ok(PlatformToken {
        id: secret::generate_id(rng)?,
        kind: TokenKind::Master,
        app_id: app_id.to_owned(),
        name: "master".to_owned(),
        enabled: true,
        created_at: now,
        expires_at: None,
        last_used_at: None,
        user_id: None,
        department: None,
        user_type: None,
        install_id: None,
        description: None,
        endpoint_id: None,
        method: None,
    })
}

/// Gives `app_id` a new master token; the old one stops working at once.
/// `presented` is the master token the caller authenticated with, if it did: the
/// rotation replaces that value only, so of concurrent rotations one wins and the
/// others are a conflict, never a token that silently does not work.
pub async fn rotate_master(
    store: &Store,
    app_id: &str,
    presented: Option<&[u8]>,
    now: i64,
) -> Result<Secret, DomainError> {
    let expected = match presented {
        Some(hash) => hash.to_vec(),
        None => store
            .master_token_hash(app_id)
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("a master token of application `{app_id}`")))?,
    };
    let token = TokenKind::Master.new_value(&SystemRandom::new())?;
    if !store.rotate_master_token(app_id, &expected, &secret::hash(token.expose().as_bytes()), now).await? {
        return Err(DomainError::Conflict(
            "the master token was rotated meanwhile by another request; use the newest one".into(),
        ));
    }
    Ok(token)
}

/// A token name: 1 to 200 characters, trimmed.
pub fn valid_name(name: &str) -> Result<String, DomainError> {
    super::valid_text("name", name, 200)
}

/// When platform tokens were last used, gathered in memory and written in batches
/// (by the change poller), so that using a token costs no write.
#[derive(Default)]
pub struct UsageLog(Mutex<HashMap<String, i64>>);

impl UsageLog {
    pub fn record(&self, token_id: &str, at: i64) {
        if let Ok(mut uses) = self.0.lock() {
            let seen = uses.entry(token_id.to_owned()).or_insert(at);
            *seen = (*seen).max(at);
        }
    }

    /// Everything recorded since the last drain.
    pub fn drain(&self) -> Vec<(String, i64)> {
        self.0.lock().map(|mut uses| uses.drain().collect()).unwrap_or_default()
    }

    /// Tokens whose use waits to be written.
    pub fn pending(&self) -> usize {
        self.0.lock().map(|uses| uses.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_name_the_kind() {
        assert_eq!(TokenKind::of("tsm_abc"), Some(TokenKind::Master));
        assert_eq!(TokenKind::of("tsb_abc"), Some(TokenKind::Mobile));
        assert_eq!(TokenKind::of("tsr_abc"), Some(TokenKind::Refresh));
        assert_eq!(TokenKind::of("eyJhbGciOi"), None);
    }

    #[test]
    fn every_kind_has_its_own_prefix_and_name() {
        for a in TokenKind::ALL {
            assert_eq!(TokenKind::from_name(a.name()), Some(a));
            // A prefix exactly when the value is checksummed.
            assert_eq!(a.prefix().is_empty(), a.policy().form != Form::Checksummed, "{a:?}");
            for b in TokenKind::ALL {
                if a != b {
                    assert!(a.prefix().is_empty() || a.prefix() != b.prefix());
                    assert_ne!(a.name(), b.name());
                }
            }
        }
    }

    #[test]
    fn new_values_pass_the_offline_check_and_noise_does_not() {
        let rng = SystemRandom::new();
        for kind in TokenKind::ALL {
            let value = kind.new_value(&rng).unwrap();
            match kind.policy().form {
                Form::Checksummed => assert_eq!(check_format(value.expose()), Ok(kind)),
                Form::Alphanumeric(n) => {
                    assert_eq!(value.expose().len(), n);
                    assert!(is_endpoint_token_form(value.expose()));
                    assert_eq!(TokenKind::of(value.expose()), None);
                    assert!(check_format(value.expose()).unwrap_err().contains("endpoint token"));
                }
            }
        }
        assert!(check_format("tsa_not-a-token").is_err());
        assert!(check_format("ghp_0123456789").is_err());
    }
}

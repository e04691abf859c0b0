//! Logging a person in: password check with a backoff per username and per client
//! address, and the scopes a user's type allows.
//!
//! Invariants: a refused login never says whether the username exists; an unknown
//! username costs the same argon2 work as a wrong password; while a subject is in
//! backoff its password is not even checked.

use std::sync::OnceLock;

use super::users::{self, User};
use super::DomainError;
use crate::config::{SecurityConfig, UsersConfig, WebConfig};
use crate::domain::scope::{ScopeModel, ScopeSet};
use crate::store::Store;
use crate::tokens::secret::Secret;

/// Failures older than this no longer count.
pub const FORGET_AFTER: i64 = 3600;

#[derive(Debug)]
pub enum LoginOutcome {
    Success(User),
    WrongCredentials,
    /// Too many recent failures; try again after this many seconds.
    Throttled {
        retry_after: i64,
    },
}

/// One attempt to log in to application `app_id`, from client `address`.
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    pub app_id: &'a str,
    pub username: &'a str,
    pub password: Secret,
    pub address: Option<&'a str>,
}

/// Checks the attempt's username and password, unless a backoff holds it back.
pub async fn login(
    store: &Store,
    web: &WebConfig,
    security: &SecurityConfig,
    attempt: LoginAttempt<'_>,
    now: i64,
) -> Result<LoginOutcome, DomainError> {
    let LoginAttempt { app_id, username, password, address } = attempt;
    let user_subject = format!("user:{app_id}:{}", username.to_lowercase());
    let address_subject = address.map(|a| format!("addr:{a}"));
    let mut subjects = vec![user_subject.as_str()];
    subjects.extend(address_subject.as_deref());
    let max = web.login_backoff_max_seconds;
    // The attempt is counted before the password is checked, atomically with the
    // backoff check, so parallel guesses cannot all pass the check first.
    let retry_after = store
        .claim_login_attempt(&subjects, now, |failures, last, index| {
            let after =
                if index == 0 { web.login_backoff_after } else { web.login_backoff_after_per_address };
            backoff(failures, last, after, max, now)
        })
        .await?;
    if retry_after > 0 {
        return Ok(LoginOutcome::Throttled { retry_after });
    }

    let user = store.find_user(app_id, username).await?;
    let stored = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash(security)?,
    };
    // argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || users::verify_password(&stored, password.expose()))
        .await
        .map_err(|e| DomainError::PasswordHash(e.to_string()))?;
    match user {
        // A disabled user is refused like a wrong password: nothing tells them apart.
        Some(user) if matches && user.enabled => {
            store.clear_login_failures(&user_subject).await?;
            if let Some(subject) = &address_subject {
                store.forgive_login_attempt(subject).await?;
            }
            Ok(LoginOutcome::Success(user))
        }
        _ => Ok(LoginOutcome::WrongCredentials),
    }
}

/// Seconds a subject must still wait: 2^(failures - after) after its last failure,
/// capped, once it has more than `after` recent failures.
fn backoff(failures: i64, last_failure_at: i64, after: u32, max: u64, now: i64) -> i64 {
    if now - last_failure_at > FORGET_AFTER || failures < i64::from(after) {
        return 0;
    }
    let exponent = (failures - i64::from(after)).clamp(0, 20) as u32;
    let delay = 2i64.pow(exponent).min(max as i64);
    (last_failure_at + delay - now).max(0)
}

/// A hash to check unknown usernames against, so that they cost as much as known ones.
fn dummy_hash(security: &SecurityConfig) -> Result<String, DomainError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let hash = users::hash_password(security, "tessera-no-such-user")?;
    Ok(DUMMY.get_or_init(|| hash).clone())
}

/// What `user`'s type allows: the scopes the user's application defines for the
/// type, else the configuration's for that name; the default type when the user
/// has none. A type defined nowhere allows nothing. A user with the admin flag is
/// allowed `admin` besides.
pub async fn user_type_bound(
    store: &Store,
    users: &UsersConfig,
    scopes: &ScopeModel,
    user: &User,
) -> Result<ScopeSet, DomainError> {
    let name = user.user_type.as_deref().unwrap_or(&users.default_user_type);
    let own = store.get_user_type(&user.app_id, name).await?.map(|own| own.scope);
    Ok(bound_of(users, scopes, user, own.as_deref()))
}

/// `user_type_bound` when the application's own definition of the user's type
/// (`own_scope`, `None` when it defines none) was read already.
pub fn bound_of(users: &UsersConfig, scopes: &ScopeModel, user: &User, own_scope: Option<&str>) -> ScopeSet {
    let name = user.user_type.as_deref().unwrap_or(&users.default_user_type);
    // The admin flag adds `admin` to whatever the type allows.
    let admin = if user.is_admin { scopes.admin() } else { ScopeSet::EMPTY };
    match defined_scopes(users, scopes, name, own_scope) {
        Some(set) => set.union(admin),
        None => {
            tracing::warn!(user_id = %user.id, user_type = name, "user type is not defined; it allows nothing");
            admin
        }
    }
}

/// What a person may grant a client at sign-in: what their type allows, and the
/// identity scopes (`openid`, `email`, `profile`), which are theirs to share
/// whatever the type; consent governs those.
pub async fn sign_in_bound(
    store: &Store,
    users: &UsersConfig,
    scopes: &ScopeModel,
    user: &User,
) -> Result<ScopeSet, DomainError> {
    Ok(user_type_bound(store, users, scopes, user).await?.union(scopes.identity()))
}

/// `sign_in_bound` when the application's own definition of the user's type was
/// read already (see `bound_of`).
pub fn sign_in_bound_of(
    users: &UsersConfig,
    scopes: &ScopeModel,
    user: &User,
    own_scope: Option<&str>,
) -> ScopeSet {
    bound_of(users, scopes, user, own_scope).union(scopes.identity())
}

/// What user type `name` of application `app_id` allows: the application's own
/// definition, else the configured one; `None` when neither defines it (or its
/// scope no longer parses).
pub async fn type_scopes(
    store: &Store,
    users: &UsersConfig,
    scopes: &ScopeModel,
    app_id: &str,
    name: &str,
) -> Result<Option<ScopeSet>, DomainError> {
    let own = store.get_user_type(app_id, name).await?.map(|own| own.scope);
    Ok(defined_scopes(users, scopes, name, own.as_deref()))
}

/// What user type `name` allows, given the application's own definition of it
/// (`own_scope`): that definition, else the configured one; `None` when neither
/// defines it (or its scope no longer parses).
fn defined_scopes(
    users: &UsersConfig,
    scopes: &ScopeModel,
    name: &str,
    own_scope: Option<&str>,
) -> Option<ScopeSet> {
    own_scope.or_else(|| users.user_types.get(name).map(String::as_str)).and_then(|s| scopes.parse(s).ok())
}

/// A browser session: its CSRF token, and who signed in through it and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginSession {
    pub csrf_token: String,
    pub user_id: Option<String>,
    pub authenticated_at: Option<i64>,
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_starts_after_the_threshold_and_doubles_up_to_the_cap() {
        assert_eq!(backoff(2, 100, 3, 300, 100), 0);
        assert_eq!(backoff(3, 100, 3, 300, 100), 1);
        assert_eq!(backoff(4, 100, 3, 300, 100), 2);
        assert_eq!(backoff(6, 100, 3, 300, 101), 7);
        assert_eq!(backoff(30, 100, 3, 300, 100), 300);
    }

    #[test]
    fn backoff_ends_when_the_wait_is_over_or_failures_are_old() {
        assert_eq!(backoff(4, 100, 3, 300, 102), 0);
        assert_eq!(backoff(30, 100, 3, 300, 100 + 3601), 0);
    }
}

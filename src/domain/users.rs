//! Users of an application: username, email, argon2id password, department, user
//! type and admin flag.
//!
//! Invariant: a password is kept only as an argon2id PHC string with the configured cost.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::SystemRandom;

use super::{apps, DomainError};
use crate::config::{Config, SecurityConfig, UsersConfig};
use crate::store::Store;
use crate::tokens::secret::{self, Secret};

/// Password length bounds, in characters (the admin API's schema states them).
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 1024;

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub app_id: String,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub department: Option<String>,
    pub user_type: Option<String>,
    pub is_admin: bool,
    /// A disabled user cannot log in or refresh, and their logins were ended.
    pub enabled: bool,
    pub created_at: i64,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("app_id", &self.app_id)
            .field("username", &self.username)
            .field("department", &self.department)
            .field("user_type", &self.user_type)
            .field("is_admin", &self.is_admin)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct NewUser {
    pub app_id: String,
    pub username: String,
    pub email: Option<String>,
    pub password: Secret,
    pub department: Option<String>,
    pub user_type: Option<String>,
    pub is_admin: bool,
}

pub async fn create(store: &Store, config: &Config, new: NewUser, now: i64) -> Result<User, DomainError> {
    apps::require(store, &new.app_id).await?;
    let username = super::valid_text("the username", &new.username, 200)?;
    if username.chars().any(char::is_whitespace) {
        return Err(DomainError::Invalid("the username must be 1 to 200 characters without spaces".into()));
    }
    if let Some(email) = &new.email {
        valid_email(email)?;
    }
    valid_password(&new.password)?;
    let department = new.department.filter(|d| !d.is_empty());
    let user_type = new.user_type.filter(|t| !t.is_empty());
    if let Some(d) = &department {
        require_department(store, &new.app_id, d).await?;
    }
    if let Some(t) = &user_type {
        require_user_type(store, &config.users, &new.app_id, t).await?;
    }
    let password_hash = hash_off_worker(&config.security, new.password).await?;
    let user = User {
        id: secret::generate_id(&SystemRandom::new())?,
        app_id: new.app_id,
        username,
        email: new.email,
        password_hash,
        department,
        user_type,
        is_admin: new.is_admin,
        enabled: true,
        created_at: now,
    };
    store.insert_user(&user).await?;
    Ok(user)
}

/// Changes to a user; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub email: Option<Option<String>>,
    pub password: Option<Secret>,
    pub department: Option<Option<String>>,
    pub user_type: Option<Option<String>>,
    pub is_admin: Option<bool>,
    pub enabled: Option<bool>,
}

/// Applies `changes` to the user `id` of `app_id`, column by column (a concurrent
/// change of another field is kept). A new password, another user type, or
/// disabling ends the user's logins.
pub async fn update(
    store: &Store,
    config: &Config,
    app_id: &str,
    id: &str,
    changes: UserChanges,
    now: i64,
) -> Result<User, DomainError> {
    let not_found = || DomainError::NotFound(format!("user `{id}`"));
    if store.get_user(app_id, id).await?.is_none() {
        return Err(not_found());
    }
    if let Some(Some(e)) = &changes.email {
        valid_email(e)?;
    }
    let department = changes.department.map(|d| d.filter(|d| !d.is_empty()));
    if let Some(Some(d)) = &department {
        require_department(store, app_id, d).await?;
    }
    let user_type = changes.user_type.map(|t| t.filter(|t| !t.is_empty()));
    if let Some(Some(t)) = &user_type {
        require_user_type(store, &config.users, app_id, t).await?;
    }
    let password_hash = match changes.password {
        Some(password) => {
            valid_password(&password)?;
            Some(hash_off_worker(&config.security, password).await?)
        }
        None => None,
    };
    let update = UserUpdate {
        email: changes.email.as_ref().map(|e| e.as_deref()),
        password_hash: password_hash.as_deref(),
        department: department.as_ref().map(|d| d.as_deref()),
        user_type: user_type.as_ref().map(|t| t.as_deref()),
        is_admin: changes.is_admin,
        enabled: changes.enabled,
    };
    store.update_user(app_id, id, &update, now).await?.ok_or_else(not_found)
}

/// Adds department `name` to the application; a name it has already is a conflict.
pub async fn add_department(
    store: &Store,
    app_id: &str,
    name: &str,
    now: i64,
) -> Result<Department, DomainError> {
    let name = super::platform_tokens::valid_name(name)?;
    if !store.insert_department(app_id, &name, now).await? {
        return Err(DomainError::Conflict(format!("department `{name}` already exists")));
    }
    Ok(Department { name, created_at: now, users: 0 })
}

/// The department must be one of the application's: a misspelt name is an error,
/// never a new department.
pub async fn require_department(store: &Store, app_id: &str, name: &str) -> Result<(), DomainError> {
    if !store.department_exists(app_id, name).await? {
        return Err(DomainError::Unprocessable(format!(
            "department `{}` does not exist in this application; create it first",
            name.escape_default()
        )));
    }
    Ok(())
}

/// The user type must be defined, by the application or by the configuration.
pub async fn require_user_type(
    store: &Store,
    users: &UsersConfig,
    app_id: &str,
    name: &str,
) -> Result<(), DomainError> {
    if users.user_types.contains_key(name) || store.get_user_type(app_id, name).await?.is_some() {
        return Ok(());
    }
    let mut known: Vec<String> = users.user_types.keys().cloned().collect();
    known.extend(store.list_user_types(app_id).await?.into_iter().map(|t| t.name));
    known.sort();
    known.dedup();
    Err(DomainError::Unprocessable(format!(
        "user type `{}` is not defined; known types: {}",
        name.escape_default(),
        known.join(", ")
    )))
}

/// argon2 is deliberately slow: it runs on the blocking pool, never on a worker.
async fn hash_off_worker(security: &SecurityConfig, password: Secret) -> Result<String, DomainError> {
    let security = security.clone();
    tokio::task::spawn_blocking(move || hash_password(&security, password.expose()))
        .await
        .map_err(|e| DomainError::PasswordHash(e.to_string()))?
}

fn valid_email(email: &str) -> Result<(), DomainError> {
    if !email.contains('@') || email.len() > 320 || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DomainError::Invalid(format!("`{email}` is not an email address")));
    }
    Ok(())
}

fn valid_password(password: &Secret) -> Result<(), DomainError> {
    let length = password.expose().chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) || password.expose().contains('\0') {
        return Err(DomainError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD} and at most {MAX_PASSWORD} characters, and no NUL"
        )));
    }
    Ok(())
}

fn argon2(security: &SecurityConfig) -> Result<Argon2<'static>, DomainError> {
    let params = Params::new(
        security.argon2_memory_kib,
        security.argon2_iterations,
        security.argon2_parallelism,
        None,
    )
    .map_err(|e| DomainError::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An argon2id PHC string for `password`, with a random salt.
pub fn hash_password(security: &SecurityConfig, password: &str) -> Result<String, DomainError> {
    let salt_bytes = secret::random_bytes::<16>(&SystemRandom::new())?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| DomainError::PasswordHash(e.to_string()))?;
    argon2(security)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::PasswordHash(e.to_string()))
}

/// Whether `password` matches the stored PHC string (constant time inside argon2).
pub fn verify_password(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A department of an application, with how many users it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Department {
    pub name: String,
    pub created_at: i64,
    /// How many users belong to it.
    pub users: i64,
}

/// A user type an application defines for itself (beside the configured ones): its scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinedUserType {
    pub name: String,
    pub scope: String,
    pub updated_at: i64,
}

/// The columns a change sets; `None` leaves a column as it is, `Some(None)`
/// clears a nullable one.
#[derive(Debug, Default)]
pub struct UserUpdate<'a> {
    pub email: Option<Option<&'a str>>,
    pub password_hash: Option<&'a str>,
    pub department: Option<Option<&'a str>>,
    pub user_type: Option<Option<&'a str>>,
    pub is_admin: Option<bool>,
    pub enabled: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> SecurityConfig {
        SecurityConfig {
            data_keys: Vec::new(),
            data_key_file: std::path::PathBuf::new(),
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            argon2_parallelism: 1,
        }
    }

    #[test]
    fn passwords_hash_as_argon2id_and_verify() {
        let hash = hash_password(&cheap(), "correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
        assert!(!verify_password("not a hash", "correct horse"));
    }
}

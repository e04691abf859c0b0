//! Users of an application: username, email, argon2id password, department, user
//! type and admin flag.
//!
//! Invariant: a password is kept only as an argon2id PHC string with the configured cost.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::SystemRandom;

use super::{apps, DomainError};
use crate::config::SecurityConfig;
use crate::store::Store;
use crate::tokens::secret::{self, Secret};

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

pub async fn create(
    store: &Store,
    security: &SecurityConfig,
    new: NewUser,
    now: i64,
) -> Result<User, DomainError> {
    apps::require(store, &new.app_id).await?;
    let username = new.username.trim();
    if username.is_empty() || username.len() > 200 || username.chars().any(char::is_whitespace) {
        return Err(DomainError::Invalid("the username must be 1 to 200 characters without spaces".into()));
    }
    if let Some(email) = &new.email {
        valid_email(email)?;
    }
    valid_password(&new.password)?;
    let password_hash = hash_password(security, new.password.expose())?;
    let user = User {
        id: secret::generate_id(&SystemRandom::new())?,
        app_id: new.app_id,
        username: username.to_owned(),
        email: new.email,
        password_hash,
        department: new.department.filter(|d| !d.is_empty()),
        user_type: new.user_type.filter(|t| !t.is_empty()),
        is_admin: new.is_admin,
        created_at: now,
    };
    if let Some(department) = &user.department {
        // Naming a department makes it one of the application's.
        store.insert_department(&user.app_id, department, now).await?;
    }
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
}

/// Applies `changes` to the user `id` of `app_id`.
pub async fn update(
    store: &Store,
    security: &SecurityConfig,
    app_id: &str,
    id: &str,
    changes: UserChanges,
    now: i64,
) -> Result<User, DomainError> {
    let mut user = store
        .get_user(id)
        .await?
        .filter(|u| u.app_id == app_id)
        .ok_or_else(|| DomainError::NotFound(format!("user `{id}`")))?;
    if let Some(email) = changes.email {
        if let Some(e) = &email {
            valid_email(e)?;
        }
        user.email = email;
    }
    if let Some(password) = changes.password {
        valid_password(&password)?;
        user.password_hash = hash_password(security, password.expose())?;
    }
    if let Some(department) = changes.department {
        let department = department.filter(|d| !d.is_empty());
        if let Some(d) = &department {
            store.insert_department(app_id, d, now).await?;
        }
        user.department = department;
    }
    if let Some(user_type) = changes.user_type {
        user.user_type = user_type.filter(|t| !t.is_empty());
    }
    if let Some(is_admin) = changes.is_admin {
        user.is_admin = is_admin;
    }
    store.update_user(&user).await?;
    Ok(user)
}

fn valid_email(email: &str) -> Result<(), DomainError> {
    if !email.contains('@') || email.chars().any(char::is_whitespace) {
        return Err(DomainError::Invalid(format!("`{email}` is not an email address")));
    }
    Ok(())
}

fn valid_password(password: &Secret) -> Result<(), DomainError> {
    if password.expose().chars().count() < 8 {
        return Err(DomainError::Invalid("the password must have at least 8 characters".into()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> SecurityConfig {
        SecurityConfig {
            data_key: String::new(),
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

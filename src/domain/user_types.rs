//! User types of an application: the scopes a token for a user of that type may
//! carry. An application defines its own; the configuration's apply to the
//! names it does not define. The admin API and the console both go through here.

use super::DomainError;
use crate::config::Config;
use crate::domain::scope::ScopeModel;
use crate::store::Store;

/// A user type as it applies to an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTypeView {
    pub name: String,
    /// The single scopes it allows, space separated.
    pub scope: String,
    /// Defined by the configuration (not by the application).
    pub from_configuration: bool,
}

/// A user type name: 1 to 64 of a-z, 0-9, `_` and `-`.
pub fn valid_name(name: &str) -> Result<(), DomainError> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DomainError::Invalid("a user type name is 1 to 64 of a-z, 0-9, _ and -".into()))
    }
}

/// The application's own types and the configured ones it does not override, by name.
pub async fn list(
    store: &Store,
    config: &Config,
    scopes: &ScopeModel,
    app_id: &str,
) -> Result<Vec<UserTypeView>, DomainError> {
    let own = store.list_user_types(app_id).await?;
    let mut items: Vec<UserTypeView> = config
        .users
        .user_types
        .iter()
        .filter(|(name, _)| !own.iter().any(|t| &t.name == *name))
        .map(|(name, scope)| UserTypeView {
            name: name.clone(),
            scope: scopes.format(scopes.parse(scope).unwrap_or_default()),
            from_configuration: true,
        })
        .collect();
    for t in own {
        let set = scopes.parse(&t.scope).unwrap_or_default();
        items.push(UserTypeView { name: t.name, scope: scopes.format(set), from_configuration: false });
    }
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(items)
}

/// Defines or redefines the application's type `name` as `scope` (profiles,
/// `admin` and single scopes, space separated; at least one).
pub async fn define(
    store: &Store,
    scopes: &ScopeModel,
    app_id: &str,
    name: &str,
    scope: &str,
    now: i64,
) -> Result<UserTypeView, DomainError> {
    valid_name(name)?;
    let set = scopes.parse(scope).map_err(|e| DomainError::Invalid(e.to_string()))?;
    if set.is_empty() {
        return Err(DomainError::Invalid("a user type must allow at least one scope".into()));
    }
    let scope = scopes.format(set);
    store.put_user_type(app_id, name, &scope, now).await?;
    Ok(UserTypeView { name: name.to_owned(), scope, from_configuration: false })
}

/// Removes the application's own definition of `name` (a configured type of that
/// name applies again); answers whether there was one. Refused while users have
/// the type and no configured one would apply.
pub async fn remove(store: &Store, config: &Config, app_id: &str, name: &str) -> Result<bool, DomainError> {
    let fallback = config.users.user_types.contains_key(name);
    Ok(store.delete_user_type(app_id, name, fallback).await?)
}

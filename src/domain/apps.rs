//! Applications: the tenants that own clients, users and tokens.

use ring::rand::SystemRandom;

use super::DomainError;
use crate::store::Store;
use crate::tokens::secret;

/// The application every installation starts with.
pub const DEFAULT_APP: &str = "default";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// Creates an application with a random id.
pub async fn create(store: &Store, name: &str, now: i64) -> Result<Application, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(DomainError::Invalid("the application name must be 1 to 200 characters".into()));
    }
    let app = Application {
        id: secret::generate_id(&SystemRandom::new())?,
        name: name.to_owned(),
        created_at: now,
    };
    store.insert_app(&app).await?;
    Ok(app)
}

/// The application `id`, or a not-found error naming it.
pub async fn require(store: &Store, id: &str) -> Result<Application, DomainError> {
    store.get_app(id).await?.ok_or_else(|| DomainError::NotFound(format!("application `{id}`")))
}

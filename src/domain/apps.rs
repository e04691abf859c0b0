//! Applications: the tenants that own clients, users and tokens.

use ring::rand::SystemRandom;

use super::platform_tokens::{self, TokenKind};
use super::DomainError;
use crate::store::Store;
use crate::tokens::secret::{self, Secret};

/// The application every installation starts with.
pub const DEFAULT_APP: &str = "default";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// Whether `/v1/auth/check` answers for this application.
    pub forward_auth: bool,
}

/// An application just created, with its master token, shown only now.
#[derive(Debug)]
pub struct CreatedApp {
    pub app: Application,
    pub master_token: Secret,
}

/// Creates an application with a random id and its one master token.
pub async fn create(store: &Store, name: &str, now: i64) -> Result<CreatedApp, DomainError> {
    let name = super::valid_text("the application name", name, 200)?;
    let name = name.as_str();
    let rng = SystemRandom::new();
    let app = Application {
        id: secret::generate_id(&rng)?,
        name: name.to_owned(),
        created_at: now,
        forward_auth: false,
    };
    let master_token = TokenKind::Master.new_value(&rng)?;
    let record = platform_tokens::master_record(&rng, &app.id, now)?;
    store.insert_app_with_master(&app, &record, &secret::hash(master_token.expose().as_bytes())).await?;
    Ok(CreatedApp { app, master_token })
}

/// The application `id`, or a not-found error naming it.
pub async fn require(store: &Store, id: &str) -> Result<Application, DomainError> {
    store.get_app(id).await?.ok_or_else(|| DomainError::NotFound(format!("application `{id}`")))
}

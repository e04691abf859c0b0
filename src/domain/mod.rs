//! The platform's entities and the rules that decide about them: applications,
//! clients, users, the scope algebra. No HTTP and no SQL here; callers pass the clock (`now`, unix seconds).

pub mod apps;
pub mod audit;
pub mod client_cache;
pub mod clients;
pub mod console;
pub mod endpoints;
pub mod grants;
pub mod group_commit;
pub mod keys;
pub mod login;
pub mod platform_tokens;
pub mod scope;
pub mod status;
pub mod sweep;
pub mod user_types;
pub mod users;

/// Errors of domain rules, phrased for the person who gave the input.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Well formed, but it names something that does not exist (a user type, a
    /// department): 422 at the admin API.
    #[error("{0}")]
    Unprocessable(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the system random generator failed")]
    Random,
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error(transparent)]
    Seal(#[from] crate::tokens::sealed::SealError),
}

impl From<ring::error::Unspecified> for DomainError {
    fn from(_: ring::error::Unspecified) -> Self {
        DomainError::Random
    }
}

/// A name or label of `field`: trimmed, 1 to `max` characters, no control
/// characters (a NUL cannot be stored by Postgres, and none belongs in a name).
pub fn valid_text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(DomainError::Invalid(format!("{field} must be 1 to {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::Invalid(format!("{field} must not contain control characters")));
    }
    Ok(value.to_owned())
}

/// The server's clock, in unix seconds. Request handling reads time only from here,
/// so that tests can move it forward instead of sleeping.
#[derive(Debug, Default)]
pub struct Clock {
    offset: std::sync::atomic::AtomicI64,
}

impl Clock {
    pub fn now(&self) -> i64 {
        now() + self.offset.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves the clock forward by `seconds` (tests only need this).
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The system time in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

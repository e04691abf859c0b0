//! Signing keys as the database knows them: the private keys themselves live in the
//! keys directory.

/// A signing key this environment has used, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub alg: String,
    pub origin: String,
    pub created_at: i64,
    pub seen_at: i64,
}

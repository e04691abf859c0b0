//! What the OAuth grants keep between requests: authorization codes until they are
//! redeemed, refresh token families and their tokens until they end.

/// An issued authorization code (kept by its SHA-256) and what it was issued for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    /// The authorization request's `nonce`, for the ID token (OpenID Connect).
    pub nonce: Option<String>,
    /// When the person signed in, for the ID token's `auth_time`.
    pub auth_time: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What presenting a code found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now spent.
    Redeemed(AuthorizationCode),
    /// A second use; what the first use issued, if it was recorded yet.
    Replayed {
        family_id: Option<String>,
        access_jti: Option<String>,
        access_expires_at: Option<i64>,
        /// The access token's status list and index.
        access_status: Option<(i64, i64)>,
    },
    Expired,
    Unknown,
}

/// The chain of refresh tokens one grant started; revoking it ends them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshFamily {
    pub id: String,
    pub app_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A presented refresh token, with its family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub family: RefreshFamily,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

/// A presented refresh token with what refreshing it reads: the family's user
/// (`None` once deleted) and that user's type as the application defines it
/// (`None` when the application does not, and the configured one applies).
#[derive(Clone, Debug)]
pub struct PresentedRefresh {
    pub token: RefreshToken,
    pub user: Option<crate::domain::users::User>,
    pub own_type_scope: Option<String>,
}

/// One refresh rotation waiting for its batch: spend `old_hash`, add `new_hash`
/// to the family, and record where the new access token's revocation bit is.
#[derive(Clone, Debug)]
pub struct RotationJob {
    pub family_id: String,
    pub old_hash: Vec<u8>,
    pub new_hash: Vec<u8>,
    pub new_expires_at: i64,
    pub access: StatusEntry,
}

/// An access token issued in a login, by its `jti`, with its status list index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEntry {
    pub jti: String,
    pub list_id: i64,
    pub idx: i64,
    pub expires_at: i64,
}

/// What rotating a refresh token found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// Someone spent it first: reuse.
    AlreadySpent,
    /// The family was revoked or has expired.
    FamilyEnded,
}

/// A person signed in through a client of type `mobile`: a live refresh token
/// family, with who it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MobileSession {
    /// The refresh token family's id.
    pub id: String,
    pub app_id: String,
    pub client_id: String,
    pub user_id: String,
    pub username: String,
    pub email: Option<String>,
    pub department: Option<String>,
    pub user_type: Option<String>,
    pub created_at: i64,
    pub last_active: i64,
    /// When it ends unless used: its newest refresh token's expiry, within the
    /// family's bound.
    pub expires_at: i64,
}

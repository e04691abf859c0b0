//! Authorization codes, consumed atomically (`UPDATE ... RETURNING`), never
//! read-then-written.

use super::{domain_row, on_pool, Store, StoreError};
use crate::domain::grants::{AuthorizationCode, CodeRedemption};

domain_row!(CodeRow => AuthorizationCode {
    client_id: String,
    user_id: String,
    redirect_uri: String,
    scope: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    auth_time: Option<i64>,
    created_at: i64,
    expires_at: i64,
});

#[derive(sqlx::FromRow)]
struct SpentCode {
    used_at: Option<i64>,
    family_id: Option<String>,
    access_jti: Option<String>,
    access_expires_at: Option<i64>,
    access_status_list: Option<i64>,
    access_status_idx: Option<i64>,
}

impl Store {
    pub async fn insert_code(&self, code_hash: &[u8], code: &AuthorizationCode) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, \
                 code_challenge, nonce, auth_time, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(code_hash)
            .bind(&code.client_id)
            .bind(&code.user_id)
            .bind(&code.redirect_uri)
            .bind(&code.scope)
            .bind(code.code_challenge.as_deref())
            .bind(code.nonce.as_deref())
            .bind(code.auth_time)
            .bind(code.created_at)
            .bind(code.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Spends the code if it is unused and unexpired; otherwise says why not, and
    /// marks a replay so that a first use still being answered revokes what it issued.
    pub async fn redeem_code(&self, code_hash: &[u8], now: i64) -> Result<CodeRedemption, StoreError> {
        let spent = on_pool!(self, pool => {
            sqlx::query_as::<_, CodeRow>(
                "UPDATE authorization_codes SET used_at = $2 \
                 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                 RETURNING client_id, user_id, redirect_uri, scope, code_challenge, nonce, auth_time, \
                 created_at, expires_at",
            )
            .bind(code_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        if let Some(code) = spent {
            return Ok(CodeRedemption::Redeemed(code.into()));
        }
        let replay = on_pool!(self, pool => {
            sqlx::query_as::<_, SpentCode>(
                "UPDATE authorization_codes SET replayed_at = $2 WHERE code_hash = $1 AND used_at IS NOT NULL \
                 RETURNING used_at, family_id, access_jti, access_expires_at, access_status_list, access_status_idx",
            )
            .bind(code_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        if let Some(SpentCode {
            used_at: Some(_),
            family_id,
            access_jti,
            access_expires_at,
            access_status_list,
            access_status_idx,
        }) = replay
        {
            let access_status = access_status_list.zip(access_status_idx);
            return Ok(CodeRedemption::Replayed { family_id, access_jti, access_expires_at, access_status });
        }
        let exists = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT expires_at FROM authorization_codes WHERE code_hash = $1")
                .bind(code_hash)
                .fetch_optional(pool)
                .await?
        });
        Ok(if exists.is_some() { CodeRedemption::Expired } else { CodeRedemption::Unknown })
    }

    /// Records what a code's first use issued. Answers whether the code was
    /// replayed meanwhile, in which case the caller revokes what it just issued.
    pub async fn record_code_issue(
        &self,
        code_hash: &[u8],
        family_id: Option<&str>,
        access_jti: &str,
        access_expires_at: i64,
        access_status: (i64, i64),
    ) -> Result<bool, StoreError> {
        let replayed = on_pool!(self, pool => {
            sqlx::query_scalar::<_, Option<i64>>(
                "UPDATE authorization_codes SET family_id = $2, access_jti = $3, access_expires_at = $4, \
                 access_status_list = $5, access_status_idx = $6 WHERE code_hash = $1 RETURNING replayed_at",
            )
            .bind(code_hash)
            .bind(family_id)
            .bind(access_jti)
            .bind(access_expires_at)
            .bind(access_status.0)
            .bind(access_status.1)
            .fetch_optional(pool)
            .await?
        });
        Ok(matches!(replayed, Some(Some(_))))
    }

    /// Denies an access token (by `jti`) until it would have expired anyway.
    pub async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
                .bind(jti)
                .bind(expires_at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The `jti`s of access tokens revoked before their expiry that have not
    /// expired by `now`.
    pub async fn revoked_jtis(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let jtis = on_pool!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT jti FROM revoked_access_tokens WHERE expires_at > $1")
                .bind(now)
                .fetch_all(pool)
                .await?
        });
        Ok(jtis)
    }
}

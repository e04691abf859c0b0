//! `Verified<S>` as an axum extractor: the state gives an `Arc<Verifier>`
//! (`FromRef`); refusals answer as the actix extractor's do.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::{bearer, Rejection, RequiredScope, Verified, Verifier};

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        let body = serde_json::json!({ "error": self.to_string() }).to_string();
        (
            status,
            [
                (header::WWW_AUTHENTICATE, self.challenge()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
                (header::CONTENT_TYPE, "application/json".to_owned()),
            ],
            body,
        )
            .into_response()
    }
}

impl<S, St> FromRequestParts<St> for Verified<S>
where
    S: RequiredScope + Send + Sync,
    St: Send + Sync,
    Arc<Verifier>: FromRef<St>,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<Verifier>::from_ref(state);
        let token = bearer(parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()))
            .ok_or(Rejection::Missing)?
            .to_owned();
        Verified::check(&verifier, &token).await
    }
}

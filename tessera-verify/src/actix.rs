//! `Verified<S>` as an actix-web extractor. The app holds the verifier as
//! `web::Data<Verifier>`; a request without a valid token holding `S`'s scope is
//! answered 401 or 403 with a `WWW-Authenticate` challenge (RFC 6750 §3), or 503
//! when the issuer's keys or status list cannot be fetched.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};

use crate::{bearer, Rejection, RequiredScope, Verified, Verifier};

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::UNAUTHORIZED)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header((header::WWW_AUTHENTICATE, self.challenge()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "error": self.to_string() }))
    }
}

impl<S: RequiredScope + 'static> FromRequest for Verified<S> {
    type Error = Rejection;
    type Future = Pin<Box<dyn Future<Output = Result<Verified<S>, Rejection>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<Verifier>>().cloned();
        let token =
            bearer(req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())).map(str::to_owned);
        Box::pin(async move {
            let verifier = verifier.ok_or_else(|| {
                Rejection::Token(crate::VerifyError::KeysUnavailable(
                    "no Verifier in the app data (web::Data<Verifier>)".into(),
                ))
            })?;
            let token = token.ok_or(Rejection::Missing)?;
            Verified::check(&verifier, &token).await
        })
    }
}

//! `POST /v1/endpoint-check`: a gateway, or the integration endpoint itself,
//! asks whether a token may make a call, and learns which token made it.
//!
//! Invariants: the token is the only credential; the answer comes from the
//! in-memory index (no database read or write on the request); every call to
//! a known endpoint is recorded for the data viewer; a refusal is a 200
//! `{"allowed": false, "reason": ...}`, bad input a 400 problem, never a 500.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::endpoints::EndpointTokenKind;
use super::error::ApiError;
use crate::domain::endpoints::{Decision, Method};
use crate::AppState;

/// The largest request body accepted, in bytes: an id, a method and a token fit
/// many times over.
pub const MAX_BODY: usize = 4096;

#[derive(Deserialize)]
pub struct CheckRequest {
    endpoint: String,
    method: String,
    token: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum CheckResponse {
    Allowed { allowed: bool, token_kind: EndpointTokenKind, token_name: String, token_id: String },
    Denied { allowed: bool, reason: &'static str },
}

pub async fn check(
    state: web::Data<AppState>,
    body: web::Json<CheckRequest>,
) -> Result<HttpResponse, ApiError> {
    let method = Method::parse(&body.method).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "method `{}` is not one of POST, GET, DELETE",
            body.method.escape_default()
        ))
    })?;
    let now = state.clock.now();
    let answer = match state.endpoints.check(&body.endpoint, method, &body.token, now) {
        Decision::Allowed(token) => {
            state.token_use.record(&token.id, now);
            CheckResponse::Allowed {
                allowed: true,
                token_kind: EndpointTokenKind::of(token.kind).ok_or_else(|| {
                    ApiError::Internal(format!("a {} token in the endpoint index", token.kind.name()))
                })?,
                token_name: token.name.to_string(),
                token_id: token.id.to_string(),
            }
        }
        Decision::Denied(reason) => CheckResponse::Denied { allowed: false, reason: reason.as_str() },
    };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(answer))
}

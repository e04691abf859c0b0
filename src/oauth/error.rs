//! RFC 6749 §5.2 error answers of the token endpoint (and later introspection and
//! revocation): one enum whose variants are the RFC error codes, mapped onto HTTP
//! here and nowhere else.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// How the client tried to authenticate, which decides the 401 challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    Basic,
    Post,
    None,
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Client authentication failed (RFC 6749 §5.2); 401.
    #[error("invalid_client: {description}")]
    InvalidClient { description: String, scheme: AuthScheme },
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// RFC 7009 §2.2.1: this server does not revoke that kind of token here.
    #[error("unsupported_token_type: {0}")]
    UnsupportedTokenType(String),
    /// The endpoint only takes POST (RFC 6749 §3.2); 405 with the RFC error body.
    #[error("invalid_request: method not allowed")]
    MethodNotAllowed,
    /// Anything unexpected; the cause is logged, the client sees a generic answer.
    #[error("server_error")]
    Server(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

impl OAuthError {
    pub fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::InvalidRequest(description.into())
    }

    pub fn invalid_client(description: impl Into<String>, scheme: AuthScheme) -> Self {
        OAuthError::InvalidClient { description: description.into(), scheme }
    }

    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) | OAuthError::MethodNotAllowed => "invalid_request",
            OAuthError::InvalidClient { .. } => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::UnsupportedTokenType(_) => "unsupported_token_type",
            OAuthError::Server(_) => "server_error",
        }
    }

    fn description(&self) -> Option<&str> {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidGrant(d)
            | OAuthError::UnauthorizedClient(d)
            | OAuthError::UnsupportedGrantType(d)
            | OAuthError::InvalidScope(d)
            | OAuthError::UnsupportedTokenType(d) => Some(d),
            OAuthError::InvalidClient { description, .. } => Some(description),
            OAuthError::MethodNotAllowed => Some("this endpoint accepts POST only"),
            OAuthError::Server(_) => Some("the server could not complete the request"),
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            OAuthError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            OAuthError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            OAuthError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let OAuthError::Server(cause) = self {
            tracing::error!(cause = %cause, "oauth request failed");
        } else {
            tracing::info!(
                error = self.code(),
                description = self.description().unwrap_or(""),
                "oauth request refused"
            );
        }
        let mut response = HttpResponse::build(self.status_code());
        response
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
        match self {
            // RFC 6749 §5.2: a failed Basic authentication answers with the challenge.
            OAuthError::InvalidClient { scheme: AuthScheme::Basic, .. } => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Basic realm="tessera", charset="UTF-8""#),
                ));
            }
            OAuthError::MethodNotAllowed => {
                response.insert_header((header::ALLOW, HeaderValue::from_static("POST")));
            }
            _ => {}
        }
        response.json(ErrorBody { error: self.code(), error_description: self.description() })
    }
}

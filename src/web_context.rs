//! Per-request context for every route: a request id (taken from a well-formed
//! `X-Request-Id`, else made), a tracing span carrying it, the id echoed in the
//! answer, and one log line per request.
//!
//! Invariant: only the path is logged, never the query string, headers or body,
//! which may carry secrets.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_safe_id(v))
        .map(str::to_owned)
        .unwrap_or_else(new_id);
    // The span and the timing cost something on every request; skip them when
    // nothing would be written (the benchmark runs at `warn`).
    if !tracing::enabled!(tracing::Level::INFO) {
        let mut res = next.call(req).await?;
        insert_id(&mut res, &id);
        return Ok(res);
    }
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    insert_id(&mut res, &id);
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "answered"
        )
    });
    Ok(res)
}

fn insert_id<B>(res: &mut ServiceResponse<B>, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        res.headers_mut().insert(REQUEST_ID.clone(), value);
    }
}

fn is_safe_id(v: &str) -> bool {
    !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A process-unique id: a random prefix chosen at start and a counter.
fn new_id() -> String {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        crate::tokens::secret::random_bytes::<4>(&ring::rand::SystemRandom::new())
            .map(u32::from_be_bytes)
            .unwrap_or(0)
    });
    format!("{prefix:08x}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

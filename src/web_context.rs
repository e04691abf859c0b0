//! Per-request context for every route: a request id (taken from a well-formed
//! `X-Request-Id`, else made), a tracing span carrying it, the id echoed in the
//! answer, and one log line per request; and a deadline on reading the body
//! (`server.body_timeout_ms`), so that a body that never arrives cannot hold a
//! connection and a handler for long.
//!
//! Invariant: only the path is logged, never the query string, headers or body,
//! which may carry secrets.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
type BoxedPayloadStream = Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, PayloadError>>>>;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage as _;
use std::future::Future as _;
use tracing::Instrument;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, in its extensions, for what handlers record (the audit log).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<actix_web::web::Data<crate::AppState>>().cloned();
    let timeout = state
        .as_ref()
        .map(|s| Duration::from_millis(s.config.server.body_timeout_ms))
        .unwrap_or(Duration::from_secs(5));
    let payload = req.take_payload();
    let timed: BoxedPayloadStream = Box::pin(TimedPayload {
        inner: payload,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        expired: false,
    });
    req.set_payload(Payload::from(timed));
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_safe_id(v))
        .map(str::to_owned)
        .unwrap_or_else(new_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    // The span costs something on every request; skip it when nothing would be
    // written (the benchmark runs at `warn`).
    if !tracing::enabled!(tracing::Level::INFO) {
        let mut res = next.call(req).await?;
        insert_id(&mut res, &id);
        record(state.as_ref().map(|s| s.get_ref()), &res, started);
        return Ok(res);
    }
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.path());
    let mut res = next.call(req).instrument(span.clone()).await?;
    insert_id(&mut res, &id);
    record(state.as_ref().map(|s| s.get_ref()), &res, started);
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "answered"
        )
    });
    Ok(res)
}

/// Counts the answer by route pattern (never the path: ids would make the
/// series unbounded), method and status, with its latency.
fn record<B>(state: Option<&crate::AppState>, res: &ServiceResponse<B>, started: Instant) {
    let Some(state) = state else { return };
    let request = res.request();
    let route = request.match_pattern();
    state.metrics.request(
        route.as_deref().unwrap_or("unmatched"),
        request.method().as_str(),
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
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

/// A request body that fails with `TimedOut` once its deadline passes.
struct TimedPayload {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl futures_core::Stream for TimedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired = true;
            let late =
                std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body did not arrive in time");
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        Poll::Pending
    }
}

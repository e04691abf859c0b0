//! What operators and orchestrators ask: `GET /healthz` (the process answers),
//! `GET /readyz` (the database answers and a signing key is loaded) and
//! `GET /metrics` (Prometheus text), which `server.metrics_bind` can move to an
//! address of its own.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::AppState;

/// The operational routes; `/metrics` too unless it has an address of its own.
pub fn routes(cfg: &mut web::ServiceConfig, with_metrics: bool) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
    if with_metrics {
        metrics_routes(cfg);
    }
}

pub fn metrics_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /healthz`: the process is alive and answering.
async fn healthz() -> HttpResponse {
    no_store(HttpResponse::Ok().json(json!({ "status": "ok" })))
}

/// `GET /readyz`: 200 when the database answers and a signing key is loaded,
/// else 503 naming what is missing, so a load balancer sends traffic elsewhere.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            "unavailable".to_owned()
        }
    };
    let signer = state.signer.current();
    let key = signer.keys().active().kid.clone();
    let ready = database == "ok";
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": database,
        "signing_key": key,
    });
    let response =
        if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) };
    no_store(response)
}

/// `GET /metrics`: Prometheus text format 0.0.4.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let text = state.metrics.render(
        state.store.pool_figures(),
        state.endpoints.calls.pending(),
        state.token_use.pending(),
    );
    no_store(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

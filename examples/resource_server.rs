//! A resource server that verifies tessera's access tokens offline with the
//! `tessera-verify` crate: no call to tessera per request; the JWKS and the
//! token status lists are fetched and kept (a revoked token is refused within
//! its list's `ttl`).
//!
//!   TESSERA_ISSUER=http://127.0.0.1:8080 cargo run --example resource_server
//!   curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8090/places
//!
//! `GET /places` needs `places:read`; `POST /places` needs `places:create`.

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::json;
use tessera_verify::{scope, Verified, Verifier};

scope!(PlacesRead, "places:read");
scope!(PlacesCreate, "places:create");

/// `GET /places`: the caller's application's places.
pub async fn list_places(token: Verified<PlacesRead>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "app": token.claims.app,
        "department": token.claims.department,
        "places": [{ "id": "p1", "name": "Harbour office" }],
    }))
}

/// `POST /places`.
pub async fn create_place(token: Verified<PlacesCreate>) -> HttpResponse {
    HttpResponse::Created().json(json!({ "id": "p2", "created_by": token.claims.sub }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/places", web::get().to(list_places)).route("/places", web::post().to(create_place));
}

#[allow(dead_code)]
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let issuer = std::env::var("TESSERA_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let audience = std::env::var("TESSERA_AUDIENCE").unwrap_or_else(|_| "tessera-api".into());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let verifier = web::Data::new(Verifier::new(issuer, audience));
    println!("resource server on http://{bind}/places");
    HttpServer::new(move || App::new().app_data(verifier.clone()).configure(routes)).bind(bind)?.run().await
}

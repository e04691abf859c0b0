//! The OAuth 2.0 protocol over HTTP: metadata, the token endpoint and its grants,
//! client authentication and the scope model. Handlers parse and answer; the
//! decisions are in oxide-auth's flows fed by `primitives`.

pub mod authorize;
pub mod client_auth;
pub mod error;
pub mod inspect;
pub mod introspect;
pub mod metadata;
pub mod oidc;
pub mod primitives;
pub mod request;
pub mod revoke;
pub mod token;

use actix_web::web;

/// Registers the protocol's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/authorize")
            .route(web::get().to(authorize::authorize))
            .route(web::post().to(authorize::authorize)),
    )
    .route("/.well-known/oauth-authorization-server", web::get().to(metadata::get_metadata))
    .route("/.well-known/openid-configuration", web::get().to(metadata::get_metadata))
    .route("/.well-known/jwks.json", web::get().to(metadata::get_jwks))
    .route("/statuslists/{id}", web::get().to(metadata::get_status_list))
    .service(
        web::resource("/userinfo").route(web::get().to(oidc::userinfo)).route(web::post().to(oidc::userinfo)),
    )
    .service(
        web::resource("/logout")
            .route(web::get().to(oidc::end_session))
            .route(web::post().to(oidc::end_session)),
    )
    .service(
        web::resource("/token")
            .route(web::post().to(token::post_token))
            .default_service(web::to(token::token_method_not_allowed)),
    )
    .service(
        web::resource("/introspect")
            .route(web::post().to(introspect::post_introspect))
            .default_service(web::to(token::token_method_not_allowed)),
    )
    .service(
        web::resource("/revoke")
            .route(web::post().to(revoke::post_revoke))
            .default_service(web::to(token::token_method_not_allowed)),
    );
}

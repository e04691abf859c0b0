//! The admin API's OpenAPI 3.1 document, generated from the handlers' annotations
//! and types (utoipa), so that a client can be generated from it and a fuzzer can
//! read it. Built once, served as is.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::apps::{AppListResponse, AppResponse, CreateAppRequest, CreatedAppResponse, MasterTokenResponse};
use super::clients::{ClientListResponse, ClientResponse, CreateClientRequest, CreatedClientResponse};
use super::departments::{DepartmentListResponse, DepartmentRequest, DepartmentResponse};
use super::error::Problem;
use super::mobile_tokens::{
    CreateRequest, CreatedResponse, ListResponse, MobileTokenResponse, UpdateRequest,
};
use super::user_types::{UserTypeListResponse, UserTypeRequest, UserTypeResponse};
use super::users::{CreateUserRequest, UpdateUserRequest, UserListResponse, UserResponse};

#[derive(OpenApi)]
#[openapi(
    info(title = "tessera admin API", description = "Applications, their clients, platform tokens, users, departments and user types."),
    paths(
        get_openapi,
        super::apps::list_apps,
        super::apps::create_app,
        super::apps::get_app,
        super::apps::rotate_master_token,
        super::mobile_tokens::list,
        super::mobile_tokens::create,
        super::mobile_tokens::get,
        super::mobile_tokens::update,
        super::mobile_tokens::delete,
        super::user_types::list,
        super::user_types::put,
        super::user_types::delete,
        super::departments::list,
        super::departments::create,
        super::departments::delete,
        super::users::list,
        super::users::create,
        super::users::get,
        super::users::update,
        super::users::delete,
        super::clients::list,
        super::clients::create,
        super::clients::get,
        super::clients::delete,
    ),
    components(schemas(
        Problem,
        AppResponse,
        AppListResponse,
        CreateAppRequest,
        CreatedAppResponse,
        MasterTokenResponse,
        CreateRequest,
        UpdateRequest,
        MobileTokenResponse,
        CreatedResponse,
        ListResponse,
        UserTypeRequest,
        UserTypeResponse,
        UserTypeListResponse,
        DepartmentRequest,
        DepartmentResponse,
        DepartmentListResponse,
        CreateUserRequest,
        UpdateUserRequest,
        UserResponse,
        UserListResponse,
        CreateClientRequest,
        ClientResponse,
        CreatedClientResponse,
        ClientListResponse
    )),
    modifiers(&Credentials)
)]
struct AdminApi;

/// The two ways to call: `Authorization: Bearer <JWT with admin scope or master
/// token>` and `Authorization: Token <master token>`.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <master token>`",
            ))),
        );
    }
}

/// `GET /admin/v1/openapi.json`.
#[utoipa::path(get, operation_id = "get_openapi", summary = "This OpenAPI document", path = "/admin/v1/openapi.json", tag = "documentation",
    responses((status = 200, description = "this document", content_type = "application/json")))]
pub async fn get_openapi() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| AdminApi::openapi().to_json().unwrap_or_default());
    HttpResponse::Ok().content_type("application/json").body(body.clone())
}

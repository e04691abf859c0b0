//! The admin API's OpenAPI 3.1 document, generated from the handlers' annotations
//! and types (utoipa), so that a client can be generated from it and a fuzzer can
//! read it. Built once, served as is.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api_tokens::{ApiTokenResponse, CreateApiTokenRequest, CreatedApiTokenResponse};
use super::apps::{AppResponse, CreateAppRequest, CreatedAppResponse, MasterTokenResponse, UpdateAppRequest};
use super::audit::AuditEntryResponse;
use super::clients::{
    ClientResponse, ClientSecretResponse, CreateClientRequest, CreatedClientResponse, UpdateClientRequest,
};
use super::departments::{DepartmentRequest, DepartmentResponse};
use super::endpoint_tokens::{
    CreateEndpointTokenRequest, CreatedEndpointTokenResponse, EnabledFilter, EndpointTokenResponse,
    UpdateEndpointTokenRequest,
};
use super::endpoints::{
    AssignmentRequest, AssignmentResponse, CallCountResponse, CallResponse, CreateEndpointRequest,
    EndpointResponse, EndpointTokenKind, EndpointWithTokensResponse, MethodName, PrimaryTokenResponse,
    PrimaryTokenValues, UpdateAssignmentRequest, UpdateEndpointRequest,
};
use super::error::Problem;
use super::mobile_sessions::MobileSessionResponse;
use super::mobile_tokens::{
    CreateMobileTokenRequest, CreatedMobileTokenResponse, MobileTokenResponse, UpdateMobileTokenRequest,
};
use super::page::{Items, Page};
use super::tokens::{DeleteTokensRequest, DeletedResponse, RevealedTokenResponse};
use super::user_types::{UserTypeRequest, UserTypeResponse};
use super::users::{CreateUserRequest, UpdateUserRequest, UserResponse};

#[derive(OpenApi)]
#[openapi(
    info(title = "tessera admin API", description = "Applications, their clients, platform tokens (master, mobile, API), endpoints with their primary and secondary tokens and recorded calls, mobile sessions, users, departments and user types."),
    paths(
        get_openapi,
        super::apps::list_apps,
        super::apps::create_app,
        super::apps::get_app,
        super::apps::update_app,
        super::apps::rotate_master_token,
        super::apps::put_logo,
        super::apps::delete_logo,
        super::mobile_tokens::list,
        super::mobile_tokens::create,
        super::mobile_tokens::get,
        super::mobile_tokens::update,
        super::mobile_tokens::delete,
        super::api_tokens::list,
        super::api_tokens::create,
        super::api_tokens::get,
        super::api_tokens::reveal,
        super::api_tokens::delete,
        super::api_tokens::delete_many,
        super::endpoints::list,
        super::endpoints::create,
        super::endpoints::get,
        super::endpoints::update,
        super::endpoints::delete,
        super::endpoints::regenerate_primary,
        super::endpoints::reveal_primary,
        super::endpoints::list_assignments,
        super::endpoints::put_assignment,
        super::endpoints::update_assignment,
        super::endpoints::delete_assignment,
        super::endpoints::list_calls,
        super::endpoints::call_summary,
        super::endpoint_tokens::list,
        super::endpoint_tokens::create,
        super::endpoint_tokens::get,
        super::endpoint_tokens::update,
        super::endpoint_tokens::delete,
        super::endpoint_tokens::reveal,
        super::endpoint_tokens::regenerate,
        super::mobile_sessions::list,
        super::mobile_sessions::get,
        super::mobile_sessions::delete,
        super::mobile_sessions::delete_many,
        super::audit::list,
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
        super::clients::update,
        super::clients::rotate_secret,
        super::clients::delete,
    ),
    components(schemas(
        Problem,
        AppResponse,
        Page<AppResponse>,
        CreateAppRequest,
        UpdateAppRequest,
        CreatedAppResponse,
        MasterTokenResponse,
        CreateMobileTokenRequest,
        UpdateMobileTokenRequest,
        MobileTokenResponse,
        CreatedMobileTokenResponse,
        Page<MobileTokenResponse>,
        CreateApiTokenRequest,
        ApiTokenResponse,
        CreatedApiTokenResponse,
        Page<ApiTokenResponse>,
        DeleteTokensRequest,
        DeletedResponse,
        RevealedTokenResponse,
        MobileSessionResponse,
        Page<MobileSessionResponse>,
        CreateEndpointRequest,
        UpdateEndpointRequest,
        MethodName,
        PrimaryTokenResponse,
        EndpointResponse,
        Page<EndpointResponse>,
        PrimaryTokenValues,
        EndpointWithTokensResponse,
        AssignmentResponse,
        Page<AssignmentResponse>,
        AssignmentRequest,
        UpdateAssignmentRequest,
        EndpointTokenKind,
        CallResponse,
        Page<CallResponse>,
        CallCountResponse,
        Items<CallCountResponse>,
        CreateEndpointTokenRequest,
        UpdateEndpointTokenRequest,
        EndpointTokenResponse,
        CreatedEndpointTokenResponse,
        Page<EndpointTokenResponse>,
        EnabledFilter,
        AuditEntryResponse,
        Page<AuditEntryResponse>,
        UserTypeRequest,
        UserTypeResponse,
        Items<UserTypeResponse>,
        DepartmentRequest,
        DepartmentResponse,
        Items<DepartmentResponse>,
        CreateUserRequest,
        UpdateUserRequest,
        UserResponse,
        Page<UserResponse>,
        CreateClientRequest,
        ClientResponse,
        CreatedClientResponse,
        UpdateClientRequest,
        ClientSecretResponse,
        Page<ClientResponse>
    )),
    modifiers(&Credentials, &ProblemAnswers)
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

/// The problem answers every operation shares, declared once under
/// `components.responses` and referenced by each operation that can give them:
/// 401 and 403 wherever credentials are needed, 400 wherever a path id, a query
/// or a body is read, 404 wherever the path names something, and 408, 413 and
/// 415 wherever a JSON body is read. An operation's own answer for a status
/// (a more precise 404, say) is kept.
struct ProblemAnswers;

/// (status, component name, description).
const PROBLEMS: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "bad input: a malformed path id, query or body, or a control character in it"),
    ("401", "Unauthenticated", "no valid credentials; the answer carries `WWW-Authenticate`"),
    (
        "403",
        "Forbidden",
        "the credentials may not do this (another application's, or a token kind without admin rights)",
    ),
    ("404", "NotFound", "no such resource in this application"),
    ("408", "RequestTimeout", "the body did not arrive within the server's body deadline"),
    ("413", "PayloadTooLarge", "the body is larger than 16 KiB"),
    ("415", "UnsupportedMediaType", "the body is not `application/json`"),
];

impl Modify for ProblemAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in PROBLEMS {
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/problem+json", Content::new(Some(Ref::from_schema_name("Problem"))))
                .build();
            components.responses.insert((*name).to_owned(), RefOr::T(response));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let names_something = path.contains('{');
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let guarded = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = operation.request_body.is_some();
                let has_query = operation.parameters.as_ref().is_some_and(|ps| {
                    ps.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
                });
                let applies = |status: &str| match status {
                    "400" => names_something || has_query || has_body,
                    "401" | "403" => guarded,
                    "404" => names_something,
                    _ => has_body,
                };
                for (status, name, _) in PROBLEMS {
                    if applies(status) {
                        operation.responses.responses.entry((*status).to_owned()).or_insert_with(|| {
                            RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
                        });
                    }
                }
            }
        }
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

//! The admin REST API through the real server, on SQLite and Postgres: master and
//! mobile tokens, who may call it, and problem+json for every bad input.

mod common;

use common::{Backend, TestClient, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    the_master_token_manages_mobile_tokens_that_never_show_their_secret_again,
    mobile_tokens_get_403_on_every_admin_call,
    rotating_the_master_token_stops_the_old_one_at_once,
    disabled_expired_and_deleted_mobile_tokens_are_inactive,
    a_mobile_token_exchanges_for_mobile_scopes_only,
    bad_input_answers_problem_json,
    callers_act_only_on_their_own_application,
    use_of_a_token_is_recorded_without_a_write_per_request,
    user_types_an_application_defines_bound_its_users_tokens,
    users_and_departments_are_managed_and_deleting_a_user_ends_their_logins,
    clients_are_registered_and_deleted_through_the_api,
    platform_administrators_list_and_create_applications,
    every_application_has_exactly_one_master_token,
);

struct Admin<'a> {
    server: &'a TestServer,
    app: String,
    auth: String,
}

impl Admin<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let url = self.server.url(&format!("/admin/v1/apps/{}{path}", self.app));
        let mut req = self.server.http.request(method, url).header("authorization", &self.auth);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let res = self.call(method.clone(), path, body).await;
        assert_eq!(res.status(), status, "{method} {path}");
        if status == 204 {
            return Value::Null;
        }
        assert_eq!(res.headers()["content-type"], "application/json");
        res.json().await.unwrap()
    }
}

async fn problem(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

/// An application, its master token, and an introspecting client of it.
fn shop(server: &TestServer) -> (String, String, TestClient) {
    let app = server.env.cli_json(&["app", "create", "--name", "shop", "--json"]);
    let id = app["id"].as_str().unwrap().to_owned();
    let out = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "rs",
        "--type",
        "confidential",
        "--grant",
        "client_credentials",
        "--grant",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "--scope",
        "master",
        "--app",
        &id,
        "--json",
    ]);
    let client = TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().unwrap().to_owned(),
    };
    (id, app["master_token"].as_str().unwrap().to_owned(), client)
}

async fn introspect(server: &TestServer, client: &TestClient, token: &str) -> Value {
    let res = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

async fn the_master_token_manages_mobile_tokens_that_never_show_their_secret_again(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, client) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    let created = admin.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "ios app" })), 201).await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tsb_") && token.len() == 53);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "ios app");
    assert_eq!(created["enabled"], true);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["expires_at"], Value::Null);

    // Bearer works as well as Token, and no answer but the creation holds the secret.
    // (Lists are oldest first; the clock moves so that the order is certain.)
    server.state.clock.advance(1);
    let bearer = Admin { server: &server, app: app.clone(), auth: format!("Bearer {master}") };
    bearer
        .ok(
            Method::POST,
            "/mobile-tokens",
            Some(json!({ "name": "android", "expires_at": "2099-01-01T00:00:00Z" })),
            201,
        )
        .await;
    let list = admin.ok(Method::GET, "/mobile-tokens", None, 200).await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["name"], "ios app");
    assert_eq!(list["items"][1]["expires_at"], "2099-01-01T00:00:00Z");
    let page = admin.ok(Method::GET, "/mobile-tokens?limit=1&offset=1", None, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["name"], "android");
    let one = admin.ok(Method::GET, &format!("/mobile-tokens/{id}"), None, 200).await;
    for answer in [&list, &page, &one] {
        assert!(!answer.to_string().contains("tsb_"), "{answer}");
    }

    let renamed = admin
        .ok(Method::PATCH, &format!("/mobile-tokens/{id}"), Some(json!({ "name": "iOS app" })), 200)
        .await;
    assert_eq!(renamed["name"], "iOS app");
    let info = introspect(&server, &client, &token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_kind"], "mobile");
    assert_eq!(info["app"], app.as_str());
    admin.ok(Method::DELETE, &format!("/mobile-tokens/{id}"), None, 204).await;
    problem(admin.call(Method::GET, &format!("/mobile-tokens/{id}"), None).await, 404).await;
    assert_eq!(introspect(&server, &client, &token).await, json!({ "active": false }));
    let app_info = admin.ok(Method::GET, "", None, 200).await;
    assert_eq!(app_info["name"], "shop");
    server.stop().await;
}

async fn mobile_tokens_get_403_on_every_admin_call(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, _) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    let created = admin.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "sdk" })), 201).await;
    let id = created["id"].as_str().unwrap();
    let mobile =
        Admin { server: &server, app, auth: format!("Token {}", created["token"].as_str().unwrap()) };
    let calls = [
        (Method::GET, String::new(), None),
        (Method::POST, "/master-token/rotate".to_owned(), None),
        (Method::GET, "/mobile-tokens".to_owned(), None),
        (Method::POST, "/mobile-tokens".to_owned(), Some(json!({ "name": "x" }))),
        (Method::GET, format!("/mobile-tokens/{id}"), None),
        (Method::PATCH, format!("/mobile-tokens/{id}"), Some(json!({ "enabled": false }))),
        (Method::DELETE, format!("/mobile-tokens/{id}"), None),
    ];
    for (method, path, body) in calls {
        let body = problem(mobile.call(method.clone(), &path, body).await, 403).await;
        assert!(body["detail"].as_str().unwrap().contains("mobile"), "{method} {path}");
    }
    // Nothing changed.
    let list = admin.ok(Method::GET, "/mobile-tokens", None, 200).await;
    assert_eq!(list["items"][0]["enabled"], true);
    server.stop().await;
}

async fn rotating_the_master_token_stops_the_old_one_at_once(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, client) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    let rotated = admin.ok(Method::POST, "/master-token/rotate", None, 200).await;
    let new = rotated["master_token"].as_str().unwrap();
    assert!(new.starts_with("tsm_") && new != master);
    problem(admin.call(Method::GET, "/mobile-tokens", None).await, 401).await;
    assert_eq!(introspect(&server, &client, &master).await["active"], false);
    assert_eq!(introspect(&server, &client, new).await["active"], true);
    let fresh = Admin { server: &server, app, auth: format!("Token {new}") };
    fresh.ok(Method::GET, "/mobile-tokens", None, 200).await;
    server.stop().await;
}

async fn disabled_expired_and_deleted_mobile_tokens_are_inactive(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, client) = shop(&server);
    let admin = Admin { server: &server, app, auth: format!("Token {master}") };
    let created = admin.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "kiosk" })), 201).await;
    let (id, token) = (created["id"].as_str().unwrap(), created["token"].as_str().unwrap());
    let off = admin
        .ok(Method::PATCH, &format!("/mobile-tokens/{id}"), Some(json!({ "enabled": false })), 200)
        .await;
    assert_eq!(off["enabled"], false);
    assert_eq!(introspect(&server, &client, token).await["active"], false);
    admin.ok(Method::PATCH, &format!("/mobile-tokens/{id}"), Some(json!({ "enabled": true })), 200).await;
    assert_eq!(introspect(&server, &client, token).await["active"], true);

    let in_an_hour = chrono::DateTime::<chrono::Utc>::from_timestamp(server.state.clock.now() + 3600, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let short = admin
        .ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "event", "expires_at": in_an_hour })), 201)
        .await;
    let short_token = short["token"].as_str().unwrap();
    assert_eq!(introspect(&server, &client, short_token).await["active"], true);
    server.state.clock.advance(3601);
    assert_eq!(introspect(&server, &client, short_token).await["active"], false);
    assert_eq!(introspect(&server, &client, token).await["active"], true, "no expiry, still active");
    server.stop().await;
}

async fn a_mobile_token_exchanges_for_mobile_scopes_only(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, client) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    let created = admin.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "sdk" })), 201).await;
    let token = created["token"].as_str().unwrap();
    let info = introspect(&server, &client, token).await;
    assert_eq!(info["profile"], "mobile");
    let core_writes = |scope: &str| {
        ["places", "geofences", "floors", "beacons"]
            .iter()
            .any(|o| scope.contains(&format!("{o}:create")) || scope.contains(&format!("{o}:delete")))
    };
    assert!(!core_writes(info["scope"].as_str().unwrap()));
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("subject_token", token),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
    ];
    let body: Value = server.token_basic(&client, &form).await.json().await.unwrap();
    let claims = common::claims_unverified(body["access_token"].as_str().unwrap());
    assert_eq!(claims["profile"], "mobile");
    assert_eq!(claims["app"], app.as_str());
    assert!(!core_writes(claims["scope"].as_str().unwrap()));
    // Asking for more than the mobile token allows is refused.
    let mut wider = form.to_vec();
    wider.push(("scope", "places:delete"));
    let res = server.token_basic(&client, &wider).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");
    server.stop().await;
}

async fn bad_input_answers_problem_json(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, _) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    let url = server.url(&format!("/admin/v1/apps/{app}/mobile-tokens"));
    let auth = format!("Token {master}");
    // No credentials, or unusable ones.
    let res = server.http.get(&url).send().await.unwrap();
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    problem(res, 401).await;
    problem(server.http.get(&url).header("authorization", "Basic abc").send().await.unwrap(), 401).await;
    problem(server.http.get(&url).header("authorization", "Token tsm_nothing").send().await.unwrap(), 401)
        .await;
    // Bodies: not JSON, wrong types, missing and unknown fields, bad times, too big.
    let post = |body: &'static str, content_type: &'static str| {
        server
            .http
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    problem(post("{not json", "application/json").await.unwrap(), 400).await;
    problem(post(r#"{"name": 42}"#, "application/json").await.unwrap(), 400).await;
    problem(post(r#"{}"#, "application/json").await.unwrap(), 400).await;
    problem(post(r#"{"name": "x", "colour": "red"}"#, "application/json").await.unwrap(), 400).await;
    problem(post(r#"{"name": "x", "expires_at": "tomorrow"}"#, "application/json").await.unwrap(), 400).await;
    problem(
        post(r#"{"name": "x", "expires_at": "2001-01-01T00:00:00Z"}"#, "application/json").await.unwrap(),
        400,
    )
    .await;
    problem(post(r#"{"name": "  "}"#, "application/json").await.unwrap(), 400).await;
    problem(post(r#"{"name": "x"}"#, "text/plain").await.unwrap(), 415).await;
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(20_000));
    let res = server
        .http
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    problem(res, 413).await;
    // Unknown ids, routes and bad paging.
    problem(admin.call(Method::GET, "/mobile-tokens/nope", None).await, 404).await;
    problem(admin.call(Method::PATCH, "/mobile-tokens/nope", Some(json!({ "enabled": true }))).await, 404)
        .await;
    problem(admin.call(Method::DELETE, "/mobile-tokens/nope", None).await, 404).await;
    problem(admin.call(Method::PATCH, "/mobile-tokens/nope", Some(json!({}))).await, 400).await;
    problem(admin.call(Method::GET, "/no-such-thing", None).await, 404).await;
    problem(admin.call(Method::GET, "/mobile-tokens?limit=0", None).await, 400).await;
    problem(admin.call(Method::GET, "/mobile-tokens?limit=abc", None).await, 400).await;
    problem(admin.call(Method::PUT, "/mobile-tokens", None).await, 404).await;
    server.stop().await;
}

async fn callers_act_only_on_their_own_application(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (_, master, _) = shop(&server);
    let (other_app, _, _) = shop(&server);
    let stranger = Admin { server: &server, app: other_app, auth: format!("Token {master}") };
    problem(stranger.call(Method::GET, "/mobile-tokens", None).await, 403).await;
    // A JWT with the admin scope administers its own application; one without does not.
    let admin_client = server.confidential_client(&["admin"]);
    let jwt: Value = server
        .token_basic(&admin_client, &[("grant_type", "client_credentials")])
        .await
        .json()
        .await
        .unwrap();
    let with_admin = Admin {
        server: &server,
        app: "default".into(),
        auth: format!("Bearer {}", jwt["access_token"].as_str().unwrap()),
    };
    with_admin.ok(Method::GET, "/mobile-tokens", None, 200).await;
    let created =
        with_admin.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "by admin" })), 201).await;
    assert!(created["token"].as_str().unwrap().starts_with("tsb_"));
    let plain = server.confidential_client(&["mobile"]);
    let jwt: Value =
        server.token_basic(&plain, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let without = Admin {
        server: &server,
        app: "default".into(),
        auth: format!("Bearer {}", jwt["access_token"].as_str().unwrap()),
    };
    let body = problem(without.call(Method::GET, "/mobile-tokens", None).await, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("admin scope"));
    server.stop().await;
}

async fn use_of_a_token_is_recorded_without_a_write_per_request(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, client) = shop(&server);
    let admin = Admin { server: &server, app, auth: format!("Token {master}") };
    let created = admin.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "sdk" })), 201).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["last_used_at"], Value::Null);
    introspect(&server, &client, created["token"].as_str().unwrap()).await;
    // Uses wait in memory; the poller writes them in one batch. Write now, as it would.
    let uses = server.state.token_use.drain();
    assert!(uses.iter().any(|(used, _)| *used == id), "{uses:?}");
    server.state.store.record_token_use(&uses).await.unwrap();
    let one = admin.ok(Method::GET, &format!("/mobile-tokens/{id}"), None, 200).await;
    assert!(one["last_used_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{one}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_covers_every_admin_route() {
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let res = server.http.get(server.url("/admin/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(!tessera::api::ROUTES.is_empty());
    for (method, path) in tessera::api::ROUTES {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is served but not in the OpenAPI document");
    }
    // And nothing is documented that is not served.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                tessera::api::ROUTES.contains(&(method.as_str(), path.as_str())),
                "{method} {path} documented, not served"
            );
        }
    }
    // Fit for generators: operation ids unique, paging in the query, and every
    // answer the server can give listed.
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id =
                op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has no summary");
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let place = if path.contains(&format!("{{{name}}}")) { "path" } else { "query" };
                assert_eq!(p["in"], place, "{method} {path}: parameter {name}");
            }
            let responses = op["responses"].as_object().unwrap();
            if op["requestBody"].is_object() {
                for status in ["400", "408", "413", "415"] {
                    assert!(responses.contains_key(status), "{method} {path} does not list {status}");
                }
            }
            if op["security"].is_array() {
                for status in ["401", "403"] {
                    assert!(responses.contains_key(status), "{method} {path} does not list {status}");
                }
            }
        }
    }
    let users = &doc["components"]["schemas"]["CreateUserRequest"]["properties"];
    assert_eq!(users["password"]["minLength"], 8, "{users}");
    assert_eq!(users["username"]["maxLength"], 200, "{users}");
    let problem = &doc["components"]["responses"]["BadRequest"]["content"]["application/problem+json"];
    assert!(problem.is_object(), "{}", doc["components"]["responses"]);
    let create = &doc["paths"]["/admin/v1/apps/{app}/mobile-tokens"]["post"];
    assert_eq!(create["responses"]["400"]["$ref"], "#/components/responses/BadRequest");
    assert!(doc["components"]["schemas"]["CreateMobileTokenRequest"]["properties"]["name"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    server.stop().await;
}

async fn user_types_an_application_defines_bound_its_users_tokens(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, _) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    let viewer =
        admin.ok(Method::PUT, "/user-types/viewer", Some(json!({ "scope": "places:read" })), 200).await;
    assert_eq!(viewer, json!({ "name": "viewer", "scope": "places:read", "source": "application" }));
    admin.ok(Method::PUT, "/user-types/operator", Some(json!({ "scope": "events:read" })), 200).await;
    let list = admin.ok(Method::GET, "/user-types", None, 200).await;
    let names: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("administrator", "configuration"),
            ("manager", "configuration"),
            ("operator", "application"),
            ("viewer", "application")
        ]
    );

    // Tokens for the application's users are bounded by its own definitions.
    let client = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "app",
        "--type",
        "mobile",
        "--redirect-uri",
        common::flow::REDIRECT_URI,
        "--grant",
        "authorization_code",
        "--scope",
        "master",
        "--app",
        &app,
        "--json",
    ])["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for (user, user_type, expected) in [("vic", "viewer", "places:read"), ("olga", "operator", "events:read")]
    {
        ids.push(server.user(user, "correct horse battery", &["--app", &app, "--user-type", user_type]));
        let query = common::flow::authorize_query(&client, "master", user);
        let params = server.approve(&common::flow::browser(), &query, user, "correct horse battery").await;
        let code = common::flow::param(&params, "code").unwrap().to_owned();
        let body: Value = server.redeem(&client, &code, common::flow::VERIFIER).await.json().await.unwrap();
        assert_eq!(body["scope"], expected, "{user}");
    }

    // A type in use stays until no user has it (no configured `viewer` would apply).
    problem(admin.call(Method::DELETE, "/user-types/viewer", None).await, 409).await;
    admin
        .ok(Method::PATCH, &format!("/users/{}", ids[0]), Some(json!({ "user_type": "operator" })), 200)
        .await;
    admin.ok(Method::DELETE, "/user-types/viewer", None, 204).await;
    problem(admin.call(Method::DELETE, "/user-types/viewer", None).await, 404).await;
    problem(admin.call(Method::PUT, "/user-types/Bad%20Name", Some(json!({ "scope": "mobile" }))).await, 400)
        .await;
    problem(admin.call(Method::PUT, "/user-types/x", Some(json!({ "scope": "cars:read" }))).await, 400).await;
    problem(admin.call(Method::PUT, "/user-types/x", Some(json!({ "scope": "" }))).await, 400).await;
    server.stop().await;
}

async fn users_and_departments_are_managed_and_deleting_a_user_ends_their_logins(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, _) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    // A department must exist before a user joins it: a misspelt one is an error.
    let misspelt = json!({ "username": "ada", "password": "correct horse battery", "department": "nrth" });
    problem(admin.call(Method::POST, "/users", Some(misspelt)).await, 422).await;
    for name in ["north", "south"] {
        admin.ok(Method::POST, "/departments", Some(json!({ "name": name })), 201).await;
    }
    let created = admin
        .ok(
            Method::POST,
            "/users",
            Some(json!({ "username": "ada", "password": "correct horse battery", "email": "ada@example.com", "department": "north" })),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["department"], "north");
    assert_eq!(created["admin"], false);
    assert!(!created.to_string().contains("correct horse") && !created.to_string().contains("argon2"));
    let taken = json!({ "username": "ada", "password": "another password" });
    problem(admin.call(Method::POST, "/users", Some(taken)).await, 409).await;
    problem(
        admin.call(Method::POST, "/users", Some(json!({ "username": "bob", "password": "short" }))).await,
        400,
    )
    .await;
    problem(
        admin
            .call(
                Method::POST,
                "/users",
                Some(json!({ "username": "bob", "password": "long enough", "role": "x" })),
            )
            .await,
        400,
    )
    .await;
    admin
        .ok(Method::POST, "/users", Some(json!({ "username": "bob", "password": "long enough 2" })), 201)
        .await;

    let list = admin.ok(Method::GET, "/users?limit=1", None, 200).await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["username"], "ada");
    let changed = admin
        .ok(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(json!({ "department": "south", "email": null, "user_type": "manager" })),
            200,
        )
        .await;
    assert_eq!(changed["department"], "south");
    assert_eq!(changed["email"], Value::Null);
    assert_eq!(changed["user_type"], "manager");
    let kept = admin.ok(Method::GET, &format!("/users/{id}"), None, 200).await;
    assert_eq!(kept["department"], "south");

    // Departments: named ones exist, with their user counts; only empty ones go.
    let departments = admin.ok(Method::GET, "/departments", None, 200).await;
    assert_eq!(
        departments["items"],
        json!([
            { "name": "north", "created_at": departments["items"][0]["created_at"], "users": 0 },
            { "name": "south", "created_at": departments["items"][1]["created_at"], "users": 1 },
        ])
    );
    admin.ok(Method::POST, "/departments", Some(json!({ "name": "east" })), 201).await;
    problem(admin.call(Method::POST, "/departments", Some(json!({ "name": "east" }))).await, 409).await;
    problem(admin.call(Method::DELETE, "/departments/south", None).await, 409).await;
    admin.ok(Method::DELETE, "/departments/north", None, 204).await;
    problem(admin.call(Method::DELETE, "/departments/north", None).await, 404).await;

    // A new password works; deleting the user ends their logins.
    admin
        .ok(Method::PATCH, &format!("/users/{id}"), Some(json!({ "password": "a brand new password" })), 200)
        .await;
    let client = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "app",
        "--type",
        "mobile",
        "--redirect-uri",
        common::flow::REDIRECT_URI,
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--scope",
        "mobile",
        "--app",
        &app,
        "--json",
    ])["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = common::flow::authorize_query(&client, "mobile", "u");
    let params = server.approve(&common::flow::browser(), &query, "ada", "a brand new password").await;
    let code = common::flow::param(&params, "code").unwrap().to_owned();
    let tokens: Value = server.redeem(&client, &code, common::flow::VERIFIER).await.json().await.unwrap();
    admin.ok(Method::DELETE, &format!("/users/{id}"), None, 204).await;
    problem(admin.call(Method::GET, &format!("/users/{id}"), None).await, 404).await;
    problem(admin.call(Method::DELETE, &format!("/users/{id}"), None).await, 404).await;
    let res = server.refresh(&client, tokens["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(res.status(), 400);

    // A mobile token may touch none of it.
    let mobile = admin.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "m" })), 201).await;
    let as_mobile =
        Admin { server: &server, app, auth: format!("Token {}", mobile["token"].as_str().unwrap()) };
    for path in ["/users", "/departments", "/user-types"] {
        problem(as_mobile.call(Method::GET, path, None).await, 403).await;
    }
    server.stop().await;
}

async fn clients_are_registered_and_deleted_through_the_api(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app, master, _) = shop(&server);
    let admin = Admin { server: &server, app: app.clone(), auth: format!("Token {master}") };
    let created = admin
        .ok(
            Method::POST,
            "/clients",
            Some(json!({ "name": "robot", "type": "confidential", "grants": ["client_credentials"], "scopes": ["mobile"] })),
            201,
        )
        .await;
    let client = TestClient {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().unwrap().to_owned(),
    };
    assert_eq!(created["type"], "confidential");
    assert_eq!(created["grants"], json!(["client_credentials"]));
    let res = server.token_basic(&client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), 200);
    let claims =
        common::claims_unverified(res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap());
    assert_eq!(claims["app"], app.as_str());

    let list = admin.ok(Method::GET, "/clients", None, 200).await;
    assert_eq!(list["total"], 2, "the exchanger from shop() and this one");
    let one = admin.ok(Method::GET, &format!("/clients/{}", client.id), None, 200).await;
    for answer in [&list, &one] {
        assert!(!answer.to_string().contains(&client.secret) && answer.get("client_secret").is_none());
    }
    // Bad registrations are refused with the reason.
    let no_redirect = json!({ "name": "web", "type": "public", "scopes": ["mobile"] });
    let body = problem(admin.call(Method::POST, "/clients", Some(no_redirect)).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("redirect"));
    problem(
        admin
            .call(
                Method::POST,
                "/clients",
                Some(json!({ "name": "x", "type": "robot", "scopes": ["mobile"] })),
            )
            .await,
        400,
    )
    .await;
    problem(
        admin
            .call(
                Method::POST,
                "/clients",
                Some(json!({ "name": "x", "type": "public", "grants": ["password"], "scopes": ["mobile"] })),
            )
            .await,
        400,
    )
    .await;

    // Deleted: it stops at once.
    admin.ok(Method::DELETE, &format!("/clients/{}", client.id), None, 204).await;
    assert_eq!(server.token_basic(&client, &[("grant_type", "client_credentials")]).await.status(), 401);
    problem(admin.call(Method::GET, &format!("/clients/{}", client.id), None).await, 404).await;
    problem(admin.call(Method::DELETE, &format!("/clients/{}", client.id), None).await, 404).await;
    // A client of another application is not found here.
    let stranger = server.confidential_client(&["mobile"]);
    problem(admin.call(Method::GET, &format!("/clients/{}", stranger.id), None).await, 404).await;
    server.stop().await;
}

async fn platform_administrators_list_and_create_applications(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let admin_client = server.confidential_client(&["admin"]);
    let jwt: Value = server
        .token_basic(&admin_client, &[("grant_type", "client_credentials")])
        .await
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", jwt["access_token"].as_str().unwrap());
    let call = |method: Method, body: Option<Value>, auth: String| {
        let mut req = server.http.request(method, server.url("/admin/v1/apps")).header("authorization", auth);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let res = call(Method::POST, Some(json!({ "name": "harbour" })), bearer.clone()).await.unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let (app, master) =
        (created["id"].as_str().unwrap().to_owned(), created["master_token"].as_str().unwrap().to_owned());
    assert!(master.starts_with("tsm_"));
    let list: Value = call(Method::GET, None, bearer.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 2);
    assert!(!list.to_string().contains("tsm_"));
    // The platform administrator manages that application too; its master token only it.
    let platform = Admin { server: &server, app: app.clone(), auth: bearer.clone() };
    platform.ok(Method::POST, "/mobile-tokens", Some(json!({ "name": "by the platform" })), 201).await;
    let own = Admin { server: &server, app, auth: format!("Token {master}") };
    assert_eq!(own.ok(Method::GET, "/mobile-tokens", None, 200).await["total"], 1);
    // A master token, or an admin token of another application, cannot see all applications.
    problem(call(Method::GET, None, format!("Token {master}")).await.unwrap(), 403).await;
    problem(call(Method::POST, Some(json!({ "name": "" })), bearer).await.unwrap(), 400).await;
    problem(call(Method::GET, None, String::new()).await.unwrap(), 401).await;
    server.stop().await;
}

async fn every_application_has_exactly_one_master_token(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    // The default application, made by the first migration, got one at start.
    assert!(server.state.store.apps_without_master().await.unwrap().is_empty());
    // Its value was shown to nobody; an administrator rotates it to get one.
    let admin_client = server.confidential_client(&["admin"]);
    let jwt: Value = server
        .token_basic(&admin_client, &[("grant_type", "client_credentials")])
        .await
        .json()
        .await
        .unwrap();
    let admin = Admin {
        server: &server,
        app: "default".into(),
        auth: format!("Bearer {}", jwt["access_token"].as_str().unwrap()),
    };
    let rotated = admin.ok(Method::POST, "/master-token/rotate", None, 200).await;
    let master = rotated["master_token"].as_str().unwrap();
    let with_master = Admin { server: &server, app: "default".into(), auth: format!("Token {master}") };
    with_master.ok(Method::GET, "/mobile-tokens", None, 200).await;
    // Still one: making them again adds none.
    let again = tessera::domain::platform_tokens::ensure_master_tokens(&server.state.store, 0).await.unwrap();
    assert!(again.is_empty());
    server.stop().await;
}

//! Tenant isolation, proven on every admin route: the test walks `api::ROUTES`,
//! so a route added later is covered without editing it. Application A's master
//! token calls each route with B's application id, and with A's own id and B's
//! resource ids; every answer is 403 or 404, and B is unchanged afterwards, in its
//! rows and in behaviour (its refresh token still refreshes, its mobile token is
//! still active). SQLite and Postgres.

mod common;

use common::flow::{authorize_query, browser, param, VERIFIER};
use common::{Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use tessera::domain::endpoints::{self, Method as EndpointMethod, NewEndpoint};
use tessera::domain::platform_tokens;
use tessera::domain::platform_tokens::{NewToken, TokenKind};
use tessera::store::{CallFilter, Store, TokenFilter};

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    no_admin_route_lets_one_application_touch_another,
    no_console_page_lets_one_application_touch_another,
);

/// Everything of application `app` that an attack could change, as text.
async fn snapshot(store: &Store, app: &str) -> String {
    let users = store.list_users(app, 200, 0).await.unwrap();
    let passwords: Vec<_> = users.0.iter().map(|u| u.password_hash.clone()).collect();
    format!(
        "{users:?}\n{passwords:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.list_mobile_sessions(app, Default::default(), 0, 200, 0).await.unwrap(),
        store.get_app(app).await.unwrap(),
        store.list_clients_page(app, 200, 0).await.unwrap(),
        store.list_platform_tokens(app, TokenKind::Mobile, TokenFilter::default(), 200, 0).await.unwrap(),
        store.list_platform_tokens(app, TokenKind::Api, TokenFilter::default(), 200, 0).await.unwrap(),
        store.list_departments(app).await.unwrap(),
        store.list_user_types(app).await.unwrap(),
        store.master_token_hash(app).await.unwrap(),
    ) + &endpoint_snapshot(store, app).await
}

/// The application's endpoints, their primaries, its secondary endpoint tokens,
/// their mappings and the recorded calls.
async fn endpoint_snapshot(store: &Store, app: &str) -> String {
    let (endpoints, _) = store.list_endpoints(app, 200, 0).await.unwrap();
    let mut text = format!(
        "\n{:?}\n{endpoints:?}\n{:?}",
        store.list_audit(app, Default::default(), 200, 0).await.unwrap(),
        store
            .list_platform_tokens(app, TokenKind::EndpointSecondary, TokenFilter::default(), 200, 0)
            .await
            .unwrap()
    );
    for e in &endpoints {
        let (mapped, _) = store.list_token_assignments(app, &e.id, true, 200, 0).await.unwrap();
        text += &format!(
            "\n{:?}\n{:?}\n{:?}",
            store.primary_tokens(app, &e.id).await.unwrap(),
            mapped.iter().map(|a| a.assignment.clone()).collect::<Vec<_>>(),
            store.list_endpoint_calls(app, &e.id, CallFilter::default(), 200, 0).await.unwrap(),
        );
    }
    text
}

/// A logo another application would like to put on B's pages.
const EVIL_PNG: &[u8] = b"\x89PNG\r\n\x1a\nevil";

/// A body that the route would accept, so that a call that got past the tenancy
/// check would really change something.
fn body_for(method: &str, rel: &str, b_ids: &[&str]) -> Option<Value> {
    let body = match (method, rel) {
        ("post", "/apps") => json!({ "name": "evil" }),
        ("patch", "/apps/{app}") => {
            json!({ "forward_auth": true, "display_name": "evil", "accent_colour": "#000000" })
        }
        ("post", r) if r.ends_with("/api-tokens") => {
            json!({ "name": "evil", "user": b_ids[0], "expires_at": "2099-01-01T00:00:00Z" })
        }
        ("post", r) if r.ends_with("/delete") => json!({ "ids": b_ids }),
        ("post", r) if r.ends_with("/mobile-tokens") => json!({ "name": "evil" }),
        ("patch", r) if r.contains("/mobile-tokens/") => json!({ "enabled": false, "name": "evil" }),
        ("put", r) if r.contains("/user-types/") => json!({ "scope": "master admin" }),
        ("post", r) if r.ends_with("/departments") => json!({ "name": "evil" }),
        ("post", r) if r.ends_with("/users") => json!({ "username": "evil", "password": "password123" }),
        ("patch", r) if r.contains("/users/") => {
            json!({ "enabled": false, "password": "password123", "user_type": "administrator" })
        }
        ("post", r) if r.ends_with("/endpoints") => json!({ "name": "evil", "path": "/evil" }),
        ("patch", r) if r.ends_with("/endpoints/{id}") => json!({ "allow_delete": true, "path": "/evil" }),
        ("put", r) if r.contains("/assignments/") => json!({ "methods": ["GET", "POST"] }),
        ("patch", r) if r.contains("/assignments/") => json!({ "enabled": false }),
        ("post", r) if r.ends_with("/endpoint-tokens") => json!({ "name": "evil" }),
        ("patch", r) if r.contains("/endpoint-tokens/") => json!({ "enabled": false, "name": "evil" }),
        ("patch", r) if r.contains("/clients/") => {
            json!({ "redirect_uris": ["https://evil.example/cb"], "scopes": ["master admin"] })
        }
        ("post", r) if r.ends_with("/clients") => {
            json!({ "name": "evil", "type": "confidential", "scopes": ["master"] })
        }
        _ => return None,
    };
    Some(body)
}

/// B, the default application: a mobile client with a signed-in person holding
/// a refresh token, a mobile token, an API token, a department and a user type
/// of its own, a confidential client, an endpoint with a mapped secondary token
/// and a recorded call.
struct Victim {
    b_client: String,
    b_user: String,
    b_refresh: String,
    b_mobile: platform_tokens::CreatedToken,
    b_api: platform_tokens::CreatedToken,
    b_rs: common::TestClient,
    b_endpoint: endpoints::EndpointWithTokens,
    b_secondary: platform_tokens::CreatedToken,
    b_e: String,
    b_s: String,
    b_session: String,
}

async fn victim(server: &TestServer) -> Victim {
    let store = server.state.store.clone();
    let b_client = server.public_client("mobile", &["mobile"]);
    let b_user = server.user("ada", PASSWORD, &["--department", "b-dept", "--user-type", "operator"]);
    let params =
        server.approve(&browser(), &authorize_query(&b_client, "mobile", "s"), "ada", PASSWORD).await;
    let code = param(&params, "code").unwrap().to_owned();
    let tokens: Value = server.redeem(&b_client, &code, VERIFIER).await.json().await.unwrap();
    let b_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    store.put_user_type("default", "b-type", "mobile", 1).await.unwrap();
    let (config, keys) = (&server.state.config, &server.state.data_keys);
    let new = NewToken { name: "b phone", ..NewToken::default() };
    let b_mobile =
        platform_tokens::mint(&store, config, keys, TokenKind::Mobile, "default", new, 1).await.unwrap();
    let ada = store.get_user("default", &b_user).await.unwrap().unwrap();
    let new = NewToken {
        name: "b api",
        expires_at: Some(server.state.clock.now() + 3600),
        user: Some(&ada),
        ..NewToken::default()
    };
    let now = server.state.clock.now();
    let b_api =
        platform_tokens::mint(&store, config, keys, TokenKind::Api, "default", new, now).await.unwrap();
    let b_rs = server.confidential_client(&["mobile"]);
    // An endpoint with a secondary token mapped to it, and a recorded call.
    let new = NewEndpoint { name: "b orders", path: "/b/orders", allow_delete: false };
    let b_endpoint = endpoints::create(&store, config, keys, "default", new, now).await.unwrap();
    let new = NewToken { name: "b erp", ..NewToken::default() };
    let b_secondary =
        platform_tokens::mint(&store, config, keys, TokenKind::EndpointSecondary, "default", new, now)
            .await
            .unwrap();
    let (b_e, b_s) = (b_endpoint.endpoint.id.clone(), b_secondary.record.id.clone());
    endpoints::assign(&store, "default", &b_e, &b_s, &[EndpointMethod::Post], true, now).await.unwrap();
    server.state.endpoints.reload(&store).await.unwrap();
    assert_eq!(b_check(server, &b_e, b_secondary.token.expose()).await["allowed"], true);
    // Written now, so that the poller's write of this use is not taken for a change.
    server.state.endpoints.flush(&store).await.unwrap();
    store.record_token_use(&server.state.token_use.drain()).await.unwrap();
    // B's brand: a name, a colour and a logo.
    let brand = tessera::domain::apps::BrandingChanges {
        display_name: Some(Some("B brand".into())),
        accent_colour: Some(Some("#1b5e20".into())),
    };
    tessera::domain::apps::change_branding(&store, "default", brand).await.unwrap();
    let logo = tessera::domain::apps::logo("image/png", b"\x89PNG\r\n\x1a\nB".to_vec()).unwrap();
    store.put_logo("default", &logo, now).await.unwrap();
    let (b_sessions, _) = store.list_mobile_sessions("default", Default::default(), 0, 10, 0).await.unwrap();
    let b_session = b_sessions[0].id.clone();
    Victim {
        b_client,
        b_user,
        b_refresh,
        b_mobile,
        b_api,
        b_rs,
        b_endpoint,
        b_secondary,
        b_e,
        b_s,
        b_session,
    }
}

/// Calls the endpoint check for B's endpoint with `token`.
async fn b_check(server: &TestServer, b_e: &str, token: &str) -> Value {
    let body = json!({ "endpoint": b_e, "method": "POST", "token": token });
    server
        .http
        .post(server.url("/v1/endpoint-check"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
}

async fn no_admin_route_lets_one_application_touch_another(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let store = server.state.store.clone();

    let Victim {
        b_client,
        b_user,
        b_refresh,
        b_mobile,
        b_api,
        b_rs,
        b_endpoint,
        b_secondary,
        b_e,
        b_s,
        b_session,
    } = victim(&server).await;
    let before = snapshot(&store, "default").await;

    // A: another application and its master token.
    let a = server.env.cli_json(&["app", "create", "--name", "attacker", "--json"]);
    let a_id = a["id"].as_str().unwrap().to_owned();
    let a_auth = format!("Token {}", a["master_token"].as_str().unwrap());

    let id_for = |rel: &str| -> String {
        if rel.contains("/users/") {
            b_user.clone()
        } else if rel.contains("/clients/") {
            b_client.clone()
        } else if rel.contains("/mobile-tokens/") {
            b_mobile.record.id.clone()
        } else if rel.contains("/api-tokens/") {
            b_api.record.id.clone()
        } else if rel.contains("/mobile-sessions/") {
            b_session.clone()
        } else if rel.contains("/endpoints/") {
            b_e.clone()
        } else if rel.contains("/endpoint-tokens/") {
            b_s.clone()
        } else {
            "none".to_owned()
        }
    };
    let name_for = |rel: &str| if rel.contains("/departments/") { "b-dept" } else { "b-type" };
    let mut walked = 0;
    for &(method, path) in tessera::api::ROUTES {
        let rel = path.strip_prefix("/admin/v1").unwrap();
        if rel == "/openapi.json" {
            continue;
        }
        let call = |app: &str| {
            let url = path
                .replace("{app}", app)
                .replace("{id}", &id_for(rel))
                .replace("{name}", name_for(rel))
                .replace("{token_id}", &b_s)
                .replace("{method}", "POST");
            let mut req = server
                .http
                .request(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), server.url(&url))
                .header("authorization", &a_auth);
            let b_ids =
                [b_user.as_str(), b_api.record.id.as_str(), b_mobile.record.id.as_str(), b_session.as_str()];
            if let Some(body) = body_for(method, rel, &b_ids) {
                req = req.json(&body);
            } else if rel.ends_with("/logo") && method == "put" {
                req = req.header("content-type", "image/png").body(EVIL_PNG);
            }
            async move { (url.clone(), req.send().await.unwrap()) }
        };
        if !rel.contains("{app}") {
            // Calls about every application: A's master token is no platform administrator.
            let (url, res) = call("").await;
            assert_eq!(res.status(), 403, "{method} {url}");
            walked += 1;
            continue;
        }
        let (url, res) = call("default").await;
        assert!(matches!(res.status().as_u16(), 403 | 404), "{method} {url} answered {}", res.status());
        walked += 1;
        // A's own application with B's ids. (A defining a user type of the same
        // name is A's own business: names are per application.)
        // A bulk delete in A's own application naming B's ids deletes none of them.
        if rel.ends_with("/delete") {
            let (url, res) = call(&a_id).await;
            assert_eq!(res.status(), 200, "{method} {url}");
            assert_eq!(res.json::<Value>().await.unwrap()["deleted"], 0, "{method} {url}");
            walked += 1;
        }
        if (rel.contains("{id}") || rel.contains("{name}"))
            && !(method == "put" && rel.contains("/user-types/"))
        {
            let (url, res) = call(&a_id).await;
            assert_eq!(res.status(), 404, "{method} {url}");
            walked += 1;
        }
    }
    assert!(walked >= tessera::api::ROUTES.len(), "walked {walked} calls");

    // B is unchanged in its rows...
    assert_eq!(snapshot(&store, "default").await, before);
    // ...and in behaviour: its refresh token refreshes, its mobile token is active.
    let res = server.refresh(&b_client, &b_refresh, None).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // ...its endpoint token still opens its endpoint, its primary still works...
    assert_eq!(b_check(&server, &b_e, b_secondary.token.expose()).await["allowed"], true);
    let b_post = &b_endpoint.primaries.iter().find(|(m, _)| *m == EndpointMethod::Post).unwrap().1;
    assert_eq!(b_check(&server, &b_e, b_post.expose()).await["allowed"], true);
    for token in [&b_mobile.token, &b_api.token] {
        let info: Value = server
            .http
            .post(server.url("/introspect"))
            .basic_auth(&b_rs.id, Some(&b_rs.secret))
            .form(&[("token", token.expose())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["active"], true, "{info}");
    }
    server.stop().await;
}

/// Signs `username` of application `app` in to the console over HTTP, through
/// the login and consent pages; answers the cookie jar and the session's CSRF token.
async fn console_session(server: &TestServer, app: &str, username: &str) -> (reqwest::Client, String) {
    let web = browser();
    let start = web.get(server.url(&format!("/console/signin?app={app}"))).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let query = authorize.split_once('?').unwrap().1.to_owned();
    let consent = server.sign_in(&web, &query, username, PASSWORD).await;
    let html = consent.text().await.unwrap();
    let res = server
        .post_authorize(&web, &html, &[("csrf_token", &common::flow::csrf_of(&html)), ("decision", "allow")])
        .await;
    assert_eq!(res.status(), 303);
    let callback = res.headers()["location"].to_str().unwrap().to_owned();
    let landed = web.get(callback).send().await.unwrap();
    assert_eq!(landed.status(), 303, "{}", landed.text().await.unwrap());
    let home = web.get(server.url(&format!("/console/apps/{app}"))).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let csrf = common::flow::csrf_of(&home.text().await.unwrap());
    (web, csrf)
}

async fn no_console_page_lets_one_application_touch_another(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let store = server.state.store.clone();
    let v = victim(&server).await;
    let before = snapshot(&store, "default").await;

    // A: another application and its administrator, signed in to the console.
    let a = server.env.cli_json(&["app", "create", "--name", "attacker", "--json"]);
    let a_id = a["id"].as_str().unwrap().to_owned();
    let out = server
        .env
        .cli(&["admin", "create", "--username", "boss", "--app", &a_id, "--password-stdin"], Some(PASSWORD));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (web, csrf) = console_session(&server, &a_id, "boss").await;

    let id_for = |rel: &str| -> String {
        let ids = [
            ("/api-tokens/", &v.b_api.record.id),
            ("/mobile-tokens/", &v.b_mobile.record.id),
            ("/users/", &v.b_user),
            ("/clients/", &v.b_client),
            ("/endpoints/", &v.b_e),
            ("/endpoint-tokens/", &v.b_s),
        ];
        ids.iter()
            .find(|(part, _)| rel.contains(part))
            .map(|(_, id)| (*id).clone())
            .unwrap_or_else(|| "none".into())
    };
    let b_ids = [
        v.b_user.as_str(),
        v.b_api.record.id.as_str(),
        v.b_mobile.record.id.as_str(),
        v.b_session.as_str(),
        v.b_s.as_str(),
        v.b_e.as_str(),
    ];
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf_token", &csrf),
        ("confirm", "yes"),
        ("name", "evil"),
        ("path", "/evil"),
        ("allow_delete", "yes"),
        ("methods", "POST"),
        ("scope", "master admin"),
        ("username", "evil"),
        ("password", "password123"),
        ("client_type", "confidential"),
        ("scopes", "master admin"),
        ("redirect_uris", "https://evil.example/cb"),
        ("user", &v.b_user),
        ("expires", "2027-01-01"),
        ("description", "evil"),
    ];
    for id in &b_ids {
        form.push(("ids", id));
    }
    let mut walked = 0;
    for &(method, path) in tessera::web::console::ROUTES {
        if !path.contains("{app}") {
            continue;
        }
        let call = |app: &str| {
            let url = path
                .replace("{app}", app)
                .replace("{id}", &id_for(path))
                .replace("{token}", &v.b_s)
                .replace("{method}", "POST")
                .replace("{name}", if path.contains("/departments/") { "b-dept" } else { "b-type" });
            let req = match method {
                "get" => web.get(server.url(&url)),
                _ => web.post(server.url(&url)).form(&form),
            };
            async move { (url.clone(), req.send().await.unwrap()) }
        };
        // B's application: refused outright.
        let (url, res) = call("default").await;
        assert_eq!(res.status(), 403, "{method} {url}");
        // A's own application with B's ids: never B's data, never a change to B.
        let (url, res) = call(&a_id).await;
        let status = res.status().as_u16();
        let names_b = path.matches('{').count() > 1;
        if method == "get" && names_b {
            assert_eq!(status, 404, "{method} {url}");
        } else {
            assert!(matches!(status, 200 | 201 | 303 | 400 | 404), "{method} {url} answered {status}");
            let body = res.text().await.unwrap();
            for secret in [v.b_api.token.expose(), v.b_mobile.token.expose(), v.b_secondary.token.expose()] {
                assert!(!body.contains(secret), "{method} {url} showed B's token");
            }
        }
        walked += 1;
    }
    assert!(walked >= 40, "walked {walked} console pages");

    // B is unchanged, and its tokens still work.
    assert_eq!(snapshot(&store, "default").await, before);
    assert_eq!(server.refresh(&v.b_client, &v.b_refresh, None).await.status(), 200);
    assert_eq!(b_check(&server, &v.b_e, v.b_secondary.token.expose()).await["allowed"], true);
    server.stop().await;
}

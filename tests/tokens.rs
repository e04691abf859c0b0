//! API tokens, install tokens, forward auth and the offline token check, through
//! the real server on SQLite and Postgres.

mod common;

use common::flow::{authorize_query, browser, param, VERIFIER};
use common::{Backend, TestClient, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    api_tokens_are_made_for_a_user_listed_revealed_and_deleted,
    an_api_tokens_worth_follows_its_user_at_the_next_check,
    install_tokens_are_bound_to_their_install_id,
    forward_auth_answers_for_enabled_applications_only,
    the_cli_makes_lists_and_deletes_api_tokens,
    mobile_sessions_are_listed_and_revoked_with_their_tokens,
);

const PASSWORD: &str = "correct horse battery";

/// An application of its own, with its master token, a confidential client to
/// introspect with, and an operator and an administrator user.
struct Tenant {
    id: String,
    master: String,
    rs: TestClient,
    operator: String,
    administrator: String,
}

fn tenant(server: &TestServer, name: &str) -> Tenant {
    let app = server.env.cli_json(&["app", "create", "--name", name, "--json"]);
    let id = app["id"].as_str().unwrap().to_owned();
    let client = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "rs",
        "--type",
        "confidential",
        "--grant",
        "client_credentials",
        "--scope",
        "master",
        "--app",
        &id,
        "--json",
    ]);
    let rs = TestClient {
        id: client["client_id"].as_str().unwrap().to_owned(),
        secret: client["client_secret"].as_str().unwrap().to_owned(),
    };
    let operator = server.user(&format!("op-{name}"), PASSWORD, &["--user-type", "operator", "--app", &id]);
    let administrator =
        server.user(&format!("boss-{name}"), PASSWORD, &["--user-type", "administrator", "--app", &id]);
    Tenant { master: app["master_token"].as_str().unwrap().to_owned(), id, rs, operator, administrator }
}

impl Tenant {
    async fn call(
        &self,
        server: &TestServer,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        self.call_as(server, &self.master, method, path, body).await
    }

    async fn call_as(
        &self,
        server: &TestServer,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let url = server.url(&format!("/admin/v1/apps/{}{path}", self.id));
        let mut req = server.http.request(method, url).header("authorization", format!("Token {token}"));
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    async fn api_token(&self, server: &TestServer, user: &str, extra: Value) -> Value {
        let mut body = json!({ "name": "integration", "user": user, "expires_at": in_days(30) });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = self.call(server, Method::POST, "/api-tokens", Some(body)).await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }

    async fn introspect(&self, server: &TestServer, form: &[(&str, &str)]) -> Value {
        server
            .http
            .post(server.url("/introspect"))
            .basic_auth(&self.rs.id, Some(&self.rs.secret))
            .form(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn api_tokens_are_made_for_a_user_listed_revealed_and_deleted(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = tenant(&server, "x");
    let y = tenant(&server, "y");
    server
        .env
        .cli(&["user", "create", "--username", "nobody", "--app", &x.id, "--password-stdin"], Some("x\n"));

    let created = x.api_token(&server, &x.operator, json!({ "description": "nightly export" })).await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tsa_") && token.len() == 53, "{token}");
    assert_eq!(created["tenant_id"], x.id.as_str());
    assert_eq!(created["user"], x.operator.as_str());
    assert_eq!(created["user_type"], "operator");
    assert_eq!(created["last_used_at"], Value::Null);
    assert!(created["usage"].as_str().unwrap().contains("Token"));
    let id = created["id"].as_str().unwrap().to_owned();

    // Introspection: the user's identity and the user type's scopes.
    let info = x.introspect(&server, &[("token", &token)]).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["token_kind"], "api");
    assert_eq!(info["sub"], x.operator.as_str());
    assert_eq!(info["username"], "op-x");
    assert_eq!(info["user_type"], "operator");
    assert_eq!(info["profile"], "mobile");
    assert_eq!(info["app"], x.id.as_str());
    assert!(info["exp"].as_i64().is_some());
    // Another application's client learns nothing about it.
    assert_eq!(y.introspect(&server, &[("token", &token)]).await["active"], false);

    // Listed (filter by user) and read without the value; revealed again.
    let list: Value = x.call(&server, Method::GET, "/api-tokens", None).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let mine: Value = x
        .call(&server, Method::GET, &format!("/api-tokens?user={}", x.operator), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 1);
    let theirs: Value = x
        .call(&server, Method::GET, &format!("/api-tokens?user={}", x.administrator), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["total"], 0);
    let one: Value =
        x.call(&server, Method::GET, &format!("/api-tokens/{id}"), None).await.json().await.unwrap();
    assert_eq!(one["description"], "nightly export");
    for answer in [&list, &mine, &one] {
        assert!(!answer.to_string().contains("tsa_"), "{answer}");
    }
    let revealed = x.call(&server, Method::GET, &format!("/api-tokens/{id}/reveal"), None).await;
    assert_eq!(revealed.headers()["cache-control"], "no-store");
    let revealed: Value = revealed.json().await.unwrap();
    assert_eq!(revealed["token"], token.as_str());
    // Not through another application, nor for another kind.
    assert_eq!(y.call(&server, Method::GET, &format!("/api-tokens/{id}/reveal"), None).await.status(), 404);

    // Bad input: every case its own status and a problem document.
    for (body, status) in [
        (json!({ "name": "t", "user": x.operator, "expires_at": in_days(400) }), 422),
        (json!({ "name": "t", "user": x.operator }), 400),
        (json!({ "name": "t", "user": x.operator, "expires_at": "tomorrow" }), 400),
        (json!({ "name": "t", "user": x.operator, "expires_at": in_days(-1) }), 400),
        (json!({ "name": "t", "user": y.operator, "expires_at": in_days(3) }), 422),
        (json!({ "name": "t", "user": x.operator, "expires_at": in_days(3), "user_type": "nope" }), 422),
        (json!({ "name": "t", "user": x.operator, "expires_at": in_days(3), "department": "nope" }), 422),
        (json!({ "name": "", "user": x.operator, "expires_at": in_days(3) }), 400),
    ] {
        let res = x.call(&server, Method::POST, "/api-tokens", Some(body.clone())).await;
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }

    // Bulk delete skips other applications' ids and says how many went.
    let second = x.api_token(&server, &x.administrator, json!({})).await;
    let third = x.api_token(&server, &x.operator, json!({})).await;
    let foreign = y.api_token(&server, &y.operator, json!({})).await;
    let ids = json!({ "ids": [second["id"], third["id"], foreign["id"], "nope"] });
    let res = x.call(&server, Method::POST, "/api-tokens/delete", Some(ids)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["deleted"], 2);
    let foreign_token = foreign["token"].as_str().unwrap();
    assert_eq!(y.introspect(&server, &[("token", foreign_token)]).await["active"], true);
    assert_eq!(x.introspect(&server, &[("token", third["token"].as_str().unwrap())]).await["active"], false);

    // Deleted one by one: gone at once.
    assert_eq!(x.call(&server, Method::DELETE, &format!("/api-tokens/{id}"), None).await.status(), 204);
    assert_eq!(x.call(&server, Method::GET, &format!("/api-tokens/{id}"), None).await.status(), 404);
    assert_eq!(x.call(&server, Method::DELETE, &format!("/api-tokens/{id}"), None).await.status(), 404);
    assert_eq!(x.introspect(&server, &[("token", &token)]).await["active"], false);
    server.stop().await;
}

async fn an_api_tokens_worth_follows_its_user_at_the_next_check(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = tenant(&server, "x");
    let y = tenant(&server, "y");
    let boss = x.api_token(&server, &x.administrator, json!({})).await;
    let boss = boss["token"].as_str().unwrap().to_owned();
    let op = x.api_token(&server, &x.operator, json!({})).await;
    let op = op["token"].as_str().unwrap().to_owned();

    // An administrator's API token opens the admin API of its own application only.
    assert_eq!(x.call_as(&server, &boss, Method::GET, "/users", None).await.status(), 200);
    assert_eq!(y.call_as(&server, &boss, Method::GET, "/users", None).await.status(), 403);
    assert_eq!(x.call_as(&server, &op, Method::GET, "/users", None).await.status(), 403);
    // It acts as the admin API does for a master token, but cannot rotate it away.
    let res = x.call_as(&server, &boss, Method::POST, "/master-token/rotate", None).await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let master = rotated["master_token"].as_str().unwrap().to_owned();

    // Demoted: the next check knows.
    let res = x
        .call_as(
            &server,
            &master,
            Method::PATCH,
            &format!("/users/{}", x.administrator),
            Some(json!({ "user_type": "operator" })),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(x.call_as(&server, &boss, Method::GET, "/users", None).await.status(), 403);
    let info = x.introspect(&server, &[("token", &boss)]).await;
    assert_eq!(info["active"], true, "{info}");
    assert!(!info["scope"].as_str().unwrap().contains("admin"), "{info}");

    // A user type narrowed: the token carries no more than the type allows now.
    let res = x
        .call_as(
            &server,
            &master,
            Method::PUT,
            "/user-types/operator",
            Some(json!({ "scope": "places:read" })),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let info = x.introspect(&server, &[("token", &op)]).await;
    assert_eq!(info["scope"], "places:read", "{info}");

    // Disabled, then deleted: inactive at once.
    let res = x
        .call_as(
            &server,
            &master,
            Method::PATCH,
            &format!("/users/{}", x.operator),
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(x.introspect(&server, &[("token", &op)]).await["active"], false);
    assert_eq!(
        x.call_as(&server, &master, Method::DELETE, &format!("/users/{}", x.administrator), None)
            .await
            .status(),
        204
    );
    assert_eq!(x.introspect(&server, &[("token", &boss)]).await["active"], false);
    server.stop().await;
}

async fn install_tokens_are_bound_to_their_install_id(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = tenant(&server, "x");
    let api = x.api_token(&server, &x.operator, json!({})).await;
    let api = api["token"].as_str().unwrap().to_owned();
    let get = |query: String, auth: Option<String>| {
        let mut req = server.http.get(server.url(&format!("/v3/users/token{query}")));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send()
    };

    let res = get(format!("?app_key={}&installid=c12b156b-8592", x.id), Some(format!("Token {api}")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let issued: Value = res.json().await.unwrap();
    let install = issued["token"].as_str().unwrap().to_owned();
    assert!(install.starts_with("tsi_") && install.len() == 53, "{install}");
    assert_eq!(issued["install_id"], "c12b156b-8592");
    let expires = chrono::DateTime::parse_from_rfc3339(issued["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires.timestamp() - chrono::Utc::now().timestamp();
    assert!((3590..=3600).contains(&ttl), "{ttl}");
    // A second one for the same install does not end the first.
    let again: Value = get("?installid=c12b156b-8592".into(), Some(format!("Bearer {api}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(again["token"], issued["token"]);

    let info = x.introspect(&server, &[("token", &install)]).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["token_kind"], "install");
    assert_eq!(info["install_id"], "c12b156b-8592");
    assert_eq!(info["sub"], x.operator.as_str());
    assert_eq!(info["profile"], "mobile");
    let info = x.introspect(&server, &[("token", &install), ("install_id", "c12b156b-8592")]).await;
    assert_eq!(info["active"], true);
    let info = x.introspect(&server, &[("token", &install), ("install_id", "another-device")]).await;
    assert_eq!(info, json!({ "active": false }));

    // Refused: each with its own status, as problem documents.
    for (query, auth, status) in [
        ("?installid=d1".to_owned(), None, 401),
        ("?installid=d1".to_owned(), Some(format!("Token {}", x.master)), 403),
        ("?installid=d1".to_owned(), Some(format!("Token {install}")), 403),
        ("?installid=d1".to_owned(), Some("Token tsa_garbage".to_owned()), 401),
        ("?installid=d1&app_key=another".to_owned(), Some(format!("Token {api}")), 403),
        ("".to_owned(), Some(format!("Token {api}")), 400),
        ("?installid=with%20space".to_owned(), Some(format!("Token {api}")), 400),
    ] {
        let res = get(query.clone(), auth).await.unwrap();
        assert_eq!(res.status(), status, "{query}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{query}");
    }
    server.stop().await;
}

async fn forward_auth_answers_for_enabled_applications_only(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = tenant(&server, "x");
    let mobile: Value = x
        .call(&server, Method::POST, "/mobile-tokens", Some(json!({ "name": "phone" })))
        .await
        .json()
        .await
        .unwrap();
    let mobile = mobile["token"].as_str().unwrap().to_owned();
    let api = x.api_token(&server, &x.operator, json!({})).await;
    let api = api["token"].as_str().unwrap().to_owned();
    let install: Value = server
        .http
        .get(server.url("/v3/users/token?installid=dev-1"))
        .header("authorization", format!("Token {api}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let install = install["token"].as_str().unwrap().to_owned();
    let check = |headers: Vec<(&'static str, String)>| {
        let mut req = server.http.get(server.url("/v1/auth/check"));
        for (name, value) in headers {
            req = req.header(name, value);
        }
        req.send()
    };

    // Off by default.
    let res = check(vec![("authorization", format!("Bearer {mobile}"))]).await.unwrap();
    assert_eq!(res.status(), 401);
    let res = x.call(&server, Method::PATCH, "", Some(json!({ "forward_auth": true }))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["forward_auth"], true);

    let res = check(vec![("authorization", format!("Bearer {mobile}"))]).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-tessera-app"], x.id.as_str());
    assert_eq!(res.headers()["x-tessera-token-kind"], "mobile");
    assert!(res.headers()["x-tessera-scope"].to_str().unwrap().contains("places:read"));
    let res = check(vec![("authorization", format!("Token {api}"))]).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-tessera-subject"], x.operator.as_str());
    assert_eq!(res.headers()["x-tessera-user-type"], "operator");

    // Install tokens: in the original URI's query, with their own install id only.
    let uri = |token: &str, id: &str| format!("/v3/tooltips?installid={id}&token={token}");
    let res = check(vec![("x-forwarded-uri", uri(&install, "dev-1"))]).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-tessera-token-kind"], "install");
    assert_eq!(res.headers()["x-tessera-install-id"], "dev-1");
    let res = check(vec![("x-original-uri", uri(&install, "dev-1"))]).await.unwrap();
    assert_eq!(res.status(), 200);
    for headers in [
        vec![("x-forwarded-uri", uri(&install, "dev-2"))],
        vec![("authorization", format!("Token {install}"))],
        // Another kind in the query is ignored: no credential.
        vec![("x-forwarded-uri", uri(&mobile, "dev-1"))],
        vec![("authorization", "Bearer tsb_0000".to_owned())],
        vec![("authorization", "Bearer not-a-jwt".to_owned())],
        vec![],
    ] {
        let res = check(headers.clone()).await.unwrap();
        assert_eq!(res.status(), 401, "{headers:?}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"), "{headers:?}");
    }

    // Required scopes: 403 when missing.
    let res = check(vec![
        ("authorization", format!("Bearer {mobile}")),
        ("x-tessera-require-scope", "places:read".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let res = check(vec![
        ("authorization", format!("Bearer {mobile}")),
        ("x-tessera-require-scope", "places:delete".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));

    // Turned off again: refused at once.
    assert_eq!(
        x.call(&server, Method::PATCH, "", Some(json!({ "forward_auth": false }))).await.status(),
        200
    );
    let res = check(vec![("authorization", format!("Bearer {mobile}"))]).await.unwrap();
    assert_eq!(res.status(), 401);
    server.stop().await;
}

async fn the_cli_makes_lists_and_deletes_api_tokens(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = tenant(&server, "x");
    let made = server.env.cli_json(&[
        "api-token",
        "create",
        "--user",
        "op-x",
        "--expires-in",
        "90d",
        "--name",
        "export",
        "--app",
        &x.id,
        "--json",
    ]);
    let token = made["token"].as_str().unwrap().to_owned();
    assert_eq!(made["user"], x.operator.as_str());
    let ok = server.env.cli(&["token", "check", &token], None);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("api"));
    let mut typo = token.clone();
    typo.replace_range(10..11, if &token[10..11] == "a" { "b" } else { "a" });
    for noise in [typo.as_str(), "tsa_short", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"] {
        let out = server.env.cli(&["token", "check", noise], None);
        assert!(!out.status.success(), "{noise}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));
    }
    // Too long a life, an unknown user: refused.
    for args in [["--user", "op-x", "--expires-in", "400d"], ["--user", "nobody", "--expires-in", "1d"]] {
        let mut all = vec!["api-token", "create", "--app", &x.id];
        all.extend_from_slice(&args);
        assert!(!server.env.cli(&all, None).status.success(), "{args:?}");
    }
    let listed = server.env.cli_json(&["api-token", "list", "--app", &x.id, "--user", "op-x", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains("tsa_"));
    let info = x.introspect(&server, &[("token", &token)]).await;
    assert_eq!(info["active"], true);
    let id = made["id"].as_str().unwrap();
    assert!(server.env.cli(&["api-token", "delete", id, "--app", &x.id], None).status.success());
    // The CLI is another process: the server notices within one poll.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(x.introspect(&server, &[("token", &token)]).await["active"], false);
    server.stop().await;
}

/// Signs `username` in through `client` in a fresh browser: (access, refresh).
async fn sign_in(server: &TestServer, client: &str, username: &str) -> (String, String) {
    let query = authorize_query(client, "mobile", "s");
    let params = server.approve(&browser(), &query, username, PASSWORD).await;
    let code = param(&params, "code").unwrap().to_owned();
    let tokens: Value = server.redeem(client, &code, VERIFIER).await.json().await.unwrap();
    (
        tokens["access_token"].as_str().unwrap().to_owned(),
        tokens["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn mobile_sessions_are_listed_and_revoked_with_their_tokens(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let now = server.state.clock.now();
    let master = tessera::domain::platform_tokens::rotate_master(&server.state.store, "default", None, now)
        .await
        .unwrap();
    let admin = Tenant {
        id: "default".into(),
        master: master.expose().to_owned(),
        rs: server.confidential_client(&["mobile"]),
        operator: server.user("ada", PASSWORD, &["--email", "ada@example.com", "--department", "north"]),
        administrator: server.user("bob", PASSWORD, &["--user-type", "manager"]),
    };
    let mobile = server.public_client("mobile", &["mobile"]);
    let web = server.public_client("public", &["mobile"]);
    let (ada_access, ada_refresh) = sign_in(&server, &mobile, "ada").await;
    let (_, ada_tablet) = sign_in(&server, &mobile, "ada").await;
    let (_, bob_refresh) = sign_in(&server, &mobile, "bob").await;
    // A login through a web client is no mobile session.
    sign_in(&server, &web, "ada").await;

    let list: Value = admin.call(&server, Method::GET, "/mobile-sessions", None).await.json().await.unwrap();
    assert_eq!(list["total"], 3, "{list}");
    let items = list["items"].as_array().unwrap();
    let ada: Vec<&Value> = items.iter().filter(|s| s["username"] == "ada").collect();
    assert_eq!(ada.len(), 2);
    assert_eq!(ada[0]["email"], "ada@example.com");
    assert_eq!(ada[0]["department"], "north");
    assert_eq!(ada[0]["user_type"], "operator");
    assert_eq!(ada[0]["client_id"], mobile.as_str());
    assert_eq!(ada[0]["user"], admin.operator.as_str());
    for field in ["last_active", "expires_at", "created_at"] {
        assert!(ada[0][field].as_str().unwrap().ends_with('Z'), "{field}");
    }
    assert!(!list.to_string().contains("tsr_"), "{list}");
    let bobs: Value = admin
        .call(&server, Method::GET, &format!("/mobile-sessions?user={}", admin.administrator), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["total"], 1);
    assert_eq!(bobs["items"][0]["user_type"], "manager");
    let bob_session = bobs["items"][0]["id"].as_str().unwrap().to_owned();

    // Revoke the session ada's access token came from: its refresh token stops,
    // the access token is inactive; her other session goes on.
    assert_eq!(admin.introspect(&server, &[("token", &ada_access)]).await["active"], true);
    let sid = common::claims_unverified(&ada_access)["sid"].as_str().unwrap().to_owned();
    let one: Value = admin
        .call(&server, Method::GET, &format!("/mobile-sessions/{sid}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["username"], "ada");
    assert_eq!(
        admin.call(&server, Method::DELETE, &format!("/mobile-sessions/{sid}"), None).await.status(),
        204
    );
    assert_eq!(admin.introspect(&server, &[("token", &ada_access)]).await, json!({ "active": false }));
    let res = server.refresh(&mobile, &ada_refresh, None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(server.refresh(&mobile, &ada_tablet, None).await.status(), 200);
    assert_eq!(
        admin.call(&server, Method::GET, &format!("/mobile-sessions/{sid}"), None).await.status(),
        404
    );
    assert_eq!(
        admin.call(&server, Method::DELETE, &format!("/mobile-sessions/{sid}"), None).await.status(),
        404
    );

    // In bulk: unknown ids are skipped, the count says so.
    let ids = json!({ "ids": [bob_session, sid, "nope"] });
    let res = admin.call(&server, Method::POST, "/mobile-sessions/delete", Some(ids)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["deleted"], 1);
    assert_eq!(server.refresh(&mobile, &bob_refresh, None).await.status(), 400);
    let list: Value = admin.call(&server, Method::GET, "/mobile-sessions", None).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    server.stop().await;
}

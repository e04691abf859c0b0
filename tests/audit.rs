//! The audit log: every change through the admin API is recorded with its actor,
//! action, target and request id, and listed per application, newest first.

mod common;

use common::{Backend, TestServer};
use serde_json::{json, Value};

on_both_backends!(admin_api_changes_are_in_the_audit_log_of_their_application);

async fn admin_api_changes_are_in_the_audit_log_of_their_application(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let app = server.env.cli_json(&["app", "create", "--name", "x", "--json"]);
    let (id, master) =
        (app["id"].as_str().unwrap().to_owned(), app["master_token"].as_str().unwrap().to_owned());
    let other = server.env.cli_json(&["app", "create", "--name", "y", "--json"]);
    let call = |method: reqwest::Method, path: String, body: Option<Value>, token: &str| {
        let mut req = server
            .http
            .request(method, server.url(&format!("/admin/v1/apps{path}")))
            .header("authorization", format!("Token {token}"))
            .header("x-request-id", "audit-test-1");
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move { req.send().await.unwrap() }
    };

    let res = call(
        reqwest::Method::POST,
        format!("/{id}/mobile-tokens"),
        Some(json!({ "name": "phone" })),
        &master,
    )
    .await;
    assert_eq!(res.status(), 201);
    let token: Value = res.json().await.unwrap();
    let token_id = token["id"].as_str().unwrap();
    let res = call(reqwest::Method::DELETE, format!("/{id}/mobile-tokens/{token_id}"), None, &master).await;
    assert_eq!(res.status(), 204);
    // Reads and refused writes are not changes.
    call(reqwest::Method::GET, format!("/{id}/mobile-tokens"), None, &master).await;
    let res = call(reqwest::Method::DELETE, format!("/{id}/mobile-tokens/{token_id}"), None, &master).await;
    assert_eq!(res.status(), 404);

    let res = call(reqwest::Method::GET, format!("/{id}/audit"), None, &master).await;
    assert_eq!(res.status(), 200);
    let log: Value = res.json().await.unwrap();
    assert_eq!(log["total"], 2, "{log}");
    let newest = &log["items"][0];
    assert_eq!(newest["action"], "DELETE /apps/{app}/mobile-tokens/{id}");
    assert_eq!(newest["target"], format!("/apps/{id}/mobile-tokens/{token_id}"));
    assert_eq!(newest["actor"], format!("master token of application {id}"));
    assert_eq!(newest["request_id"], "audit-test-1");
    assert_eq!(log["items"][1]["action"], "POST /apps/{app}/mobile-tokens");
    assert!(!log.to_string().contains(token["token"].as_str().unwrap()), "no secret in the log");

    // Search and time bounds.
    let res = call(reqwest::Method::GET, format!("/{id}/audit?q=DELETE"), None, &master).await;
    assert_eq!(res.json::<Value>().await.unwrap()["total"], 1);
    let res =
        call(reqwest::Method::GET, format!("/{id}/audit?from=2999-01-01T00:00:00Z"), None, &master).await;
    assert_eq!(res.json::<Value>().await.unwrap()["total"], 0);
    let res = call(reqwest::Method::GET, format!("/{id}/audit?from=soon"), None, &master).await;
    assert_eq!(res.status(), 400);

    // Another application's log holds none of it, and is not readable with this token.
    let other_id = other["id"].as_str().unwrap();
    let res = call(
        reqwest::Method::GET,
        format!("/{other_id}/audit"),
        None,
        other["master_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["total"], 0);
    let res = call(reqwest::Method::GET, format!("/{other_id}/audit"), None, &master).await;
    assert_eq!(res.status(), 403);
    server.stop().await;
}

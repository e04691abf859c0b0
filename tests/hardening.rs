//! Regression tests for what an attacker found (the tenant-isolation issue), one
//! per finding, through the real server on SQLite and Postgres.

mod common;

use common::flow::{authorize_query, browser, param, VERIFIER};
use common::{Backend, TestEnv, TestServer};
use serde_json::{json, Value};
use tessera::config::Environment;
use tessera::domain::platform_tokens;

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    a_demoted_user_keeps_no_scope_of_the_old_type_on_refresh,
    nul_bytes_are_a_400_at_oauth_and_admin_endpoints,
    parallel_master_rotations_leave_exactly_one_working_token,
    token_exchange_is_bounded_by_the_exchanging_clients_registration,
    unknown_user_types_are_422_and_the_cli_refuses_them,
    parallel_login_guesses_do_not_pass_the_backoff,
    a_body_that_never_arrives_is_refused_within_the_deadline,
    concurrent_patches_of_one_user_keep_both_changes,
    departments_deleted_under_concurrent_writes_never_answer_500,
);

/// The default application's master token, made anew (its first one is shown to nobody).
async fn default_master(server: &TestServer) -> String {
    let token = platform_tokens::rotate_master(&server.state.store, "default", None, 1).await.unwrap();
    format!("Token {}", token.expose())
}

async fn a_demoted_user_keeps_no_scope_of_the_old_type_on_refresh(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let auth = default_master(&server).await;
    let client = server.public_client("mobile", &["master", "admin"]);
    let id = server.user("ada", PASSWORD, &["--user-type", "administrator"]);
    let params =
        server.approve(&browser(), &authorize_query(&client, "master admin", "d"), "ada", PASSWORD).await;
    let code = param(&params, "code").unwrap().to_owned();
    let tokens: Value = server.redeem(&client, &code, VERIFIER).await.json().await.unwrap();
    assert!(tokens["scope"].as_str().unwrap().contains("admin"), "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let res = server
        .http
        .patch(server.url(&format!("/admin/v1/apps/default/users/{id}")))
        .header("authorization", &auth)
        .json(&json!({ "user_type": "operator" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = server.refresh(&client, &refresh, None).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    server.stop().await;
}

async fn nul_bytes_are_a_400_at_oauth_and_admin_endpoints(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let auth = default_master(&server).await;
    let res = server
        .http
        .post(server.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=a%00b&client_secret=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");
    let res = server
        .http
        .post(server.url("/admin/v1/apps/default/mobile-tokens"))
        .header("authorization", &auth)
        .json(&json!({ "name": "a\u{0}b" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = server
        .http
        .get(server.url("/admin/v1/apps/default/users/a%00b"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let (rows, _) = server
        .state
        .store
        .list_platform_tokens(
            "default",
            tessera::domain::platform_tokens::TokenKind::Mobile,
            Default::default(),
            10,
            0,
        )
        .await
        .unwrap();
    assert!(rows.is_empty(), "nothing was stored");
    server.stop().await;
}

async fn parallel_master_rotations_leave_exactly_one_working_token(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let auth = default_master(&server).await;
    let calls = (0..20).map(|_| {
        server
            .http
            .post(server.url("/admin/v1/apps/default/master-token/rotate"))
            .header("authorization", &auth)
            .send()
    });
    let answers = futures_util::future::join_all(calls).await;
    let mut issued = Vec::new();
    for res in answers {
        let res = res.unwrap();
        match res.status().as_u16() {
            200 => {
                issued.push(res.json::<Value>().await.unwrap()["master_token"].as_str().unwrap().to_owned())
            }
            409 | 401 => {}
            other => panic!("rotation answered {other}"),
        }
    }
    assert_eq!(issued.len(), 1, "exactly one rotation wins");
    let res = server
        .http
        .get(server.url("/admin/v1/apps/default"))
        .header("authorization", format!("Token {}", issued[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.stop().await;
}

async fn token_exchange_is_bounded_by_the_exchanging_clients_registration(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let master = platform_tokens::rotate_master(&server.state.store, "default", None, 1).await.unwrap();
    let out = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "narrow",
        "--type",
        "confidential",
        "--grant",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "--scope",
        "places:read",
        "--json",
    ]);
    let res = server
        .http
        .post(server.url("/token"))
        .basic_auth(out["client_id"].as_str().unwrap(), out["client_secret"].as_str())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("subject_token", master.expose()),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "places:read", "{body}");
    server.stop().await;
}

async fn unknown_user_types_are_422_and_the_cli_refuses_them(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let auth = default_master(&server).await;
    let res = server
        .http
        .post(server.url("/admin/v1/apps/default/users"))
        .header("authorization", &auth)
        .json(&json!({ "username": "eve", "password": "long enough", "user_type": "superuser" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let out = server.env.cli(
        &["user", "create", "--username", "eve", "--user-type", "superuser", "--password-stdin"],
        Some("long enough\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("superuser"));
    assert!(server.state.store.find_user("default", "eve").await.unwrap().is_none());
    server.stop().await;
}

async fn parallel_login_guesses_do_not_pass_the_backoff(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.public_client("public", &["mobile"]);
    server.user("ada", PASSWORD, &[]);
    let query = authorize_query(&client, "mobile", "g");
    let b = browser();
    let html = server.get_authorize(&b, &query).await.text().await.unwrap();
    let csrf = common::flow::csrf_of(&html);
    let guesses = (0..30).map(|i| {
        let password = format!("wrong guess {i}");
        let (b, html, csrf) = (b.clone(), html.clone(), csrf.clone());
        let server = &server;
        async move {
            let res = server
                .post_authorize(
                    &b,
                    &html,
                    &[("csrf_token", &csrf), ("username", "ada"), ("password", &password)],
                )
                .await;
            res.text().await.unwrap()
        }
    });
    let pages = futures_util::future::join_all(guesses).await;
    let failures =
        server.state.store.claim_login_attempt(&["user:default:ada"], 0, |f, _, _| f).await.unwrap();
    assert!(failures <= 3, "{failures} password checks ran where the backoff allows 3");
    assert!(pages.iter().any(|p| p.to_lowercase().contains("try again")), "some guesses were told to wait");
    server.stop().await;
}

async fn a_body_that_never_arrives_is_refused_within_the_deadline(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let extra = [("TESSERA__SERVER__BODY_TIMEOUT_MS", "300")];
    let Some(env) = TestEnv::with(backend, Environment::Development, &extra).await else { return };
    let server = env.start().await;
    let auth = default_master(&server).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /admin/v1/apps/default/mobile-tokens HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\": \""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut answer))
        .await
        .expect("an answer well before the connection would idle out")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    server.stop().await;
}

async fn concurrent_patches_of_one_user_keep_both_changes(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let auth = default_master(&server).await;
    for trial in 0..5 {
        let username = format!("u{trial}");
        let id = server.user(&username, PASSWORD, &[]);
        let url = server.url(&format!("/admin/v1/apps/default/users/{id}"));
        let new_password = format!("brand new password {trial}");
        let password =
            server.http.patch(&url).header("authorization", &auth).json(&json!({ "password": new_password }));
        let email =
            server.http.patch(&url).header("authorization", &auth).json(&json!({ "email": "u@example.com" }));
        let (a, b) = tokio::join!(password.send(), email.send());
        assert_eq!(a.unwrap().status(), 200);
        assert_eq!(b.unwrap().status(), 200);
        let user = server.state.store.find_user("default", &username).await.unwrap().unwrap();
        assert!(tessera::domain::users::verify_password(&user.password_hash, &new_password), "trial {trial}");
        assert_eq!(user.email.as_deref(), Some("u@example.com"));
    }
    server.stop().await;
}

async fn departments_deleted_under_concurrent_writes_never_answer_500(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let auth = default_master(&server).await;
    let base = server.url("/admin/v1/apps/default/departments");
    let calls = (0..24).map(|i| {
        let name = format!("d{}", i / 2);
        let req = if i % 2 == 0 {
            server.http.post(&base).json(&json!({ "name": name }))
        } else {
            server.http.delete(format!("{base}/{name}"))
        };
        req.header("authorization", &auth).send()
    });
    for res in futures_util::future::join_all(calls).await {
        let status = res.unwrap().status().as_u16();
        assert!(matches!(status, 201 | 204 | 404 | 409), "answered {status}");
    }
    server.stop().await;
}

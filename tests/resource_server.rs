//! The example resource server (`examples/resource_server.rs`, built on the
//! `tessera-verify` crate) beside the real tessera: it accepts a valid token,
//! refuses a missing scope, and refuses a revoked token within its status list's
//! `ttl`, while tessera sees no introspection and only a few list fetches.

mod common;

#[allow(dead_code)]
#[path = "../examples/resource_server.rs"]
mod resource_server;

use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use common::{Backend, TestEnv};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_offline_within_the_lists_ttl() {
    // Lists kept one second, so the test does not wait a minute.
    let env = TestEnv::with(
        Backend::Sqlite,
        tessera::config::Environment::Development,
        &[("TESSERA__STATUS__TTL", "1")],
    )
    .await
    .unwrap();
    let tessera = env.start().await;
    let verifier = web::Data::new(tessera_verify::Verifier::new(tessera.issuer.clone(), "tessera-api"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let rs = format!("http://{}", listener.local_addr().unwrap());
    let server =
        HttpServer::new(move || App::new().app_data(verifier.clone()).configure(resource_server::routes))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
    let handle = server.handle();
    tokio::spawn(server);

    let robot = tessera.confidential_client(&["mobile"]);
    async fn token(tessera: &common::TestServer, robot: &common::TestClient, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(scope.map(|s| ("scope", s)));
        let res = tessera.token_basic(robot, &form).await;
        res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }
    let places = |token: String| {
        let url = format!("{rs}/places");
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() }
    };
    let access = token(&tessera, &robot, None).await;
    for _ in 0..20 {
        let res = places(access.clone()).await;
        assert_eq!(res.status(), 200);
    }
    let body: Value = places(access.clone()).await.json().await.unwrap();
    assert_eq!(body["app"], "default");
    // Without the scope: 403 insufficient_scope. Without a token: 401.
    let narrow = token(&tessera, &robot, Some("events:read")).await;
    let res = places(narrow).await;
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    let res = reqwest::Client::new().get(format!("{rs}/places")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    // A forged token, and an ID-token-typed one, are refused.
    let res = places(format!("{access}x")).await;
    assert_eq!(res.status(), 401);

    // Revoked at tessera: refused by the resource server within the ttl and a poll.
    let res = tessera
        .http
        .post(tessera.url("/revoke"))
        .basic_auth(&robot.id, Some(&robot.secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let revoked_at = Instant::now();
    loop {
        let res = places(access.clone()).await;
        if res.status() == 401 {
            assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("revoked"));
            break;
        }
        assert_eq!(res.status(), 200);
        assert!(revoked_at.elapsed() < Duration::from_secs(10), "the revoked token was never refused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("refused {} ms after the revocation", revoked_at.elapsed().as_millis());
    // Another token still works.
    assert_eq!(places(token(&tessera, &robot, None).await).await.status(), 200);

    // tessera was never asked about a request: no introspection, a few list fetches.
    let metrics = tessera.http.get(tessera.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let count = |series: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit_once(' '))
            .map_or(0.0, |(_, v)| v.parse().unwrap())
    };
    assert_eq!(count("tessera_http_requests_total{method=\"POST\",route=\"/introspect\""), 0.0);
    let fetches =
        count("tessera_http_requests_total{method=\"GET\",route=\"/statuslists/{id}\",status=\"200\"}");
    // About a minute's worth at most: one fetch per second's ttl, while the resource
    // server answered some forty requests.
    assert!((1.0..10.0).contains(&fetches), "{fetches} list fetches");
    handle.stop(true).await;
    tessera.stop().await;
}

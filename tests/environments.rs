//! Staging and production are separate worlds: different issuers, databases and
//! keys, so a token of one never verifies in the other. Production refuses to start
//! on development shortcuts.

mod common;

use common::{verify_with_jwks, Backend, TestEnv, TestServer};
use tessera::config::Environment;

const DATA_KEY: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

on_both_backends!(a_staging_token_is_never_valid_in_production);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_secure_outside_development() {
    let server = TestEnv::with(Backend::Sqlite, Environment::Staging, &[]).await.unwrap().start().await;
    let client = server.public_client("mobile", &["mobile"]);
    let res = server
        .get_authorize(&common::flow::browser(), &common::flow::authorize_query(&client, "mobile", "s"))
        .await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    server.stop().await;
}

async fn a_staging_token_is_never_valid_in_production(backend: Backend) {
    let Some(staging) = TestEnv::with(backend, Environment::Staging, &[]).await else { return };
    let Some(production) = TestEnv::with(
        backend,
        Environment::Production,
        &[("TESSERA__ISSUER", "https://auth.tessera.test"), ("TESSERA__SECURITY__DATA_KEYS", DATA_KEY)],
    )
    .await
    else {
        staging.finish().await;
        return;
    };
    // Production keys are made on purpose, with the CLI.
    let key = production.cli_json(&["keys", "generate", "--json"]);
    assert!(key["kid"].as_str().is_some());

    let staging = staging.start().await;
    let production = production.start().await;
    assert_ne!(staging.issuer, production.issuer);

    let mut tokens = Vec::new();
    for server in [&staging, &production] {
        let client = server.confidential_client(&["mobile"]);
        let res = server.token_basic(&client, &[("grant_type", "client_credentials")]).await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        tokens.push(body["access_token"].as_str().unwrap().to_owned());
    }
    let metadata = |s: &TestServer| s.url("/.well-known/oauth-authorization-server");

    // Each verifies where it was issued...
    verify_with_jwks(&staging.http, &metadata(&staging), &tokens[0], &staging.issuer, "tessera-api")
        .await
        .unwrap();
    verify_with_jwks(&production.http, &metadata(&production), &tokens[1], &production.issuer, "tessera-api")
        .await
        .unwrap();
    // ...and never in the other environment: its key is not in the other JWKS.
    let err = verify_with_jwks(
        &production.http,
        &metadata(&production),
        &tokens[0],
        &production.issuer,
        "tessera-api",
    )
    .await
    .unwrap_err();
    assert!(err.contains("kid not in the JWKS"), "{err}");
    let err =
        verify_with_jwks(&staging.http, &metadata(&staging), &tokens[1], &staging.issuer, "tessera-api")
            .await
            .unwrap_err();
    assert!(err.contains("kid not in the JWKS"), "{err}");

    // A staging client does not exist in production's database.
    let staging_client = staging.confidential_client(&["mobile"]);
    let res = production.token_basic(&staging_client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), 401);

    staging.stop().await;
    production.stop().await;
}

/// A production environment with `extra` settings; its server would bind a free port.
async fn production(extra: &[(&str, &str)]) -> TestEnv {
    let mut vars = vec![("TESSERA__SERVER__BIND", "127.0.0.1:0")];
    vars.extend_from_slice(extra);
    TestEnv::with(Backend::Sqlite, Environment::Production, &vars).await.unwrap()
}

/// Runs `tessera --env production serve` and expects it to refuse, saying `message`.
fn refuses_to_serve(env: &TestEnv, message: &str) {
    let out = env.cli(&["serve"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "production started: {stderr}");
    assert!(stderr.contains(message), "expected `{message}` in: {stderr}");
}

#[tokio::test]
async fn production_refuses_a_plain_http_issuer() {
    let env = production(&[
        ("TESSERA__ISSUER", "http://auth.tessera.test"),
        ("TESSERA__SECURITY__DATA_KEYS", DATA_KEY),
    ])
    .await;
    refuses_to_serve(&env, "refusing to start in production: the issuer must be an https URL");
}

#[tokio::test]
async fn production_refuses_to_start_without_a_data_key() {
    let env = production(&[("TESSERA__ISSUER", "https://auth.tessera.test")]).await;
    refuses_to_serve(&env, "refusing to start in production: no data key");
}

#[tokio::test]
async fn production_refuses_to_generate_keys_or_use_generated_ones() {
    let env = production(&[
        ("TESSERA__ISSUER", "https://auth.tessera.test"),
        ("TESSERA__SECURITY__DATA_KEYS", DATA_KEY),
    ])
    .await;
    // No key at all: it says how to make one, and makes none itself.
    refuses_to_serve(&env, "run `tessera keys generate`");
    let keys = env.dir.path().join("keys");
    assert!(!keys.exists() || keys.read_dir().unwrap().count() == 0);

    // A key that a development server generated for itself is refused.
    let dev = TestEnv::new(Backend::Sqlite).await.unwrap().start().await;
    std::fs::create_dir_all(&keys).unwrap();
    for entry in std::fs::read_dir(dev.env.dir.path().join("keys")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), keys.join(entry.file_name())).unwrap();
    }
    dev.stop().await;
    refuses_to_serve(&env, "refusing to start in production: signing key");
    refuses_to_serve(&env, "generated automatically");
}

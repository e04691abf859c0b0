//! Introspection (RFC 7662) and revocation (RFC 7009) through the real server, on
//! SQLite and Postgres.

mod common;

use common::flow::{authorize_query, browser, param, VERIFIER};
use common::{Backend, TestClient, TestServer};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    an_access_token_introspects_with_its_claims_and_kind,
    introspection_needs_a_confidential_clients_authentication,
    refresh_tokens_introspect_until_rotated_or_revoked,
    a_master_token_introspects_only_for_its_own_application,
    revoking_an_access_token_denies_it_and_unknown_tokens_answer_200,
    revocation_refuses_other_clients_tokens_and_platform_tokens,
);

async fn introspect(server: &TestServer, client: &TestClient, token: &str) -> Value {
    let res = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.unwrap()
}

async fn revoke(server: &TestServer, client: &TestClient, token: &str) -> reqwest::Response {
    server
        .http
        .post(server.url("/revoke"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("token", token), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap()
}

async fn access_token(server: &TestServer, client: &TestClient) -> String {
    let body: Value =
        server.token_basic(client, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A person's tokens through the code flow: (public client id, token answer).
async fn user_tokens(server: &TestServer) -> (String, Value) {
    let public = server.public_client("mobile", &["mobile"]);
    server.user("ada", PASSWORD, &["--department", "north"]);
    let params = server.approve(&browser(), &authorize_query(&public, "mobile", "i"), "ada", PASSWORD).await;
    let code = param(&params, "code").unwrap().to_owned();
    let body: Value = server.redeem(&public, &code, VERIFIER).await.json().await.unwrap();
    (public, body)
}

async fn an_access_token_introspects_with_its_claims_and_kind(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let resource = server.confidential_client(&["mobile"]);
    let token = access_token(&server, &resource).await;
    let info = introspect(&server, &resource, &token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_kind"], "access_token");
    assert_eq!(info["token_type"], "Bearer");
    assert_eq!(info["client_id"], resource.id.as_str());
    assert_eq!(info["sub"], resource.id.as_str());
    assert_eq!(info["profile"], "mobile");
    assert_eq!(info["app"], "default");
    assert_eq!(info["iss"], server.issuer.as_str());
    assert_eq!(info["aud"], "tessera-api");
    assert!(info["scope"].as_str().unwrap().contains("places:read"));
    let claims = common::claims_unverified(&token);
    assert_eq!(info["jti"], claims["jti"]);
    assert_eq!(info["exp"], claims["exp"]);

    // A person's token carries the person.
    let (_, body) = user_tokens(&server).await;
    let info = introspect(&server, &resource, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["department"], "north");
    assert_eq!(info["user_type"], "operator");

    // Garbage, a tampered token and unknown opaque tokens are simply inactive.
    for other in ["garbage", &format!("{token}x"), "tsr_unknown", "tsm_unknown", "tsb_unknown"] {
        assert_eq!(introspect(&server, &resource, other).await, serde_json::json!({ "active": false }));
    }
    server.stop().await;
}

async fn introspection_needs_a_confidential_clients_authentication(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let resource = server.confidential_client(&["mobile"]);
    let token = access_token(&server, &resource).await;
    let url = server.url("/introspect");
    let res = server.http.post(&url).form(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let wrong = TestClient { id: resource.id.clone(), secret: "wrong".into() };
    let res = server
        .http
        .post(&url)
        .basic_auth(&wrong.id, Some(&wrong.secret))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let public = server.public_client("public", &["mobile"]);
    let res = server
        .http
        .post(&url)
        .form(&[("token", token.as_str()), ("client_id", &public)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // A missing token parameter and a GET are RFC 6749 errors too.
    let res = server
        .http
        .post(&url)
        .basic_auth(&resource.id, Some(&resource.secret))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 405);
    server.stop().await;
}

async fn refresh_tokens_introspect_until_rotated_or_revoked(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let resource = server.confidential_client(&["mobile"]);
    let (public, body) = user_tokens(&server).await;
    let r1 = body["refresh_token"].as_str().unwrap();
    let info = introspect(&server, &resource, r1).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_kind"], "refresh_token");
    assert_eq!(info["client_id"], public.as_str());
    assert!(info.get("token_type").is_none());
    let next: Value = server.refresh(&public, r1, None).await.json().await.unwrap();
    assert_eq!(introspect(&server, &resource, r1).await["active"], false, "a rotated token is spent");
    let r2 = next["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&server, &resource, r2).await["active"], true);
    server.stop().await;
}

async fn a_master_token_introspects_only_for_its_own_application(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let app = server.env.cli_json(&["app", "create", "--name", "shop", "--json"]);
    let (app_id, master) = (app["id"].as_str().unwrap(), app["master_token"].as_str().unwrap());
    let out = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "api",
        "--type",
        "confidential",
        "--grant",
        "client_credentials",
        "--scope",
        "mobile",
        "--app",
        app_id,
        "--json",
    ]);
    let own = TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().unwrap().to_owned(),
    };
    let info = introspect(&server, &own, master).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_kind"], "master");
    assert_eq!(info["profile"], "master");
    assert_eq!(info["app"], app_id);
    assert_eq!(info["scope"].as_str().unwrap().split(' ').count(), 24, "every action on every object");
    // A client of another application learns nothing.
    let stranger = server.confidential_client(&["mobile"]);
    assert_eq!(introspect(&server, &stranger, master).await, serde_json::json!({ "active": false }));
    // Nor does it learn about the other application's access tokens.
    let token = access_token(&server, &own).await;
    assert_eq!(introspect(&server, &stranger, &token).await["active"], false);
    assert_eq!(introspect(&server, &own, &token).await["active"], true);
    server.stop().await;
}

async fn revoking_an_access_token_denies_it_and_unknown_tokens_answer_200(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let resource = server.confidential_client(&["mobile"]);
    let token = access_token(&server, &resource).await;
    assert_eq!(revoke(&server, &resource, &token).await.status(), 200);
    assert_eq!(introspect(&server, &resource, &token).await["active"], false);
    // Again, and unknown tokens: 200 all the same (RFC 7009 §2.2).
    assert_eq!(revoke(&server, &resource, &token).await.status(), 200);
    assert_eq!(revoke(&server, &resource, "unknown").await.status(), 200);
    assert_eq!(revoke(&server, &resource, "tsr_unknown").await.status(), 200);
    // Revocation needs client authentication.
    let res =
        server.http.post(server.url("/revoke")).form(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 401);
    server.stop().await;
}

async fn revocation_refuses_other_clients_tokens_and_platform_tokens(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let owner = server.confidential_code_client(&["mobile"]);
    let other = server.confidential_client(&["mobile"]);
    server.user("ada", PASSWORD, &[]);
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&state=r",
        owner.id,
        url::form_urlencoded::byte_serialize(common::flow::REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let params = server.approve(&browser(), &query, "ada", PASSWORD).await;
    let code = param(&params, "code").unwrap().to_owned();
    let res = server
        .token_basic(
            &owner,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", common::flow::REDIRECT_URI),
            ],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    // Another client may not revoke it...
    let res = revoke(&server, &other, refresh).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "unauthorized_client");
    assert_eq!(introspect(&server, &other, refresh).await["active"], true);
    // ...its own client may, and the whole family goes.
    assert_eq!(revoke(&server, &owner, refresh).await.status(), 200);
    assert_eq!(introspect(&server, &other, refresh).await["active"], false);
    let res =
        server.token_basic(&owner, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(res.status(), 400);
    // Master tokens are not revoked here.
    let app = server.env.cli_json(&["app", "create", "--name", "shop", "--json"]);
    let res = revoke(&server, &owner, app["master_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "unsupported_token_type");
    server.stop().await;
}

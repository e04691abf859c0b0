//! The client credentials grant at `/token`, through the real server, on SQLite and
//! on Postgres: success with both client authentication methods, the JWT verified
//! against the JWKS, and the RFC 6749 §5.2 answer for every bad input.

mod common;

use common::{verify_with_jwks, Backend, TestClient, TestServer};
use serde_json::{json, Value};

on_both_backends!(
    a_rotated_secret_and_changed_scopes_take_effect_at_once,
    basic_authentication_issues_a_jwt_that_verifies_against_the_jwks,
    post_authentication_issues_narrowed_scope_without_profile,
    both_authentication_methods_at_once_is_invalid_request,
    wrong_secret_with_basic_is_401_with_challenge,
    wrong_secret_with_post_is_401_without_challenge,
    unknown_client_and_missing_authentication_are_invalid_client,
    malformed_requests_are_invalid_request,
    unknown_or_missing_grant_types_are_refused,
    scopes_outside_the_registration_are_invalid_scope,
    client_without_the_grant_is_unauthorized_client,
    client_created_while_serving_is_usable_at_once,
    metadata_lists_what_the_server_offers,
);

async fn error_of(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.expect("json error body");
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

async fn basic_authentication_issues_a_jwt_that_verifies_against_the_jwks(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["mobile"]);

    let res = server.token_basic(&client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let token = body["access_token"].as_str().unwrap();

    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert!(header.kid.is_some());

    let claims = verify_with_jwks(
        &server.http,
        &server.url("/.well-known/oauth-authorization-server"),
        token,
        &server.issuer,
        "tessera-api",
    )
    .await
    .expect("the token verifies against the JWKS");
    assert_eq!(claims["iss"], server.issuer.as_str());
    assert_eq!(claims["sub"], client.id.as_str());
    assert_eq!(claims["client_id"], client.id.as_str());
    assert_eq!(claims["aud"], "tessera-api");
    assert_eq!(claims["profile"], "mobile");
    assert_eq!(claims["app"], "default");
    assert_eq!(
        claims["scope"],
        "places:read geofences:read floors:read beacons:read positions:create positions:read \
         positions:update events:create events:read events:update"
    );
    assert_eq!(body["scope"], claims["scope"]);
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 600);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));

    // Each token has its own jti.
    let again: Value =
        server.token_basic(&client, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let again = common::claims_unverified(again["access_token"].as_str().unwrap());
    assert_ne!(again["jti"], claims["jti"]);
    server.stop().await;
}

async fn post_authentication_issues_narrowed_scope_without_profile(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["master"]);
    let res = server
        .token_post(&client, &[("grant_type", "client_credentials"), ("scope", "places:read events:create")])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "places:read events:create");
    let claims = verify_with_jwks(
        &server.http,
        &server.url("/.well-known/openid-configuration"),
        body["access_token"].as_str().unwrap(),
        &server.issuer,
        "tessera-api",
    )
    .await
    .unwrap();
    assert_eq!(claims["scope"], "places:read events:create");
    assert!(claims.get("profile").is_none(), "{claims}");

    // Asking for the whole master profile names it.
    let res = server.token_basic(&client, &[("grant_type", "client_credentials"), ("scope", "master")]).await;
    let body: Value = res.json().await.unwrap();
    let claims = common::claims_unverified(body["access_token"].as_str().unwrap());
    assert_eq!(claims["profile"], "master");
    assert_eq!(claims["scope"].as_str().unwrap().split(' ').count(), 24);
    server.stop().await;
}

async fn both_authentication_methods_at_once_is_invalid_request(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["mobile"]);
    let res = server
        .token_basic(
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client.id),
                ("client_secret", &client.secret),
            ],
        )
        .await;
    let body = error_of(res, 400, "invalid_request").await;
    assert!(body["error_description"].as_str().unwrap().contains("one client authentication method"));
    server.stop().await;
}

async fn wrong_secret_with_basic_is_401_with_challenge(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["mobile"]);
    let wrong = common::TestClient { id: client.id.clone(), secret: format!("{}x", client.secret) };
    let res = server.token_basic(&wrong, &[("grant_type", "client_credentials")]).await;
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    error_of(res, 401, "invalid_client").await;

    // A Bearer header is not client authentication either.
    let res = server
        .http
        .post(server.url("/token"))
        .bearer_auth(&client.secret)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("www-authenticate"));
    error_of(res, 401, "invalid_client").await;
    server.stop().await;
}

async fn wrong_secret_with_post_is_401_without_challenge(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["mobile"]);
    let res = server
        .http
        .post(server.url("/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", &client.id), ("client_secret", "nope")])
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("www-authenticate"));
    error_of(res, 401, "invalid_client").await;
    server.stop().await;
}

async fn unknown_client_and_missing_authentication_are_invalid_client(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let stranger = common::TestClient { id: "nobody".into(), secret: "nothing".into() };
    let res = server.token_basic(&stranger, &[("grant_type", "client_credentials")]).await;
    error_of(res, 401, "invalid_client").await;

    let res = server
        .http
        .post(server.url("/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    error_of(res, 401, "invalid_client").await;

    let client = server.confidential_client(&["mobile"]);
    let res = server
        .http
        .post(server.url("/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", &client.id)])
        .send()
        .await
        .unwrap();
    error_of(res, 401, "invalid_client").await;
    server.stop().await;
}

async fn malformed_requests_are_invalid_request(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["mobile"]);
    let token_url = server.url("/token");

    // Missing grant_type.
    let res = server.token_basic(&client, &[("scope", "mobile")]).await;
    let body = error_of(res, 400, "invalid_request").await;
    assert!(body["error_description"].as_str().unwrap().contains("grant_type"));

    // Repeated parameter.
    let res = server
        .http
        .post(&token_url)
        .basic_auth(&client.id, Some(&client.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=mobile&scope=master")
        .send()
        .await
        .unwrap();
    let body = error_of(res, 400, "invalid_request").await;
    assert!(body["error_description"].as_str().unwrap().contains("`scope` is repeated"));

    // Wrong content type.
    let res = server
        .http
        .post(&token_url)
        .basic_auth(&client.id, Some(&client.secret))
        .json(&serde_json::json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    error_of(res, 400, "invalid_request").await;

    // No content type at all.
    let res = server
        .http
        .post(&token_url)
        .basic_auth(&client.id, Some(&client.secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    error_of(res, 400, "invalid_request").await;

    // Parameters in the URL.
    let res = server
        .http
        .post(format!("{token_url}?grant_type=client_credentials"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    error_of(res, 400, "invalid_request").await;

    // GET and other methods.
    let res = server.http.get(&token_url).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    error_of(res, 405, "invalid_request").await;
    let res = server.http.put(&token_url).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    error_of(res, 405, "invalid_request").await;

    // An oversized body.
    let big = format!("grant_type=client_credentials&pad={}", "a".repeat(64 * 1024));
    let res = server
        .http
        .post(&token_url)
        .basic_auth(&client.id, Some(&client.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    let body = error_of(res, 400, "invalid_request").await;
    assert!(body["error_description"].as_str().unwrap().contains("larger than"));

    // A malformed Basic header.
    let res = server
        .http
        .post(&token_url)
        .header("authorization", "Basic %%%")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    error_of(res, 401, "invalid_client").await;

    // The server is still well after all of that.
    let res = server.token_basic(&client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), 200);
    server.stop().await;
}

async fn unknown_or_missing_grant_types_are_refused(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["mobile"]);
    let res = server.token_basic(&client, &[("grant_type", "password")]).await;
    error_of(res, 400, "unsupported_grant_type").await;
    let res = server.token_basic(&client, &[("grant_type", "")]).await;
    error_of(res, 400, "invalid_request").await;
    server.stop().await;
}

async fn scopes_outside_the_registration_are_invalid_scope(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let client = server.confidential_client(&["mobile"]);
    for scope in ["master", "places:delete", "admin", "cars:read", "places:read places:create", "bad\"scope"]
    {
        let res =
            server.token_basic(&client, &[("grant_type", "client_credentials"), ("scope", scope)]).await;
        error_of(res, 400, "invalid_scope").await;
    }
    // A mobile client never gets create or delete on a core object.
    let res = server.token_basic(&client, &[("grant_type", "client_credentials")]).await;
    let body: Value = res.json().await.unwrap();
    let scope = body["scope"].as_str().unwrap();
    for core in ["places", "geofences", "floors", "beacons"] {
        assert!(
            !scope.contains(&format!("{core}:create")) && !scope.contains(&format!("{core}:delete")),
            "{scope}"
        );
    }
    server.stop().await;
}

async fn client_without_the_grant_is_unauthorized_client(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let out = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "web",
        "--type",
        "confidential",
        "--grant",
        "authorization_code",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--scope",
        "mobile",
        "--json",
    ]);
    let client = common::TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().unwrap().to_owned(),
    };
    let res = server.token_basic(&client, &[("grant_type", "client_credentials")]).await;
    error_of(res, 400, "unauthorized_client").await;

    // A public client cannot even be registered for client credentials.
    let out = server.env.cli(
        &[
            "client",
            "create",
            "--name",
            "pub",
            "--type",
            "public",
            "--grant",
            "client_credentials",
            "--scope",
            "mobile",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot use client_credentials"));
    server.stop().await;
}

async fn client_created_while_serving_is_usable_at_once(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    // Warm the cache with one client, then register another from a separate process.
    let first = server.confidential_client(&["mobile"]);
    assert_eq!(server.token_basic(&first, &[("grant_type", "client_credentials")]).await.status(), 200);
    let second = server.confidential_client(&["master"]);
    let res = server.token_basic(&second, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), 200);
    assert!(server.env.dir.path().join("keys").read_dir().unwrap().count() == 1);
    server.stop().await;
}

async fn metadata_lists_what_the_server_offers(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let oauth = server.get_json("/.well-known/oauth-authorization-server").await;
    let oidc = server.get_json("/.well-known/openid-configuration").await;
    assert_eq!(oauth, oidc);
    assert_eq!(oauth["issuer"], server.issuer.as_str());
    assert_eq!(oauth["token_endpoint"], format!("{}/token", server.issuer));
    assert_eq!(oauth["jwks_uri"], format!("{}/.well-known/jwks.json", server.issuer));
    assert_eq!(
        oauth["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    assert_eq!(
        oauth["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(oauth["authorization_endpoint"], format!("{}/authorize", server.issuer));
    assert_eq!(oauth["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(oauth["authorization_response_iss_parameter_supported"], true);
    assert_eq!(oauth["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(oauth["introspection_endpoint"], format!("{}/introspect", server.issuer));
    assert_eq!(oauth["revocation_endpoint"], format!("{}/revoke", server.issuer));
    assert_eq!(
        oauth["introspection_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    // Public and mobile clients revoke their own tokens with client_id alone.
    assert_eq!(
        oauth["revocation_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    let scopes: Vec<&str> =
        oauth["scopes_supported"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for s in ["master", "mobile", "admin", "openid", "email", "profile", "places:read", "events:create"] {
        assert!(scopes.contains(&s), "{s} missing from {scopes:?}");
    }
    // OpenID Connect Discovery 1.0 §3.
    assert_eq!(oauth["userinfo_endpoint"], format!("{}/userinfo", server.issuer));
    assert_eq!(oauth["end_session_endpoint"], format!("{}/logout", server.issuer));
    assert_eq!(oauth["subject_types_supported"], serde_json::json!(["public"]));
    assert_eq!(oauth["id_token_signing_alg_values_supported"], serde_json::json!(["ES256"]));
    // Every endpoint the document names is served: none answers 404 or 405.
    let endpoints: Vec<(&String, &Value)> = oauth
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.ends_with("_endpoint") || *k == "jwks_uri")
        .collect();
    assert_eq!(endpoints.len(), 7, "{endpoints:?}");
    for (name, url) in endpoints {
        let url = url.as_str().unwrap();
        let get = server.http.get(url).send().await.unwrap().status().as_u16();
        let post = server.http.post(url).send().await.unwrap().status().as_u16();
        assert!(
            ![404, 405].contains(&get) || ![404, 405].contains(&post),
            "{name} {url}: GET {get}, POST {post}"
        );
    }

    let res = server.http.get(server.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/jwk-set+json");
    let jwks: Value = res.json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    assert!(key.get("d").is_none(), "the private part must never be published");
    server.stop().await;
}

async fn a_rotated_secret_and_changed_scopes_take_effect_at_once(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let app = server.env.cli_json(&["app", "create", "--name", "x", "--json"]);
    let (app_id, master) = (app["id"].as_str().unwrap(), app["master_token"].as_str().unwrap());
    let made = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "robot",
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
    let old = TestClient {
        id: made["client_id"].as_str().unwrap().to_owned(),
        secret: made["client_secret"].as_str().unwrap().to_owned(),
    };
    let admin = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut req = server
            .http
            .request(method, server.url(&format!("/admin/v1/apps/{app_id}/clients/{}{path}", old.id)))
            .header("authorization", format!("Token {master}"));
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move { req.send().await.unwrap() }
    };
    let form = [("grant_type", "client_credentials"), ("scope", "places:create")];
    error_of(server.token_basic(&old, &form).await, 400, "invalid_scope").await;

    // Wider scopes: honoured at the next request.
    let res = admin(reqwest::Method::PATCH, String::new(), Some(json!({ "scopes": ["master"] }))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["scope"], "master");
    assert_eq!(server.token_basic(&old, &form).await.status(), 200);
    let res = admin(reqwest::Method::PATCH, String::new(), Some(json!({ "scopes": ["nonsense:fly"] }))).await;
    assert_eq!(res.status(), 400);
    let res = admin(
        reqwest::Method::PATCH,
        String::new(),
        Some(json!({ "redirect_uris": ["http://example.com/cb"] })),
    )
    .await;
    assert_eq!(res.status(), 400, "plain http only for loopback");
    assert_eq!(admin(reqwest::Method::PATCH, String::new(), Some(json!({}))).await.status(), 400);

    // A new secret: the old one stops at once, the new one works.
    let res = admin(reqwest::Method::POST, "/secret/rotate".into(), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let secret = res.json::<Value>().await.unwrap()["client_secret"].as_str().unwrap().to_owned();
    error_of(server.token_basic(&old, &form).await, 401, "invalid_client").await;
    let new = TestClient { id: old.id.clone(), secret };
    assert_eq!(server.token_basic(&new, &form).await.status(), 200);

    // A public client has no secret to rotate.
    let public = server.public_client("mobile", &["mobile"]);
    let res = server
        .http
        .post(server.url(&format!("/admin/v1/apps/default/clients/{public}/secret/rotate")))
        .header("authorization", format!("Token {master}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "another application's client");
    server.stop().await;
}

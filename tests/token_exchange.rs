//! Token exchange (RFC 8693) at /token through the real server, on SQLite and
//! Postgres: a platform token becomes a short JWT that verifies against the JWKS.

mod common;

use common::{verify_with_jwks, Backend, TestClient, TestServer};
use serde_json::Value;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";

on_both_backends!(
    a_master_token_becomes_a_verified_jwt_for_the_exchanging_client,
    a_mobile_sdk_exchanges_without_a_secret,
    bad_exchanges_get_the_rfc_errors,
);

/// An application with its master token, and a client of it that may exchange.
fn app_with_exchanger(server: &TestServer, kind: &str) -> (String, String, Value) {
    let app = server.env.cli_json(&["app", "create", "--name", "shop", "--json"]);
    let app_id = app["id"].as_str().unwrap().to_owned();
    let mut args =
        vec!["client", "create", "--name", "sdk", "--type", kind, "--grant", EXCHANGE, "--scope", "master"];
    args.extend(["--app", &app_id, "--json"]);
    let client = server.env.cli_json(&args);
    (app_id, app["master_token"].as_str().unwrap().to_owned(), client)
}

fn exchange_form<'a>(subject: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("grant_type", EXCHANGE), ("subject_token", subject), ("subject_token_type", ACCESS)];
    form.extend_from_slice(extra);
    form
}

async fn a_master_token_becomes_a_verified_jwt_for_the_exchanging_client(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (app_id, master, client) = app_with_exchanger(&server, "confidential");
    let client = TestClient {
        id: client["client_id"].as_str().unwrap().to_owned(),
        secret: client["client_secret"].as_str().unwrap().to_owned(),
    };
    let res = server.token_basic(&client, &exchange_form(&master, &[])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["issued_token_type"], ACCESS);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none());
    let claims = verify_with_jwks(
        &server.http,
        &server.url("/.well-known/oauth-authorization-server"),
        body["access_token"].as_str().unwrap(),
        &server.issuer,
        "tessera-api",
    )
    .await
    .unwrap();
    assert_eq!(claims["client_id"], client.id.as_str());
    assert_eq!(claims["app"], app_id.as_str());
    assert_eq!(claims["profile"], "master");
    assert_eq!(claims["scope"].as_str().unwrap().split(' ').count(), 24);
    let sub = claims["sub"].as_str().unwrap();
    assert!(!sub.is_empty() && !master.contains(sub), "sub names the token, never its value");

    // A narrower scope may be asked for.
    let body: Value = server
        .token_basic(&client, &exchange_form(&master, &[("scope", "places:read")]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["scope"], "places:read");
    assert_eq!(common::claims_unverified(body["access_token"].as_str().unwrap())["scope"], "places:read");
    server.stop().await;
}

async fn a_mobile_sdk_exchanges_without_a_secret(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (_, master, client) = app_with_exchanger(&server, "mobile");
    let client_id = client["client_id"].as_str().unwrap();
    assert!(client.get("client_secret").is_none());
    let res = server
        .http
        .post(server.url("/token"))
        .form(&exchange_form(&master, &[("client_id", client_id), ("scope", "mobile")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let claims = common::claims_unverified(body["access_token"].as_str().unwrap());
    assert_eq!(claims["profile"], "mobile");
    assert_eq!(claims["client_id"], client_id);
    server.stop().await;
}

async fn bad_exchanges_get_the_rfc_errors(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (_, master, client) = app_with_exchanger(&server, "confidential");
    let client = TestClient {
        id: client["client_id"].as_str().unwrap().to_owned(),
        secret: client["client_secret"].as_str().unwrap().to_owned(),
    };
    let error_of = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        (status, body["error"].as_str().unwrap_or_default().to_owned())
    };
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("grant_type", EXCHANGE), ("subject_token_type", ACCESS)], 400, "invalid_request"),
        (vec![("grant_type", EXCHANGE), ("subject_token", &master)], 400, "invalid_request"),
        (exchange_form(&master, &[("subject_token_type", "urn:x")]), 400, "invalid_request"),
        (
            exchange_form(
                &master,
                &[("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token")],
            ),
            400,
            "invalid_request",
        ),
        (exchange_form("garbage", &[]), 400, "invalid_grant"),
        (exchange_form("tsm_unknown", &[]), 400, "invalid_grant"),
        (exchange_form(&master, &[("scope", "cars:read")]), 400, "invalid_scope"),
    ];
    for (form, status, code) in cases {
        // Repeated keys are themselves an error, so build each form without them.
        let mut seen = std::collections::HashSet::new();
        let form: Vec<_> = form.into_iter().rev().filter(|(k, _)| seen.insert(*k)).collect();
        assert_eq!(
            error_of(server.token_basic(&client, &form).await).await,
            (status, code.to_owned()),
            "{form:?}"
        );
    }
    // A token of another application.
    let (_, other_master, _) = app_with_exchanger(&server, "confidential");
    assert_eq!(
        error_of(server.token_basic(&client, &exchange_form(&other_master, &[])).await).await.1,
        "invalid_grant"
    );
    // A refresh-less client credentials access token is not a subject this grant takes.
    let cc = server.confidential_client(&["mobile"]);
    let token: Value =
        server.token_basic(&cc, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let jwt = token["access_token"].as_str().unwrap();
    assert_eq!(
        error_of(server.token_basic(&client, &exchange_form(jwt, &[])).await).await.1,
        "invalid_grant"
    );
    // A client without the grant, and a wrong secret.
    assert_eq!(
        error_of(server.token_basic(&cc, &exchange_form(&master, &[])).await).await.1,
        "unauthorized_client"
    );
    let wrong = TestClient { id: client.id.clone(), secret: "wrong".into() };
    assert_eq!(
        error_of(server.token_basic(&wrong, &exchange_form(&master, &[])).await).await,
        (401, "invalid_client".into())
    );
    server.stop().await;
}

//! OpenID Connect sign-in over HTTP through the real server on SQLite and
//! Postgres: ID tokens, userinfo, RP-initiated logout, "switch account" and the
//! application's brand on the pages.

mod common;

use common::flow::{authorize_query, browser, csrf_of, location_params, param, REDIRECT_URI, VERIFIER};
use common::{claims_unverified, verify_with_jwks, Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";
const LOGOUT_URI: &str = "http://127.0.0.1:7777/signed-out";
/// The smallest PNG signature and header, enough to be recognised as one.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

on_both_backends!(
    the_code_flow_with_openid_answers_an_id_token_bound_to_the_request,
    userinfo_answers_for_openid_tokens_and_challenges_everything_else,
    logout_with_a_hint_ends_the_session_and_returns_to_a_registered_uri_only,
    logout_without_a_hint_asks_first,
    switch_account_signs_the_person_out_and_back_in_for_the_same_request,
    pages_show_the_applications_brand,
    branding_is_checked_before_it_is_stored,
);

/// An application with a public OpenID client (logout URI registered) and a user.
struct Setup {
    server: TestServer,
    app: String,
    master: String,
    client: String,
    user: String,
}

async fn setup(backend: Backend) -> Option<Setup> {
    let server = TestServer::start(backend).await?;
    let app = server.env.cli_json(&["app", "create", "--name", "acme", "--json"]);
    let (app_id, master) =
        (app["id"].as_str().unwrap().to_owned(), app["master_token"].as_str().unwrap().to_owned());
    let client = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "Acme Field",
        "--type",
        "public",
        "--redirect-uri",
        REDIRECT_URI,
        "--post-logout-redirect-uri",
        LOGOUT_URI,
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--scope",
        "mobile",
        "--scope",
        "openid email profile",
        "--app",
        &app_id,
        "--json",
    ]);
    assert_eq!(client["post_logout_redirect_uris"], json!([LOGOUT_URI]));
    let out = server.env.cli(
        &[
            "user",
            "create",
            "--username",
            "ada",
            "--email",
            "ada@example.com",
            "--user-type",
            "operator",
            "--app",
            &app_id,
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let user: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(Setup {
        app: app_id,
        master,
        client: client["client_id"].as_str().unwrap().to_owned(),
        user: user["id"].as_str().unwrap().to_owned(),
        server,
    })
}

fn with_nonce(query: String, nonce: &str) -> String {
    format!("{query}&nonce={nonce}")
}

/// Signs in and allows; answers the token endpoint's JSON.
async fn tokens_for(s: &Setup, browser: &reqwest::Client, scope: &str, nonce: &str) -> Value {
    let query = with_nonce(authorize_query(&s.client, scope, "st"), nonce);
    let params = s.server.approve(browser, &query, "ada", PASSWORD).await;
    let code = param(&params, "code").expect("a code");
    let res = s.server.redeem(&s.client, code, VERIFIER).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn the_code_flow_with_openid_answers_an_id_token_bound_to_the_request(backend: Backend) {
    let Some(s) = setup(backend).await else { return };
    let before = s.server.state.clock.now();
    let tokens = tokens_for(&s, &browser(), "openid email profile places:read", "n-0S6_WzA2Mj").await;
    let id_token = tokens["id_token"].as_str().expect("an id_token");
    let metadata = s.server.url("/.well-known/openid-configuration");
    // Verified with the JWKS, audience = the client.
    let claims =
        verify_with_jwks(&s.server.http, &metadata, id_token, &s.server.issuer, &s.client).await.unwrap();
    assert_eq!(jsonwebtoken::decode_header(id_token).unwrap().typ.as_deref(), Some("JWT"));
    assert_eq!(claims["sub"], s.user.as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["email_verified"], false);
    assert_eq!(claims["preferred_username"], "ada");
    assert_eq!(claims["azp"], s.client.as_str());
    let auth_time = claims["auth_time"].as_i64().unwrap();
    assert!(auth_time >= before && auth_time <= claims["iat"].as_i64().unwrap());
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    // at_hash: the left half of SHA-256 of the access token (Core §3.1.3.6).
    let access = tokens["access_token"].as_str().unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, access.as_bytes());
    let expected =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &digest.as_ref()[..16]);
    assert_eq!(claims["at_hash"], expected.as_str());
    // The ID token is not an access token: resource checks refuse it.
    let res = s.server.http.get(s.server.url("/userinfo")).bearer_auth(id_token).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let scope = tokens["scope"].as_str().unwrap();
    assert!(scope.contains("openid") && scope.contains("places:read"), "{scope}");

    // openid alone: no email or username claims; no openid: no ID token.
    let tokens = tokens_for(&s, &browser(), "openid", "n2").await;
    let claims = claims_unverified(tokens["id_token"].as_str().unwrap());
    assert!(claims.get("email").is_none() && claims.get("preferred_username").is_none(), "{claims}");
    let tokens = tokens_for(&s, &browser(), "places:read", "n3").await;
    assert!(tokens.get("id_token").is_none(), "{tokens}");
    // A nonce longer than 512 characters is refused at the request.
    let query = with_nonce(authorize_query(&s.client, "openid", "st"), &"n".repeat(513));
    let res = s.server.get_authorize(&browser(), &query).await;
    assert_eq!(param(&location_params(&res), "error"), Some("invalid_request"));
    s.server.stop().await;
}

async fn userinfo_answers_for_openid_tokens_and_challenges_everything_else(backend: Backend) {
    let Some(s) = setup(backend).await else { return };
    let tokens = tokens_for(&s, &browser(), "openid email", "n").await;
    let access = tokens["access_token"].as_str().unwrap();
    let url = s.server.url("/userinfo");
    for res in [
        s.server.http.get(&url).bearer_auth(access).send().await.unwrap(),
        s.server.http.post(&url).bearer_auth(access).send().await.unwrap(),
    ] {
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body, json!({"sub": s.user, "email": "ada@example.com", "email_verified": false}));
    }
    // No token: a bare challenge. A bad one: invalid_token.
    let res = s.server.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let res = s.server.http.get(&url).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
    // A token without openid: insufficient_scope.
    let tokens = tokens_for(&s, &browser(), "places:read", "n").await;
    let res =
        s.server.http.get(&url).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    // A revoked token is refused at once.
    let res = s
        .server
        .http
        .post(s.server.url("/revoke"))
        .form(&[("token", access), ("client_id", s.client.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = s.server.http.get(&url).bearer_auth(access).send().await.unwrap();
    assert_eq!(res.status(), 401);
    s.server.stop().await;
}

fn logout_url(s: &Setup, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    s.server.url(&format!("/logout?{query}"))
}

/// Whether the browser's session is still signed in: a new request with
/// prompt=none answers a code rather than login_required.
async fn signed_in(s: &Setup, browser: &reqwest::Client) -> bool {
    let query = format!("{}&prompt=none", authorize_query(&s.client, "openid", "st"));
    let res = s.server.get_authorize(browser, &query).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let params = location_params(&res);
    match param(&params, "error") {
        Some("login_required") => false,
        None => true,
        Some(other) => panic!("{other}"),
    }
}

async fn logout_with_a_hint_ends_the_session_and_returns_to_a_registered_uri_only(backend: Backend) {
    let Some(s) = setup(backend).await else { return };
    let person = browser();
    let tokens = tokens_for(&s, &person, "openid", "n").await;
    let hint = tokens["id_token"].as_str().unwrap().to_owned();
    assert!(signed_in(&s, &person).await);

    // An unregistered URI, or one differing by a character, never gets a redirect.
    for wrong in [format!("{LOGOUT_URI}/"), "https://evil.example/".to_owned(), REDIRECT_URI.to_owned()] {
        let res = person
            .get(logout_url(&s, &[("id_token_hint", &hint), ("post_logout_redirect_uri", &wrong)]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{wrong}");
        assert!(res.headers().get("location").is_none());
        assert!(res.text().await.unwrap().contains("This sign-out link is broken"));
    }
    assert!(signed_in(&s, &person).await, "a refused logout changes nothing");
    // A URI without a client to check it against is refused too.
    let res = person.get(logout_url(&s, &[("post_logout_redirect_uri", LOGOUT_URI)])).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // A client_id that is not the hint's audience.
    let other = s.server.public_client("public", &["openid"]);
    let res =
        person.get(logout_url(&s, &[("id_token_hint", &hint), ("client_id", &other)])).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // A forged hint.
    let res = person.get(logout_url(&s, &[("id_token_hint", "e30.e30.sig")])).send().await.unwrap();
    assert_eq!(res.status(), 400);

    // The registered URI: the session ends at once and the browser goes back with state.
    let res = person
        .get(logout_url(
            &s,
            &[("id_token_hint", &hint), ("post_logout_redirect_uri", LOGOUT_URI), ("state", "bye-1")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], format!("{LOGOUT_URI}?state=bye-1"));
    let cleared =
        res.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().contains("Max-Age=0"));
    assert!(cleared, "the session cookie is removed");
    assert!(!signed_in(&s, &person).await);
    // The same hint again, now expired (moved clock): still accepted, nothing to end.
    s.server.state.clock.advance(7200);
    let res = person
        .get(logout_url(&s, &[("id_token_hint", &hint), ("post_logout_redirect_uri", LOGOUT_URI)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], LOGOUT_URI);
    s.server.stop().await;
}

async fn logout_without_a_hint_asks_first(backend: Backend) {
    let Some(s) = setup(backend).await else { return };
    let person = browser();
    tokens_for(&s, &person, "openid", "n").await;
    let page = person
        .get(logout_url(
            &s,
            &[("client_id", &s.client), ("post_logout_redirect_uri", LOGOUT_URI), ("state", "x")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign out?"), "{html}");
    assert!(signed_in(&s, &person).await, "showing the page signs nobody out");
    // Without the CSRF token the form only shows the page again.
    let res = person
        .post(s.server.url("/logout"))
        .form(&[("client_id", s.client.as_str()), ("post_logout_redirect_uri", LOGOUT_URI)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(signed_in(&s, &person).await);
    // With it: signed out and sent back to the registered URI.
    let csrf = csrf_of(&html);
    let res = person
        .post(s.server.url("/logout"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("client_id", s.client.as_str()),
            ("post_logout_redirect_uri", LOGOUT_URI),
            ("state", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("{LOGOUT_URI}?state=x"));
    assert!(!signed_in(&s, &person).await);
    // Nobody signed in and no client: the signed-out page.
    let res = person.get(s.server.url("/logout")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("You are signed out"));
    s.server.stop().await;
}

async fn switch_account_signs_the_person_out_and_back_in_for_the_same_request(backend: Backend) {
    let Some(s) = setup(backend).await else { return };
    let out = s.server.env.cli(
        &[
            "user",
            "create",
            "--username",
            "bob",
            "--user-type",
            "operator",
            "--app",
            &s.app,
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let bob: Value = serde_json::from_slice(&out.stdout).unwrap();
    let person = browser();
    let query = with_nonce(authorize_query(&s.client, "openid profile", "sw"), "n");
    let consent = s.server.sign_in(&person, &query, "ada", PASSWORD).await;
    let html = consent.text().await.unwrap();
    assert!(html.contains("Signed in as <strong>ada</strong>") && html.contains("Switch account"), "{html}");
    let login = s
        .server
        .post_authorize(&person, &html, &[("csrf_token", &csrf_of(&html)), ("switch_account", "yes")])
        .await;
    assert_eq!(login.status(), 200);
    let login_html = login.text().await.unwrap();
    assert!(login_html.contains("name=\"password\""), "{login_html}");
    let consent = s
        .server
        .post_authorize(
            &person,
            &login_html,
            &[("csrf_token", &csrf_of(&login_html)), ("username", "bob"), ("password", PASSWORD)],
        )
        .await;
    let html = consent.text().await.unwrap();
    assert!(html.contains("Signed in as <strong>bob</strong>"), "{html}");
    let res = s
        .server
        .post_authorize(&person, &html, &[("csrf_token", &csrf_of(&html)), ("decision", "allow")])
        .await;
    let params = location_params(&res);
    assert_eq!(param(&params, "state"), Some("sw"));
    let res = s.server.redeem(&s.client, param(&params, "code").unwrap(), VERIFIER).await;
    let tokens: Value = res.json().await.unwrap();
    let claims = claims_unverified(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], bob["id"]);
    assert_eq!(claims["preferred_username"], "bob");
    s.server.stop().await;
}

async fn admin(s: &Setup, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    s.server
        .http
        .request(method, s.server.url(&format!("/admin/v1/apps/{}{path}", s.app)))
        .bearer_auth(&s.master)
}

async fn pages_show_the_applications_brand(backend: Backend) {
    let Some(s) = setup(backend).await else { return };
    let res = admin(&s, reqwest::Method::PATCH, "")
        .await
        .json(&json!({"display_name": "Acme Field Service", "accent_colour": "#1B5E20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["accent_colour"], "#1b5e20");
    let res = admin(&s, reqwest::Method::PUT, "/logo")
        .await
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let app: Value = res.json().await.unwrap();
    let logo_url = app["logo_url"].as_str().unwrap().to_owned();

    // The login page: the application's name, logo and colour, not tessera's.
    let person = browser();
    let query = authorize_query(&s.client, "openid places:read events:create", "b");
    let login = s.server.get_authorize(&person, &query).await.text().await.unwrap();
    assert!(login.contains("<title>Sign in · Acme Field Service</title>"), "{login}");
    assert!(login.contains(&format!("src=\"{logo_url}\"")), "{login}");
    assert!(login.contains(&format!("/branding/{}/theme.css?v=1b5e20", s.app)), "{login}");
    assert!(!login.contains("<span>tessera</span>"));
    let theme =
        s.server.http.get(s.server.url(&format!("/branding/{}/theme.css", s.app))).send().await.unwrap();
    assert_eq!(theme.headers()["content-type"], "text/css; charset=utf-8");
    assert!(theme.text().await.unwrap().contains("--accent: #1b5e20"));
    let logo = s.server.http.get(s.server.url(&logo_url)).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.headers()["x-content-type-options"], "nosniff");
    let etag = logo.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);
    let again =
        s.server.http.get(s.server.url(&logo_url)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    // The consent page: brand, and writing marked apart from reading.
    let consent = s
        .server
        .post_authorize(
            &person,
            &login,
            &[("csrf_token", &csrf_of(&login)), ("username", "ada"), ("password", PASSWORD)],
        )
        .await;
    let html = consent.text().await.unwrap();
    assert!(html.contains("Acme Field Service"));
    let writes = html.find("It could also change your data").expect("writes apart");
    assert!(html.find("See your places").unwrap() < writes, "{html}");
    assert!(html[writes..].contains("Add your events"), "{html}");
    // The error page of this application's request: its brand and a reference.
    let broken = query.replace("redirect_uri=", "redirect_uri=x");
    let res = s.server.get_authorize(&browser(), &broken).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Acme Field Service") && html.contains("quote this reference"), "{html}");

    // Cleared again: tessera's own look.
    let res = admin(&s, reqwest::Method::PATCH, "")
        .await
        .json(&json!({"display_name": null, "accent_colour": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = admin(&s, reqwest::Method::DELETE, "/logo").await.send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = admin(&s, reqwest::Method::DELETE, "/logo").await.send().await.unwrap();
    assert_eq!(res.status(), 404);
    let login = s.server.get_authorize(&browser(), &query).await.text().await.unwrap();
    assert!(
        login.contains("<span>acme</span>")
            && !login.contains("theme.css")
            && !login.contains("class=\"logo\""),
        "{login}"
    );
    let gone = s.server.http.get(s.server.url(&logo_url)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    s.server.stop().await;
}

async fn branding_is_checked_before_it_is_stored(backend: Backend) {
    let Some(setup) = setup(backend).await else { return };
    let s = &setup;
    let patch = |body: Value| async move {
        let res = admin(s, reqwest::Method::PATCH, "").await.json(&body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap())
    };
    let (status, problem) = patch(json!({"accent_colour": "#ffee00"})).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("contrast"), "{problem}");
    assert_eq!(patch(json!({"accent_colour": "red"})).await.0, 400);
    assert_eq!(patch(json!({"display_name": ""})).await.0, 400);
    assert_eq!(patch(json!({"display_name": "x".repeat(101)})).await.0, 400);
    // A refused colour next to a good name changes neither.
    assert_eq!(patch(json!({"display_name": "New", "accent_colour": "#fff"})).await.0, 400);
    let app = s
        .server
        .http
        .get(s.server.url(&format!("/admin/v1/apps/{}", s.app)))
        .bearer_auth(&s.master)
        .send()
        .await
        .unwrap();
    let app: Value = app.json().await.unwrap();
    assert_eq!(app["display_name"], Value::Null);

    let put = |content_type: &'static str, body: Vec<u8>| async move {
        admin(s, reqwest::Method::PUT, "/logo")
            .await
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put("image/svg+xml", b"<svg onload=alert(1)/>".to_vec()).await, 415);
    assert_eq!(put("image/jpeg", PNG.to_vec()).await, 400, "bytes that are not the declared type");
    assert_eq!(put("image/png", b"GIF89a".to_vec()).await, 400);
    let mut big = PNG.to_vec();
    big.resize(256 * 1024 + 1, 0);
    assert_eq!(put("image/png", big).await, 413);
    let res = s.server.http.get(s.server.url(&format!("/branding/{}/logo", s.app))).send().await.unwrap();
    assert_eq!(res.status(), 404, "nothing was stored");
    setup.server.stop().await;
}

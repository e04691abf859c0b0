//! The authorization code flow with PKCE and refresh tokens, over HTTP through the
//! real server on SQLite and Postgres: the happy path and every error path.

mod common;

use common::flow::{self, authorize_query, browser, csrf_of, location_params, param, REDIRECT_URI, VERIFIER};
use common::{verify_with_jwks, Backend, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    prompt_and_max_age_are_honoured,
    a_consent_decision_applies_to_the_stored_request_alone,
    a_mobile_app_revokes_its_own_tokens_with_its_client_id_alone,
    a_person_signs_in_consents_and_the_app_gets_a_verified_jwt,
    consent_and_login_are_remembered_within_the_session,
    denying_redirects_access_denied_with_state_and_iss,
    a_wrong_verifier_is_invalid_grant,
    a_replayed_code_is_refused_and_revokes_what_it_issued,
    an_expired_code_is_invalid_grant,
    redirect_uri_mismatch_shows_a_page_and_never_redirects,
    redirect_uri_at_the_token_endpoint_must_match_exactly,
    public_clients_must_use_s256_and_plain_is_refused,
    unknown_client_shows_a_page_and_never_redirects,
    forms_without_the_csrf_token_are_refused,
    refreshing_rotates_and_reuse_revokes_the_family,
    refresh_scope_may_narrow_but_never_widen,
    a_refresh_token_only_works_for_its_own_client,
    wrong_passwords_show_a_generic_message_and_are_slowed_down,
    confidential_clients_authenticate_and_pkce_is_optional,
    user_type_bounds_the_granted_scopes,
    pages_cannot_be_framed_and_cookies_are_http_only,
    twenty_parallel_redemptions_give_exactly_one_token,
    parallel_refreshes_rotate_each_login_once,
    refresh_tokens_slide_but_never_outlive_the_absolute_bound,
    many_usernames_from_one_address_are_slowed_down,
);

async fn token_json(res: reqwest::Response) -> Value {
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.expect("json")
}

async fn error_is(res: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.expect("json error");
    assert_eq!(body["error"], code, "{body}");
    body["error_description"].as_str().unwrap_or_default().to_owned()
}

/// A server with a public client and a signed-up user; answers (server, client id).
async fn setup(backend: Backend) -> Option<(TestServer, String, String)> {
    let server = TestServer::start(backend).await?;
    let client = server.public_client("mobile", &["mobile"]);
    let user = server.user("ada", PASSWORD, &["--department", "north", "--user-type", "operator"]);
    Some((server, client, user))
}

/// Runs the flow to a code.
async fn code_for(server: &TestServer, client: &str, scope: &str) -> String {
    let params = server.approve(&browser(), &authorize_query(client, scope, "s1"), "ada", PASSWORD).await;
    param(&params, "code").expect("a code").to_owned()
}

async fn a_person_signs_in_consents_and_the_app_gets_a_verified_jwt(backend: Backend) {
    let Some((server, client, user)) = setup(backend).await else { return };
    let b = browser();
    let query = authorize_query(&client, "mobile", "xyz-state");
    let consent = server.sign_in(&b, &query, "ada", PASSWORD).await;
    assert_eq!(consent.status(), StatusCode::OK);
    let html = consent.text().await.unwrap();
    assert!(html.contains("Shop app"), "the consent page names the app");
    assert!(html.contains("See your places, geofences, floors, beacons, positions and events"), "{html}");
    assert!(
        html.contains("name=\"decision\" value=\"allow\"")
            && html.contains("name=\"decision\" value=\"deny\"")
    );
    let res =
        server.post_authorize(&b, &html, &[("csrf_token", &csrf_of(&html)), ("decision", "allow")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let params = location_params(&res);
    assert_eq!(param(&params, "state"), Some("xyz-state"));
    assert_eq!(param(&params, "iss"), Some(server.issuer.as_str()));
    let code = param(&params, "code").unwrap();

    let body = token_json(server.redeem(&client, code, VERIFIER).await).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.starts_with("tsr_") && refresh.len() == 53, "{refresh}");
    let claims = verify_with_jwks(
        &server.http,
        &server.url("/.well-known/openid-configuration"),
        body["access_token"].as_str().unwrap(),
        &server.issuer,
        "tessera-api",
    )
    .await
    .unwrap();
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["client_id"], client.as_str());
    assert_eq!(claims["department"], "north");
    assert_eq!(claims["user_type"], "operator");
    assert_eq!(claims["profile"], "mobile");
    assert_eq!(claims["app"], "default");

    // The refresh token rotates.
    let refreshed = token_json(server.refresh(&client, refresh, None).await).await;
    let next = refreshed["refresh_token"].as_str().unwrap();
    assert!(next.starts_with("tsr_"));
    assert_ne!(next, refresh);
    assert_eq!(refreshed["scope"], body["scope"]);
    server.stop().await;
}

async fn consent_and_login_are_remembered_within_the_session(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let b = browser();
    server.approve(&b, &authorize_query(&client, "mobile", "one"), "ada", PASSWORD).await;
    // Same browser, same request: no login page, no consent page, straight back.
    let res = server.get_authorize(&b, &authorize_query(&client, "places:read", "two")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let params = location_params(&res);
    assert_eq!(param(&params, "state"), Some("two"));
    assert!(param(&params, "code").is_some());

    // A new browser must sign in, but is not asked to consent again.
    let other = browser();
    let res = server.sign_in(&other, &authorize_query(&client, "mobile", "three"), "ada", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(param(&location_params(&res), "code").is_some());

    // The session ends with its lifetime: then the login page shows again.
    server.state.clock.advance(8 * 3600 + 1);
    let res = server.get_authorize(&b, &authorize_query(&client, "mobile", "four")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("name=\"password\""));
    server.stop().await;
}

async fn denying_redirects_access_denied_with_state_and_iss(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let b = browser();
    let query = authorize_query(&client, "mobile", "deny-me");
    let html = server.sign_in(&b, &query, "ada", PASSWORD).await.text().await.unwrap();
    let res =
        server.post_authorize(&b, &html, &[("csrf_token", &csrf_of(&html)), ("decision", "deny")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let params = location_params(&res);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("deny-me"));
    assert_eq!(param(&params, "iss"), Some(server.issuer.as_str()));
    assert!(param(&params, "code").is_none());
    // Denying remembers nothing: the next request asks again.
    let res = server.get_authorize(&b, &query).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("value=\"allow\""));
    server.stop().await;
}

async fn a_wrong_verifier_is_invalid_grant(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let code = code_for(&server, &client, "mobile").await;
    let why = error_is(server.redeem(&client, &code, &"x".repeat(43)).await, 400, "invalid_grant").await;
    assert!(why.contains("code_verifier"), "{why}");
    // A missing verifier is refused too.
    let code = code_for(&server, &client, "mobile").await;
    let res = server
        .http
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap();
    error_is(res, 400, "invalid_grant").await;
    server.stop().await;
}

async fn a_replayed_code_is_refused_and_revokes_what_it_issued(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let code = code_for(&server, &client, "mobile").await;
    let first = token_json(server.redeem(&client, &code, VERIFIER).await).await;
    let why = error_is(server.redeem(&client, &code, VERIFIER).await, 400, "invalid_grant").await;
    assert!(why.contains("already used"), "{why}");
    // The refresh token of the first use no longer works...
    let refresh = first["refresh_token"].as_str().unwrap();
    error_is(server.refresh(&client, refresh, None).await, 400, "invalid_grant").await;
    // ...and its access token is denied until it expires.
    let jti = common::claims_unverified(first["access_token"].as_str().unwrap())["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(server.state.store.revoked_jtis(0).await.unwrap().contains(&jti));
    assert!(server.state.status.is_revoked(&jti), "this instance knows at once");
    server.stop().await;
}

async fn an_expired_code_is_invalid_grant(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let code = code_for(&server, &client, "mobile").await;
    server.state.clock.advance(61);
    let why = error_is(server.redeem(&client, &code, VERIFIER).await, 400, "invalid_grant").await;
    assert!(why.contains("expired"), "{why}");
    server.stop().await;
}

async fn redirect_uri_mismatch_shows_a_page_and_never_redirects(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    for wrong in
        ["http://127.0.0.1:7777/cb/", "http://127.0.0.1:7777/other", "https://evil.example/cb", "not a url"]
    {
        let query = authorize_query(&client, "mobile", "s").replace(
            &url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>(),
            &url::form_urlencoded::byte_serialize(wrong.as_bytes()).collect::<String>(),
        );
        let res = server.get_authorize(&browser(), &query).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{wrong}");
        assert!(res.headers().get("location").is_none(), "{wrong}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let html = res.text().await.unwrap();
        // Spoken to the person, with the reference to quote and the detail for developers.
        assert!(html.contains("This sign-in link is broken"), "{html}");
        assert!(html.contains(&format!("quote this reference: <code>{request_id}</code>")), "{html}");
        assert!(html.contains("redirect"), "{html}");
    }
    server.stop().await;
}

async fn redirect_uri_at_the_token_endpoint_must_match_exactly(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let code = code_for(&server, &client, "mobile").await;
    let res = server
        .http
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:7777/cb?"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    error_is(res, 400, "invalid_grant").await;
    server.stop().await;
}

async fn public_clients_must_use_s256_and_plain_is_refused(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let base = format!(
        "response_type=code&client_id={client}&redirect_uri={}&scope=mobile&state=pk",
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let challenge = flow::challenge(VERIFIER);
    for (extra, expect) in [
        (String::new(), "required"),
        (format!("&code_challenge={VERIFIER}&code_challenge_method=plain"), "plain"),
        (format!("&code_challenge={challenge}"), "S256"),
        ("&code_challenge=short&code_challenge_method=S256".to_owned(), "43"),
    ] {
        let res = server.get_authorize(&browser(), &format!("{base}{extra}")).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{extra}");
        let params = location_params(&res);
        assert_eq!(param(&params, "error"), Some("invalid_request"), "{extra}");
        assert_eq!(param(&params, "state"), Some("pk"));
        assert_eq!(param(&params, "iss"), Some(server.issuer.as_str()));
        assert!(param(&params, "error_description").unwrap_or_default().contains(expect), "{params:?}");
    }
    server.stop().await;
}

async fn unknown_client_shows_a_page_and_never_redirects(backend: Backend) {
    let Some((server, _, _)) = setup(backend).await else { return };
    let res = server.get_authorize(&browser(), &authorize_query("nobody", "mobile", "s")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get("location").is_none());
    assert!(res.text().await.unwrap().contains("We don&#39;t know this app"));
    // No client_id at all, and a repeated parameter.
    let res = server.get_authorize(&browser(), "response_type=code").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = server.get_authorize(&browser(), "client_id=a&client_id=b").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("repeated"));
    server.stop().await;
}

async fn forms_without_the_csrf_token_are_refused(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let b = browser();
    let query = authorize_query(&client, "mobile", "c");
    let login = server.get_authorize(&b, &query).await.text().await.unwrap();
    let csrf = csrf_of(&login);
    for bad in [None, Some("wrong"), Some("")] {
        let mut form = vec![("username", "ada"), ("password", PASSWORD)];
        if let Some(token) = bad {
            form.push(("csrf_token", token));
        }
        let res = server.post_authorize(&b, &login, &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{bad:?}");
        assert!(res.text().await.unwrap().contains("expired"));
    }
    // A right token from another browser's session does not work either.
    let other = browser();
    let res = server
        .post_authorize(&other, &login, &[("csrf_token", &csrf), ("username", "ada"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Nobody got signed in: the consent form is refused without its token too.
    let html = server.sign_in(&b, &query, "ada", PASSWORD).await.text().await.unwrap();
    assert!(html.contains("value=\"allow\""));
    let res = server.post_authorize(&b, &html, &[("decision", "allow")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("location").is_none());
    server.stop().await;
}

async fn refreshing_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let code = code_for(&server, &client, "mobile").await;
    let first = token_json(server.redeem(&client, &code, VERIFIER).await).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let second = token_json(server.refresh(&client, &r1, None).await).await;
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    // r1 again: reuse. Refused, and r2 (the family) dies with it.
    let why = error_is(server.refresh(&client, &r1, None).await, 400, "invalid_grant").await;
    assert!(why.contains("already used"), "{why}");
    error_is(server.refresh(&client, &r2, None).await, 400, "invalid_grant").await;
    // A token that never existed.
    error_is(server.refresh(&client, "tsr_nothing", None).await, 400, "invalid_grant").await;
    error_is(server.refresh(&client, "garbage", None).await, 400, "invalid_grant").await;
    server.stop().await;
}

async fn refresh_scope_may_narrow_but_never_widen(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let code = code_for(&server, &client, "places:read events:read").await;
    let first = token_json(server.redeem(&client, &code, VERIFIER).await).await;
    assert_eq!(first["scope"], "places:read events:read");
    let r1 = first["refresh_token"].as_str().unwrap();
    let narrowed = token_json(server.refresh(&client, r1, Some("places:read")).await).await;
    assert_eq!(narrowed["scope"], "places:read");
    // The rotated token keeps the original scope: events:read is still allowed.
    let r2 = narrowed["refresh_token"].as_str().unwrap();
    let again = token_json(server.refresh(&client, r2, Some("events:read")).await).await;
    assert_eq!(again["scope"], "events:read");
    let r3 = again["refresh_token"].as_str().unwrap();
    let why = error_is(
        server.refresh(&client, r3, Some("places:read positions:create")).await,
        400,
        "invalid_scope",
    )
    .await;
    assert!(why.contains("wider"), "{why}");
    error_is(server.refresh(&client, r3, Some("cars:read")).await, 400, "invalid_scope").await;
    server.stop().await;
}

async fn a_refresh_token_only_works_for_its_own_client(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let other = server.public_client("public", &["mobile"]);
    let code = code_for(&server, &client, "mobile").await;
    let first = token_json(server.redeem(&client, &code, VERIFIER).await).await;
    let refresh = first["refresh_token"].as_str().unwrap();
    error_is(server.refresh(&other, refresh, None).await, 400, "invalid_grant").await;
    // A code is bound to its client as well.
    let code = code_for(&server, &client, "mobile").await;
    error_is(server.redeem(&other, &code, VERIFIER).await, 400, "invalid_grant").await;
    server.stop().await;
}

async fn wrong_passwords_show_a_generic_message_and_are_slowed_down(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let b = browser();
    let query = authorize_query(&client, "mobile", "pw");
    let html = server.get_authorize(&b, &query).await.text().await.unwrap();
    let csrf = csrf_of(&html);
    let attempt = |username: &'static str, password: &'static str| {
        let (server, b, html, csrf) = (&server, &b, &html, &csrf);
        async move {
            let res = server
                .post_authorize(
                    b,
                    html,
                    &[("csrf_token", csrf), ("username", username), ("password", password)],
                )
                .await;
            (res.status(), res.text().await.unwrap())
        }
    };
    // Unknown user and wrong password read the same.
    let (status, unknown) = attempt("nobody", "whatever1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(unknown.contains("The username or password is not correct."));
    for _ in 0..3 {
        let (_, page) = attempt("ada", "wrong password").await;
        assert!(page.contains("The username or password is not correct."));
        assert!(page.contains("value=\"ada\""), "the username is kept in the form");
    }
    // Three failures: now even the right password waits.
    let (_, page) = attempt("ada", PASSWORD).await;
    assert!(page.contains("Too many attempts"), "{page}");
    // After the wait it works, and the failures are forgotten.
    server.state.clock.advance(2);
    let (status, page) = attempt("ada", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("value=\"allow\""), "{page}");
    server.stop().await;
}

async fn confidential_clients_authenticate_and_pkce_is_optional(backend: Backend) {
    let Some((server, _, _)) = setup(backend).await else { return };
    let client = server.confidential_code_client(&["master"]);
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&state=c",
        client.id,
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let params = server.approve(&browser(), &query, "ada", PASSWORD).await;
    let code = param(&params, "code").unwrap().to_owned();
    // Without its secret the code is not redeemed.
    error_is(server.redeem(&client.id, &code, VERIFIER).await, 401, "invalid_client").await;
    let params = server.approve(&browser(), &query, "ada", PASSWORD).await;
    let code = param(&params, "code").unwrap().to_owned();
    let res = server
        .token_basic(
            &client,
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT_URI)],
        )
        .await;
    assert_eq!(res.status(), 200);
    server.stop().await;
}

async fn user_type_bounds_the_granted_scopes(backend: Backend) {
    let Some((server, _, _)) = setup(backend).await else { return };
    // The client may have everything; ada is an operator (the mobile profile).
    let client = server.public_client("public", &["master", "admin"]);
    let b = browser();
    let query = authorize_query(&client, "master admin", "ut");
    let html = server.sign_in(&b, &query, "ada", PASSWORD).await.text().await.unwrap();
    assert!(!html.contains("Delete") && !html.contains("administrator"), "{html}");
    let res =
        server.post_authorize(&b, &html, &[("csrf_token", &csrf_of(&html)), ("decision", "allow")]).await;
    let code = param(&location_params(&res), "code").unwrap().to_owned();
    let body = token_json(server.redeem(&client, &code, VERIFIER).await).await;
    let claims = common::claims_unverified(body["access_token"].as_str().unwrap());
    assert_eq!(claims["profile"], "mobile");
    assert!(!claims["scope"].as_str().unwrap().contains("admin"));

    // A user type that allows none of the request is told so at the redirect
    // (operators may not create core objects).
    server.user("bob", PASSWORD, &["--user-type", "operator"]);
    let res =
        server.sign_in(&browser(), &authorize_query(&client, "places:create", "none"), "bob", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(param(&location_params(&res), "error"), Some("invalid_scope"));
    server.stop().await;
}

async fn pages_cannot_be_framed_and_cookies_are_http_only(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let res = server.get_authorize(&browser(), &authorize_query(&client, "mobile", "h")).await;
    let headers = res.headers();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(headers["cache-control"], "no-store");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("tessera_session="));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "development serves plain http: {cookie}");
    let css = server.http.get(server.url("/static/tessera.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    server.stop().await;
}

async fn twenty_parallel_redemptions_give_exactly_one_token(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let code = code_for(&server, &client, "mobile").await;
    let attempts = (0..20).map(|_| server.redeem(&client, &code, VERIFIER));
    let statuses: Vec<u16> =
        futures_util::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 19, "{statuses:?}");
    server.stop().await;
}

/// Rotations of concurrent requests are written in shared transactions: twelve
/// logins refreshed at once each rotate, their new tokens work, and one token
/// presented eight times at once rotates once while the rest is reuse.
async fn parallel_refreshes_rotate_each_login_once(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let mut logins = Vec::new();
    for _ in 0..12 {
        let code = code_for(&server, &client, "mobile").await;
        let body = token_json(server.redeem(&client, &code, VERIFIER).await).await;
        logins.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    for _round in 0..3 {
        let answers =
            futures_util::future::join_all(logins.iter().map(|r| server.refresh(&client, r, None))).await;
        let mut next = Vec::new();
        for res in answers {
            let body = token_json(res).await;
            let claims = common::claims_unverified(body["access_token"].as_str().unwrap());
            assert!(claims["status"]["status_list"]["idx"].is_number(), "{claims}");
            next.push(body["refresh_token"].as_str().unwrap().to_owned());
        }
        let mut distinct = next.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 12, "every login got its own new token");
        logins = next;
    }

    // One token, eight presentations at once: one rotation, seven reuses, and
    // the reuse ends the login, the new token with it.
    let contested = logins.pop().unwrap();
    let answers =
        futures_util::future::join_all((0..8).map(|_| server.refresh(&client, &contested, None))).await;
    let mut won = Vec::new();
    let mut refused = 0;
    for res in answers {
        match res.status().as_u16() {
            200 => won.push(token_json(res).await["refresh_token"].as_str().unwrap().to_owned()),
            400 => {
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["error"], "invalid_grant", "{body}");
                refused += 1;
            }
            other => panic!("a contested refresh answered {other}"),
        }
    }
    assert_eq!((won.len(), refused), (1, 7));
    error_is(server.refresh(&client, &won[0], None).await, 400, "invalid_grant").await;
    // The other logins are untouched.
    for r in &logins {
        token_json(server.refresh(&client, r, None).await).await;
    }
    server.stop().await;
}

async fn refresh_tokens_slide_but_never_outlive_the_absolute_bound(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let day = 24 * 3600;
    let code = code_for(&server, &client, "mobile").await;
    let mut refresh = token_json(server.redeem(&client, &code, VERIFIER).await).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Used every 13 days (within the 14-day sliding lifetime), it lives on...
    for _ in 0..6 {
        server.state.clock.advance(13 * day);
        let body = token_json(server.refresh(&client, &refresh, None).await).await;
        refresh = body["refresh_token"].as_str().unwrap().to_owned();
    }
    // ...but day 91 is past the 90-day bound of the login.
    server.state.clock.advance(13 * day);
    let why = error_is(server.refresh(&client, &refresh, None).await, 400, "invalid_grant").await;
    assert!(why.contains("expired"), "{why}");

    // Left unused for more than 14 days, a token expires.
    let code = code_for(&server, &client, "mobile").await;
    let idle = token_json(server.redeem(&client, &code, VERIFIER).await).await;
    server.state.clock.advance(14 * day + 1);
    let why = error_is(
        server.refresh(&client, idle["refresh_token"].as_str().unwrap(), None).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(why.contains("expired"), "{why}");
    server.stop().await;
}

async fn many_usernames_from_one_address_are_slowed_down(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let b = browser();
    let query = authorize_query(&client, "mobile", "ip");
    let html = server.get_authorize(&b, &query).await.text().await.unwrap();
    let csrf = csrf_of(&html);
    // Twenty different usernames, one wrong password each: no username reaches
    // its own threshold, but the address does.
    for i in 0..20 {
        let name = format!("guess{i}");
        let res = server
            .post_authorize(&b, &html, &[("csrf_token", &csrf), ("username", &name), ("password", "nope")])
            .await;
        assert!(res.text().await.unwrap().contains("not correct"));
    }
    // The wait doubles with each further failure from 1 s; four more guesses make
    // it 16 s, so that a slow machine cannot outlast it before the next attempt.
    for i in 20..24 {
        let name = format!("guess{i}");
        let res = server
            .post_authorize(&b, &html, &[("csrf_token", &csrf), ("username", &name), ("password", "nope")])
            .await;
        let text = res.text().await.unwrap();
        assert!(text.contains("not correct") || text.contains("Too many attempts"), "{text}");
    }
    let res = server
        .post_authorize(&b, &html, &[("csrf_token", &csrf), ("username", "ada"), ("password", PASSWORD)])
        .await;
    assert!(res.text().await.unwrap().contains("Too many attempts"));
    server.state.clock.advance(301);
    let res = server
        .post_authorize(&b, &html, &[("csrf_token", &csrf), ("username", "ada"), ("password", PASSWORD)])
        .await;
    assert!(res.text().await.unwrap().contains("value=\"allow\""));
    server.stop().await;
}

async fn a_mobile_app_revokes_its_own_tokens_with_its_client_id_alone(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let app_client = server.public_client("mobile", &["mobile"]);
    let other_client = server.public_client("public", &["mobile"]);
    server.user("ada", PASSWORD, &[]);
    let params =
        server.approve(&browser(), &authorize_query(&app_client, "mobile", "s"), "ada", PASSWORD).await;
    let tokens: Value =
        server.redeem(&app_client, param(&params, "code").unwrap(), VERIFIER).await.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let revoke = |client_id: &str, token: &str| {
        let req = server.http.post(server.url("/revoke")).form(&[("client_id", client_id), ("token", token)]);
        async move { req.send().await.unwrap() }
    };

    // Another public client may not revoke them; unknown and confidential clients
    // without their secret are invalid_client.
    assert_eq!(revoke(&other_client, &refresh).await.status(), 400);
    let still: Value = server.refresh(&app_client, &refresh, None).await.json().await.unwrap();
    let newest = still["refresh_token"].as_str().expect("still valid").to_owned();
    let rs = server.confidential_client(&["mobile"]);
    assert_eq!(revoke(&rs.id, &newest).await.status(), 401);
    assert_eq!(revoke("no-such-client", &newest).await.status(), 401);

    // The app itself signs out: the access token is inactive at introspection, the
    // whole login's refresh tokens stop.
    assert_eq!(revoke(&app_client, &access).await.status(), 200);
    let info: Value = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(&rs.id, Some(&rs.secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["active"], false, "{info}");
    assert_eq!(revoke(&app_client, &newest).await.status(), 200);
    assert_eq!(server.refresh(&app_client, &newest, None).await.status(), 400);
    // Revoking again, or a token it never had, is still 200 (RFC 7009 §2.2).
    assert_eq!(revoke(&app_client, &newest).await.status(), 200);
    assert_eq!(revoke(&app_client, "tsr_nothing").await.status(), 200);
    server.stop().await;
}

async fn a_consent_decision_applies_to_the_stored_request_alone(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let other = server.public_client("mobile", &["mobile"]);
    let b = browser();
    let query = authorize_query(&client, "mobile", "mine");
    let consent = server.sign_in(&b, &query, "ada", PASSWORD).await.text().await.unwrap();
    assert!(consent.contains("value=\"allow\""));
    let csrf = csrf_of(&consent);
    let interaction = flow::field_of(&consent, "interaction");
    // The forms carry the interaction and the CSRF token, never the request.
    assert!(!consent.contains(&client), "the consent form names no client id");

    // The form retargeted at another client, state and scope: the decision still
    // answers the request that was shown.
    let forged = authorize_query(&other, "mobile admin", "theirs");
    let res = b
        .post(server.url(&format!("/authorize?{forged}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("interaction", interaction.as_str()),
            ("decision", "allow"),
            ("client_id", other.as_str()),
            ("state", "theirs"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let params = location_params(&res);
    assert_eq!(param(&params, "state"), Some("mine"));
    let code = param(&params, "code").unwrap().to_owned();
    assert_eq!(
        server.redeem(&other, &code, VERIFIER).await.status(),
        400,
        "no code reaches the other client"
    );

    // Answered: the interaction no longer opens anything; nor does a form without one.
    let again = b
        .post(server.url("/authorize"))
        .form(&[("csrf_token", csrf.as_str()), ("interaction", interaction.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.headers().get("location").is_none());
    assert!(again.text().await.unwrap().contains("expired"));
    let bare = b
        .post(server.url(&format!("/authorize?{query}")))
        .form(&[("csrf_token", csrf.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);
    assert!(bare.headers().get("location").is_none());
    server.stop().await;
}

async fn prompt_and_max_age_are_honoured(backend: Backend) {
    let Some((server, client, _)) = setup(backend).await else { return };
    let other = server.public_client("mobile", &["mobile"]);
    let b = browser();
    let with = |client: &str, extra: &str| format!("{}&{extra}", authorize_query(client, "mobile", "p"));
    let error_of = |res: &reqwest::Response| {
        let params = location_params(res);
        assert_eq!(param(&params, "state"), Some("p"));
        param(&params, "error").map(str::to_owned)
    };

    // prompt=none without a login: login_required, no page.
    let res = server.get_authorize(&b, &with(&client, "prompt=none")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(error_of(&res).as_deref(), Some("login_required"));

    // Signed in and consented once: prompt=none answers with a code at once.
    server.approve(&b, &authorize_query(&client, "mobile", "first"), "ada", PASSWORD).await;
    let res = server.get_authorize(&b, &with(&client, "prompt=none")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(param(&location_params(&res), "code").is_some());
    // ...but not for a client the person never allowed.
    let res = server.get_authorize(&b, &with(&other, "prompt=none")).await;
    assert_eq!(error_of(&res).as_deref(), Some("consent_required"));

    // prompt=consent asks again; prompt=login asks for the password again.
    let res = server.get_authorize(&b, &with(&client, "prompt=consent")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("value=\"allow\""));
    let res = server.get_authorize(&b, &with(&client, "prompt=login")).await;
    let login = res.text().await.unwrap();
    assert!(login.contains("name=\"password\""), "{login}");
    let res = server
        .post_authorize(
            &b,
            &login,
            &[("csrf_token", &csrf_of(&login)), ("username", "ada"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in again; consent remembered");
    assert!(param(&location_params(&res), "code").is_some());

    // max_age: a login older than it does not count; a recent one does.
    server.state.clock.advance(120);
    let res = server.get_authorize(&b, &with(&client, "max_age=60")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("name=\"password\""));
    let res = server.get_authorize(&b, &with(&client, "max_age=3600")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(param(&location_params(&res), "code").is_some());

    // Values outside the specification are invalid_request.
    for bad in ["prompt=sometimes", "prompt=none%20login", "max_age=-1", "max_age=soon"] {
        let res = server.get_authorize(&b, &with(&client, bad)).await;
        assert_eq!(error_of(&res).as_deref(), Some("invalid_request"), "{bad}");
    }
    server.stop().await;
}

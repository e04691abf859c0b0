//! A real headless Chromium, driven over WebDriver (chromedriver), signs a person
//! in, denies and then allows, and lands on the app's redirect URI. Screenshots of
//! the login and consent pages (desktop and phone) go to `target/screenshots/`.
//!
//! Skipped, with a message, where `chromedriver` and `chromium` are not installed;
//! `.ci/run` installs both.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::browser::{look, save_screenshot, Driver};
use common::flow::{challenge, param, VERIFIER};
use common::{Backend, TestServer};
use fantoccini::Locator;

const PASSWORD: &str = "correct horse battery";

/// The app's redirect URI: answers every request with a page the test waits for.
fn app_callback() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "<!doctype html><title>app</title><p id=\"landed\">back in the app</p>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/cb")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_denies_then_allows_in_a_real_browser() {
    let Some(driver) = Driver::start() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let redirect_uri = app_callback();
    let client_id = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "Shop app",
        "--type",
        "mobile",
        "--redirect-uri",
        &redirect_uri,
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--scope",
        "mobile",
        "--json",
    ])["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    server.user("ada", PASSWORD, &["--department", "north"]);
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;

    let authorize = |state: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", "mobile")
            .append_pair("state", state)
            .append_pair("code_challenge", &challenge(VERIFIER))
            .append_pair("code_challenge_method", "S256")
            .finish();
        server.url(&format!("/authorize?{query}"))
    };

    // The login page, on a phone and on a desktop.
    browser.set_window_size(390, 844).await.unwrap();
    browser.goto(&authorize("first")).await.unwrap();
    let username = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[name=username]"))
        .await
        .unwrap();
    save_screenshot(&browser, "login-phone.png").await;
    browser.set_window_size(1280, 900).await.unwrap();
    save_screenshot(&browser, "login-desktop.png").await;
    username.send_keys("ada").await.unwrap();
    browser.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();

    // The consent page names the app and the scopes; deny first.
    let deny = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("button[name=decision][value=deny]"))
        .await
        .unwrap();
    let text = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Shop app") && text.contains("See your places"), "{text}");
    save_screenshot(&browser, "consent-desktop.png").await;
    browser.set_window_size(390, 844).await.unwrap();
    save_screenshot(&browser, "consent-phone.png").await;
    deny.click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Id("landed")).await.unwrap();
    let landed = browser.current_url().await.unwrap();
    let params: Vec<(String, String)> = landed.query_pairs().into_owned().collect();
    assert!(landed.as_str().starts_with(&redirect_uri), "{landed}");
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("first"));
    assert_eq!(param(&params, "iss"), Some(server.issuer.as_str()));

    // Again: still signed in, so straight to consent; allow.
    browser.goto(&authorize("second")).await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("button[name=decision][value=allow]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Id("landed")).await.unwrap();
    let landed = browser.current_url().await.unwrap();
    let params: Vec<(String, String)> = landed.query_pairs().into_owned().collect();
    assert_eq!(param(&params, "state"), Some("second"));
    assert_eq!(param(&params, "iss"), Some(server.issuer.as_str()));
    let code = param(&params, "code").expect("a code").to_owned();
    browser.close().await.unwrap();

    // The app redeems the code.
    let res = server
        .http
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["refresh_token"].as_str().unwrap().starts_with("tsr_"));
    let claims = common::claims_unverified(body["access_token"].as_str().unwrap());
    assert_eq!(claims["department"], "north");
    server.stop().await;
}

/// An application library (the `openidconnect` crate) signs a person in through
/// tessera's branded pages in a real browser: discovery, the code flow with PKCE
/// and a nonce, the ID token verified with the JWKS and its `at_hash`, userinfo,
/// and RP-initiated logout back to the app. Each page is checked with axe-core
/// and saved at phone and desktop widths (`oidc-*.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openid_connect_library_signs_a_person_in_through_the_branded_pages() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
    use openidconnect::{
        AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
        PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    };

    let Some(driver) = Driver::start() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let redirect_uri = app_callback();
    let signed_out_uri = redirect_uri.replace("/cb", "/signed-out");
    let app = server.env.cli_json(&["app", "create", "--name", "fieldops", "--json"]);
    let (app_id, master) = (app["id"].as_str().unwrap(), app["master_token"].as_str().unwrap());
    let admin = |method: reqwest::Method, path: &str| {
        server.http.request(method, server.url(&format!("/admin/v1/apps/{app_id}{path}"))).bearer_auth(master)
    };
    let res = admin(reqwest::Method::PATCH, "")
        .json(&serde_json::json!({"display_name": "Harbour Field Service", "accent_colour": "#0b6e4f"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let logo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/logo.png")).unwrap();
    let res = admin(reqwest::Method::PUT, "/logo")
        .header("content-type", "image/png")
        .body(logo)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let client_id = server.env.cli_json(&[
        "client",
        "create",
        "--name",
        "Harbour app",
        "--type",
        "public",
        "--redirect-uri",
        &redirect_uri,
        "--post-logout-redirect-uri",
        &signed_out_uri,
        "--grant",
        "authorization_code",
        "--scope",
        "openid email profile",
        "--scope",
        "places:read events:create",
        "--app",
        app_id,
        "--json",
    ])["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = server.env.cli(
        &[
            "user",
            "create",
            "--username",
            "ada",
            "--email",
            "ada@harbour.example",
            "--app",
            app_id,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success());

    // The library discovers the issuer and builds the authorization request.
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.clone()), None)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).unwrap());
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("places:read".into()))
        .add_scope(Scope::new("events:create".into()))
        .set_pkce_challenge(pkce_challenge)
        .url();

    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    let wait = |css: &'static str| {
        let browser = browser.clone();
        async move {
            browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap()
        }
    };
    browser.goto(auth_url.as_str()).await.unwrap();
    wait("input[name=username]").await;
    let text = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Harbour Field Service") && !text.contains("tessera"), "{text}");
    look(&browser, "oidc-login").await;
    browser.find(Locator::Css("input[name=username]")).await.unwrap().send_keys("ada").await.unwrap();
    browser.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    browser.find(Locator::Css("button.primary")).await.unwrap().click().await.unwrap();

    let allow = wait("button[name=decision][value=allow]").await;
    let text = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("It could also change your data") && text.contains("Add your events"), "{text}");
    assert!(text.contains("Not you?") && text.contains("Switch account"), "{text}");
    look(&browser, "oidc-consent").await;
    allow.click().await.unwrap();
    wait("#landed").await;
    let landed = browser.current_url().await.unwrap();
    let params: Vec<(String, String)> = landed.query_pairs().into_owned().collect();
    assert_eq!(param(&params, "state"), Some(csrf.secret().as_str()));
    let code = param(&params, "code").expect("a code").to_owned();

    // The library redeems the code and validates the ID token as it would in an app.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@harbour.example"));
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("ada"));
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    // A nonce other than the one sent is refused by the library.
    assert!(id_token.claims(&verifier, &Nonce::new("another".into())).is_err());
    let userinfo: CoreUserInfoClaims =
        client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await.unwrap();
    assert_eq!(userinfo.subject().as_str(), claims.subject().as_str());
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("ada@harbour.example"));

    // A broken request of this application: its brand, a reference, plain words.
    let broken = auth_url.as_str().replace("redirect_uri=", "redirect_uri=x");
    browser.goto(&broken).await.unwrap();
    wait("main h1").await;
    let text = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Harbour Field Service") && text.contains("quote this reference"), "{text}");
    look(&browser, "oidc-error").await;

    // Signing out without a hint asks first; with one, the app gets the person back at once.
    browser.goto(&server.url(&format!("/logout?client_id={client_id}"))).await.unwrap();
    wait("form[action='/logout'] button").await;
    look(&browser, "oidc-logout").await;
    let logout = url::Url::parse_with_params(
        &server.url("/logout"),
        &[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", signed_out_uri.as_str()),
            ("state", "bye"),
        ],
    )
    .unwrap();
    browser.goto(logout.as_str()).await.unwrap();
    wait("#landed").await;
    let landed = browser.current_url().await.unwrap();
    assert_eq!(landed.as_str(), format!("{signed_out_uri}?state=bye"));
    // Signed out: the next request shows the login page again.
    browser.goto(auth_url.as_str()).await.unwrap();
    wait("input[name=username]").await;
    browser.close().await.unwrap();
    server.stop().await;
}

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

use common::browser::{save_screenshot, Driver};
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

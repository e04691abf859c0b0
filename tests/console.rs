//! The admin console in a real headless Chromium: an administrator made with
//! `tessera admin create` signs in through tessera's own login and consent pages
//! (the console is an OAuth client of the server), and manages API tokens,
//! mobile tokens, the master token and mobile sessions by looking; every change
//! is in the audit log. Every page is checked with axe-core and saved at phone
//! and desktop widths in `target/screenshots/console-*.png`. A person without
//! the admin scope gets no console, and a form posted without its CSRF token
//! changes nothing.

mod common;

use std::time::Duration;

use common::browser::{look, Driver};
use common::flow::{authorize_query, browser as http_browser, param, VERIFIER};
use common::{Backend, TestServer};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use tessera::domain::platform_tokens::TokenKind;
use tessera::store::TokenFilter;

const PASSWORD: &str = "correct horse battery";

async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    match browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await {
        Ok(element) => element,
        Err(e) => {
            let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            panic!("no {css} at {url}: {e}\n{}", text(browser).await)
        }
    }
}

async fn text(browser: &Client) -> String {
    browser.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
}

async fn click(browser: &Client, css: &str) {
    wait_for(browser, css).await.click().await.unwrap();
}

/// Clicks a button that posts a form, and waits until the next page replaced
/// this one (the old page's root goes stale), so that what follows sees the
/// change made.
async fn submit(browser: &Client, css: &str) {
    let old = browser.find(Locator::Css("html")).await.unwrap();
    click(browser, css).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while old.tag_name().await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "{css} did not lead to another page");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Signs in at the console through the login (and, the first time, consent) page.
async fn sign_in(browser: &Client, server: &TestServer, app: Option<&str>, username: &str) {
    let start = match app {
        Some(app) => format!("/console/signin?app={app}"),
        None => "/console".to_owned(),
    };
    browser.goto(&server.url(&start)).await.unwrap();
    wait_for(browser, "input[name=username]").await.send_keys(username).await.unwrap();
    browser.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // Then the consent page (the first time), or straight back to the console.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(allow) = browser.find(Locator::Css("button[name=decision][value=allow]")).await {
            allow.click().await.unwrap();
            break;
        }
        let url = browser.current_url().await.unwrap();
        if url.path().starts_with("/console") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stuck at {url}: {}", text(browser).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_tokens_and_sessions_in_the_console() {
    let Some(driver) = Driver::start() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let store = server.state.store.clone();
    let out = server.env.cli(&["admin", "create", "--username", "root", "--password-stdin"], Some(PASSWORD));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/console"));
    // An application with a person, two API tokens and a mobile token to manage.
    let shop = server.env.cli_json(&["app", "create", "--name", "Shop", "--json"]);
    let shop_id = shop["id"].as_str().unwrap().to_owned();
    let master = shop["master_token"].as_str().unwrap().to_owned();
    server.user("ada", PASSWORD, &["--app", &shop_id, "--user-type", "operator"]);
    let admin_api = |method: reqwest::Method, path: &str, body: Option<Value>, token: &str| {
        let mut req = server
            .http
            .request(method, server.url(&format!("/admin/v1/apps/{shop_id}{path}")))
            .header("authorization", format!("Token {token}"));
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move { req.send().await.unwrap() }
    };
    let ada = store.find_user(&shop_id, "ada").await.unwrap().unwrap();
    for name in ["nightly export", "dashboard"] {
        let body = json!({ "name": name, "user": ada.id, "expires_at": "2099-01-01T00:00:00Z" });
        let res = admin_api(reqwest::Method::POST, "/api-tokens", Some(body), &master).await;
        assert_eq!(res.status(), 422, "more than 12 months ahead is refused");
    }
    for name in ["nightly export", "dashboard"] {
        let expires = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        let body = json!({ "name": name, "user": ada.id, "expires_at": expires });
        assert_eq!(admin_api(reqwest::Method::POST, "/api-tokens", Some(body), &master).await.status(), 201);
    }
    // A person signed in on a phone: a mobile session in the default application.
    let phone_client = server.public_client("mobile", &["mobile"]);
    server.user("bo", PASSWORD, &["--user-type", "operator"]);
    let params =
        server.approve(&http_browser(), &authorize_query(&phone_client, "mobile", "s"), "bo", PASSWORD).await;
    let tokens: Value =
        server.redeem(&phone_client, param(&params, "code").unwrap(), VERIFIER).await.json().await.unwrap();
    let bo_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;

    // Signing in: tessera's own login page, then the applications.
    sign_in(&browser, &server, None, "root").await;
    wait_for(&browser, "table").await;
    assert!(text(&browser).await.contains("Shop"));
    look(&browser, "console-applications").await;

    // API tokens: the list, most recently used first; create one; it is shown once.
    browser.goto(&server.url(&format!("/console/apps/{shop_id}/api-tokens"))).await.unwrap();
    wait_for(&browser, "form[action$='/api-tokens'] input[name=name]")
        .await
        .send_keys("reporting")
        .await
        .unwrap();
    assert!(text(&browser).await.contains("nightly export"));
    look(&browser, "console-api-tokens").await;
    click(&browser, "form[action$='/api-tokens'] button[type=submit]").await;
    let secret = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    assert!(secret.starts_with("tsa_"), "{secret}");
    look(&browser, "console-api-token-created").await;
    let (made, _) = store
        .list_platform_tokens(
            &shop_id,
            TokenKind::Api,
            TokenFilter { name_contains: Some("reporting"), ..Default::default() },
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].user_id.as_deref(), Some(ada.id.as_str()));

    // Its page: tenant id, how to call with it, reveal.
    click(&browser, "main a[href*='/api-tokens/']").await;
    wait_for(&browser, "dl.facts").await;
    assert!(text(&browser).await.contains(&shop_id));
    assert!(!text(&browser).await.contains(&secret));
    look(&browser, "console-api-token").await;
    click(&browser, "form[action$='/reveal'] button").await;
    let revealed = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    assert_eq!(revealed, secret);
    assert!(!browser.current_url().await.unwrap().as_str().contains(&secret));

    // Search, then select two and delete them together (after confirming).
    browser.goto(&server.url(&format!("/console/apps/{shop_id}/api-tokens?q=export"))).await.unwrap();
    wait_for(&browser, "table").await;
    let listed = text(&browser).await;
    assert!(listed.contains("nightly export") && !listed.contains("dashboard"), "{listed}");
    browser.goto(&server.url(&format!("/console/apps/{shop_id}/api-tokens"))).await.unwrap();
    let boxes = browser.find_all(Locator::Css("input[name=ids]")).await.unwrap();
    assert_eq!(boxes.len(), 3);
    boxes[0].click().await.unwrap();
    boxes[1].click().await.unwrap();
    click(&browser, "form[action$='/api-tokens/delete'] input[name=confirm]").await;
    submit(&browser, "form[action$='/api-tokens/delete'] button[type=submit]").await;
    wait_for(&browser, "table").await;
    let (left, total) =
        store.list_platform_tokens(&shop_id, TokenKind::Api, TokenFilter::default(), 10, 0).await.unwrap();
    assert_eq!(total, 1, "{left:?}");

    // Mobile tokens: create, switch off, rename, delete.
    browser.goto(&server.url(&format!("/console/apps/{shop_id}/mobile-tokens"))).await.unwrap();
    wait_for(&browser, "form[action$='/mobile-tokens'] input[name=name]")
        .await
        .send_keys("ios app")
        .await
        .unwrap();
    click(&browser, "form[action$='/mobile-tokens'] button[type=submit]").await;
    let mobile = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    assert!(mobile.starts_with("tsb_"));
    browser.goto(&server.url(&format!("/console/apps/{shop_id}/mobile-tokens"))).await.unwrap();
    submit(&browser, "button[role=switch]").await;
    wait_for(&browser, "button[role=switch][aria-checked=false]").await;
    look(&browser, "console-mobile-tokens").await;
    let (tokens, _) =
        store.list_platform_tokens(&shop_id, TokenKind::Mobile, TokenFilter::default(), 10, 0).await.unwrap();
    assert!(!tokens[0].enabled);
    let rename = wait_for(&browser, "form[action$='/rename'] input[name=name]").await;
    rename.clear().await.unwrap();
    rename.send_keys("ios app v2").await.unwrap();
    submit(&browser, "form[action$='/rename'] button").await;
    wait_for(&browser, "input[value='ios app v2']").await;

    // A forged form without the CSRF token changes nothing, even with the session cookie.
    let cookie = browser.get_named_cookie("tessera_console").await.unwrap();
    let token_id = tokens[0].id.clone();
    let forged = server
        .http
        .post(server.url(&format!("/console/apps/{shop_id}/mobile-tokens/{token_id}/delete")))
        .header("cookie", format!("tessera_console={}", cookie.value()))
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(store.get_platform_token(&shop_id, TokenKind::Mobile, &token_id).await.unwrap().is_some());
    click(&browser, "form[action$='/delete'] input[name=confirm]").await;
    submit(&browser, "form[action$='/delete'] button").await;
    wait_for(&browser, "table").await;
    assert!(store.get_platform_token(&shop_id, TokenKind::Mobile, &token_id).await.unwrap().is_none());

    // The master token: rotating asks for confirmation, shows the new one once,
    // and the old one stops at once.
    browser.goto(&server.url(&format!("/console/apps/{shop_id}"))).await.unwrap();
    wait_for(&browser, "form[action$='/rotate']").await;
    look(&browser, "console-overview").await;
    click(&browser, "form[action$='/rotate'] input[name=confirm]").await;
    click(&browser, "form[action$='/rotate'] button").await;
    let new_master = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    assert!(new_master.starts_with("tsm_"));
    look(&browser, "console-master-token").await;
    assert_eq!(admin_api(reqwest::Method::GET, "/api-tokens", None, &master).await.status(), 401);
    assert_eq!(admin_api(reqwest::Method::GET, "/api-tokens", None, &new_master).await.status(), 200);

    // Mobile sessions: bo is signed in; found by name, looked at, revoked, and the
    // app's refresh token stops.
    browser.goto(&server.url("/console/apps/default/mobile-sessions?q=b")).await.unwrap();
    click(&browser, "main table a").await;
    wait_for(&browser, "dl.facts").await;
    assert!(text(&browser).await.contains("operator"));
    look(&browser, "console-mobile-session").await;
    browser.goto(&server.url("/console/apps/default/mobile-sessions")).await.unwrap();
    wait_for(&browser, "input[name=ids]").await.click().await.unwrap();
    assert!(text(&browser).await.contains("bo"));
    look(&browser, "console-mobile-sessions").await;
    click(&browser, "form[action$='/mobile-sessions/delete'] input[name=confirm]").await;
    submit(&browser, "form[action$='/mobile-sessions/delete'] button[type=submit]").await;
    wait_for(&browser, "table").await;
    assert!(browser.find_all(Locator::Css("input[name=ids]")).await.unwrap().is_empty());
    assert_eq!(server.refresh(&phone_client, &bo_refresh, None).await.status(), 400);

    // The audit log shows what the console did.
    browser.goto(&server.url(&format!("/console/apps/{shop_id}/audit"))).await.unwrap();
    wait_for(&browser, "table").await;
    let audit = text(&browser).await;
    for action in [
        "console: create API token",
        "console: reveal API token",
        "console: delete 2 API tokens",
        "console: disable mobile token",
        "console: rotate the master token",
        "POST /apps/{app}/api-tokens",
    ] {
        assert!(audit.contains(action), "{action} missing from {audit}");
    }
    assert!(audit.contains("console: root"));
    look(&browser, "console-audit").await;
    browser.goto(&server.url(&format!("/console/apps/{shop_id}/audit?from=2999-01-01"))).await.unwrap();
    assert!(wait_for(&browser, "main table").await.text().await.unwrap().contains("0 changes"));

    // Console pages are never cached and never framed.
    let page = server
        .http
        .get(server.url(&format!("/console/apps/{shop_id}/audit")))
        .header("cookie", format!("tessera_console={}", cookie.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");

    // Signing out ends the session.
    click(&browser, "form.signout button").await;
    wait_for(&browser, "main.card h1").await;
    assert!(text(&browser).await.contains("Signed out"));
    look(&browser, "console-signed-out").await;
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let old = no_redirects
        .get(server.url("/console"))
        .header("cookie", format!("tessera_console={}", cookie.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 303);
    assert_eq!(old.headers()["location"], "/console/signin");
    browser.close().await.unwrap();

    // A person without the admin scope gets no console.
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    sign_in(&browser, &server, Some(&shop_id), "ada").await;
    wait_for(&browser, "main.card h1").await;
    let page = text(&browser).await;
    assert!(page.contains("No console for this account"), "{page}");
    look(&browser, "console-refused").await;
    browser.close().await.unwrap();

    // An application's administrator manages that application only.
    let out = server.env.cli(
        &["admin", "create", "--username", "shopkeeper", "--app", &shop_id, "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    sign_in(&browser, &server, Some(&shop_id), "shopkeeper").await;
    wait_for(&browser, "form[action$='/rotate']").await;
    assert!(browser.current_url().await.unwrap().path().ends_with(&shop_id));
    browser.goto(&server.url("/console/apps/default/api-tokens")).await.unwrap();
    wait_for(&browser, "main.card h1").await;
    assert!(text(&browser).await.contains("Not allowed"));

    // A session idle longer than web.console_idle_timeout is over.
    let idle = server.state.config.web.console_idle_timeout as i64;
    server.state.clock.advance(idle + 1);
    browser.goto(&server.url(&format!("/console/apps/{shop_id}"))).await.unwrap();
    wait_for(&browser, "input[name=username], button[name=decision]").await;
    assert!(browser.current_url().await.unwrap().path().starts_with("/authorize"));
    browser.close().await.unwrap();
    server.stop().await;
}

/// `POST /v1/endpoint-check`; answers `allowed` or the reason.
async fn endpoint_check(server: &TestServer, endpoint: &str, method: &str, token: &str) -> String {
    let body = json!({ "endpoint": endpoint, "method": method, "token": token });
    let answer: Value = server
        .http
        .post(server.url("/v1/endpoint-check"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if answer["allowed"] == true {
        "allowed".to_owned()
    } else {
        answer["reason"].as_str().unwrap().to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_and_their_tokens_are_managed_in_the_console() {
    let Some(driver) = Driver::start() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let out = server.env.cli(&["admin", "create", "--username", "root", "--password-stdin"], Some(PASSWORD));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    sign_in(&browser, &server, Some("default"), "root").await;
    wait_for(&browser, "body.console").await;

    // An endpoint that allows deleting: three primaries, shown once.
    browser.goto(&server.url("/console/apps/default/endpoints")).await.unwrap();
    wait_for(&browser, "form[action$='/endpoints'] input[name=name]")
        .await
        .send_keys("orders")
        .await
        .unwrap();
    browser.find(Locator::Css("input[name=path]")).await.unwrap().send_keys("/orders").await.unwrap();
    click(&browser, "input[name=allow_delete]").await;
    look(&browser, "console-endpoints").await;
    click(&browser, "form[action$='/endpoints'] button[type=submit]").await;
    let mut primaries = Vec::new();
    for i in 0..3 {
        primaries
            .push(wait_for(&browser, &format!("#secret-{i}")).await.prop("value").await.unwrap().unwrap());
    }
    assert!(text(&browser).await.contains("DELETE token"));
    look(&browser, "console-endpoint-created").await;
    let (endpoints, _) = server.state.store.list_endpoints("default", 10, 0).await.unwrap();
    let endpoint = endpoints[0].id.clone();
    assert_eq!(endpoint_check(&server, &endpoint, "POST", &primaries[0]).await, "allowed");

    // A secondary token for the ERP, made on the endpoint tokens page.
    browser.goto(&server.url("/console/apps/default/endpoint-tokens")).await.unwrap();
    wait_for(&browser, "form[action$='/endpoint-tokens'] input[name=name]")
        .await
        .send_keys("ERP")
        .await
        .unwrap();
    click(&browser, "form[action$='/endpoint-tokens'] button[type=submit]").await;
    let erp = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    assert_eq!(erp.len(), 64);
    assert_eq!(endpoint_check(&server, &endpoint, "POST", &erp).await, "not_assigned");

    // The endpoint's token tab: map it for POST, switch the mapping off and on.
    browser.goto(&server.url(&format!("/console/apps/default/endpoints/{endpoint}"))).await.unwrap();
    click(&browser, "form[action*='/assignments/'] input[value=POST]").await;
    submit(&browser, "form[action*='/assignments/'] button").await;
    wait_for(&browser, "button[role=switch][aria-checked=true]").await;
    assert_eq!(endpoint_check(&server, &endpoint, "POST", &erp).await, "allowed");
    assert_eq!(endpoint_check(&server, &endpoint, "GET", &erp).await, "method_not_assigned");
    look(&browser, "console-endpoint").await;
    submit(&browser, "button[role=switch]").await;
    wait_for(&browser, "button[role=switch][aria-checked=false]").await;
    assert_eq!(endpoint_check(&server, &endpoint, "POST", &erp).await, "assignment_disabled");
    submit(&browser, "button[role=switch]").await;
    wait_for(&browser, "button[role=switch][aria-checked=true]").await;
    assert_eq!(endpoint_check(&server, &endpoint, "POST", &erp).await, "allowed");
    submit(&browser, "a[href$='?assigned=true']").await;
    wait_for(&browser, "a[href$='/calls']").await;
    assert!(text(&browser).await.contains("Show unassigned"));
    assert!(text(&browser).await.contains("ERP"));

    // Regenerating the GET primary stops the old value at once.
    browser.goto(&server.url(&format!("/console/apps/default/endpoints/{endpoint}"))).await.unwrap();
    click(&browser, "form[action$='/GET/regenerate'] input[name=confirm]").await;
    click(&browser, "form[action$='/GET/regenerate'] button").await;
    let fresh = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    assert_eq!(endpoint_check(&server, &endpoint, "GET", &primaries[1]).await, "unknown_token");
    assert_eq!(endpoint_check(&server, &endpoint, "GET", &fresh).await, "allowed");

    // The data viewer: filter by the ERP's token; a chart of calls per day.
    for _ in 0..3 {
        endpoint_check(&server, &endpoint, "POST", &erp).await;
    }
    browser.goto(&server.url(&format!("/console/apps/default/endpoints/{endpoint}/calls"))).await.unwrap();
    wait_for(&browser, "figure.chart svg").await;
    let token_select = wait_for(&browser, "select[name=token]").await;
    token_select.select_by_label("ERP").await.unwrap();
    submit(&browser, "form.filters button").await;
    wait_for(&browser, "select[name=token] option[selected]").await;
    let rows = browser.find_all(Locator::Css("main table tbody tr")).await.unwrap();
    let mut erp_calls = 0;
    for row in rows {
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        assert_eq!(cells[4].text().await.unwrap(), "ERP");
        erp_calls += cells[1].text().await.unwrap().parse::<i64>().unwrap();
    }
    // The 3 calls above, and the 5 checks made while mapping.
    assert_eq!(erp_calls, 8);
    look(&browser, "console-calls").await;

    // Switching the token off moves it to the inactive list.
    browser.goto(&server.url("/console/apps/default/endpoint-tokens")).await.unwrap();
    submit(&browser, "button[role=switch]").await;
    wait_for(&browser, "button[role=switch][aria-checked=false]").await;
    assert!(browser.current_url().await.unwrap().as_str().ends_with("?inactive=true"));
    look(&browser, "console-endpoint-tokens").await;
    assert_eq!(endpoint_check(&server, &endpoint, "POST", &erp).await, "token_disabled");

    // Found by name; deleted with its mappings; then the endpoint itself.
    browser.goto(&server.url("/console/apps/default/endpoint-tokens?inactive=true&q=ER")).await.unwrap();
    click(&browser, "form[action$='/delete'] input[name=confirm]").await;
    submit(&browser, "form[action$='/delete'] button").await;
    assert_eq!(endpoint_check(&server, &endpoint, "POST", &erp).await, "unknown_token");
    browser.goto(&server.url("/console/apps/default/endpoints?q=ord")).await.unwrap();
    click(&browser, "main table a").await;
    click(&browser, "form[action$='/delete'] input[name=confirm]").await;
    submit(&browser, "form[action$='/delete'] button").await;
    assert_eq!(endpoint_check(&server, &endpoint, "GET", &fresh).await, "unknown_endpoint");
    browser.goto(&server.url("/console/apps/default/endpoints?q=ord")).await.unwrap();
    assert!(wait_for(&browser, "main table").await.text().await.unwrap().contains("0 endpoints"));
    browser.close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_and_clients_are_managed_in_the_console() {
    let Some(driver) = Driver::start() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let store = server.state.store.clone();
    let out = server.env.cli(&["admin", "create", "--username", "root", "--password-stdin"], Some(PASSWORD));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    sign_in(&browser, &server, Some("default"), "root").await;
    wait_for(&browser, "body.console").await;

    // A department and a user type of the application's own.
    browser.goto(&server.url("/console/apps/default/user-types")).await.unwrap();
    wait_for(&browser, "#department").await.send_keys("north").await.unwrap();
    submit(&browser, "form[action$='/departments'] button").await;
    wait_for(&browser, "#name").await.send_keys("auditor").await.unwrap();
    browser.find(Locator::Css("#scope")).await.unwrap().send_keys("places:read").await.unwrap();
    submit(&browser, "form[action$='/user-types'] button").await;
    wait_for(&browser, "form[action$='/user-types/auditor/delete']").await;
    assert!(text(&browser).await.contains("places:read"));
    look(&browser, "console-user-types").await;
    assert!(store.department_exists("default", "north").await.unwrap());

    // A user in them; switched off, then deleted.
    browser.goto(&server.url("/console/apps/default/users")).await.unwrap();
    wait_for(&browser, "#username").await.send_keys("cy").await.unwrap();
    browser.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    wait_for(&browser, "#department").await.select_by_label("north").await.unwrap();
    wait_for(&browser, "#user_type").await.select_by_label("auditor").await.unwrap();
    submit(&browser, "form[action$='/users'] button[type=submit]").await;
    let cy = store.find_user("default", "cy").await.unwrap().expect("cy made");
    assert_eq!((cy.department.as_deref(), cy.user_type.as_deref()), (Some("north"), Some("auditor")));
    browser.goto(&server.url("/console/apps/default/users?q=cy")).await.unwrap();
    let listed = wait_for(&browser, "main table").await.text().await.unwrap();
    assert!(listed.contains("cy") && !listed.contains("root"), "the search shows cy only: {listed}");
    look(&browser, "console-users").await;
    submit(&browser, &format!("form[action$='/users/{}/toggle'] button", cy.id)).await;
    assert!(!store.get_user("default", &cy.id).await.unwrap().unwrap().enabled);
    browser.goto(&server.url("/console/apps/default/users?q=cy")).await.unwrap();
    click(&browser, &format!("form[action$='/users/{}/delete'] input[name=confirm]", cy.id)).await;
    submit(&browser, &format!("form[action$='/users/{}/delete'] button", cy.id)).await;
    assert!(store.get_user("default", &cy.id).await.unwrap().is_none());

    // A confidential client: registered (its secret shown once), scopes changed,
    // secret rotated; the new secret works at the token endpoint, the old does not.
    browser.goto(&server.url("/console/apps/default/clients")).await.unwrap();
    wait_for(&browser, "#name").await.send_keys("warehouse robot").await.unwrap();
    look(&browser, "console-clients").await;
    submit(&browser, "form[action$='/clients'] button").await;
    let first = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    browser.goto(&server.url("/console/apps/default/clients?q=robot")).await.unwrap();
    let found = wait_for(&browser, "main table").await.text().await.unwrap();
    assert!(found.contains("warehouse robot") && !found.contains("tessera console"), "{found}");
    click(&browser, "main a[href*='/clients/']").await;
    let scopes = wait_for(&browser, "#scopes").await;
    let client_id = browser.current_url().await.unwrap().path().rsplit('/').next().unwrap().to_owned();
    scopes.clear().await.unwrap();
    scopes.send_keys("master").await.unwrap();
    submit(&browser, "form.grid button").await;
    assert_eq!(store.get_app_client("default", &client_id).await.unwrap().unwrap().scope, "master");
    look(&browser, "console-client").await;
    click(&browser, "form[action$='/secret/rotate'] input[name=confirm]").await;
    submit(&browser, "form[action$='/secret/rotate'] button").await;
    let second = wait_for(&browser, "#secret-0").await.prop("value").await.unwrap().unwrap();
    assert_ne!(first, second);
    let token = |secret: String| {
        let req = server
            .http
            .post(server.url("/token"))
            .basic_auth(&client_id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "places:delete")]);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(token(first).await, 401);
    assert_eq!(token(second).await, 200);
    browser.goto(&server.url(&format!("/console/apps/default/clients/{client_id}"))).await.unwrap();
    click(&browser, "form[action$='/delete'] input[name=confirm]").await;
    submit(&browser, "form[action$='/delete'] button").await;
    assert!(store.get_app_client("default", &client_id).await.unwrap().is_none());
    browser.close().await.unwrap();
    server.stop().await;
}

//! Endpoints secured by tokens: primaries per method, secondary tokens mapped to
//! them, the endpoint check, the data viewer and the CLI, through the real
//! server on SQLite and Postgres.

mod common;

use common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(
    endpoints_are_made_with_primaries_that_regenerate_and_reveal,
    secondary_tokens_are_mapped_per_method_and_switched_off_per_mapping,
    the_endpoint_check_refuses_bad_input_clearly,
    the_data_viewer_shows_exactly_the_calls_made,
    the_cli_makes_endpoints_and_tokens_the_server_honours,
);

/// An application of its own and its master token.
struct App {
    id: String,
    master: String,
}

fn app(server: &TestServer, name: &str) -> App {
    let app = server.env.cli_json(&["app", "create", "--name", name, "--json"]);
    App {
        id: app["id"].as_str().unwrap().to_owned(),
        master: app["master_token"].as_str().unwrap().to_owned(),
    }
}

impl App {
    async fn call(
        &self,
        server: &TestServer,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let url = server.url(&format!("/admin/v1/apps/{}{path}", self.id));
        let mut req =
            server.http.request(method, url).header("authorization", format!("Token {}", self.master));
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// Calls the admin API and checks the status; answers the JSON (Null for none).
    async fn expect(
        &self,
        server: &TestServer,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let res = self.call(server, method.clone(), path, body).await;
        let got = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(got.as_u16(), status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn endpoint(&self, server: &TestServer, name: &str, allow_delete: bool) -> Value {
        let body =
            json!({ "name": name, "path": format!("/integrations/{name}"), "allow_delete": allow_delete });
        self.expect(server, Method::POST, "/endpoints", Some(body), 201).await
    }

    async fn secondary(&self, server: &TestServer, name: &str) -> (String, String) {
        let body = json!({ "name": name, "description": format!("{name}'s integration") });
        let made = self.expect(server, Method::POST, "/endpoint-tokens", Some(body), 201).await;
        (made["id"].as_str().unwrap().to_owned(), made["token"].as_str().unwrap().to_owned())
    }
}

/// `POST /v1/endpoint-check`; answers the JSON of a 200.
async fn check(server: &TestServer, endpoint: &str, method: &str, token: &str) -> Value {
    let res = server
        .http
        .post(server.url("/v1/endpoint-check"))
        .json(&json!({ "endpoint": endpoint, "method": method, "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.unwrap()
}

fn allowed(answer: &Value) -> bool {
    answer["allowed"] == true
}

fn reason(answer: &Value) -> &str {
    assert_eq!(answer["allowed"], false, "{answer}");
    answer["reason"].as_str().unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn is_endpoint_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_alphanumeric())
}

async fn endpoints_are_made_with_primaries_that_regenerate_and_reveal(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = app(&server, "x");

    let made = x.endpoint(&server, "orders", false).await;
    let e = id(&made);
    assert_eq!(made["path"], "/integrations/orders");
    assert_eq!(made["allow_delete"], false);
    let tokens = made["primary_tokens"].as_object().unwrap();
    assert_eq!(tokens.keys().collect::<Vec<_>>(), ["GET", "POST"], "{made}");
    let get = made["primary_tokens"]["GET"].as_str().unwrap().to_owned();
    let post = made["primary_tokens"]["POST"].as_str().unwrap().to_owned();
    assert!(is_endpoint_token(&get) && is_endpoint_token(&post) && get != post);

    // Each primary opens its own method only.
    let answer = check(&server, &e, "GET", &get).await;
    assert!(allowed(&answer), "{answer}");
    assert_eq!(answer["token_kind"], "primary");
    assert_eq!(answer["token_name"], "GET orders");
    assert_eq!(reason(&check(&server, &e, "POST", &get).await), "token_for_another_method");
    assert!(allowed(&check(&server, &e, "POST", &post).await));
    assert_eq!(reason(&check(&server, &e, "DELETE", &post).await), "token_for_another_method");

    // Read answers hold no value; reveal does, and is never cached.
    let read = x.expect(&server, Method::GET, &format!("/endpoints/{e}"), None, 200).await;
    assert!(!read.to_string().contains(&get), "{read}");
    let methods: Vec<_> = read["primaries"].as_array().unwrap().iter().map(|p| p["method"].clone()).collect();
    assert_eq!(methods, [json!("POST"), json!("GET")]);
    let res = x.call(&server, Method::GET, &format!("/endpoints/{e}/primary-tokens/GET/reveal"), None).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.json::<Value>().await.unwrap()["token"], get.as_str());
    let list = x.expect(&server, Method::GET, "/endpoints", None, 200).await;
    assert_eq!(list["total"], 1);
    assert!(!list.to_string().contains(&post));

    // Regenerating a primary stops the old value at once; the other method's stays.
    let fresh = x
        .expect(&server, Method::POST, &format!("/endpoints/{e}/primary-tokens/GET/regenerate"), None, 200)
        .await;
    let fresh = fresh["token"].as_str().unwrap().to_owned();
    assert!(is_endpoint_token(&fresh) && fresh != get);
    assert_eq!(reason(&check(&server, &e, "GET", &get).await), "unknown_token");
    assert!(allowed(&check(&server, &e, "GET", &fresh).await));
    assert!(allowed(&check(&server, &e, "POST", &post).await));
    let revealed =
        x.expect(&server, Method::GET, &format!("/endpoints/{e}/primary-tokens/get/reveal"), None, 200).await;
    assert_eq!(revealed["token"], fresh.as_str());

    // DELETE has no primary until deleting is allowed; allowing makes one, shown once.
    x.expect(&server, Method::POST, &format!("/endpoints/{e}/primary-tokens/DELETE/regenerate"), None, 404)
        .await;
    x.expect(&server, Method::GET, &format!("/endpoints/{e}/primary-tokens/PUT/reveal"), None, 400).await;
    let changed = x
        .expect(
            &server,
            Method::PATCH,
            &format!("/endpoints/{e}"),
            Some(json!({ "allow_delete": true })),
            200,
        )
        .await;
    let delete = changed["primary_tokens"]["DELETE"].as_str().unwrap().to_owned();
    assert!(changed["primary_tokens"].get("GET").is_none(), "{changed}");
    assert!(allowed(&check(&server, &e, "DELETE", &delete).await));
    // Allowing again makes no second DELETE token.
    let again = x
        .expect(
            &server,
            Method::PATCH,
            &format!("/endpoints/{e}"),
            Some(json!({ "allow_delete": true })),
            200,
        )
        .await;
    assert!(again["primary_tokens"].get("DELETE").is_none(), "{again}");
    assert!(allowed(&check(&server, &e, "DELETE", &delete).await));
    let off = json!({ "allow_delete": false, "name": "orders v2" });
    let renamed = x.expect(&server, Method::PATCH, &format!("/endpoints/{e}"), Some(off), 200).await;
    assert_eq!(renamed["name"], "orders v2");
    assert_eq!(renamed["primaries"].as_array().unwrap().len(), 2);
    assert_eq!(reason(&check(&server, &e, "DELETE", &delete).await), "unknown_token");

    // Paths are unique per application and well formed; nothing is half made.
    let twice = json!({ "name": "again", "path": "/integrations/orders" });
    x.expect(&server, Method::POST, "/endpoints", Some(twice), 409).await;
    for path in ["no-slash", "/with space", ""] {
        x.expect(&server, Method::POST, "/endpoints", Some(json!({ "name": "bad", "path": path })), 400)
            .await;
    }
    x.expect(&server, Method::PATCH, &format!("/endpoints/{e}"), Some(json!({})), 400).await;
    let other = x.endpoint(&server, "invoices", false).await;
    let clash = json!({ "path": "/integrations/orders" });
    x.expect(&server, Method::PATCH, &format!("/endpoints/{}", id(&other)), Some(clash), 409).await;
    let list = x.expect(&server, Method::GET, "/endpoints", None, 200).await;
    assert_eq!(list["total"], 2);
    // Each listed endpoint with its own primaries, POST then GET.
    for item in list["items"].as_array().unwrap() {
        let methods: Vec<_> =
            item["primaries"].as_array().unwrap().iter().map(|p| p["method"].clone()).collect();
        assert_eq!(methods, [json!("POST"), json!("GET")], "{item}");
    }

    // Endpoint tokens open endpoints only: not the admin API, not introspection.
    let res = server
        .http
        .get(server.url(&format!("/admin/v1/apps/{}/endpoints", x.id)))
        .header("authorization", format!("Token {post}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Deleting the endpoint stops its tokens.
    x.expect(&server, Method::DELETE, &format!("/endpoints/{e}"), None, 204).await;
    assert_eq!(reason(&check(&server, &e, "POST", &post).await), "unknown_endpoint");
    x.expect(&server, Method::GET, &format!("/endpoints/{e}"), None, 404).await;
    x.expect(&server, Method::DELETE, &format!("/endpoints/{e}"), None, 404).await;
    server.stop().await;
}

async fn secondary_tokens_are_mapped_per_method_and_switched_off_per_mapping(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = app(&server, "x");
    let a = id(&x.endpoint(&server, "orders", false).await);
    let b = id(&x.endpoint(&server, "stock", true).await);
    let (erp, erp_token) = x.secondary(&server, "ERP").await;
    assert!(is_endpoint_token(&erp_token));
    let quiet = x
        .expect(
            &server,
            Method::POST,
            "/endpoint-tokens",
            Some(json!({ "name": "old shop", "enabled": false })),
            201,
        )
        .await;
    assert_eq!(quiet["enabled"], false);
    let quiet_id = id(&quiet);

    // Lists: the enabled by default, the disabled on request, or both.
    // (Sorted: tokens made in the same second list in id order.)
    let names = |v: &Value| -> Vec<String> {
        let mut names: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
        names.sort();
        names
    };
    let list = x.expect(&server, Method::GET, "/endpoint-tokens", None, 200).await;
    assert_eq!(names(&list), ["ERP"]);
    assert!(!list.to_string().contains(&erp_token));
    let list = x.expect(&server, Method::GET, "/endpoint-tokens?enabled=false", None, 200).await;
    assert_eq!(names(&list), ["old shop"]);
    let list = x.expect(&server, Method::GET, "/endpoint-tokens?enabled=all", None, 200).await;
    assert_eq!(names(&list), ["ERP", "old shop"]);
    x.expect(&server, Method::GET, "/endpoint-tokens?enabled=maybe", None, 400).await;
    let revealed = x.expect(&server, Method::GET, &format!("/endpoint-tokens/{erp}/reveal"), None, 200).await;
    assert_eq!(revealed["token"], erp_token.as_str());

    // Unmapped, the token opens nothing.
    assert_eq!(reason(&check(&server, &a, "POST", &erp_token).await), "not_assigned");

    // Mapped: POST at A; GET and POST at B.
    let mapped = x
        .expect(
            &server,
            Method::PUT,
            &format!("/endpoints/{a}/assignments/{erp}"),
            Some(json!({ "methods": ["POST"] })),
            200,
        )
        .await;
    assert_eq!(mapped["assigned"], true);
    assert_eq!(mapped["enabled"], true);
    assert_eq!(mapped["methods"], json!(["POST"]));
    let both = json!({ "methods": ["GET", "POST", "GET"] });
    let mapped =
        x.expect(&server, Method::PUT, &format!("/endpoints/{b}/assignments/{erp}"), Some(both), 200).await;
    assert_eq!(mapped["methods"], json!(["POST", "GET"]));
    let answer = check(&server, &a, "POST", &erp_token).await;
    assert!(allowed(&answer), "{answer}");
    assert_eq!(answer["token_kind"], "secondary");
    assert_eq!(answer["token_name"], "ERP");
    assert_eq!(answer["token_id"], erp.as_str());
    assert_eq!(reason(&check(&server, &a, "GET", &erp_token).await), "method_not_assigned");
    assert_eq!(reason(&check(&server, &a, "DELETE", &erp_token).await), "method_not_available");
    assert!(allowed(&check(&server, &b, "GET", &erp_token).await));
    assert_eq!(reason(&check(&server, &b, "DELETE", &erp_token).await), "method_not_assigned");

    // DELETE can be mapped only where deleting is allowed; methods are required.
    let delete = json!({ "methods": ["DELETE"] });
    x.expect(&server, Method::PUT, &format!("/endpoints/{a}/assignments/{erp}"), Some(delete), 422).await;
    let empty = json!({ "methods": [] });
    x.expect(&server, Method::PUT, &format!("/endpoints/{a}/assignments/{erp}"), Some(empty), 400).await;
    let bad = json!({ "methods": ["PATCH"] });
    x.expect(&server, Method::PUT, &format!("/endpoints/{a}/assignments/{erp}"), Some(bad), 400).await;
    let primary_id = x.expect(&server, Method::GET, &format!("/endpoints/{a}"), None, 200).await["primaries"]
        [0]["token_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = json!({ "methods": ["POST"] });
    x.expect(&server, Method::PUT, &format!("/endpoints/{a}/assignments/{primary_id}"), Some(post), 404)
        .await;

    // "Hide unassigned": the mapped tokens only.
    let all = x.expect(&server, Method::GET, &format!("/endpoints/{a}/assignments"), None, 200).await;
    assert_eq!(all["total"], 2);
    let quiet_row =
        all["items"].as_array().unwrap().iter().find(|i| i["token_id"] == quiet_id.as_str()).unwrap();
    assert_eq!(quiet_row["assigned"], false);
    assert_eq!(quiet_row["token_enabled"], false);
    let assigned =
        x.expect(&server, Method::GET, &format!("/endpoints/{a}/assignments?assigned=true"), None, 200).await;
    assert_eq!(assigned["total"], 1);
    assert_eq!(assigned["items"][0]["token_id"], erp.as_str());

    // Switching the mapping at A off leaves the same token working at B.
    let off = json!({ "enabled": false });
    let switched =
        x.expect(&server, Method::PATCH, &format!("/endpoints/{a}/assignments/{erp}"), Some(off), 200).await;
    assert_eq!(switched["enabled"], false);
    assert_eq!(reason(&check(&server, &a, "POST", &erp_token).await), "assignment_disabled");
    assert!(allowed(&check(&server, &b, "POST", &erp_token).await));
    let on = json!({ "enabled": true });
    x.expect(&server, Method::PATCH, &format!("/endpoints/{a}/assignments/{erp}"), Some(on), 200).await;
    assert!(allowed(&check(&server, &a, "POST", &erp_token).await));

    // Disabling the token stops it everywhere; enabling brings its mappings back.
    let off = json!({ "enabled": false, "description": "paused" });
    let paused = x.expect(&server, Method::PATCH, &format!("/endpoint-tokens/{erp}"), Some(off), 200).await;
    assert_eq!(paused["description"], "paused");
    assert_eq!(reason(&check(&server, &b, "GET", &erp_token).await), "token_disabled");
    x.expect(
        &server,
        Method::PATCH,
        &format!("/endpoint-tokens/{erp}"),
        Some(json!({ "enabled": true })),
        200,
    )
    .await;
    assert!(allowed(&check(&server, &b, "GET", &erp_token).await));

    // Regenerating keeps the mappings, and the old value stops at once.
    let fresh =
        x.expect(&server, Method::POST, &format!("/endpoint-tokens/{erp}/regenerate"), None, 200).await;
    let fresh = fresh["token"].as_str().unwrap().to_owned();
    assert_eq!(reason(&check(&server, &b, "GET", &erp_token).await), "unknown_token");
    assert!(allowed(&check(&server, &b, "GET", &fresh).await));
    assert!(allowed(&check(&server, &a, "POST", &fresh).await));

    // Unmapping, then deleting: the token stops, its mappings go with it.
    x.expect(&server, Method::DELETE, &format!("/endpoints/{a}/assignments/{erp}"), None, 204).await;
    x.expect(&server, Method::DELETE, &format!("/endpoints/{a}/assignments/{erp}"), None, 404).await;
    assert_eq!(reason(&check(&server, &a, "POST", &fresh).await), "not_assigned");
    assert!(allowed(&check(&server, &b, "POST", &fresh).await));
    x.expect(&server, Method::DELETE, &format!("/endpoint-tokens/{erp}"), None, 204).await;
    assert_eq!(reason(&check(&server, &b, "POST", &fresh).await), "unknown_token");
    let assigned =
        x.expect(&server, Method::GET, &format!("/endpoints/{b}/assignments?assigned=true"), None, 200).await;
    assert_eq!(assigned["total"], 0);
    x.expect(&server, Method::GET, &format!("/endpoint-tokens/{erp}"), None, 404).await;
    server.stop().await;
}

async fn the_endpoint_check_refuses_bad_input_clearly(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = app(&server, "x");
    let y = app(&server, "y");
    let made = x.endpoint(&server, "orders", false).await;
    let e = id(&made);
    let post = made["primary_tokens"]["POST"].as_str().unwrap().to_owned();
    let other = y.endpoint(&server, "orders", false).await;
    let y_post = other["primary_tokens"]["POST"].as_str().unwrap().to_owned();
    let (y_token_id, y_token) = y.secondary(&server, "y's ERP").await;
    let map = json!({ "methods": ["POST"] });
    y.expect(
        &server,
        Method::PUT,
        &format!("/endpoints/{}/assignments/{y_token_id}", id(&other)),
        Some(map),
        200,
    )
    .await;

    // Another application's tokens, primary or secondary, are unknown here.
    assert_eq!(reason(&check(&server, &e, "POST", &y_post).await), "unknown_token");
    assert_eq!(reason(&check(&server, &e, "POST", &y_token).await), "unknown_token");
    assert!(allowed(&check(&server, &id(&other), "POST", &y_token).await));
    // Malformed tokens, and an unknown endpoint.
    for bad in ["", "short", &"a".repeat(63), &"a".repeat(65), &format!("{}!", &post[..63]), &"é".repeat(32)]
    {
        assert_eq!(reason(&check(&server, &e, "POST", bad).await), "malformed_token", "{bad}");
    }
    assert_eq!(reason(&check(&server, "no-such-endpoint", "POST", &post).await), "unknown_endpoint");
    assert_eq!(reason(&check(&server, "", "POST", &post).await), "unknown_endpoint");
    assert_eq!(reason(&check(&server, "a\u{0}b", "POST", &post).await), "unknown_endpoint");
    assert!(allowed(&check(&server, &e, "post", &post).await));

    // Bad requests are problems, never a 500.
    let send = |body: String, content_type: &'static str| {
        let req = server
            .http
            .post(server.url("/v1/endpoint-check"))
            .header("content-type", content_type)
            .body(body);
        async move { req.send().await.unwrap() }
    };
    let cases = [
        (json!({ "endpoint": e, "method": "PUT", "token": post }).to_string(), "application/json", 400),
        (json!({ "endpoint": e, "token": post }).to_string(), "application/json", 400),
        (json!({ "endpoint": 7, "method": "GET", "token": post }).to_string(), "application/json", 400),
        ("{\"endpoint\":".to_owned(), "application/json", 400),
        (String::new(), "application/json", 400),
        (
            json!({ "endpoint": e, "method": "POST", "token": "x".repeat(5000) }).to_string(),
            "application/json",
            413,
        ),
        (json!({ "endpoint": e, "method": "POST", "token": post }).to_string(), "text/plain", 415),
    ];
    for (body, content_type, status) in cases {
        let res = send(body.clone(), content_type).await;
        assert_eq!(res.status().as_u16(), status, "{body}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{body}");
    }
    let res = server.http.get(server.url("/v1/endpoint-check")).send().await.unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    server.stop().await;
}

async fn the_data_viewer_shows_exactly_the_calls_made(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = app(&server, "x");
    let made = x.endpoint(&server, "orders", false).await;
    let e = id(&made);
    let other = id(&x.endpoint(&server, "stock", false).await);
    let get = made["primary_tokens"]["GET"].as_str().unwrap().to_owned();
    let (erp, erp_token) = x.secondary(&server, "ERP").await;
    let (shop, shop_token) = x.secondary(&server, "Shop").await;
    for t in [&erp, &shop] {
        let map = json!({ "methods": ["POST"] });
        x.expect(&server, Method::PUT, &format!("/endpoints/{e}/assignments/{t}"), Some(map), 200).await;
    }

    // A minute apart: 3 ERP calls; 2 Shop calls and one refused Shop GET; 1
    // primary; 1 malformed; and calls elsewhere that are not this endpoint's.
    let clock = &server.state.clock;
    let t0 = clock.now();
    for _ in 0..3 {
        assert!(allowed(&check(&server, &e, "POST", &erp_token).await));
    }
    clock.advance(60);
    for _ in 0..2 {
        assert!(allowed(&check(&server, &e, "POST", &shop_token).await));
    }
    assert_eq!(reason(&check(&server, &e, "GET", &shop_token).await), "method_not_assigned");
    clock.advance(60);
    assert!(allowed(&check(&server, &e, "GET", &get).await));
    clock.advance(60);
    assert_eq!(reason(&check(&server, &e, "POST", "nope").await), "malformed_token");
    check(&server, &other, "POST", &erp_token).await;
    check(&server, "unknown", "POST", &erp_token).await;

    // Newest first; identical calls of one second are one item with their count.
    let calls = x.expect(&server, Method::GET, &format!("/endpoints/{e}/calls"), None, 200).await;
    let items = calls["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|c| c["calls"].as_i64().unwrap()).sum::<i64>(), 8, "{calls}");
    let ats: Vec<&str> = items.iter().map(|c| c["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]), "{ats:?}");
    assert_eq!(items[0]["reason"], "malformed_token");
    assert_eq!(items[0]["token_id"], Value::Null);
    assert_eq!(items[1]["token_kind"], "primary");
    assert_eq!(items[1]["method"], "GET");
    let last = items.last().unwrap();
    assert_eq!(
        (&last["token_name"], &last["token_kind"], &last["allowed"]),
        (&json!("ERP"), &json!("secondary"), &json!(true))
    );
    let refused = items.iter().find(|c| c["allowed"] == false && c["token_name"] == "Shop").unwrap();
    assert_eq!(
        (&refused["reason"], &refused["method"], &refused["calls"]),
        (&json!("method_not_assigned"), &json!("GET"), &json!(1))
    );

    let by_erp =
        x.expect(&server, Method::GET, &format!("/endpoints/{e}/calls?token={erp}"), None, 200).await;
    let erp_items = by_erp["items"].as_array().unwrap();
    assert!(erp_items.iter().all(|c| c["token_name"] == "ERP" && c["allowed"] == true));
    assert_eq!(erp_items.iter().map(|c| c["calls"].as_i64().unwrap()).sum::<i64>(), 3);
    let by_shop = x
        .expect(&server, Method::GET, &format!("/endpoints/{e}/calls?token={shop}&limit=1"), None, 200)
        .await;
    assert_eq!(by_shop["items"].as_array().unwrap().len(), 1);
    assert!(by_shop["total"].as_i64().unwrap() >= 2);

    // Counted per token and per day.
    let summary = x.expect(&server, Method::GET, &format!("/endpoints/{e}/calls/summary"), None, 200).await;
    let day = |at: i64| chrono::DateTime::from_timestamp(at, 0).unwrap().format("%Y-%m-%d").to_string();
    let days = [day(t0), day(t0 + 180)];
    let mut counts = std::collections::BTreeMap::<String, (i64, i64, i64)>::new();
    for c in summary["items"].as_array().unwrap() {
        assert!(days.contains(&c["day"].as_str().unwrap().to_owned()), "{c}");
        let count = counts.entry(c["token_name"].as_str().unwrap_or("(none)").to_owned()).or_default();
        count.0 += c["calls"].as_i64().unwrap();
        count.1 += c["allowed"].as_i64().unwrap();
        count.2 += c["denied"].as_i64().unwrap();
    }
    let expected =
        [("(none)", (1, 0, 1)), ("ERP", (3, 3, 0)), ("GET orders", (1, 1, 0)), ("Shop", (3, 2, 1))];
    assert_eq!(counts, expected.map(|(n, c)| (n.to_owned(), c)).into_iter().collect());

    // Time filters: from the Shop calls on; nothing after them; nothing before.
    let rfc = |at: i64| {
        chrono::DateTime::from_timestamp(at, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let from = x
        .expect(&server, Method::GET, &format!("/endpoints/{e}/calls?from={}", rfc(t0 + 60)), None, 200)
        .await;
    assert!(from["items"].as_array().unwrap().iter().all(|c| c["token_name"] != "ERP"), "{from}");
    let window = format!("/endpoints/{e}/calls/summary?from={}&to={}", rfc(t0 + 60), rfc(t0 + 120));
    let shop_only = x.expect(&server, Method::GET, &window, None, 200).await;
    assert!(shop_only["items"].as_array().unwrap().iter().all(|c| c["token_name"] == "Shop"), "{shop_only}");
    let later = x
        .expect(&server, Method::GET, &format!("/endpoints/{e}/calls?from={}", rfc(t0 + 3600)), None, 200)
        .await;
    assert_eq!(later["total"], 0);
    let before =
        x.expect(&server, Method::GET, &format!("/endpoints/{e}/calls?to={}", rfc(t0)), None, 200).await;
    assert_eq!(before["total"], 0);
    x.expect(&server, Method::GET, &format!("/endpoints/{e}/calls?from=yesterday"), None, 400).await;
    x.expect(&server, Method::GET, &format!("/endpoints/{e}/calls?limit=0"), None, 400).await;
    x.expect(&server, Method::GET, "/endpoints/unknown/calls", None, 404).await;

    // Kept for the retention, then swept.
    let store = &server.state.store;
    let retention = server.state.config.endpoints.call_retention as i64;
    assert_eq!(retention, 30 * 86_400);
    let now = server.state.clock.now();
    assert_eq!(tessera::domain::endpoints::sweep_calls(store, now - retention).await.unwrap(), 0);
    let mut rows = 0;
    for endpoint in [&e, &other] {
        rows += x.expect(&server, Method::GET, &format!("/endpoints/{endpoint}/calls"), None, 200).await
            ["total"]
            .as_i64()
            .unwrap();
    }
    server.state.clock.advance(retention + 1);
    let swept =
        tessera::domain::endpoints::sweep_calls(store, server.state.clock.now() - retention).await.unwrap();
    assert_eq!(swept, rows as u64);
    let calls = x.expect(&server, Method::GET, &format!("/endpoints/{e}/calls"), None, 200).await;
    assert_eq!(calls["total"], 0);
    server.stop().await;
}

async fn the_cli_makes_endpoints_and_tokens_the_server_honours(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let x = app(&server, "x");
    let made = server.env.cli_json(&[
        "endpoint",
        "create",
        "--name",
        "orders",
        "--path",
        "/orders",
        "--allow-delete",
        "--app",
        &x.id,
        "--json",
    ]);
    let e = id(&made);
    assert_eq!(made["primary_tokens"].as_object().unwrap().len(), 3, "{made}");
    let delete = made["primary_tokens"]["DELETE"].as_str().unwrap().to_owned();
    let token = server.env.cli_json(&["endpoint-token", "create", "--name", "ERP", "--app", &x.id, "--json"]);
    let off = server.env.cli_json(&[
        "endpoint-token",
        "create",
        "--name",
        "old",
        "--disabled",
        "--app",
        &x.id,
        "--json",
    ]);
    assert_eq!(off["enabled"], false);

    let list = server.env.cli_json(&["endpoint", "list", "--app", &x.id, "--json"]);
    assert_eq!(list[0]["id"], e.as_str());
    assert_eq!(list[0]["methods"], json!(["POST", "GET", "DELETE"]));
    let names = |v: Value| -> Vec<String> {
        let mut names: Vec<String> =
            v.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(names(server.env.cli_json(&["endpoint-token", "list", "--app", &x.id, "--json"])), ["ERP"]);
    let all = server.env.cli_json(&["endpoint-token", "list", "--enabled", "all", "--app", &x.id, "--json"]);
    assert_eq!(names(all), ["ERP", "old"]);
    let out =
        server.env.cli(&["endpoint", "create", "--name", "again", "--path", "/orders", "--app", &x.id], None);
    assert!(!out.status.success());

    // The running server learns of what another process made within one poll.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if allowed(&check(&server, &e, "DELETE", &delete).await) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the CLI's endpoint never reached the check");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let map = json!({ "methods": ["GET"] });
    x.expect(&server, Method::PUT, &format!("/endpoints/{e}/assignments/{}", id(&token)), Some(map), 200)
        .await;
    assert!(allowed(&check(&server, &e, "GET", token["token"].as_str().unwrap()).await));
    server.stop().await;
}

//! Forward auth behind a real gateway: Debian's nginx with `auth_request` to
//! tessera's `/v1/auth/check`, in front of a small upstream that echoes the
//! identity headers it was handed. Skipped where nginx is missing (`.ci/run`
//! installs it).

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(nginx_lets_valid_tokens_through_and_answers_401_for_the_rest);

const NGINX: &str = "/usr/sbin/nginx";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The configuration the README shows, with an upstream that echoes what it got.
fn config(dir: &Path, port: u16, upstream: u16, tessera: u16) -> String {
    format!(
        r#"
user root;
worker_processes 1;
pid {dir}/nginx.pid;
daemon off;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /_tessera_check {{
            internal;
            proxy_pass http://127.0.0.1:{tessera}/v1/auth/check;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }}
        location / {{
            auth_request /_tessera_check;
            auth_request_set $tessera_app $upstream_http_x_tessera_app;
            auth_request_set $tessera_kind $upstream_http_x_tessera_token_kind;
            auth_request_set $tessera_subject $upstream_http_x_tessera_subject;
            proxy_set_header X-Tessera-App $tessera_app;
            proxy_set_header X-Tessera-Token-Kind $tessera_kind;
            proxy_set_header X-Tessera-Subject $tessera_subject;
            proxy_pass http://127.0.0.1:{upstream};
        }}
    }}
    server {{
        listen 127.0.0.1:{upstream};
        location / {{
            return 200 "kind=$http_x_tessera_token_kind app=$http_x_tessera_app subject=$http_x_tessera_subject\n";
        }}
    }}
}}
"#,
        dir = dir.display()
    )
}

struct Nginx(Child);

impl Drop for Nginx {
    /// SIGTERM, so that the master takes its workers down with it (SIGKILL would
    /// leave them running).
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

async fn nginx_lets_valid_tokens_through_and_answers_401_for_the_rest(backend: Backend) {
    if !Path::new(NGINX).exists() {
        eprintln!("skipped: {NGINX} is missing (apt-get install nginx)");
        return;
    }
    let Some(server) = TestServer::start(backend).await else { return };
    let app = server.env.cli_json(&["app", "create", "--name", "gated", "--json"]);
    let (app_id, master) = (app["id"].as_str().unwrap(), app["master_token"].as_str().unwrap());
    let admin = |method: Method, path: &str, body: Value| {
        server
            .http
            .request(method, server.url(&format!("/admin/v1/apps/{app_id}{path}")))
            .header("authorization", format!("Token {master}"))
            .json(&body)
            .send()
    };
    assert_eq!(admin(Method::PATCH, "", json!({ "forward_auth": true })).await.unwrap().status(), 200);
    let mobile: Value = admin(Method::POST, "/mobile-tokens", json!({ "name": "phone" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mobile = mobile["token"].as_str().unwrap().to_owned();
    let user = server.user("dash", "correct horse battery", &["--app", app_id]);
    let expires = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let api: Value =
        admin(Method::POST, "/api-tokens", json!({ "name": "dash", "user": user, "expires_at": expires }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let install: Value = server
        .http
        .get(server.url("/v3/users/token?installid=dev-1"))
        .header("authorization", format!("Token {}", api["token"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let install = install["token"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let (port, upstream) = (free_port(), free_port());
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        config(dir.path(), port, upstream, url::Url::parse(&server.base).unwrap().port().unwrap()),
    )
    .unwrap();
    let child = Command::new(NGINX)
        .args(["-e", "stderr", "-p"])
        .arg(dir.path())
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let _nginx = Nginx(child);
    let gateway = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(&gateway).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let res = http.get(format!("{gateway}/v3/places")).bearer_auth(&mobile).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("kind=mobile") && body.contains(&format!("app={app_id}")), "{body}");

    let res =
        http.get(format!("{gateway}/v3/tooltips?installid=dev-1&token={install}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("kind=install") && body.contains(&format!("subject={user}")), "{body}");

    for (what, req) in [
        ("a wrong token", http.get(format!("{gateway}/v3/places")).bearer_auth("tsb_not-a-real-token")),
        ("no token", http.get(format!("{gateway}/v3/places"))),
        ("another install", http.get(format!("{gateway}/v3/tooltips?installid=dev-2&token={install}"))),
        (
            "a mobile token in the query",
            http.get(format!("{gateway}/v3/tooltips?installid=dev-1&token={mobile}")),
        ),
    ] {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{what}");
    }
    server.stop().await;
}

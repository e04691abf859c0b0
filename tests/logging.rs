//! No secret reaches the log: client secrets, issued tokens and Authorization
//! headers never appear in what the server writes, at the most verbose level.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Backend, TestServer};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_tokens_never_reach_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        // Everything the server writes, at its most verbose; the test's own HTTP
        // client (reqwest, its cookie jar) logs the cookies it holds, so it is left out.
        .with_env_filter("trace,cookie_store=off,reqwest=off,hyper_util=off,hyper=off")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let client = server.confidential_client(&["mobile"]);
    let ok = server.token_basic(&client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();

    let wrong = common::TestClient { id: client.id.clone(), secret: "wrong-secret-value".into() };
    assert_eq!(server.token_basic(&wrong, &[("grant_type", "client_credentials")]).await.status(), 401);
    let res =
        server.token_post(&client, &[("grant_type", "client_credentials"), ("scope", "nope:read")]).await;
    assert_eq!(res.status(), 400);

    // A person signs in; the code, the tokens, the password, the CSRF token and
    // the session cookie stay out of the log too.
    let public = server.public_client("mobile", &["mobile"]);
    server.user("ada", "correct horse battery", &[]);
    let b = common::flow::browser();
    let query = common::flow::authorize_query(&public, "mobile", "log");
    let login = server.get_authorize(&b, &query).await;
    let session_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session_id =
        session_cookie.split(';').next().unwrap().trim_start_matches("tessera_session=").to_owned();
    let html = login.text().await.unwrap();
    let csrf = common::flow::csrf_of(&html);
    let wrong = server
        .post_authorize(
            &b,
            &html,
            &[("csrf_token", &csrf), ("username", "ada"), ("password", "a wrong password")],
        )
        .await;
    assert_eq!(wrong.status(), 200);
    let params = server.approve(&b, &query, "ada", "correct horse battery").await;
    let code = common::flow::param(&params, "code").unwrap().to_owned();
    let tokens: serde_json::Value =
        server.redeem(&public, &code, common::flow::VERIFIER).await.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = server.refresh(&public, &refresh, None).await;
    assert_eq!(refreshed.status(), 200);
    server.stop().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("answered"), "the capture works: {log}");
    assert!(log.contains(&client.id), "client ids are logged for tracing");
    let user_token = tokens["access_token"].as_str().unwrap();
    for secret in [
        client.secret.as_str(),
        "wrong-secret-value",
        token.as_str(),
        &token[token.len() - 40..],
        "correct horse battery",
        "a wrong password",
        session_id.as_str(),
        csrf.as_str(),
        code.as_str(),
        refresh.as_str(),
        &user_token[user_token.len() - 40..],
        common::flow::VERIFIER,
    ] {
        if let Some(at) = log.find(secret) {
            let line = log[..at].rsplit('\n').next().unwrap_or_default();
            panic!("a secret reached the log, after: {}", &line[line.len().saturating_sub(300)..]);
        }
    }
}

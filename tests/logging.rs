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
        .with_env_filter("trace")
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
    server.stop().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("answered"), "the capture works: {log}");
    assert!(log.contains(&client.id), "client ids are logged for tracing");
    for secret in [client.secret.as_str(), "wrong-secret-value", token.as_str(), &token[token.len() - 40..]] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}

//! Every answer carries an `X-Request-Id`: the caller's when it is well formed,
//! else one the server made.

mod common;

use common::{Backend, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_echo_a_safe_request_id_and_replace_an_unsafe_one() {
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let url = server.url("/.well-known/jwks.json");

    let res = server.http.get(&url).header("x-request-id", "edge-42_a").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], "edge-42_a");

    let res = server.http.get(&url).header("x-request-id", "bad id\"with quotes").send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id\"with quotes");
    assert!(!id.is_empty());

    let a = server.http.get(&url).send().await.unwrap().headers()["x-request-id"].clone();
    let b = server.http.get(&url).send().await.unwrap().headers()["x-request-id"].clone();
    assert_ne!(a, b, "made ids are unique");
    server.stop().await;
}

//! Token status lists (draft-ietf-oauth-status-list) through the real server on
//! SQLite and Postgres: every access token names its bit, the list is a signed
//! `statuslist+jwt` verified with the JWKS, and revoking a token (or ending its
//! login) sets its bit within one poll.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::time::{Duration, Instant};

use base64::Engine;
use common::flow::{authorize_query, browser, param, VERIFIER};
use common::{claims_unverified, Backend, TestEnv, TestServer};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    every_access_token_names_its_bit_in_a_signed_list,
    revoking_a_token_or_ending_its_login_sets_its_bit,
    indexes_never_repeat_and_full_lists_roll_over,
);

/// The (uri, idx) an access token names.
fn status_of(token: &str) -> (String, u64) {
    let claims = claims_unverified(token);
    let list = &claims["status"]["status_list"];
    (list["uri"].as_str().expect("a status uri").to_owned(), list["idx"].as_u64().expect("an idx"))
}

/// Fetches the list at `uri` (on this server), verifies it with the JWKS and
/// answers its claims and its decompressed bits.
async fn fetch_list(server: &TestServer, uri: &str) -> (Value, Vec<u8>, reqwest::header::HeaderMap) {
    let path = uri.strip_prefix(&server.issuer).expect("a list of this issuer");
    let res = server.http.get(server.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    let jwt = res.text().await.unwrap();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("statuslist+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(server.get_json("/.well-known/jwks.json").await).unwrap();
    let key =
        jsonwebtoken::DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.sub = Some(uri.to_owned());
    let claims = jsonwebtoken::decode::<Value>(&jwt, &key, &validation).unwrap().claims;
    assert_eq!(claims["status_list"]["bits"], 1);
    let lst = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims["status_list"]["lst"].as_str().unwrap())
        .unwrap();
    let mut bits = Vec::new();
    flate2::read::ZlibDecoder::new(&lst[..]).read_to_end(&mut bits).unwrap();
    (claims, bits, headers)
}

fn bit(bits: &[u8], idx: u64) -> bool {
    bits[(idx / 8) as usize] & (1 << (idx % 8)) != 0
}

async fn client_token(server: &TestServer, client: &common::TestClient) -> String {
    let res = server.token_basic(client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// Waits (50 ms at a time, at most 10 s) until `idx`'s bit in `uri` is `set`.
async fn bit_becomes(server: &TestServer, uri: &str, idx: u64, set: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, bits, _) = fetch_list(server, uri).await;
        if bit(&bits, idx) == set {
            return;
        }
        assert!(Instant::now() < deadline, "bit {idx} of {uri} never became {set}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn every_access_token_names_its_bit_in_a_signed_list(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let robot = server.confidential_client(&["mobile"]);
    let token = client_token(&server, &robot).await;
    let (uri, idx) = status_of(&token);
    assert!(uri.starts_with(&format!("{}/statuslists/", server.issuer)), "{uri}");
    let (claims, bits, headers) = fetch_list(&server, &uri).await;
    assert_eq!(headers["content-type"], "application/statuslist+jwt");
    assert_eq!(headers["cache-control"], "public, max-age=60");
    assert_eq!(claims["ttl"], 60);
    assert!(claims["iat"].as_i64().unwrap() <= claims["exp"].as_i64().unwrap());
    assert_eq!(bits.len(), 4_194_304 / 8);
    assert!(!bit(&bits, idx));
    // Small on the wire: a few KiB at most.
    let lst = claims["status_list"]["lst"].as_str().unwrap();
    assert!(lst.len() < 4096, "{} characters", lst.len());
    // An unknown list is a 404.
    assert_eq!(server.http.get(server.url("/statuslists/999999")).send().await.unwrap().status(), 404);
    assert_eq!(server.http.get(server.url("/statuslists/x")).send().await.unwrap().status(), 404);
    server.stop().await;
}

async fn revoking_a_token_or_ending_its_login_sets_its_bit(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    // A client's own token, revoked (RFC 7009).
    let robot = server.confidential_client(&["mobile"]);
    let (kept, revoked) = (client_token(&server, &robot).await, client_token(&server, &robot).await);
    let res = server
        .http
        .post(server.url("/revoke"))
        .basic_auth(&robot.id, Some(&robot.secret))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (uri, idx) = status_of(&revoked);
    bit_becomes(&server, &uri, idx, true).await;
    let (kept_uri, kept_idx) = status_of(&kept);
    let (_, bits, _) = fetch_list(&server, &kept_uri).await;
    assert!(!bit(&bits, kept_idx), "another token's bit is untouched");

    // A login: its first and its refreshed access tokens, ended by revoking the refresh token.
    let app = server.public_client("mobile", &["mobile"]);
    server.user("ada", PASSWORD, &[]);
    let params = server.approve(&browser(), &authorize_query(&app, "mobile", "s"), "ada", PASSWORD).await;
    let first: Value =
        server.redeem(&app, param(&params, "code").unwrap(), VERIFIER).await.json().await.unwrap();
    let refreshed: Value =
        server.refresh(&app, first["refresh_token"].as_str().unwrap(), None).await.json().await.unwrap();
    let tokens = [first["access_token"].as_str().unwrap(), refreshed["access_token"].as_str().unwrap()];
    for token in tokens {
        let (uri, idx) = status_of(token);
        let (_, bits, _) = fetch_list(&server, &uri).await;
        assert!(!bit(&bits, idx));
    }
    let res = server
        .http
        .post(server.url("/revoke"))
        .form(&[("token", refreshed["refresh_token"].as_str().unwrap()), ("client_id", app.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for token in tokens {
        let (uri, idx) = status_of(token);
        bit_becomes(&server, &uri, idx, true).await;
    }
    server.stop().await;
}

async fn indexes_never_repeat_and_full_lists_roll_over(backend: Backend) {
    let Some(env) = TestEnv::with(
        backend,
        tessera::config::Environment::Development,
        &[("TESSERA__STATUS__LIST_SIZE", "64"), ("TESSERA__STATUS__BLOCK", "16")],
    )
    .await
    else {
        return;
    };
    let server = env.start().await;
    let robot = server.confidential_client(&["mobile"]);
    let mut seen = HashSet::new();
    let mut lists = HashSet::new();
    let answers = futures_util::future::join_all((0..200).map(|_| client_token(&server, &robot))).await;
    for token in answers {
        let (uri, idx) = status_of(&token);
        assert!(idx < 64, "{idx}");
        assert!(seen.insert((uri.clone(), idx)), "{uri} {idx} handed out twice");
        lists.insert(uri);
    }
    assert!(lists.len() >= 4, "200 tokens over lists of 64: {lists:?}");
    for uri in &lists {
        let (_, bits, _) = fetch_list(&server, uri).await;
        assert_eq!(bits.len(), 8);
    }
    server.stop().await;
}

//! The verifier against a stub issuer (a JWKS and a status list served from a
//! plain socket): what it accepts and every reason it refuses.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use tessera_verify::{Verifier, VerifyError};

struct Issuer {
    base: String,
    key: EcdsaKeyPair,
    kid: String,
    /// Path to body, what the stub answers.
    pages: Arc<Mutex<Vec<(String, String)>>>,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl Issuer {
    fn start() -> Issuer {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let pages: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let served = pages.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
                let found = served.lock().unwrap().iter().find(|(p, _)| *p == path).map(|(_, b)| b.clone());
                let (status, body) = match found {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", String::new()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let public = &key.public_key().as_ref()[1..];
        let (x, y) = (URL_SAFE_NO_PAD.encode(&public[..32]), URL_SAFE_NO_PAD.encode(&public[32..]));
        let issuer = Issuer { base, key, kid: "k1".into(), pages };
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": "k1", "alg": "ES256", "use": "sig"}]});
        issuer.serve("/.well-known/jwks.json", jwks.to_string());
        issuer
    }

    fn serve(&self, path: &str, body: String) {
        let mut pages = self.pages.lock().unwrap();
        pages.retain(|(p, _)| p != path);
        pages.push((path.to_owned(), body));
    }

    fn sign(&self, header: Value, claims: Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn token(&self, claims: Value) -> String {
        self.sign(json!({"alg": "ES256", "typ": "at+jwt", "kid": self.kid}), claims)
    }

    fn claims(&self, idx: u64) -> Value {
        json!({
            "iss": self.base, "sub": "c1", "aud": "api", "exp": now() + 600, "iat": now(),
            "jti": "j1", "client_id": "c1", "scope": "places:read events:create",
            "status": {"status_list": {"idx": idx, "uri": format!("{}/statuslists/1", self.base)}},
        })
    }

    /// Publishes list 1 with `revoked` set, kept for `ttl` seconds.
    fn list(&self, revoked: &[u64], ttl: u64) {
        let mut bits = vec![0u8; 16];
        for i in revoked {
            bits[(*i / 8) as usize] |= 1 << (i % 8);
        }
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&bits).unwrap();
        let lst = URL_SAFE_NO_PAD.encode(encoder.finish().unwrap());
        let uri = format!("{}/statuslists/1", self.base);
        let jwt = self.sign(
            json!({"alg": "ES256", "typ": "statuslist+jwt", "kid": self.kid}),
            json!({"sub": uri, "iat": now(), "exp": now() + 3600, "ttl": ttl, "status_list": {"bits": 1, "lst": lst}}),
        );
        self.serve("/statuslists/1", jwt);
    }
}

#[tokio::test]
async fn a_valid_token_passes_and_every_flaw_is_named() {
    let issuer = Issuer::start();
    issuer.list(&[5], 0);
    let verifier = Verifier::new(issuer.base.clone(), "api");
    let ok = verifier.verify(&issuer.token(issuer.claims(3))).await.unwrap();
    assert!(ok.has_scope("places:read") && !ok.has_scope("places:delete"));
    assert_eq!(ok.claims.sub, "c1");

    let refused = |r: Result<_, VerifyError>| r.expect_err("refused");
    let e = refused(verifier.verify(&issuer.token(issuer.claims(5))).await);
    assert!(matches!(e, VerifyError::Revoked), "{e}");
    let mut claims = issuer.claims(3);
    claims["aud"] = json!("another-api");
    assert!(matches!(refused(verifier.verify(&issuer.token(claims)).await), VerifyError::Invalid(_)));
    let mut claims = issuer.claims(3);
    claims["exp"] = json!(now() - 3600);
    assert!(matches!(refused(verifier.verify(&issuer.token(claims)).await), VerifyError::Invalid(_)));
    let mut claims = issuer.claims(3);
    claims["iss"] = json!("http://elsewhere");
    assert!(matches!(refused(verifier.verify(&issuer.token(claims)).await), VerifyError::Invalid(_)));
    let mut claims = issuer.claims(3);
    claims["nbf"] = json!(now() + 3600);
    assert!(matches!(refused(verifier.verify(&issuer.token(claims)).await), VerifyError::Invalid(_)));
    // An ID token (typ JWT) is no access token; HS256 is never accepted.
    let id = issuer.sign(json!({"alg": "ES256", "typ": "JWT", "kid": "k1"}), issuer.claims(3));
    assert!(matches!(refused(verifier.verify(&id).await), VerifyError::NotAnAccessToken));
    let hs = format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1"}).to_string()),
        URL_SAFE_NO_PAD.encode(issuer.claims(3).to_string())
    );
    assert!(matches!(refused(verifier.verify(&hs).await), VerifyError::Algorithm(_)));
    let unknown = issuer.sign(json!({"alg": "ES256", "typ": "at+jwt", "kid": "k9"}), issuer.claims(3));
    assert!(matches!(refused(verifier.verify(&unknown).await), VerifyError::UnknownKey));
    // A token whose list is another host's is not trusted to name it.
    let mut claims = issuer.claims(3);
    claims["status"]["status_list"]["uri"] = json!("http://elsewhere/statuslists/1");
    assert!(matches!(
        refused(verifier.verify(&issuer.token(claims)).await),
        VerifyError::StatusUnavailable(_)
    ));
    assert!(matches!(refused(verifier.verify("not a jwt").await), VerifyError::Malformed(_)));
}

#[tokio::test]
async fn a_list_is_kept_for_its_ttl_and_fetched_again_after() {
    let issuer = Issuer::start();
    issuer.list(&[], 3600);
    let verifier = Verifier::new(issuer.base.clone(), "api");
    let token = issuer.token(issuer.claims(7));
    verifier.verify(&token).await.unwrap();
    // Revoked at the issuer, but the kept list (ttl one hour) still says valid.
    issuer.list(&[7], 3600);
    verifier.verify(&token).await.unwrap();
    // A fresh verifier fetches the list and refuses it.
    let fresh = Verifier::new(issuer.base.clone(), "api");
    assert!(matches!(fresh.verify(&token).await, Err(VerifyError::Revoked)));
}

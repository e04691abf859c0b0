//! The raw ES256 signing rate on this core, in-process: the ceiling the token
//! endpoint is measured against (see bench/token.sh).
//!
//! Prints one line: `raw_sign_per_sec=<n> jwt_mint_per_sec=<m> raw_verify_per_sec=<v>`,
//! where raw sign is ring's ECDSA P-256 signature over a typical JWT signing input,
//! mint is the whole `JwtSigner::sign` (claims to JSON, base64url, signature) and
//! raw verify is ring's verification of that signature with the public key.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use tessera::tokens::jwt::{AccessClaims, JwtSigner, StatusListRef, TokenStatus};
use tessera::tokens::keys::{self, KeyOrigin, KeySet};

fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    // Warm up, then count whole calls for `seconds`.
    for _ in 0..1000 {
        f();
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..256 {
            f();
        }
        n += 256;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let dir = std::env::temp_dir().join(format!("tessera-sign-rate-{}", std::process::id()));
    let rng = SystemRandom::new();
    let key = keys::generate(&dir, KeyOrigin::Cli, 0, &rng).expect("generate key");
    let set = Arc::new(KeySet::new(vec![key], &dir).expect("key set"));
    let signer =
        JwtSigner::new(set.clone(), "http://127.0.0.1:8080".into(), "tessera-api".into()).expect("signer");
    let claims = AccessClaims {
        iss: "http://127.0.0.1:8080".into(),
        sub: "QjW0vlAs3qJwfGzqM3Gmfg".into(),
        aud: "tessera-api".into(),
        exp: 1_800_000_600,
        iat: 1_800_000_000,
        jti: "PcG3iV32XgOwKQgKJBt4pA".into(),
        client_id: "QjW0vlAs3qJwfGzqM3Gmfg".into(),
        scope: "places:read geofences:read floors:read beacons:read positions:create positions:read \
                positions:update events:create events:read events:update"
            .into(),
        profile: Some("mobile".into()),
        app: "default".into(),
        department: None,
        user_type: None,
        sid: None,
        status: Some(TokenStatus {
            status_list: StatusListRef { idx: 123_456, uri: "http://127.0.0.1:8080/statuslists/1".into() },
        }),
    };
    let sample = signer.sign(&claims).expect("sign");
    let input = sample.rsplit_once('.').expect("jws").0.to_owned();
    let pair = set.active().pair();

    let raw = rate(seconds, || {
        std::hint::black_box(pair.sign(&rng, input.as_bytes()).expect("sign"));
    });
    let mint = rate(seconds, || {
        std::hint::black_box(signer.sign(&claims).expect("sign"));
    });
    let signature = pair.sign(&rng, input.as_bytes()).expect("sign");
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        ring::signature::KeyPair::public_key(pair).as_ref().to_vec(),
    );
    let verify = rate(seconds, || {
        public.verify(input.as_bytes(), signature.as_ref()).expect("verify");
    });
    let _ = std::fs::remove_dir_all(&dir);
    println!("raw_sign_per_sec={raw:.0} jwt_mint_per_sec={mint:.0} raw_verify_per_sec={verify:.0}");
}

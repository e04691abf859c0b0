//! Load generator for the browser flows (run by bench/token.sh, not in CI).
//!
//! `flow_bench code SECONDS CONCURRENCY`: full authorization code flows per second:
//! GET /authorize -> login form (argon2id at the configured cost) -> consent form
//! -> POST /token with the PKCE verifier. Every flow uses a client the user has not
//! consented to yet, so every flow shows and submits the consent page.
//!
//! `flow_bench refresh SECONDS CONCURRENCY`: refresh grants per second, each task
//! following its own rotating refresh token.
//!
//! `flow_bench soak SECONDS CONCURRENCY`: the mixed use of bench/soak.sh: each task
//! signs in (consent remembered after a client's first flow: 20 clients), refreshes
//! ten times, introspects and revokes its last access token, and starts again; a
//! login that ended (short lifetimes) is simply signed in again.
//!
//! Reads the server's database settings from the same TESSERA__* variables, to
//! register the clients and the user it needs. Prints one `bench:` line.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use tessera::config::{Config, Environment};
use tessera::domain::clients::{self, ClientType, GrantType, NewClient};
use tessera::domain::scope::ScopeModel;
use tessera::domain::users::{self, NewUser};
use tessera::store::Store;
use tessera::tokens::secret::Secret;

const REDIRECT_URI: &str = "http://127.0.0.1:7777/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PASSWORD: &str = "bench password 1";

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Bench {
    base: String,
    /// A confidential client that introspects (`BENCH_INTROSPECTOR=id:secret`).
    introspector: Option<(String, String)>,
    clients: Vec<String>,
    next: AtomicUsize,
    challenge: String,
}

fn csrf_of(html: &str) -> Result<String, Error> {
    field_of(html, "csrf_token")
}

/// The value of the hidden field `name` of a page's form.
fn field_of(html: &str, name: &str) -> Result<String, Error> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).ok_or_else(|| format!("no {name} field"))? + marker.len();
    let end = html[start..].find('"').ok_or_else(|| format!("unterminated {name}"))? + start;
    Ok(html[start..end].to_owned())
}

fn code_of(res: &reqwest::Response) -> Result<String, Error> {
    let location = res.headers().get("location").ok_or("no redirect")?.to_str()?;
    let url = url::Url::parse(location)?;
    let code = url.query_pairs().find(|(k, _)| k == "code").ok_or("no code")?.1.into_owned();
    Ok(code)
}

impl Bench {
    /// One whole flow, as a new browser; answers the client and the token response.
    async fn code_flow(&self, username: &str) -> Result<(String, serde_json::Value), Error> {
        let client_id = &self.clients[self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len()];
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", "mobile")
            .append_pair("state", "bench")
            .append_pair("code_challenge", &self.challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let url = format!("{}/authorize?{query}", self.base);
        let login = browser.get(&url).send().await?.error_for_status()?.text().await?;
        let signed_in = browser
            .post(&url)
            .form(&[
                ("csrf_token", csrf_of(&login)?.as_str()),
                ("interaction", field_of(&login, "interaction")?.as_str()),
                ("username", username),
                ("password", PASSWORD),
            ])
            .send()
            .await?
            .error_for_status()?;
        // Consent this client was given before is remembered: straight back to the app.
        let code = if signed_in.status() == reqwest::StatusCode::SEE_OTHER {
            code_of(&signed_in)?
        } else {
            let consent = signed_in.text().await?;
            let allowed = browser
                .post(&url)
                .form(&[
                    ("csrf_token", csrf_of(&consent)?.as_str()),
                    ("interaction", field_of(&consent, "interaction")?.as_str()),
                    ("decision", "allow"),
                ])
                .send()
                .await?;
            code_of(&allowed)?
        };
        let token = browser
            .post(format!("{}/token", self.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await?
            .error_for_status()?
            .json::<serde_json::Value>()
            .await?;
        Ok((client_id.clone(), token))
    }
}

impl Bench {
    /// One round of bench/soak.sh's mixed use: a sign-in, ten refreshes, an
    /// introspection and a revocation.
    async fn soak_round(&self, http: &reqwest::Client, username: &str) -> Result<(), Error> {
        let (client_id, mut token) = self.code_flow(username).await?;
        for _ in 0..10 {
            let Some(refresh) = token["refresh_token"].as_str().map(str::to_owned) else { break };
            let res = http
                .post(format!("{}/token", self.base))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", &client_id),
                    ("refresh_token", &refresh),
                ])
                .send()
                .await?;
            if res.status() != 200 {
                // The login ended (the soak's short lifetimes): sign in again next round.
                break;
            }
            token = res.json().await?;
        }
        let access = token["access_token"].as_str().ok_or("no access token")?.to_owned();
        if let Some((id, secret)) = &self.introspector {
            http.post(format!("{}/introspect", self.base))
                .basic_auth(id, Some(secret))
                .form(&[("token", &access)])
                .send()
                .await?
                .error_for_status()?;
        }
        http.post(format!("{}/revoke", self.base))
            .form(&[("token", access.as_str()), ("client_id", client_id.as_str())])
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

async fn setup(flows: usize, users: usize) -> Result<Bench, Error> {
    let base = std::env::var("TESSERA__ISSUER")?;
    let config = Config::load(&Config::default_dir(), Environment::Development, std::env::vars())?;
    let store = Store::connect(&config.database).await?;
    store.migrate().await?;
    let scopes = ScopeModel::new(&config.scopes)?;
    let now = tessera::domain::now();
    if store.find_user("default", "bench").await?.is_none() {
        store.insert_department("default", "bench", now).await?;
    }
    // `bench`, and one user per soak task: one person signing in from several
    // tasks at once would meet the login backoff, which counts attempts first.
    for username in std::iter::once("bench".to_owned()).chain((0..users).map(|i| format!("bench{i}"))) {
        if store.find_user("default", &username).await?.is_some() {
            continue;
        }
        users::create(
            &store,
            &config,
            NewUser {
                app_id: "default".into(),
                username,
                email: None,
                password: Secret::new(PASSWORD.into()),
                department: Some("bench".into()),
                user_type: Some("operator".into()),
                is_admin: false,
            },
            now,
        )
        .await?;
    }
    let mut clients = Vec::with_capacity(flows);
    for i in 0..flows {
        let created = clients::create(
            &store,
            &scopes,
            NewClient {
                app_id: "default".into(),
                name: format!("bench app {i}"),
                client_type: ClientType::Mobile,
                redirect_uris: vec![REDIRECT_URI.into()],
                post_logout_redirect_uris: Vec::new(),
                grants: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                scopes: vec!["mobile".into()],
            },
            now,
        )
        .await?;
        clients.push(created.client.id);
    }
    store.close().await;
    let digest = ring::digest::digest(&ring::digest::SHA256, VERIFIER.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    let introspector = std::env::var("BENCH_INTROSPECTOR")
        .ok()
        .and_then(|v| v.split_once(':').map(|(id, secret)| (id.to_owned(), secret.to_owned())));
    Ok(Bench { base, introspector, clients, next: AtomicUsize::new(0), challenge })
}

fn percentile(sorted: &[u128], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("code").to_owned();
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let concurrency: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(8);
    // Enough fresh clients that no flow finds consent already given.
    let flows_needed = match mode.as_str() {
        "code" => (seconds as usize) * 200,
        "soak" => 20,
        _ => concurrency,
    };
    let users = if mode == "soak" { concurrency } else { 0 };
    let bench = Arc::new(setup(flows_needed, users).await?);
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let bench = bench.clone();
        let username = if mode == "soak" { format!("bench{task}") } else { "bench".to_owned() };
        let mode = mode.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let http = reqwest::Client::new();
            let (client_id, mut refresh) = match mode.as_str() {
                "refresh" => match bench.code_flow(&username).await {
                    Ok((client, token)) => (client, token["refresh_token"].as_str().map(str::to_owned)),
                    Err(_) => (String::new(), None),
                },
                _ => (String::new(), None),
            };
            while Instant::now() < deadline {
                let started = Instant::now();
                let ok = match mode.as_str() {
                    "soak" => bench.soak_round(&http, &username).await.is_ok(),
                    "refresh" => {
                        let Some(token) = refresh.take() else { break };
                        let res = http
                            .post(format!("{}/token", bench.base))
                            .form(&[
                                ("grant_type", "refresh_token"),
                                ("client_id", &client_id),
                                ("refresh_token", &token),
                            ])
                            .send()
                            .await;
                        match res {
                            Ok(r) if r.status() == 200 => {
                                let body: serde_json::Value = r.json().await.unwrap_or_default();
                                refresh = body["refresh_token"].as_str().map(str::to_owned);
                                refresh.is_some()
                            }
                            _ => false,
                        }
                    }
                    _ => bench.code_flow(&username).await.is_ok(),
                };
                if ok {
                    latencies.push(started.elapsed().as_micros());
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    println!(
        "bench: mode={mode} completed={} failures={failures} per_sec={:.1} p50_us={} p99_us={}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    );
    Ok(())
}

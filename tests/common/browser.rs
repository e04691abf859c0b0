//! A real headless Chromium over WebDriver (chromedriver) for the browser tests,
//! screenshots into `target/screenshots/`, and axe-core's accessibility check.
//! Everything is skipped, with a message, where chromium and chromedriver are
//! not installed; `.ci/run` installs them and axe-core.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, stopped on drop.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start() -> Option<Driver> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            eprintln!("skipped: {CHROMEDRIVER} or {CHROMIUM} is not installed (apt-get install chromium chromium-driver)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // chromedriver says when it listens; wait for that line rather than a timer.
        let stdout = child.stdout.take().expect("chromedriver stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines.by_ref().take(20).any(|l| l.is_ok_and(|l| l.contains("started successfully")));
        assert!(ready, "chromedriver did not start");
        std::thread::spawn(move || lines.for_each(drop));
        Some(Driver { child, url: format!("http://127.0.0.1:{port}") })
    }

    pub async fn browser(&self, profile: &Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

pub async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshots().join(name), png).expect("write screenshot");
}

/// axe-core's script: `TESSERA_AXE_JS`, else what `.ci/run` installs
/// (`npm install --prefix target/axe axe-core`). `None` (the check skipped, with a
/// message) where it is missing, unless `TESSERA_REQUIRE_AXE` is set.
fn axe_source() -> Option<String> {
    let path = std::env::var("TESSERA_AXE_JS").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js")
    });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) if std::env::var_os("TESSERA_REQUIRE_AXE").is_some() => {
            panic!("axe-core is required but {} is missing", path.display())
        }
        Err(_) => {
            eprintln!("axe check skipped: {} is missing", path.display());
            None
        }
    }
}

/// The serious and critical accessibility violations axe-core finds on the page.
pub async fn axe_violations(client: &Client) -> Vec<String> {
    let Some(source) = axe_source() else { return Vec::new() };
    client.execute(&format!("{source}\nreturn true;"), vec![]).await.expect("inject axe-core");
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document).then(r => done(r.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
             .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    serde_json::from_value(found).expect("a list of violations")
}

/// Checks the page with axe-core and saves it at phone (390x844) and desktop
/// (1280x900) widths as `NAME-phone.png` and `NAME-desktop.png`.
pub async fn look(client: &Client, name: &str) {
    let violations = axe_violations(client).await;
    assert!(violations.is_empty(), "{name}: {violations:#?}");
    client.set_window_size(390, 844).await.expect("phone size");
    save_screenshot(client, &format!("{name}-phone.png")).await;
    client.set_window_size(1280, 900).await.expect("desktop size");
    save_screenshot(client, &format!("{name}-desktop.png")).await;
}

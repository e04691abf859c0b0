//! A person in a browser, as plain HTTP: follows the authorization request through
//! the login and consent pages with a cookie jar, without following redirects.

use base64::Engine;
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};

use super::{TestClient, TestServer};

pub const REDIRECT_URI: &str = "http://127.0.0.1:7777/cb";
/// A PKCE verifier (RFC 7636 §4.1) and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub fn challenge(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// A browser: cookies kept, redirects reported rather than followed.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("browser")
}

/// The query of an authorization request with S256 PKCE.
pub fn authorize_query(client_id: &str, scope: &str, state: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("code_challenge", &challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256")
        .finish()
}

/// The value of the hidden `csrf_token` field of a page.
pub fn csrf_of(html: &str) -> String {
    field_of(html, "csrf_token")
}

/// The value of the hidden field `name` of a page's form.
pub fn field_of(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("a {name} field in {html}")) + marker.len();
    let end = html[start..].find('"').expect("end of the value") + start;
    html[start..end].to_owned()
}

/// The query parameters of a redirect's Location.
pub fn location_params(res: &Response) -> Vec<(String, String)> {
    let location = res.headers().get("location").expect("a Location header").to_str().expect("ascii");
    let url = url::Url::parse(location).expect("absolute Location");
    assert_eq!(&url[..url::Position::AfterPath], REDIRECT_URI, "redirected to {location}");
    url.query_pairs().into_owned().collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl TestServer {
    /// `tessera client create --type public|mobile --redirect-uri ... --grant authorization_code --grant refresh_token`.
    pub fn public_client(&self, kind: &str, scopes: &[&str]) -> String {
        self.code_client("Shop app", kind, scopes)["client_id"].as_str().expect("client_id").to_owned()
    }

    /// A confidential client for the code flow (it authenticates at /token).
    pub fn confidential_code_client(&self, scopes: &[&str]) -> TestClient {
        let out = self.code_client("Web portal", "confidential", scopes);
        TestClient {
            id: out["client_id"].as_str().expect("client_id").to_owned(),
            secret: out["client_secret"].as_str().expect("client_secret").to_owned(),
        }
    }

    fn code_client(&self, name: &str, kind: &str, scopes: &[&str]) -> serde_json::Value {
        let mut args = vec![
            "client",
            "create",
            "--name",
            name,
            "--type",
            kind,
            "--redirect-uri",
            REDIRECT_URI,
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--json",
        ];
        for s in scopes {
            args.extend(["--scope", s]);
        }
        self.env.cli_json(&args)
    }

    /// `tessera user create` with a password on stdin; answers the user's id.
    pub fn user(&self, username: &str, password: &str, extra: &[&str]) -> String {
        let mut args = vec!["user", "create", "--username", username, "--password-stdin", "--json"];
        args.extend_from_slice(extra);
        let out = self.env.cli(&args, Some(&format!("{password}\n")));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let user: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        user["id"].as_str().expect("id").to_owned()
    }

    pub async fn get_authorize(&self, browser: &reqwest::Client, query: &str) -> Response {
        browser.get(self.url(&format!("/authorize?{query}"))).send().await.expect("authorize")
    }

    /// Posts `form` as the login or consent page `page` (its HTML) would: to
    /// `/authorize`, with the page's interaction id.
    pub async fn post_authorize(
        &self,
        browser: &reqwest::Client,
        page: &str,
        form: &[(&str, &str)],
    ) -> Response {
        let interaction = field_of(page, "interaction");
        let mut fields = form.to_vec();
        fields.push(("interaction", &interaction));
        browser.post(self.url("/authorize")).form(&fields).send().await.expect("authorize form")
    }

    /// Opens the authorization request and signs in; answers the next response
    /// (the consent page, or a redirect when consent is remembered).
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        query: &str,
        username: &str,
        password: &str,
    ) -> Response {
        let login = self.get_authorize(browser, query).await;
        assert_eq!(login.status(), StatusCode::OK);
        let html = login.text().await.expect("login page");
        assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""), "{html}");
        let csrf = csrf_of(&html);
        self.post_authorize(
            browser,
            &html,
            &[("csrf_token", &csrf), ("username", username), ("password", password)],
        )
        .await
    }

    /// Signs in and allows; answers the redirect's query parameters.
    pub async fn approve(
        &self,
        browser: &reqwest::Client,
        query: &str,
        username: &str,
        password: &str,
    ) -> Vec<(String, String)> {
        let consent = self.sign_in(browser, query, username, password).await;
        if consent.status() == StatusCode::SEE_OTHER {
            // Consent given before is remembered.
            return location_params(&consent);
        }
        assert_eq!(consent.status(), StatusCode::OK);
        let html = consent.text().await.expect("consent page");
        let csrf = csrf_of(&html);
        let res = self.post_authorize(browser, &html, &[("csrf_token", &csrf), ("decision", "allow")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        location_params(&res)
    }

    /// Redeems a code for a public client with the PKCE verifier.
    pub async fn redeem(&self, client_id: &str, code: &str, verifier: &str) -> Response {
        self.http
            .post(self.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .expect("token request")
    }

    /// Refreshes for a public client.
    pub async fn refresh(&self, client_id: &str, refresh_token: &str, scope: Option<&str>) -> Response {
        let mut form =
            vec![("grant_type", "refresh_token"), ("client_id", client_id), ("refresh_token", refresh_token)];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.http.post(self.url("/token")).form(&form).send().await.expect("refresh request")
    }
}

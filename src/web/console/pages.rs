//! The console's pages: applications, an application's overview with its
//! master token, API tokens, mobile tokens, mobile sessions and the audit log.
//! Each handler checks the session manages the application, reads or changes
//! through the store and the domain (as the admin API does), and records every
//! change in the audit log.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{html, pager, see_other, AppPage, AppPost, Console, ConsoleError, Nav};
use crate::domain::audit::AuditFilter;
use crate::domain::platform_tokens::{self, NewToken, PlatformToken, TokenKind};
use crate::store::{SessionFilter, TokenChanges, TokenFilter};

const PAGE: i64 = 50;

/// `2026-12-06 14:05 UTC`, or a dash.
pub(super) fn when(unix: Option<i64>) -> String {
    unix.and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_owned())
}

/// `2026-12-06 14:05:09 UTC`.
pub(super) fn when_seconds(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

pub(super) fn day(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// The end of day `text` (`YYYY-MM-DD`, UTC) in unix seconds.
fn end_of_day(text: &str) -> Result<i64, ConsoleError> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ConsoleError::BadRequest("give the expiry as a date, such as 2027-03-31".into()))?;
    date.and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| ConsoleError::BadRequest("that date does not exist".into()))
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    q: Option<String>,
    offset: Option<i64>,
}

impl ListQuery {
    pub(super) fn search(&self) -> &str {
        self.q.as_deref().map(str::trim).unwrap_or_default()
    }

    pub(super) fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }
}

#[derive(Template)]
#[template(path = "console/apps.html")]
struct AppsPage {
    title: String,
    nav: Nav,
    apps: Vec<AppRow>,
}

struct AppRow {
    id: String,
    name: String,
    created_at: String,
}

/// `GET /console`: every application for a platform administrator; an
/// application's administrator goes to their application.
pub async fn home(console: Console) -> Result<HttpResponse, ConsoleError> {
    if !console.session.platform_admin {
        return Ok(see_other(&format!("/console/apps/{}", console.session.app_id)));
    }
    let apps = console.state.store.list_apps().await?;
    let page = AppsPage {
        title: "Applications".into(),
        nav: console.nav(None, "apps"),
        apps: apps
            .into_iter()
            .map(|a| AppRow {
                // The `default` application is made by the first migration, at time 0.
                created_at: if a.created_at > 0 { day(a.created_at) } else { "—".to_owned() },
                id: a.id,
                name: a.name,
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    title: String,
    nav: Nav,
    app_id: String,
}

/// `GET /console/apps/{app}`.
pub async fn overview(page: AppPage) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, name } = page;
    let page = OverviewPage { title: name, nav: console.nav(Some(&app), "overview"), app_id: app };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "console/secret.html")]
pub(super) struct SecretPage {
    pub title: String,
    pub nav: Nav,
    pub explanation: String,
    /// (label, value), each with a copy button.
    pub secrets: Vec<(String, String)>,
    pub back: String,
}

/// `POST /console/apps/{app}/master-token/rotate`.
pub async fn rotate_master(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    Console::confirmed(&form)?;
    let state = &console.state;
    let token = platform_tokens::rotate_master(&state.store, &app, None, state.clock.now()).await?;
    console.audit(&app, "rotate the master token", &format!("/apps/{app}/master-token")).await;
    let page = SecretPage {
        title: "New master token".into(),
        nav: console.nav(Some(&app), "overview"),
        explanation: "The old master token stopped working. This is the new one.".into(),
        secrets: vec![("Master token".into(), token.expose().to_owned())],
        back: format!("/console/apps/{app}"),
    };
    Ok(html(StatusCode::OK, &page))
}

/// A token as the lists show it.
struct TokenRow {
    id: String,
    name: String,
    enabled: bool,
    user: String,
    department: String,
    user_type: String,
    description: String,
    tenant_id: String,
    created_at: String,
    expires_at: String,
    last_used_at: String,
}

impl From<PlatformToken> for TokenRow {
    fn from(t: PlatformToken) -> Self {
        TokenRow {
            id: t.id,
            name: t.name,
            enabled: t.enabled,
            user: t.user_id.unwrap_or_default(),
            department: t.department.unwrap_or_else(|| "—".into()),
            user_type: t.user_type.unwrap_or_else(|| "—".into()),
            description: t.description.unwrap_or_else(|| "—".into()),
            tenant_id: t.app_id,
            created_at: when(Some(t.created_at)),
            expires_at: t.expires_at.map(|e| when(Some(e))).unwrap_or_else(|| "never".into()),
            last_used_at: t.last_used_at.map(|e| when(Some(e))).unwrap_or_else(|| "never".into()),
        }
    }
}

async fn token_page(
    console: &Console,
    app: &str,
    kind: TokenKind,
    query: &ListQuery,
) -> Result<(Vec<TokenRow>, i64, String), ConsoleError> {
    let search = query.search();
    let filter = TokenFilter {
        name_contains: Some(search).filter(|s| !s.is_empty()),
        recent_first: true,
        ..TokenFilter::default()
    };
    let (rows, total) =
        console.state.store.list_platform_tokens(app, kind, filter, PAGE, query.offset()).await?;
    let section = if kind == TokenKind::Api { "api-tokens" } else { "mobile-tokens" };
    let pager = pager(&format!("/console/apps/{app}/{section}"), search, query.offset(), PAGE, total);
    Ok((rows.into_iter().map(TokenRow::from).collect(), total, pager))
}

#[derive(Template)]
#[template(path = "console/api_tokens.html")]
struct ApiTokensPage {
    title: String,
    nav: Nav,
    app_id: String,
    q: String,
    total: i64,
    tokens: Vec<TokenRow>,
    pager: String,
    /// (id, "username (user type)").
    users: Vec<(String, String)>,
    suggested_expiry: String,
    max_expiry: String,
    max_days: u64,
}

/// `GET /console/apps/{app}/api-tokens?q=&offset=`.
pub async fn api_tokens(page: AppPage, query: web::Query<ListQuery>) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let (mut tokens, total, pager) = token_page(&console, &app, TokenKind::Api, &query).await?;
    let (users, _) = console.state.store.list_users(&app, 500, 0).await?;
    // People by name, not by id.
    for token in &mut tokens {
        if let Some(user) = users.iter().find(|u| u.id == token.user) {
            token.user = user.username.clone();
        }
    }
    let now = console.state.clock.now();
    let max = console.state.config.tokens.api_max_lifetime as i64;
    let page = ApiTokensPage {
        title: "API tokens".into(),
        nav: console.nav(Some(&app), "api-tokens"),
        q: query.search().to_owned(),
        total,
        tokens,
        pager,
        users: users
            .into_iter()
            .filter(|u| u.enabled)
            .map(|u| (u.id, format!("{} ({})", u.username, u.user_type.unwrap_or_default())))
            .collect(),
        // A suggestion of 90 days, never past the longest allowed.
        suggested_expiry: day(now + (90 * 86_400).min(max)),
        max_expiry: day(now + max),
        max_days: (max / 86_400) as u64,
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/api-tokens`: makes the token and shows it once.
pub async fn create_api_token(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let user_id = form.text("user").ok_or_else(|| ConsoleError::BadRequest("choose a user".into()))?;
    let user = state
        .store
        .get_user(&app, user_id)
        .await?
        .ok_or_else(|| ConsoleError::BadRequest("that user is not a user of this application".into()))?;
    let expires_at = end_of_day(form.text("expires").unwrap_or_default())?;
    let new = NewToken {
        name: form.text("name").unwrap_or_default(),
        expires_at: Some(expires_at),
        user: Some(&user),
        department: form.text("department"),
        user_type: form.text("user_type"),
        description: form.text("description"),
        ..NewToken::default()
    };
    let now = state.clock.now();
    let created =
        platform_tokens::mint(&state.store, &state.config, &state.data_keys, TokenKind::Api, &app, new, now)
            .await?;
    console.audit(&app, "create API token", &created.record.id).await;
    let page = SecretPage {
        title: format!("API token {}", created.record.name),
        nav: console.nav(Some(&app), "api-tokens"),
        explanation: format!(
            "Made for {} until {}. It can be revealed again from its page.",
            user.username,
            when(created.record.expires_at)
        ),
        secrets: vec![("API token".into(), created.token.expose().to_owned())],
        back: format!("/console/apps/{app}/api-tokens/{}", created.record.id),
    };
    Ok(html(StatusCode::CREATED, &page))
}

#[derive(Template)]
#[template(path = "console/api_token.html")]
struct ApiTokenPage {
    title: String,
    nav: Nav,
    app_id: String,
    token: TokenRow,
    revealed: Option<String>,
}

async fn api_token_page(
    console: &Console,
    app: String,
    id: &str,
    revealed: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let token = console
        .state
        .store
        .get_platform_token(&app, TokenKind::Api, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("API token {id} not found")))?;
    let user = match token.user_id.as_deref() {
        Some(id) => console.state.store.get_user(&app, id).await?,
        None => None,
    };
    let mut row = TokenRow::from(token);
    if let Some(user) = user {
        row.user = format!("{} ({})", user.username, row.user);
    }
    let page = ApiTokenPage {
        title: format!("API token {}", row.name),
        nav: console.nav(Some(&app), "api-tokens"),
        app_id: app,
        token: row,
        revealed,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `GET /console/apps/{app}/api-tokens/{id}`.
pub async fn api_token(
    page: AppPage,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (_, id) = path.into_inner();
    api_token_page(&page.console, page.app, &id, None).await
}

/// `POST /console/apps/{app}/api-tokens/{id}/reveal`: the same page, with the value.
pub async fn reveal_api_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, .. } = post;
    let (_, id) = path.into_inner();
    let state = &console.state;
    let token = platform_tokens::reveal(&state.store, &state.data_keys, TokenKind::Api, &app, &id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("API token {id} not found")))?;
    console.audit(&app, "reveal API token", &id).await;
    api_token_page(&console, app, &id, Some(token.expose().to_owned())).await
}

/// `POST /console/apps/{app}/api-tokens/delete` with `ids` (one or many).
pub async fn delete_api_tokens(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    Console::confirmed(&form)?;
    let ids = form.all("ids");
    if ids.is_empty() || ids.len() > 500 {
        return Err(ConsoleError::BadRequest("select 1 to 500 tokens".into()));
    }
    let deleted = console.state.store.delete_platform_tokens(&app, TokenKind::Api, &ids).await?;
    console.audit(&app, &format!("delete {deleted} API tokens"), &ids.join(" ")).await;
    Ok(see_other(&format!("/console/apps/{app}/api-tokens")))
}

#[derive(Template)]
#[template(path = "console/mobile_tokens.html")]
struct MobileTokensPage {
    title: String,
    nav: Nav,
    app_id: String,
    q: String,
    total: i64,
    tokens: Vec<TokenRow>,
    pager: String,
}

/// `GET /console/apps/{app}/mobile-tokens?q=&offset=`.
pub async fn mobile_tokens(
    page: AppPage,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let (tokens, total, pager) = token_page(&console, &app, TokenKind::Mobile, &query).await?;
    let page = MobileTokensPage {
        title: "Mobile tokens".into(),
        nav: console.nav(Some(&app), "mobile-tokens"),
        q: query.search().to_owned(),
        total,
        tokens,
        pager,
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/mobile-tokens`: makes the token and shows it once.
pub async fn create_mobile_token(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let expires_at = form.text("expires").map(end_of_day).transpose()?;
    let new = NewToken { name: form.text("name").unwrap_or_default(), expires_at, ..NewToken::default() };
    let now = state.clock.now();
    let created = platform_tokens::mint(
        &state.store,
        &state.config,
        &state.data_keys,
        TokenKind::Mobile,
        &app,
        new,
        now,
    )
    .await?;
    console.audit(&app, "create mobile token", &created.record.id).await;
    let page = SecretPage {
        title: format!("Mobile token {}", created.record.name),
        nav: console.nav(Some(&app), "mobile-tokens"),
        explanation: "Put it in the app's configuration. It is shown only now.".into(),
        secrets: vec![("Mobile token".into(), created.token.expose().to_owned())],
        back: format!("/console/apps/{app}/mobile-tokens"),
    };
    Ok(html(StatusCode::CREATED, &page))
}

async fn change_mobile_token(
    console: &Console,
    app: &str,
    id: &str,
    changes: TokenChanges<'_>,
    action: &str,
) -> Result<HttpResponse, ConsoleError> {
    if !console.state.store.update_platform_token(app, TokenKind::Mobile, id, changes).await? {
        return Err(ConsoleError::NotFound(format!("mobile token {id} not found")));
    }
    console.audit(app, action, id).await;
    Ok(see_other(&format!("/console/apps/{app}/mobile-tokens")))
}

/// `POST /console/apps/{app}/mobile-tokens/{id}/rename`.
pub async fn rename_mobile_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    let name = platform_tokens::valid_name(form.get("name").unwrap_or_default())?;
    let changes = TokenChanges { name: Some(&name), ..TokenChanges::default() };
    change_mobile_token(&console, &app, &id, changes, "rename mobile token").await
}

/// `POST /console/apps/{app}/mobile-tokens/{id}/toggle`: enabled ⇄ disabled.
pub async fn toggle_mobile_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, .. } = post;
    let (_, id) = path.into_inner();
    let token = console
        .state
        .store
        .get_platform_token(&app, TokenKind::Mobile, &id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("mobile token {id} not found")))?;
    let enabled = !token.enabled;
    let changes = TokenChanges { enabled: Some(enabled), ..TokenChanges::default() };
    let action = if enabled { "enable mobile token" } else { "disable mobile token" };
    change_mobile_token(&console, &app, &id, changes, action).await
}

/// `POST /console/apps/{app}/mobile-tokens/{id}/delete`.
pub async fn delete_mobile_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    Console::confirmed(&form)?;
    if console.state.store.delete_platform_tokens(&app, TokenKind::Mobile, std::slice::from_ref(&id)).await?
        == 0
    {
        return Err(ConsoleError::NotFound(format!("mobile token {id} not found")));
    }
    console.audit(&app, "delete mobile token", &id).await;
    Ok(see_other(&format!("/console/apps/{app}/mobile-tokens")))
}

struct SessionRow {
    id: String,
    username: String,
    email: String,
    department: String,
    user_type: String,
    last_active: String,
    expires_at: String,
}

#[derive(Template)]
#[template(path = "console/mobile_sessions.html")]
struct MobileSessionsPage {
    title: String,
    nav: Nav,
    app_id: String,
    q: String,
    total: i64,
    sessions: Vec<SessionRow>,
    pager: String,
}

/// `GET /console/apps/{app}/mobile-sessions?offset=`.
pub async fn mobile_sessions(
    page: AppPage,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let now = console.state.clock.now();
    let search = query.search();
    let filter =
        SessionFilter { username_contains: Some(search).filter(|s| !s.is_empty()), ..Default::default() };
    let (rows, total) =
        console.state.store.list_mobile_sessions(&app, filter, now, PAGE, query.offset()).await?;
    let dash = || "—".to_owned();
    let page = MobileSessionsPage {
        title: "Mobile sessions".into(),
        nav: console.nav(Some(&app), "mobile-sessions"),
        total,
        pager: pager(&format!("/console/apps/{app}/mobile-sessions"), search, query.offset(), PAGE, total),
        q: search.to_owned(),
        sessions: rows
            .into_iter()
            .map(|s| SessionRow {
                id: s.id,
                username: s.username,
                email: s.email.unwrap_or_else(dash),
                department: s.department.unwrap_or_else(dash),
                user_type: s.user_type.unwrap_or_else(dash),
                last_active: when(Some(s.last_active)),
                expires_at: when(Some(s.expires_at)),
            })
            .collect(),
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "console/mobile_session.html")]
struct MobileSessionPage {
    title: String,
    nav: Nav,
    app_id: String,
    session: SessionRow,
}

/// `GET /console/apps/{app}/mobile-sessions/{id}`: one person's session.
pub async fn mobile_session(
    page: AppPage,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let (_, id) = path.into_inner();
    let now = console.state.clock.now();
    let s =
        console.state.store.get_mobile_session(&app, &id, now).await?.ok_or_else(|| {
            ConsoleError::NotFound("that session ended or is not of this application".into())
        })?;
    let dash = || "—".to_owned();
    let page = MobileSessionPage {
        title: format!("{} on mobile", s.username),
        nav: console.nav(Some(&app), "mobile-sessions"),
        session: SessionRow {
            id: s.id,
            username: s.username,
            email: s.email.unwrap_or_else(dash),
            department: s.department.unwrap_or_else(dash),
            user_type: s.user_type.unwrap_or_else(dash),
            last_active: when(Some(s.last_active)),
            expires_at: when(Some(s.expires_at)),
        },
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/mobile-sessions/delete` with `ids`.
pub async fn revoke_mobile_sessions(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    Console::confirmed(&form)?;
    let ids = form.all("ids");
    if ids.is_empty() || ids.len() > 500 {
        return Err(ConsoleError::BadRequest("select 1 to 500 sessions".into()));
    }
    let now = console.state.clock.now();
    let revoked = console.state.store.revoke_mobile_sessions(&app, &ids, now).await?;
    console.audit(&app, &format!("revoke {revoked} mobile sessions"), &ids.join(" ")).await;
    Ok(see_other(&format!("/console/apps/{app}/mobile-sessions")))
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    request_id: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    title: String,
    nav: Nav,
    q: String,
    from: String,
    to: String,
    total: i64,
    entries: Vec<AuditRow>,
    pager: String,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    offset: Option<i64>,
}

/// `GET /console/apps/{app}/audit?q=&from=&to=&offset=` (days in UTC, `to` included).
pub async fn audit_log(page: AppPage, query: web::Query<AuditQuery>) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let search = query.q.as_deref().map(str::trim).unwrap_or_default();
    let from = query.from.as_deref().filter(|d| !d.is_empty());
    let to = query.to.as_deref().filter(|d| !d.is_empty());
    let filter = AuditFilter {
        search: Some(search).filter(|s| !s.is_empty()),
        from: from.map(|d| super::endpoints::day_start(d, "from")).transpose()?,
        to: to.map(|d| super::endpoints::day_start(d, "to").map(|t| t + 86_400)).transpose()?,
    };
    let offset = query.offset.unwrap_or(0).max(0);
    let (rows, total) = console.state.store.list_audit(&app, filter, PAGE, offset).await?;
    let page = AuditPage {
        title: "Audit log".into(),
        nav: console.nav(Some(&app), "audit"),
        q: search.to_owned(),
        from: from.unwrap_or_default().to_owned(),
        to: to.unwrap_or_default().to_owned(),
        total,
        pager: pager(&format!("/console/apps/{app}/audit"), search, offset, PAGE, total),
        entries: rows
            .into_iter()
            .map(|e| AuditRow {
                at: when(Some(e.at)),
                actor: e.actor,
                action: e.action,
                target: e.target,
                request_id: e.request_id,
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

//! The console's endpoint pages (the seed 002's portal): endpoints with their
//! token tab (primaries to reveal and regenerate, secondary tokens to map per
//! method, mappings to switch), the secondary endpoint tokens, and the endpoint
//! data viewer with a chart of calls per day per token, drawn on the server as
//! SVG.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::pages::{ListQuery, SecretPage};
use super::{html, pager, see_other, AppPage, AppPost, Console, ConsoleError, Nav};
use crate::domain::endpoints::{self, Method, NewEndpoint, PrimaryValue};
use crate::domain::platform_tokens::{self, NewToken, TokenKind};
use crate::store::{CallFilter, TokenChanges, TokenFilter};

const PAGE: i64 = 50;

struct EndpointRow {
    id: String,
    name: String,
    path: String,
    methods: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "console/endpoints.html")]
struct EndpointsPage {
    title: String,
    nav: Nav,
    app_id: String,
    q: String,
    total: i64,
    endpoints: Vec<EndpointRow>,
    pager: String,
}

/// `GET /console/apps/{app}/endpoints`.
pub async fn list(page: AppPage, query: web::Query<ListQuery>) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let offset = query.offset();
    let search = query.search();
    let text = Some(search).filter(|s| !s.is_empty());
    let (rows, total) = console.state.store.search_endpoints(&app, text, PAGE, offset).await?;
    let page = EndpointsPage {
        title: "Endpoints".into(),
        nav: console.nav(Some(&app), "endpoints"),
        q: search.to_owned(),
        total,
        pager: pager(&format!("/console/apps/{app}/endpoints"), search, offset, PAGE, total),
        endpoints: rows
            .into_iter()
            .map(|e| EndpointRow {
                methods: e.methods().iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "),
                created_at: super::pages::when(Some(e.created_at)),
                id: e.id,
                name: e.name,
                path: e.path,
            })
            .collect(),
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/endpoints`: makes it and shows its primaries once.
pub async fn create(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let new = NewEndpoint {
        name: form.text("name").unwrap_or_default(),
        path: form.text("path").unwrap_or_default(),
        allow_delete: form.get("allow_delete") == Some("yes"),
    };
    let made = endpoints::create(&state.store, &state.config, &state.data_keys, &app, new, state.clock.now())
        .await?;
    console.audit(&app, "create endpoint", &made.endpoint.id).await;
    let page = SecretPage {
        title: format!("Endpoint {}", made.endpoint.name),
        nav: console.nav(Some(&app), "endpoints"),
        explanation: "Its primary tokens, one per method. They can be revealed again on its page.".into(),
        secrets: made
            .primaries
            .iter()
            .map(|(m, t)| (format!("{} token", m.as_str()), t.expose().to_owned()))
            .collect(),
        back: format!("/console/apps/{app}/endpoints/{}", made.endpoint.id),
    };
    Ok(html(StatusCode::CREATED, &page))
}

struct PrimaryRow {
    method: &'static str,
    created_at: String,
    last_used_at: String,
}

struct AssignmentRow {
    token_id: String,
    name: String,
    token_enabled: bool,
    assigned: bool,
    enabled: bool,
    /// Each of the endpoint's methods and whether the mapping holds it.
    methods: Vec<(&'static str, bool)>,
}

#[derive(Template)]
#[template(path = "console/endpoint.html")]
struct EndpointPage {
    title: String,
    nav: Nav,
    app_id: String,
    endpoint_id: String,
    path: String,
    primaries: Vec<PrimaryRow>,
    assigned_only: bool,
    assignments: Vec<AssignmentRow>,
}

#[derive(Deserialize)]
pub struct EndpointQuery {
    assigned: Option<bool>,
}

/// `GET /console/apps/{app}/endpoints/{id}[?assigned=true]`: the token tab.
pub async fn show(
    page: AppPage,
    path: web::Path<(String, String)>,
    query: web::Query<EndpointQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let (_, id) = path.into_inner();
    let store = &console.state.store;
    let endpoint = store
        .get_endpoint(&app, &id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("endpoint {id} not found")))?;
    let primaries = store.primary_tokens(&app, &id).await?;
    let assigned_only = query.assigned.unwrap_or(false);
    let (rows, _) = store.list_token_assignments(&app, &id, assigned_only, 200, 0).await?;
    let methods = endpoint.methods();
    let page = EndpointPage {
        title: format!("Endpoint {}", endpoint.name),
        nav: console.nav(Some(&app), "endpoints"),
        path: endpoint.path,
        primaries: primaries
            .into_iter()
            .filter_map(|t| {
                Some(PrimaryRow {
                    method: t.method?.as_str(),
                    created_at: super::pages::when(Some(t.created_at)),
                    last_used_at: super::pages::when(t.last_used_at),
                })
            })
            .collect(),
        assigned_only,
        assignments: rows
            .into_iter()
            .map(|r| AssignmentRow {
                methods: methods
                    .iter()
                    .map(|m| (m.as_str(), r.assignment.as_ref().is_some_and(|a| a.methods.contains(*m))))
                    .collect(),
                assigned: r.assignment.is_some(),
                enabled: r.assignment.as_ref().is_some_and(|a| a.enabled),
                token_id: r.token.id,
                name: r.token.name,
                token_enabled: r.token.enabled,
            })
            .collect(),
        endpoint_id: id,
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

async fn primary(
    post: AppPost,
    path: web::Path<(String, String, String)>,
    action: PrimaryValue,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id, method) = path.into_inner();
    if action == PrimaryValue::Regenerate {
        Console::confirmed(&form)?;
    }
    let method = Method::parse(&method).ok_or_else(|| ConsoleError::NotFound("no such method".into()))?;
    let state = &console.state;
    let token = endpoints::primary_value(&state.store, &state.data_keys, &app, &id, method, action)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("endpoint {id} has no {} token", method.as_str())))?;
    let verb = match action {
        PrimaryValue::Reveal => "reveal",
        PrimaryValue::Regenerate => "regenerate",
    };
    console.audit(&app, &format!("{verb} the {} primary token", method.as_str()), &id).await;
    let page = SecretPage {
        title: format!("{} primary token", method.as_str()),
        nav: console.nav(Some(&app), "endpoints"),
        explanation: match action {
            PrimaryValue::Reveal => "The endpoint's primary token for this method.".into(),
            PrimaryValue::Regenerate => "A new value; the old one stopped working.".into(),
        },
        secrets: vec![(format!("{} token", method.as_str()), token.expose().to_owned())],
        back: format!("/console/apps/{app}/endpoints/{id}"),
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/endpoints/{id}/primary-tokens/{method}/reveal`.
pub async fn reveal_primary(
    post: AppPost,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    primary(post, path, PrimaryValue::Reveal).await
}

/// `POST /console/apps/{app}/endpoints/{id}/primary-tokens/{method}/regenerate`.
pub async fn regenerate_primary(
    post: AppPost,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    primary(post, path, PrimaryValue::Regenerate).await
}

/// `POST /console/apps/{app}/endpoints/{id}/assignments/{token}`: maps the token
/// to the ticked methods (none ticked unmaps it).
pub async fn assign(
    post: AppPost,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id, token_id) = path.into_inner();
    let store = &console.state.store;
    let methods: Vec<Method> = form.all("methods").iter().filter_map(|m| Method::parse(m)).collect();
    if methods.is_empty() {
        store.delete_assignment(&app, &id, &token_id).await?;
        console.audit(&app, "unassign endpoint token", &format!("{id} {token_id}")).await;
    } else {
        let enabled = store.get_assignment(&app, &id, &token_id).await?.is_none_or(|a| a.enabled);
        endpoints::assign(store, &app, &id, &token_id, &methods, enabled, console.state.clock.now()).await?;
        console.audit(&app, "assign endpoint token", &format!("{id} {token_id}")).await;
    }
    Ok(see_other(&format!("/console/apps/{app}/endpoints/{id}")))
}

/// `POST /console/apps/{app}/endpoints/{id}/assignments/{token}/toggle`.
pub async fn toggle_assignment(
    post: AppPost,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, .. } = post;
    let (_, id, token_id) = path.into_inner();
    let store = &console.state.store;
    let current = store
        .get_assignment(&app, &id, &token_id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound("that token is not assigned to this endpoint".into()))?;
    store.set_assignment_enabled(&app, &id, &token_id, !current.enabled).await?;
    let verb = if current.enabled { "switch off" } else { "switch on" };
    console.audit(&app, &format!("{verb} endpoint token mapping"), &format!("{id} {token_id}")).await;
    Ok(see_other(&format!("/console/apps/{app}/endpoints/{id}")))
}

struct SecondaryRow {
    id: String,
    name: String,
    description: String,
    enabled: bool,
    last_used_at: String,
}

#[derive(Template)]
#[template(path = "console/endpoint_tokens.html")]
struct EndpointTokensPage {
    title: String,
    nav: Nav,
    app_id: String,
    inactive: bool,
    q: String,
    total: i64,
    tokens: Vec<SecondaryRow>,
    pager: String,
}

#[derive(Deserialize)]
pub struct TokensQuery {
    inactive: Option<bool>,
    q: Option<String>,
    offset: Option<i64>,
}

/// `GET /console/apps/{app}/endpoint-tokens[?inactive=true]`: active ones by default.
pub async fn tokens(page: AppPage, query: web::Query<TokensQuery>) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let inactive = query.inactive.unwrap_or(false);
    let offset = query.offset.unwrap_or(0).max(0);
    let search = query.q.as_deref().map(str::trim).unwrap_or_default();
    let filter = TokenFilter {
        enabled: Some(!inactive),
        name_contains: Some(search).filter(|s| !s.is_empty()),
        recent_first: true,
        ..TokenFilter::default()
    };
    let (rows, total) = console
        .state
        .store
        .list_platform_tokens(&app, TokenKind::EndpointSecondary, filter, PAGE, offset)
        .await?;
    let page = EndpointTokensPage {
        title: "Endpoint tokens".into(),
        nav: console.nav(Some(&app), "endpoint-tokens"),
        inactive,
        q: search.to_owned(),
        total,
        pager: pager(&format!("/console/apps/{app}/endpoint-tokens"), search, offset, PAGE, total),
        tokens: rows
            .into_iter()
            .map(|t| SecondaryRow {
                last_used_at: super::pages::when(t.last_used_at),
                id: t.id,
                name: t.name,
                description: t.description.unwrap_or_default(),
                enabled: t.enabled,
            })
            .collect(),
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

fn token_secret_page(
    console: &Console,
    app: &str,
    title: &str,
    explanation: &str,
    value: &str,
) -> HttpResponse {
    let page = SecretPage {
        title: title.to_owned(),
        nav: console.nav(Some(app), "endpoint-tokens"),
        explanation: explanation.to_owned(),
        secrets: vec![("Endpoint token".into(), value.to_owned())],
        back: format!("/console/apps/{app}/endpoint-tokens"),
    };
    html(StatusCode::OK, &page)
}

/// `POST /console/apps/{app}/endpoint-tokens`.
pub async fn create_token(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let new = NewToken {
        name: form.text("name").unwrap_or_default(),
        description: form.text("description"),
        ..NewToken::default()
    };
    let now = state.clock.now();
    let created = platform_tokens::mint(
        &state.store,
        &state.config,
        &state.data_keys,
        TokenKind::EndpointSecondary,
        &app,
        new,
        now,
    )
    .await?;
    console.audit(&app, "create endpoint token", &created.record.id).await;
    let title = format!("Endpoint token {}", created.record.name);
    Ok(token_secret_page(
        &console,
        &app,
        &title,
        "Assign it to endpoints on their pages.",
        created.token.expose(),
    ))
}

/// `POST /console/apps/{app}/endpoint-tokens/{id}/toggle`.
pub async fn toggle_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, .. } = post;
    let (_, id) = path.into_inner();
    let store = &console.state.store;
    let token = store
        .get_platform_token(&app, TokenKind::EndpointSecondary, &id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("endpoint token {id} not found")))?;
    let changes = TokenChanges { enabled: Some(!token.enabled), ..TokenChanges::default() };
    store.update_platform_token(&app, TokenKind::EndpointSecondary, &id, changes).await?;
    let verb = if token.enabled { "disable" } else { "enable" };
    console.audit(&app, &format!("{verb} endpoint token"), &id).await;
    // Back to the list that now holds it.
    let back = if token.enabled { "?inactive=true" } else { "" };
    Ok(see_other(&format!("/console/apps/{app}/endpoint-tokens{back}")))
}

/// `POST /console/apps/{app}/endpoint-tokens/{id}/delete`: the token and its mappings.
pub async fn delete_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    Console::confirmed(&form)?;
    let store = &console.state.store;
    if store.delete_platform_tokens(&app, TokenKind::EndpointSecondary, std::slice::from_ref(&id)).await? == 0
    {
        return Err(ConsoleError::NotFound(format!("endpoint token {id} not found")));
    }
    console.audit(&app, "delete endpoint token", &id).await;
    Ok(see_other(&format!("/console/apps/{app}/endpoint-tokens")))
}

/// `POST /console/apps/{app}/endpoints/{id}/delete`: with its primaries,
/// mappings and recorded calls.
pub async fn delete(post: AppPost, path: web::Path<(String, String)>) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    Console::confirmed(&form)?;
    if !console.state.store.delete_endpoint(&app, &id).await? {
        return Err(ConsoleError::NotFound(format!("endpoint {id} not found")));
    }
    console.audit(&app, "delete endpoint", &id).await;
    Ok(see_other(&format!("/console/apps/{app}/endpoints")))
}

/// `POST /console/apps/{app}/endpoint-tokens/{id}/reveal`.
pub async fn reveal_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, .. } = post;
    let (_, id) = path.into_inner();
    let state = &console.state;
    let token =
        platform_tokens::reveal(&state.store, &state.data_keys, TokenKind::EndpointSecondary, &app, &id)
            .await?
            .ok_or_else(|| ConsoleError::NotFound(format!("endpoint token {id} not found")))?;
    console.audit(&app, "reveal endpoint token", &id).await;
    Ok(token_secret_page(&console, &app, "Endpoint token", "Its current value.", token.expose()))
}

/// `POST /console/apps/{app}/endpoint-tokens/{id}/regenerate`.
pub async fn regenerate_token(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    Console::confirmed(&form)?;
    let state = &console.state;
    let token =
        platform_tokens::regenerate(&state.store, &state.data_keys, TokenKind::EndpointSecondary, &app, &id)
            .await?
            .ok_or_else(|| ConsoleError::NotFound(format!("endpoint token {id} not found")))?;
    console.audit(&app, "regenerate endpoint token", &id).await;
    let explanation = "A new value; the old one stopped working. Its mappings stay.";
    Ok(token_secret_page(&console, &app, "Endpoint token", explanation, token.expose()))
}

struct CallRow {
    at: String,
    calls: i64,
    method: &'static str,
    allowed: bool,
    token: String,
    reason: &'static str,
}

#[derive(Template)]
#[template(path = "console/calls.html")]
struct CallsPage {
    title: String,
    nav: Nav,
    token_choices: Vec<(String, String, bool)>,
    from: String,
    to: String,
    chart: String,
    total: i64,
    calls: Vec<CallRow>,
    pager: String,
}

#[derive(Deserialize)]
pub struct CallsQuery {
    token: Option<String>,
    from: Option<String>,
    to: Option<String>,
    offset: Option<i64>,
}

pub(super) fn day_start(text: &str, field: &str) -> Result<i64, ConsoleError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| ConsoleError::BadRequest(format!("{field} must be a day such as 2026-12-06")))
}

/// `GET /console/apps/{app}/endpoints/{id}/calls?token=&from=&to=`: the data viewer.
pub async fn calls(
    page: AppPage,
    path: web::Path<(String, String)>,
    query: web::Query<CallsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let (_, id) = path.into_inner();
    let state = &console.state;
    let endpoint = state
        .store
        .get_endpoint(&app, &id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("endpoint {id} not found")))?;
    let token = query.token.as_deref().filter(|t| !t.is_empty());
    let from = query.from.as_deref().filter(|t| !t.is_empty());
    let to = query.to.as_deref().filter(|t| !t.is_empty());
    let filter = CallFilter {
        token_id: token,
        from: from.map(|d| day_start(d, "from")).transpose()?,
        // The whole of the last day.
        to: to.map(|d| day_start(d, "to").map(|t| t + 86_400)).transpose()?,
    };
    state.endpoints.flush(&state.store).await?;
    let offset = query.offset.unwrap_or(0).max(0);
    let (rows, total) = state.store.list_endpoint_calls(&app, &id, filter, PAGE, offset).await?;
    let counts = state.store.endpoint_call_summary(&app, &id, filter).await?;
    let primaries = state.store.primary_tokens(&app, &id).await?;
    let all = TokenFilter::default();
    let (secondaries, _) =
        state.store.list_platform_tokens(&app, TokenKind::EndpointSecondary, all, 500, 0).await?;
    let token_choices = primaries
        .into_iter()
        .chain(secondaries)
        .map(|t| {
            let selected = token == Some(t.id.as_str());
            (t.id, t.name, selected)
        })
        .collect();
    let page = CallsPage {
        title: format!("Calls to {}", endpoint.name),
        nav: console.nav(Some(&app), "endpoints"),
        token_choices,
        from: from.unwrap_or_default().to_owned(),
        to: to.unwrap_or_default().to_owned(),
        chart: chart(&counts),
        total,
        pager: pager(&format!("/console/apps/{app}/endpoints/{id}/calls"), "", offset, PAGE, total),
        calls: rows
            .into_iter()
            .map(|r| CallRow {
                at: super::pages::when_seconds(r.call.at),
                calls: r.calls,
                method: r.call.method.as_str(),
                allowed: r.call.allowed,
                token: r.call.token.map(|t| t.name.to_string()).unwrap_or_else(|| "—".into()),
                reason: r.call.reason.map(|r| r.as_str()).unwrap_or(""),
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

const COLORS: [&str; 6] = ["#2457c5", "#b4451f", "#2e7d32", "#7b1fa2", "#00838f", "#6d4c41"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Calls per day (UTC) per token as stacked bars, with a legend; its numbers
/// are in the SVG's description for screen readers.
fn chart(counts: &[crate::domain::endpoints::CallCount]) -> String {
    if counts.is_empty() {
        return "<p class=\"hint\">No calls in this period.</p>".to_owned();
    }
    let mut days: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
    let mut tokens: Vec<String> = Vec::new();
    for c in counts {
        let name = c.token_name.clone().unwrap_or_else(|| "no token".to_owned());
        if !tokens.contains(&name) {
            tokens.push(name.clone());
        }
        days.entry(c.day).or_default().push((name, c.calls));
    }
    let days: Vec<(i64, Vec<(String, i64)>)> = days.into_iter().rev().take(31).rev().collect();
    let max = days.iter().map(|(_, v)| v.iter().map(|(_, n)| n).sum::<i64>()).max().unwrap_or(1).max(1);
    let (width, height, left, bottom) = (640.0_f64, 220.0_f64, 48.0_f64, 28.0_f64);
    let slot = (width - left) / days.len() as f64;
    let bar = (slot * 0.7).min(48.0);
    let index = |name: &str| tokens.iter().position(|t| t == name).unwrap_or(0) % COLORS.len();
    let color = |name: &str| COLORS[index(name)];
    let mut svg = String::new();
    let mut description = Vec::new();
    for (i, (day, parts)) in days.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = height - bottom;
        let label = super::pages::day(day * 86_400);
        for (name, n) in parts {
            let h = (height - bottom - 8.0) * *n as f64 / max as f64;
            y -= h;
            svg += &format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} on {label}: {n}</title></rect>",
                color(name),
                escape(name)
            );
            description.push(format!("{}: {n} on {label}", escape(name)));
        }
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6675\">{}</text>",
            x + bar / 2.0,
            height - 10.0,
            label.get(5..).unwrap_or(&label)
        );
    }
    let axis = format!(
        "<text x=\"4\" y=\"16\" font-size=\"11\" fill=\"#5b6675\">{max}</text>\
         <line x1=\"{left}\" y1=\"{0}\" x2=\"{width}\" y2=\"{0}\" stroke=\"#d9dee5\"/>",
        height - bottom
    );
    let legend: String = tokens
        .iter()
        .map(|t| format!("<li><span class=\"swatch c{}\"></span>{}</li>", index(t), escape(t)))
        .collect();
    format!(
        "<figure class=\"chart\"><svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-title\" \
         aria-describedby=\"chart-desc\"><desc id=\"chart-desc\">{}</desc>{axis}{svg}</svg>\
         <ul class=\"legend\">{legend}</ul></figure>",
        description.join("; ")
    )
}

//! The console's pages for OAuth clients: register (a confidential client's
//! secret shown once), change redirect URIs and scopes, rotate a secret, delete.
//! The domain decides (`domain::clients`), as for the admin API.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::pages::{day, ListQuery, SecretPage};
use super::{html, pager, see_other, AppPage, AppPost, Console, ConsoleError, Nav};
use crate::domain::clients::{self, Client, ClientChanges, NewClient};

const PAGE: i64 = 50;

struct ClientRow {
    id: String,
    name: String,
    client_type: &'static str,
    confidential: bool,
    grants: String,
    scope: String,
    /// One per line, for the form's text area.
    redirect_uris: String,
    post_logout_redirect_uris: String,
    created_at: String,
}

impl From<Client> for ClientRow {
    fn from(c: Client) -> Self {
        ClientRow {
            grants: c.grants.iter().map(|g| g.name()).collect::<Vec<_>>().join(", "),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            created_at: day(c.created_at),
            client_type: c.client_type.name(),
            confidential: c.client_type.is_confidential(),
            id: c.id,
            name: c.name,
            scope: c.scope,
        }
    }
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    title: String,
    nav: Nav,
    app_id: String,
    q: String,
    total: i64,
    clients: Vec<ClientRow>,
    pager: String,
}

/// `GET /console/apps/{app}/clients`.
pub async fn list(page: AppPage, query: web::Query<ListQuery>) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let search = query.search();
    let name = Some(search).filter(|s| !s.is_empty());
    let (rows, total) = console.state.store.search_clients(&app, name, PAGE, query.offset()).await?;
    let page = ClientsPage {
        title: "Clients".into(),
        nav: console.nav(Some(&app), "clients"),
        q: search.to_owned(),
        total,
        pager: pager(&format!("/console/apps/{app}/clients"), search, query.offset(), PAGE, total),
        clients: rows.into_iter().map(ClientRow::from).collect(),
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

fn lines(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// `POST /console/apps/{app}/clients`.
pub async fn register(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let new = NewClient {
        app_id: app.clone(),
        name: form.text("name").unwrap_or_default().to_owned(),
        client_type: form.text("client_type").unwrap_or_default().parse()?,
        redirect_uris: lines(form.get("redirect_uris")),
        post_logout_redirect_uris: lines(form.get("post_logout_redirect_uris")),
        grants: Vec::new(),
        scopes: vec![form.text("scopes").unwrap_or_default().to_owned()],
    };
    let created = clients::create(&state.store, &state.scopes, new, state.clock.now()).await?;
    console.audit(&app, "register client", &created.client.id).await;
    let back = format!("/console/apps/{app}/clients/{}", created.client.id);
    let Some(secret) = created.secret else {
        return Ok(see_other(&back));
    };
    let page = SecretPage {
        title: format!("Client {}", created.client.name),
        nav: console.nav(Some(&app), "clients"),
        explanation: format!("Client id {}. Its secret is shown only now.", created.client.id),
        secrets: vec![("Client secret".into(), secret.expose().to_owned())],
        back,
    };
    Ok(html(StatusCode::CREATED, &page))
}

#[derive(Template)]
#[template(path = "console/client.html")]
struct ClientPage {
    title: String,
    nav: Nav,
    app_id: String,
    client: ClientRow,
}

/// `GET /console/apps/{app}/clients/{id}`.
pub async fn show(page: AppPage, path: web::Path<(String, String)>) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let (_, id) = path.into_inner();
    let client = console
        .state
        .store
        .get_app_client(&app, &id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("client {id} not found")))?;
    let page = ClientPage {
        title: format!("Client {}", client.name),
        nav: console.nav(Some(&app), "clients"),
        client: client.into(),
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/clients/{id}`: replaces redirect URIs and scopes.
pub async fn change(post: AppPost, path: web::Path<(String, String)>) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    let state = &console.state;
    let changes = ClientChanges {
        redirect_uris: Some(lines(form.get("redirect_uris"))),
        post_logout_redirect_uris: Some(lines(form.get("post_logout_redirect_uris"))),
        scopes: Some(vec![form.text("scopes").unwrap_or_default().to_owned()]),
    };
    clients::change(&state.store, &state.scopes, &app, &id, changes, state.clock.now()).await?;
    console.audit(&app, "change client", &id).await;
    Ok(see_other(&format!("/console/apps/{app}/clients/{id}")))
}

/// `POST /console/apps/{app}/clients/{id}/secret/rotate`.
pub async fn rotate_secret(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    Console::confirmed(&form)?;
    let state = &console.state;
    let secret = clients::rotate_secret(&state.store, &app, &id, state.clock.now()).await?;
    console.audit(&app, "rotate client secret", &id).await;
    let page = SecretPage {
        title: "New client secret".into(),
        nav: console.nav(Some(&app), "clients"),
        explanation: format!("Client {id}: the old secret stopped working."),
        secrets: vec![("Client secret".into(), secret.expose().to_owned())],
        back: format!("/console/apps/{app}/clients/{id}"),
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/clients/{id}/delete`.
pub async fn delete(post: AppPost, path: web::Path<(String, String)>) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    Console::confirmed(&form)?;
    if id == crate::domain::console::client_id(&app) {
        return Err(ConsoleError::BadRequest("the console's own client keeps the console working".into()));
    }
    if !console.state.store.delete_client(&app, &id).await? {
        return Err(ConsoleError::NotFound(format!("client {id} not found")));
    }
    console.audit(&app, "delete client", &id).await;
    Ok(see_other(&format!("/console/apps/{app}/clients")))
}

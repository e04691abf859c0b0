//! The console's pages for an application's people: users (search, create,
//! enable or disable, delete), user types and departments. The domain decides
//! (`domain::users`, `domain::user_types`), as for the admin API.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::pages::ListQuery;
use super::{html, pager, see_other, AppPage, AppPost, Console, ConsoleError, Nav};
use crate::domain::user_types::{self, UserTypeView};
use crate::domain::users::{self, NewUser, UserChanges};
use crate::tokens::secret::Secret;

const PAGE: i64 = 50;

struct UserRow {
    id: String,
    username: String,
    email: String,
    department: String,
    user_type: String,
    admin: bool,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    title: String,
    nav: Nav,
    app_id: String,
    q: String,
    total: i64,
    users: Vec<UserRow>,
    pager: String,
    departments: Vec<String>,
    user_types: Vec<String>,
}

/// `GET /console/apps/{app}/users?q=&offset=`.
pub async fn users(page: AppPage, query: web::Query<ListQuery>) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let state = &console.state;
    let search = query.search();
    let (rows, total) =
        state.store.search_users(&app, Some(search).filter(|s| !s.is_empty()), PAGE, query.offset()).await?;
    let default_type = state.config.users.default_user_type.clone();
    let dash = || "—".to_owned();
    let mut types: Vec<String> = user_types::list(&state.store, &state.config, &state.scopes, &app)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    // The default first: what a user made without a choice gets.
    types.sort_by_key(|t| *t != default_type);
    let page = UsersPage {
        title: "Users".into(),
        nav: console.nav(Some(&app), "users"),
        q: search.to_owned(),
        total,
        pager: pager(&format!("/console/apps/{app}/users"), search, query.offset(), PAGE, total),
        users: rows
            .into_iter()
            .map(|u| UserRow {
                id: u.id,
                username: u.username,
                email: u.email.unwrap_or_else(dash),
                department: u.department.unwrap_or_else(dash),
                user_type: u.user_type.unwrap_or_else(|| default_type.clone()),
                admin: u.is_admin,
                enabled: u.enabled,
            })
            .collect(),
        departments: state.store.list_departments(&app).await?.into_iter().map(|d| d.name).collect(),
        user_types: types,
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/users`.
pub async fn create_user(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let new = NewUser {
        app_id: app.clone(),
        username: form.text("username").unwrap_or_default().to_owned(),
        email: form.text("email").map(str::to_owned),
        password: Secret::new(form.get("password").unwrap_or_default().to_owned()),
        department: form.text("department").map(str::to_owned),
        user_type: form.text("user_type").map(str::to_owned),
        is_admin: form.get("admin") == Some("yes"),
    };
    let user = users::create(&state.store, &state.config, new, state.clock.now()).await?;
    console.audit(&app, "create user", &user.id).await;
    Ok(see_other(&format!("/console/apps/{app}/users")))
}

/// `POST /console/apps/{app}/users/{id}/toggle`: enabled ⇄ disabled (disabling
/// ends the user's logins).
pub async fn toggle_user(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, .. } = post;
    let (_, id) = path.into_inner();
    let state = &console.state;
    let user = state
        .store
        .get_user(&app, &id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("user {id} not found")))?;
    let changes = UserChanges { enabled: Some(!user.enabled), ..UserChanges::default() };
    users::update(&state.store, &state.config, &app, &id, changes, state.clock.now()).await?;
    console.audit(&app, if user.enabled { "disable user" } else { "enable user" }, &id).await;
    Ok(see_other(&format!("/console/apps/{app}/users")))
}

/// `POST /console/apps/{app}/users/{id}/delete`.
pub async fn delete_user(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, id) = path.into_inner();
    Console::confirmed(&form)?;
    if id == console.session.user_id {
        return Err(ConsoleError::BadRequest("you cannot delete yourself while signed in".into()));
    }
    if !console.state.store.delete_user(&app, &id).await? {
        return Err(ConsoleError::NotFound(format!("user {id} not found")));
    }
    console.audit(&app, "delete user", &id).await;
    Ok(see_other(&format!("/console/apps/{app}/users")))
}

struct DepartmentRow {
    name: String,
    users: i64,
}

#[derive(Template)]
#[template(path = "console/user_types.html")]
struct UserTypesPage {
    title: String,
    nav: Nav,
    app_id: String,
    types: Vec<UserTypeView>,
    departments: Vec<DepartmentRow>,
}

/// `GET /console/apps/{app}/user-types`: user types and departments.
pub async fn user_types(page: AppPage) -> Result<HttpResponse, ConsoleError> {
    let AppPage { console, app, .. } = page;
    let state = &console.state;
    let page = UserTypesPage {
        title: "User types and departments".into(),
        nav: console.nav(Some(&app), "user-types"),
        types: user_types::list(&state.store, &state.config, &state.scopes, &app).await?,
        departments: state
            .store
            .list_departments(&app)
            .await?
            .into_iter()
            .map(|d| DepartmentRow { name: d.name, users: d.users })
            .collect(),
        app_id: app,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /console/apps/{app}/user-types`: defines or redefines one.
pub async fn define_user_type(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let name = form.text("name").unwrap_or_default();
    let scope = form.text("scope").unwrap_or_default();
    user_types::define(&state.store, &state.scopes, &app, name, scope, state.clock.now()).await?;
    console.audit(&app, "define user type", name).await;
    Ok(see_other(&format!("/console/apps/{app}/user-types")))
}

/// `POST /console/apps/{app}/user-types/{name}/delete`.
pub async fn delete_user_type(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, name) = path.into_inner();
    Console::confirmed(&form)?;
    let state = &console.state;
    match user_types::remove(&state.store, &state.config, &app, &name).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(ConsoleError::NotFound(format!("this application defines no user type {name}")))
        }
        Err(crate::domain::DomainError::Store(crate::store::StoreError::InUse(_))) => {
            return Err(ConsoleError::BadRequest(format!(
                "users still have the type {name}; give them another first"
            )))
        }
        Err(e) => return Err(e.into()),
    }
    console.audit(&app, "delete user type", &name).await;
    Ok(see_other(&format!("/console/apps/{app}/user-types")))
}

/// `POST /console/apps/{app}/departments`.
pub async fn add_department(post: AppPost) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let state = &console.state;
    let made =
        users::add_department(&state.store, &app, form.get("name").unwrap_or_default(), state.clock.now())
            .await?;
    console.audit(&app, "add department", &made.name).await;
    Ok(see_other(&format!("/console/apps/{app}/user-types")))
}

/// `POST /console/apps/{app}/departments/{name}/delete`: only an empty one.
pub async fn delete_department(
    post: AppPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let AppPost { console, app, form } = post;
    let (_, name) = path.into_inner();
    Console::confirmed(&form)?;
    match console.state.store.delete_department(&app, &name).await {
        Ok(true) => {}
        Ok(false) => return Err(ConsoleError::NotFound(format!("department {name} not found"))),
        Err(crate::store::StoreError::InUse(_)) => {
            return Err(ConsoleError::BadRequest(format!("users still belong to {name}; move them first")))
        }
        Err(e) => return Err(e.into()),
    }
    console.audit(&app, "delete department", &name).await;
    Ok(see_other(&format!("/console/apps/{app}/user-types")))
}

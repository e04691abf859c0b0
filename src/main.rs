//! The `tessera` command: parses the CLI, loads the configuration and calls the
//! library. Errors become one message on stderr and a non-zero exit code.

use std::io::Read;
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use ring::rand::SystemRandom;
use serde_json::json;

use tessera::config::{Config, Environment, LogFormat};
use tessera::domain::apps::DEFAULT_APP;
use tessera::domain::clients::{self, GrantType, NewClient};
use tessera::domain::scope::ScopeModel;
use tessera::domain::users::{self, NewUser};
use tessera::domain::{apps, now};
use tessera::store::Store;
use tessera::tokens::keys::{self, KeyOrigin};
use tessera::tokens::secret::Secret;

// The token endpoint allocates many small, short-lived values per request;
// mimalloc serves them faster than glibc's allocator (see bench/token.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "tessera", version, about = "OAuth 2.0 authorization server and token manager")]
struct Cli {
    /// The environment whose configuration to load: development, staging or production.
    #[arg(long, global = true, env = "TESSERA_ENV", default_value = "development")]
    env: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the OAuth endpoints.
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage applications.
    #[command(subcommand)]
    App(AppCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Make console administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage API tokens.
    #[command(subcommand, name = "api-token")]
    ApiToken(ApiTokenCommand),
    /// Manage endpoints secured by tokens.
    #[command(subcommand)]
    Endpoint(EndpointCommand),
    /// Manage secondary endpoint tokens.
    #[command(subcommand, name = "endpoint-token")]
    EndpointToken(EndpointTokenCommand),
    /// Look at a token offline.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Delete every row past its lifetime now (one sweeper pass), and print how many.
    Sweep {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum EndpointCommand {
    /// Create an endpoint; its primary tokens (POST, GET, and DELETE with
    /// --allow-delete) are printed once (an administrator can reveal them again).
    Create {
        #[arg(long)]
        name: String,
        /// Its path, such as /integrations/orders.
        #[arg(long)]
        path: String,
        #[arg(long = "allow-delete")]
        allow_delete: bool,
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// List an application's endpoints.
    List {
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum EndpointTokenCommand {
    /// Create a secondary endpoint token; it is printed once (an administrator
    /// can reveal it again).
    Create {
        /// Best the name of the integrating application.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Make it switched off.
        #[arg(long)]
        disabled: bool,
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// List an application's secondary endpoint tokens (never their values).
    List {
        /// true (the default): the enabled ones; false: the disabled ones; all: both.
        #[arg(long, default_value = "true", value_parser = ["true", "false", "all"])]
        enabled: String,
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ApiTokenCommand {
    /// Create an API token for a user; it is printed once (an administrator can
    /// reveal it again through the admin API).
    Create {
        /// The user, by username or id.
        #[arg(long)]
        user: String,
        /// How long it lives: `90d`, `12h`, `2w`, `3600s`; at most
        /// `tokens.api_max_lifetime`.
        #[arg(long = "expires-in")]
        expires_in: String,
        #[arg(long, default_value = "api token")]
        name: String,
        /// The department it acts with; the user's own when left out.
        #[arg(long)]
        department: Option<String>,
        /// The user type it acts with; the user's own when left out.
        #[arg(long = "user-type")]
        user_type: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// List an application's API tokens (never their values).
    List {
        /// Only the tokens of this user, by username or id.
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete API tokens by id; they stop at once.
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Say whether a string is a well-formed tessera token (prefix, length,
    /// checksum), without asking any server; exit status 1 when it is not.
    Check { token: String },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Create an application and print its id.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List applications.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; a confidential one's secret is printed here, once.
    Create(ClientCreate),
}

#[derive(Args)]
struct ClientCreate {
    #[arg(long)]
    name: String,
    /// public, confidential or mobile.
    #[arg(long = "type")]
    client_type: String,
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// A grant type as named in its RFC; repeat for several.
    #[arg(long = "grant")]
    grants: Vec<String>,
    /// A profile (master, mobile), `admin` or `object:action`; repeat for several.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    #[arg(long, default_value = DEFAULT_APP)]
    app: String,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create(UserCreate),
}

#[derive(Args)]
struct UserCreate {
    #[arg(long)]
    username: String,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    department: Option<String>,
    #[arg(long = "user-type")]
    user_type: Option<String>,
    /// Allow the user the `admin` scope besides what the user type allows, so that
    /// a client registered for `admin` can get admin API tokens for them.
    #[arg(long)]
    admin: bool,
    #[arg(long, default_value = DEFAULT_APP)]
    app: String,
    /// Read the password from standard input (the only way; it never goes on the command line).
    #[arg(long = "password-stdin", required = true)]
    password_stdin: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator: a user of type `administrator` allowed the
    /// `admin` scope, who signs in at /console. One of the `default` application
    /// manages every application; one of another application only that one.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value = DEFAULT_APP)]
        app: String,
        /// Read the password from standard input.
        #[arg(long = "password-stdin", required = true)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a new ES256 signing key into the keys directory and the database,
    /// where it becomes the active key on every running instance within one poll.
    Generate {
        #[arg(long)]
        json: bool,
    },
    /// Make a new signing key active on every running instance within one poll,
    /// without a restart; the previous key stays published until its tokens expire.
    Rotate {
        #[arg(long)]
        json: bool,
    },
    /// Import PKCS#8 PEM key files into the database; the newest becomes active
    /// when it is newer than the active key.
    Import {
        /// The key files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// List the signing keys and their state: active, retired (still published)
    /// or expired.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match start(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(cli: Cli) -> anyhow::Result<()> {
    if let Command::Token(TokenCommand::Check { token }) = &cli.command {
        // Offline: no configuration, no database.
        return match tessera::domain::platform_tokens::check_format(token.trim()) {
            Ok(kind) => {
                println!("well formed: a {} token", kind.name());
                Ok(())
            }
            Err(why) => anyhow::bail!("not a well-formed tessera token: {why}"),
        };
    }
    let environment: Environment = cli.env.parse()?;
    let config = Config::load(&Config::default_dir(), environment, std::env::vars())?;
    init_tracing(&config, matches!(cli.command, Command::Serve));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(execute(cli.command, config))
}

fn init_tracing(config: &Config, serving: bool) {
    // CLI commands print their answer on stdout; their logs stay quiet unless asked.
    let level = if serving { config.log.level.as_str() } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Text => logs.init(),
        // One JSON object per line, the span's fields (the request id) included.
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
    }
}

async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let listener = TcpListener::bind(&config.server.bind)
                .with_context(|| format!("cannot listen on {}", config.server.bind))?;
            let running = tessera::run(config, listener).await?;
            running.wait().await?;
            Ok(())
        }
        Command::Migrate => {
            let store = open(&config).await?;
            println!("database is up to date ({})", store.backend());
            Ok(())
        }
        Command::App(cmd) => app(cmd, &config).await,
        Command::Client(ClientCommand::Create(args)) => client_create(args, &config).await,
        Command::User(UserCommand::Create(args)) => user_create(args, &config).await,
        Command::Admin(AdminCommand::Create { username, email, app, password_stdin, json }) => {
            let args = UserCreate {
                username,
                email,
                department: None,
                user_type: Some("administrator".to_owned()),
                admin: true,
                app,
                password_stdin,
                json,
            };
            let issuer = config.issuer.clone();
            user_create(args, &config).await?;
            if !json {
                println!("sign in at {}/console", issuer.trim_end_matches('/'));
            }
            Ok(())
        }
        Command::Keys(cmd) => keys_command(cmd, &config).await,
        Command::Sweep { json } => {
            let store = open(&config).await?;
            let report = tessera::domain::sweep::sweep_once(&store, &config, now()).await?;
            if json {
                let deleted: serde_json::Map<String, serde_json::Value> =
                    report.deleted.iter().map(|(table, n)| ((*table).to_owned(), json!(n))).collect();
                println!("{}", json!({ "deleted": deleted, "total": report.total() }));
            } else {
                for (table, n) in &report.deleted {
                    println!("{table}\t{n}");
                }
            }
            Ok(())
        }
        Command::ApiToken(cmd) => api_token(cmd, &config).await,
        Command::Endpoint(cmd) => endpoint(cmd, &config).await,
        Command::EndpointToken(cmd) => endpoint_token(cmd, &config).await,
        Command::Token(TokenCommand::Check { .. }) => Ok(()),
    }
}

/// A user of `app` by id, else by username.
async fn find_user(store: &Store, app: &str, user: &str) -> anyhow::Result<tessera::domain::users::User> {
    if let Some(found) = store.get_user(app, user).await? {
        return Ok(found);
    }
    store.find_user(app, user).await?.with_context(|| format!("application `{app}` has no user `{user}`"))
}

/// `90d`, `12h`, `2w`, `3600s` (or bare seconds) in seconds.
fn parse_duration(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: i64 = number.parse().with_context(|| format!("`{text}` is not a duration such as 90d"))?;
    let unit = match unit {
        "s" => 1,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => anyhow::bail!("unknown duration unit `{other}`; use s, h, d or w"),
    };
    n.checked_mul(unit).filter(|s| *s > 0).with_context(|| format!("`{text}` is not a positive duration"))
}

async fn api_token(cmd: ApiTokenCommand, config: &Config) -> anyhow::Result<()> {
    use tessera::domain::platform_tokens::{self, NewToken, TokenKind};
    let store = open(config).await?;
    match cmd {
        ApiTokenCommand::Create { user, expires_in, name, department, user_type, description, app, json } => {
            let data_keys = tessera::tokens::sealed::DataKeys::new(&tessera::load_data_keys(config)?);
            let user = find_user(&store, &app, &user).await?;
            let now = now();
            let new = NewToken {
                name: &name,
                expires_at: Some(now + parse_duration(&expires_in)?),
                user: Some(&user),
                department: department.as_deref(),
                user_type: user_type.as_deref(),
                install_id: None,
                description: description.as_deref(),
                endpoint: None,
                disabled: false,
            };
            let created =
                platform_tokens::mint(&store, config, &data_keys, TokenKind::Api, &app, new, now).await?;
            let t = &created.record;
            if json {
                println!(
                    "{}",
                    json!({ "id": t.id, "token": created.token.expose(), "name": t.name, "user": user.id,
                        "department": t.department, "user_type": t.user_type,
                        "expires_at": t.expires_at.map(tessera::api::rfc3339), "tenant_id": t.app_id })
                );
            } else {
                println!("API token {} created for {} (id {})", t.name, user.username, t.id);
                println!("token: {}", created.token.expose());
            }
        }
        ApiTokenCommand::List { user, app, json } => {
            let user_id = match &user {
                Some(u) => Some(find_user(&store, &app, u).await?.id),
                None => None,
            };
            let filter = tessera::store::TokenFilter { user_id: user_id.as_deref(), ..Default::default() };
            let (rows, _) = store.list_platform_tokens(&app, TokenKind::Api, filter, 10_000, 0).await?;
            if json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|t| {
                        json!({ "id": t.id, "name": t.name, "user": t.user_id, "department": t.department,
                            "user_type": t.user_type, "expires_at": t.expires_at.map(tessera::api::rfc3339),
                            "last_used_at": t.last_used_at.map(tessera::api::rfc3339) })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for t in rows {
                    let expires = t.expires_at.map(tessera::api::rfc3339).unwrap_or_default();
                    println!("{}\t{}\t{}\t{}", t.id, t.name, t.user_id.unwrap_or_default(), expires);
                }
            }
        }
        ApiTokenCommand::Delete { ids, app } => {
            let deleted = store.delete_platform_tokens(&app, TokenKind::Api, &ids).await?;
            println!("deleted {deleted} of {} API tokens", ids.len());
            if deleted as usize != ids.len() {
                anyhow::bail!(
                    "{} of the ids are not API tokens of application `{app}`",
                    ids.len() - deleted as usize
                );
            }
        }
    }
    Ok(())
}

async fn endpoint(cmd: EndpointCommand, config: &Config) -> anyhow::Result<()> {
    use tessera::domain::endpoints::{self, NewEndpoint};
    let store = open(config).await?;
    match cmd {
        EndpointCommand::Create { name, path, allow_delete, app, json } => {
            let data_keys = tessera::tokens::sealed::DataKeys::new(&tessera::load_data_keys(config)?);
            let new = NewEndpoint { name: &name, path: &path, allow_delete };
            let made = endpoints::create(&store, config, &data_keys, &app, new, now()).await?;
            let e = &made.endpoint;
            let tokens: serde_json::Map<String, serde_json::Value> =
                made.primaries.iter().map(|(m, t)| (m.as_str().to_owned(), json!(t.expose()))).collect();
            if json {
                println!(
                    "{}",
                    json!({ "id": e.id, "name": e.name, "path": e.path, "allow_delete": e.allow_delete,
                        "primary_tokens": tokens })
                );
            } else {
                println!("endpoint {} at {} created with id {}", e.name, e.path, e.id);
                for (method, token) in &made.primaries {
                    println!("{} primary token: {}", method.as_str(), token.expose());
                }
            }
        }
        EndpointCommand::List { app, json } => {
            let (rows, _) = store.list_endpoints(&app, i64::MAX, 0).await?;
            if json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|e| {
                        let methods: Vec<_> = e.methods().iter().map(|m| m.as_str()).collect();
                        json!({ "id": e.id, "name": e.name, "path": e.path, "allow_delete": e.allow_delete,
                            "methods": methods, "created_at": tessera::api::rfc3339(e.created_at) })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for e in rows {
                    let methods: Vec<_> = e.methods().iter().map(|m| m.as_str()).collect();
                    println!("{}\t{}\t{}\t{}", e.id, e.name, e.path, methods.join(","));
                }
            }
        }
    }
    Ok(())
}

async fn endpoint_token(cmd: EndpointTokenCommand, config: &Config) -> anyhow::Result<()> {
    use tessera::domain::platform_tokens::{self, NewToken, TokenKind};
    let store = open(config).await?;
    match cmd {
        EndpointTokenCommand::Create { name, description, disabled, app, json } => {
            let data_keys = tessera::tokens::sealed::DataKeys::new(&tessera::load_data_keys(config)?);
            let new = NewToken {
                name: &name,
                description: description.as_deref(),
                disabled,
                ..NewToken::default()
            };
            let created = platform_tokens::mint(
                &store,
                config,
                &data_keys,
                TokenKind::EndpointSecondary,
                &app,
                new,
                now(),
            )
            .await?;
            let t = &created.record;
            if json {
                println!(
                    "{}",
                    json!({ "id": t.id, "token": created.token.expose(), "name": t.name,
                        "description": t.description, "enabled": t.enabled })
                );
            } else {
                println!("endpoint token {} created (id {})", t.name, t.id);
                println!("token: {}", created.token.expose());
            }
        }
        EndpointTokenCommand::List { enabled, app, json } => {
            let enabled = match enabled.as_str() {
                "all" => None,
                other => Some(other == "true"),
            };
            let filter = tessera::store::TokenFilter { enabled, ..Default::default() };
            let (rows, _) =
                store.list_platform_tokens(&app, TokenKind::EndpointSecondary, filter, i64::MAX, 0).await?;
            if json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|t| {
                        json!({ "id": t.id, "name": t.name, "description": t.description, "enabled": t.enabled,
                            "last_used_at": t.last_used_at.map(tessera::api::rfc3339) })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for t in rows {
                    let state = if t.enabled { "enabled" } else { "disabled" };
                    println!("{}\t{}\t{}\t{}", t.id, t.name, state, t.description.unwrap_or_default());
                }
            }
        }
    }
    Ok(())
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database).await?;
    store.migrate().await?;
    tessera::domain::platform_tokens::ensure_master_tokens(&store, now()).await?;
    Ok(store)
}

async fn app(cmd: AppCommand, config: &Config) -> anyhow::Result<()> {
    let store = open(config).await?;
    match cmd {
        AppCommand::Create { name, json } => {
            let created = apps::create(&store, &name, now()).await?;
            let (app, master) = (&created.app, created.master_token.expose());
            if json {
                println!("{}", json!({ "id": app.id, "name": app.name, "master_token": master }));
            } else {
                println!("application {} created with id {}", app.name, app.id);
                println!("master_token: {master}");
                println!("(the master token is shown only now; store it safely)");
            }
        }
        AppCommand::List { json } => {
            let list = store.list_apps().await?;
            if json {
                let items: Vec<_> = list.iter().map(|a| json!({ "id": a.id, "name": a.name })).collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for a in list {
                    println!("{}\t{}", a.id, a.name);
                }
            }
        }
    }
    Ok(())
}

async fn client_create(args: ClientCreate, config: &Config) -> anyhow::Result<()> {
    let scopes = ScopeModel::new(&config.scopes)?;
    let grants = args.grants.iter().map(|g| g.parse::<GrantType>()).collect::<Result<Vec<_>, _>>()?;
    let store = open(config).await?;
    let created = clients::create(
        &store,
        &scopes,
        NewClient {
            app_id: args.app,
            name: args.name,
            client_type: args.client_type.parse()?,
            redirect_uris: args.redirect_uris,
            post_logout_redirect_uris: args.post_logout_redirect_uris,
            grants,
            scopes: args.scopes,
        },
        now(),
    )
    .await?;
    let client = &created.client;
    if args.json {
        let mut out = json!({
            "client_id": client.id,
            "name": client.name,
            "type": client.client_type.name(),
            "app": client.app_id,
            "grants": client.grants.iter().map(|g| g.name()).collect::<Vec<_>>(),
            "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
            "scope": client.scope,
        });
        if let Some(secret) = &created.secret {
            out["client_secret"] = json!(secret.expose());
        }
        println!("{out}");
    } else {
        println!("client_id: {}", client.id);
        if let Some(secret) = &created.secret {
            println!("client_secret: {}", secret.expose());
            println!("(the secret is shown only now; store it safely)");
        }
    }
    Ok(())
}

async fn user_create(args: UserCreate, config: &Config) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password).context("cannot read the password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    let store = open(config).await?;
    if let Some(department) = args.department.as_deref().filter(|d| !d.is_empty()) {
        // The operator's shortcut: the CLI makes a missing department, and says so
        // (the admin API refuses one that does not exist, so a typo there is an error).
        let name = tessera::domain::valid_text("the department", department, 200)?;
        if store.insert_department(&args.app, &name, now()).await? {
            eprintln!("department `{name}` created in application {}", args.app);
        }
    }
    let user = users::create(
        &store,
        config,
        NewUser {
            app_id: args.app,
            username: args.username,
            email: args.email,
            password: Secret::new(password),
            department: args.department,
            user_type: args.user_type,
            is_admin: args.admin,
        },
        now(),
    )
    .await?;
    if args.json {
        println!(
            "{}",
            json!({ "id": user.id, "username": user.username, "app": user.app_id,
                    "department": user.department, "user_type": user.user_type, "admin": user.is_admin })
        );
    } else {
        println!("user {} created with id {}", user.username, user.id);
    }
    Ok(())
}

async fn keys_command(cmd: KeysCommand, config: &Config) -> anyhow::Result<()> {
    let rng = SystemRandom::new();
    let store = open(config).await?;
    let data_keys = tessera::tokens::sealed::DataKeys::new(&tessera::load_data_keys(config)?);
    let lifetime = config.tokens.access_token_ttl as i64;
    match cmd {
        KeysCommand::Generate { json } => {
            let key = keys::generate(&config.keys.dir, KeyOrigin::Cli, now(), &rng)?;
            tessera::domain::keys::store_key(&store, &data_keys, &key, true, now()).await?;
            if json {
                println!("{}", json!({ "kid": key.kid, "path": key.path.display().to_string() }));
            } else {
                println!("generated key {} in {}", key.kid, key.path.display());
                println!("it signs on every running instance within one poll");
            }
        }
        KeysCommand::Rotate { json } => {
            let key = tessera::domain::keys::rotate(&store, &data_keys, now()).await?;
            if json {
                println!("{}", json!({ "kid": key.kid, "state": "active" }));
            } else {
                println!("key {} is active; it signs on every running instance within one poll", key.kid);
                println!("the previous key stays in the JWKS until the tokens it signed have expired");
            }
        }
        KeysCommand::Import { files, json } => {
            let loaded = files.iter().map(|f| keys::load_file(f, &rng)).collect::<Result<Vec<_>, _>>()?;
            let imported = tessera::domain::keys::import(&store, &data_keys, loaded, now()).await?;
            if json {
                println!("{}", json!({ "imported": imported }));
            } else if imported.is_empty() {
                println!("every key was already in the database");
            } else {
                for kid in &imported {
                    println!("imported {kid}");
                }
            }
        }
        KeysCommand::List { json } => {
            let now = now();
            let rows = store.list_keys().await?;
            if json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|k| {
                        let state = k.state(now, lifetime);
                        json!({ "kid": k.kid, "alg": k.alg, "origin": k.origin, "created_at": k.created_at,
                                "activated_at": k.activated_at, "retired_at": k.retired_at,
                                "state": state.name(),
                                "active": state == tessera::domain::keys::KeyState::Active })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for k in &rows {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        k.kid,
                        k.alg,
                        k.origin,
                        k.created_at,
                        k.state(now, lifetime).name()
                    );
                }
            }
        }
    }
    Ok(())
}

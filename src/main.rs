//! The `tessera` command: parses the CLI, loads the configuration and calls the
//! library. Errors become one message on stderr and a non-zero exit code.

use std::io::Read;
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use ring::rand::SystemRandom;
use serde_json::json;

use tessera::config::{Config, Environment};
use tessera::domain::apps::DEFAULT_APP;
use tessera::domain::clients::{self, GrantType, NewClient};
use tessera::domain::keys::SigningKeyInfo;
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
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
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
enum KeysCommand {
    /// Generate a new ES256 signing key; the newest key signs after the next start.
    Generate {
        #[arg(long)]
        json: bool,
    },
    /// List the signing keys in the keys directory.
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
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
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
        Command::Keys(cmd) => keys_command(cmd, &config).await,
    }
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
    match cmd {
        KeysCommand::Generate { json } => {
            let key = keys::generate(&config.keys.dir, KeyOrigin::Cli, now(), &rng)?;
            let store = open(config).await?;
            store
                .register_key(&SigningKeyInfo {
                    kid: key.kid.clone(),
                    alg: keys::ALGORITHM.to_owned(),
                    origin: key.origin.name().to_owned(),
                    created_at: key.created_at,
                    seen_at: key.created_at,
                })
                .await?;
            if json {
                println!("{}", json!({ "kid": key.kid, "path": key.path.display().to_string() }));
            } else {
                println!("generated key {} in {}", key.kid, key.path.display());
                println!("restart the server to sign with it");
            }
        }
        KeysCommand::List { json } => {
            let loaded = keys::load_dir(&config.keys.dir, &rng)?;
            let active = loaded.last().map(|k| k.kid.clone());
            if json {
                let items: Vec<_> = loaded
                    .iter()
                    .map(|k| {
                        json!({ "kid": k.kid, "alg": keys::ALGORITHM, "origin": k.origin.name(),
                                     "created_at": k.created_at, "active": Some(&k.kid) == active.as_ref() })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for k in &loaded {
                    let mark = if Some(&k.kid) == active.as_ref() { "active" } else { "published" };
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        k.kid,
                        keys::ALGORITHM,
                        k.origin.name(),
                        k.created_at,
                        mark
                    );
                }
            }
        }
    }
    Ok(())
}

//! The `itinera-server` command: run the sync server, and manage users and tokens.

#![allow(clippy::print_stdout)]

mod import_command;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use itinera_core::policy::{Grant, Role};
use itinera_core::store::{DocumentStore, Durability};
use itinera_server::accounts::Directory;
use itinera_server::clock::{Clock, SystemClock};
use itinera_server::{ServerConfig, open_store};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Itinera's sync server: offline-first ERP and CRM documents for tour operators, over the
/// automerge-repo WebSocket protocol.
#[derive(Debug, Parser)]
#[command(name = "itinera-server", version)]
struct Cli {
    /// The data folder (the redb store lives in it).
    #[arg(
        long,
        global = true,
        env = "ITINERA_DATA",
        default_value = "./itinera-data"
    )]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage users (of a stopped server; use the admin API while it runs).
    #[command(subcommand)]
    User(UserCommand),
    /// Issue and revoke tokens (of a stopped server; use the admin API while it runs).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import accounts with contacts, or leads, from a CSV file into a running server.
    Import(import_command::ImportArgs),
    /// Check the store of a stopped server: every document loads and fits its kind.
    Check {
        /// Also list every document with its kind and owner.
        #[arg(long)]
        list: bool,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ITINERA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed a demo tour company into an empty data folder and print its users' tokens.
    #[arg(long, env = "ITINERA_DEMO")]
    demo: bool,
    /// Unload a document from memory after this many milliseconds without use.
    #[arg(long, env = "ITINERA_IDLE_UNLOAD_MS", default_value_t = 60_000)]
    idle_unload_ms: u64,
    /// The largest WebSocket frame accepted, in bytes.
    #[arg(long, env = "ITINERA_MAX_FRAME_BYTES", default_value_t = 32 * 1024 * 1024)]
    max_frame_bytes: usize,
    /// Bytes queued for one client before it is disconnected as too slow.
    #[arg(long, env = "ITINERA_MAX_OUTGOING_BYTES", default_value_t = 64 * 1024 * 1024)]
    max_outgoing_bytes: usize,
    /// Milliseconds between pings to each client.
    #[arg(long, env = "ITINERA_PING_INTERVAL_MS", default_value_t = 5_000)]
    ping_interval_ms: u64,
    /// Disconnect a client silent for this many milliseconds.
    #[arg(long, env = "ITINERA_CLIENT_TIMEOUT_MS", default_value_t = 30_000)]
    client_timeout_ms: u64,
    /// Commit without fsync (for benchmarks): a crash may lose acknowledged changes.
    #[arg(long, env = "ITINERA_RELAXED_DURABILITY")]
    relaxed_durability: bool,
    /// Worker threads (default: one per core).
    #[arg(long, env = "ITINERA_WORKERS")]
    workers: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A grant: territory:NAME, departure:DOC_ID or stock:DOC_ID (repeatable).
        #[arg(long = "grant", value_parser = parse_grant)]
        grants: Vec<Grant>,
        /// A password for the REST login.
        #[arg(long, env = "ITINERA_USER_PASSWORD")]
        password: Option<String>,
    },
    /// List users.
    List,
    /// Disable a user: their tokens stop working.
    Disable { name: String },
    /// Replace a user's grants.
    Grants {
        name: String,
        #[arg(long = "grant", value_parser = parse_grant)]
        grants: Vec<Grant>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a token; it is printed alone on the last line.
    Issue {
        name: String,
        /// How long it lasts: 90d, 12h, 30m, 45s (default: 90 days).
        #[arg(long, default_value = "90d", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Revoke a token, or every token of a user.
    Revoke {
        token: Option<String>,
        #[arg(long)]
        user: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("unknown role {text:?}: admin, office, sales or guide"))
}

fn parse_grant(text: &str) -> Result<Grant, String> {
    text.parse::<Grant>().map_err(|err| err.to_string())
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: u64 = number
        .parse()
        .map_err(|_| format!("bad duration {text:?}"))?;
    let seconds = match unit {
        "d" => number * 86_400,
        "h" => number * 3_600,
        "m" => number * 60,
        "s" | "" => number,
        _ => return Err(format!("bad duration unit in {text:?}: use d, h, m or s")),
    };
    Ok(Duration::from_secs(seconds))
}

fn main() -> ExitCode {
    // automerge instruments `load_changes` at INFO with the whole change graph as a field: a
    // subscriber that enables it formats every change hash of a document on every load (about a
    // tenth of the server's CPU on records with long histories, in the benchmarks).
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::level_filters::LevelFilter::INFO)
        .with_target("automerge", tracing::level_filters::LevelFilter::WARN);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .finish()
        .with(filter)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(cli.data, args),
        Command::User(command) => user(cli.data, command),
        Command::Token(command) => token(cli.data, command),
        Command::Check { list } => check(cli.data, list),
        Command::Import(args) => import_command::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("itinera-server: {err}");
            ExitCode::FAILURE
        }
    }
}

fn serve(data: PathBuf, args: ServeArgs) -> Result<(), String> {
    let defaults = ServerConfig::default();
    let config = ServerConfig {
        data_dir: data,
        listen: args.listen,
        idle_unload: Duration::from_millis(args.idle_unload_ms),
        max_frame_bytes: args.max_frame_bytes,
        max_outgoing_bytes: args.max_outgoing_bytes,
        ping_interval: Duration::from_millis(args.ping_interval_ms.max(1)),
        client_timeout: Duration::from_millis(args.client_timeout_ms),
        durability: if args.relaxed_durability {
            Durability::Relaxed
        } else {
            Durability::Immediate
        },
        workers: args.workers.unwrap_or(defaults.workers),
        ..defaults
    };
    if args.demo {
        let store = open_store(&config).map_err(|e| e.to_string())?;
        let tokens =
            itinera_server::demo::seed(store, SystemClock.now_ms()).map_err(|e| e.to_string())?;
        println!("demo company seeded; tokens:");
        for (user, role, token) in tokens {
            println!("  {user:<8} {role:<7} {token}");
        }
    }
    let system = actix_web::rt::System::new();
    system
        .block_on(itinera_server::serve(config, |address| {
            println!(
                "itinera-server listening on http://{address} (WebSocket: ws://{address}/sync)"
            );
        }))
        .map_err(|e| e.to_string())
}

fn directory(data: PathBuf) -> Result<Directory, String> {
    let config = ServerConfig {
        data_dir: data,
        ..ServerConfig::default()
    };
    let store = open_store(&config).map_err(|e| e.to_string())?;
    let store: Arc<dyn DocumentStore> = store;
    Directory::load(store).map_err(|e| e.to_string())
}

fn user(data: PathBuf, command: UserCommand) -> Result<(), String> {
    let directory = directory(data)?;
    match command {
        UserCommand::Add {
            name,
            role,
            grants,
            password,
        } => {
            let user = directory
                .add_user(
                    &name,
                    role,
                    &grants,
                    password.as_deref(),
                    SystemClock.now_ms(),
                )
                .map_err(|e| e.to_string())?;
            println!("added {} ({})", user.name, user.role.as_str());
        }
        UserCommand::List => {
            for user in directory.users() {
                let grants: Vec<&str> = user.grants.iter().map(String::as_str).collect();
                let status = if user.disabled { "disabled" } else { "active" };
                println!(
                    "{:<20} {:<7} {:<9} {}",
                    user.name,
                    user.role.as_str(),
                    status,
                    grants.join(" ")
                );
            }
        }
        UserCommand::Disable { name } => {
            directory.disable_user(&name).map_err(|e| e.to_string())?;
            println!("disabled {name}");
        }
        UserCommand::Grants { name, grants } => {
            directory
                .set_grants(&name, &grants)
                .map_err(|e| e.to_string())?;
            println!("grants of {name} set");
        }
    }
    Ok(())
}

fn token(data: PathBuf, command: TokenCommand) -> Result<(), String> {
    let directory = directory(data)?;
    match command {
        TokenCommand::Issue { name, ttl } => {
            let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
            let token = directory
                .issue_token(&name, Some(ttl_ms), SystemClock.now_ms())
                .map_err(|e| e.to_string())?;
            println!("token for {name}, valid for {}s:", ttl.as_secs());
            println!("{token}");
        }
        TokenCommand::Revoke {
            token: Some(token), ..
        } => {
            directory.revoke_token(&token).map_err(|e| e.to_string())?;
            println!("revoked");
        }
        TokenCommand::Revoke {
            token: None,
            user: Some(user),
        } => {
            let count = directory
                .revoke_user_tokens(&user)
                .map_err(|e| e.to_string())?;
            println!("revoked {count} tokens of {user}");
        }
        TokenCommand::Revoke {
            token: None,
            user: None,
        } => return Err("give a token or --user NAME".into()),
    }
    Ok(())
}

/// Opens the store (redb repairs it first if the server stopped without closing it), loads
/// every document and validates it; prints what it found and fails if anything is broken.
fn check(data: PathBuf, list: bool) -> Result<(), String> {
    let config = ServerConfig {
        data_dir: data,
        ..ServerConfig::default()
    };
    let store = open_store(&config).map_err(|e| e.to_string())?;
    let documents = store.documents().map_err(|e| e.to_string())?;
    let mut broken = Vec::new();
    for (id, _) in &documents {
        let problem = match store.load(*id) {
            Ok(Some(bytes)) => match itinera_core::document::load_bytes(&bytes) {
                Ok(doc) => itinera_core::document::validate(&doc)
                    .err()
                    .map(|err| err.to_string()),
                Err(err) => Some(format!("does not load: {err}")),
            },
            Ok(None) => Some("listed, but its data is missing".to_owned()),
            Err(err) => Some(format!("unreadable: {err}")),
        };
        if let Some(problem) = problem {
            broken.push((*id, problem));
        }
    }
    println!(
        "{} documents checked, {} broken",
        documents.len(),
        broken.len()
    );
    for (id, problem) in &broken {
        println!("  {id}: {problem}");
    }
    if list {
        for (id, meta) in &documents {
            println!(
                "  {id} {} {}",
                meta.kind.as_deref().unwrap_or("generic"),
                meta.owner.as_deref().unwrap_or("-")
            );
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(format!("{} documents are broken", broken.len()))
    }
}

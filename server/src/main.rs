//! The `itinera-server` command: set up a data folder, run the sync server, manage users and
//! tokens, back up, restore, export and import.
//!
//! Every setting comes, highest precedence first, from a flag, its environment variable, the
//! TOML file given by `--config` (or `ITINERA_CONFIG`), or the built-in default.

#![allow(clippy::print_stdout)]

mod import_command;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use itinera_core::policy::{Grant, Role};
use itinera_core::store::{DocumentStore, Durability};
use itinera_server::account_admin::AccountAdmin;
use itinera_server::admin_client::{AdminClient, TOKEN_ENV};
use itinera_server::clock::{Clock, SystemClock};
use itinera_server::config_file::ConfigFile;
use itinera_server::logging::LogFormat;
use itinera_server::operation_error::OperationError;
use itinera_server::secret_input::PasswordSource;
use itinera_server::{ServerConfig, StoreLocation, audit, backup, export, open_store};

/// Itinera's sync server: offline-first ERP and CRM documents for tour operators, over the
/// automerge-repo WebSocket protocol.
#[derive(Debug, Parser)]
#[command(name = "itinera-server", version)]
struct Cli {
    /// The data folder (the redb store lives in it) [default: ./itinera-data].
    #[arg(long, global = true, env = "ITINERA_DATA")]
    data: Option<PathBuf>,
    /// A TOML file with settings; flags and environment variables override it.
    #[arg(long, global = true, env = "ITINERA_CONFIG")]
    config: Option<PathBuf>,
    /// Log filter in RUST_LOG syntax: `info`, `warn,itinera_server=debug`,
    /// `info,itinera_server::access=warn` (no access log) [default: info].
    #[arg(long, global = true, env = "RUST_LOG")]
    log: Option<String>,
    /// Log lines as text or one JSON object per line [default: text].
    #[arg(long, global = true, env = "ITINERA_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Where documents, users and tokens are kept: a PostgreSQL URL
    /// (postgres://user@host:port/database) that several nodes may share [default: the redb
    /// file in the data folder].
    #[arg(long, global = true, env = "ITINERA_STORE", value_parser = StoreLocation::parse)]
    store: Option<StoreLocation>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the data folder (mode 0700) and its first admin; print a token for them.
    Init(InitArgs),
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Manage users: in a stopped server's data folder, or with --server through a running one.
    User {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Issue and revoke tokens: offline, or with --server through a running server.
    Token {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Show the newest entries of the audit trail of admin actions.
    Audit {
        #[command(flatten)]
        remote: Remote,
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Check the store of a stopped server: every document loads and fits its kind.
    Check {
        /// Also list every document with its kind and owner.
        #[arg(long)]
        list: bool,
    },
    /// Write a consistent backup of the store to DEST (`-` for standard output): of a running
    /// server with --server, else of the stopped server's data folder.
    Backup {
        dest: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
    /// Rebuild the data folder's store from a backup file (the server must be stopped).
    Restore {
        backup: PathBuf,
        /// Replace an existing store, which is kept beside as itinera.redb.before-restore-TIME.
        #[arg(long)]
        force: bool,
    },
    /// Write every document (as .automerge files), user, token hash and value into a new
    /// folder: from a stopped server's data folder, or from a backup file.
    Export {
        dest: PathBuf,
        /// Export the store inside this backup file instead of the data folder.
        #[arg(long)]
        from_backup: Option<PathBuf>,
    },
    /// Read an export into an empty data folder.
    Import { source: PathBuf },
    /// Import accounts with contacts, or leads, from a CRM's or a spreadsheet's CSV file into a
    /// running server, through its API.
    ImportCsv(import_command::ImportArgs),
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The first admin's user name.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// A file holding the admin's password (else ITINERA_ADMIN_PASSWORD, else a prompt).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// How long the printed token lasts: 90d, 12h, 30m, 45s.
    #[arg(long, default_value = "90d", value_parser = parse_ttl)]
    token_ttl: Duration,
}

/// Every flag of `serve`; unset ones come from the config file's `[serve]` table or the
/// defaults.
#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "ITINERA_LISTEN")]
    listen: Option<SocketAddr>,
    /// Seed a demo tour company into an empty data folder and print its users' tokens.
    #[arg(long, env = "ITINERA_DEMO")]
    demo: bool,
    /// Unload a document from memory after this many milliseconds without use [default: 60000].
    #[arg(long, env = "ITINERA_IDLE_UNLOAD_MS")]
    idle_unload_ms: Option<u64>,
    /// The largest WebSocket frame accepted, in bytes [default: 33554432].
    #[arg(long, env = "ITINERA_MAX_FRAME_BYTES")]
    max_frame_bytes: Option<usize>,
    /// Bytes queued for one client before it is disconnected as too slow [default: 67108864].
    #[arg(long, env = "ITINERA_MAX_OUTGOING_BYTES")]
    max_outgoing_bytes: Option<usize>,
    /// Milliseconds between pings to each client [default: 5000].
    #[arg(long, env = "ITINERA_PING_INTERVAL_MS")]
    ping_interval_ms: Option<u64>,
    /// Disconnect a client silent for this many milliseconds [default: 30000].
    #[arg(long, env = "ITINERA_CLIENT_TIMEOUT_MS")]
    client_timeout_ms: Option<u64>,
    /// The most documents one connection may have open at once [default: 20000].
    #[arg(long, env = "ITINERA_MAX_DOCUMENTS_PER_SESSION")]
    max_documents_per_session: Option<usize>,
    /// The most messages one connection may send per second, in bursts of ten seconds' worth
    /// [default: 5000].
    #[arg(long, env = "ITINERA_MAX_MESSAGES_PER_SECOND")]
    max_messages_per_second: Option<u32>,
    /// The largest REST request body, in bytes [default: 1048576].
    #[arg(long, env = "ITINERA_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// How long a title stays unchanged before a new one is written to the indexes again, in
    /// milliseconds [default: 60000].
    #[arg(long, env = "ITINERA_INDEX_TITLE_QUIET_MS", hide = true)]
    index_title_quiet_ms: Option<u64>,
    /// The most connections one user may hold open at once [default: 32].
    #[arg(long, env = "ITINERA_MAX_SESSIONS_PER_USER")]
    max_sessions_per_user: Option<usize>,
    /// A reverse proxy stands in front: take each client's address (for the login limits)
    /// from the last X-Forwarded-For entry, which the proxy appends.
    #[arg(long, env = "ITINERA_BEHIND_PROXY")]
    behind_proxy: bool,
    /// Serve TLS (https://, wss://) with this PEM certificate chain; needs --tls-key.
    #[arg(long, env = "ITINERA_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "ITINERA_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Commit without fsync (for benchmarks): a crash may lose acknowledged changes.
    #[arg(long, env = "ITINERA_RELAXED_DURABILITY")]
    relaxed_durability: bool,
    /// Worker threads [default: one per core].
    #[arg(long, env = "ITINERA_WORKERS")]
    workers: Option<usize>,
    /// The most MiB of the store's pages kept in memory, besides the operating system's page
    /// cache [default: 64].
    #[arg(long, env = "ITINERA_STORE_CACHE_MB")]
    store_cache_mb: Option<usize>,
    /// The IANA time zone the company keeps its books in [default: Europe/Budapest].
    #[arg(long, env = "ITINERA_TIME_ZONE")]
    time_zone: Option<String>,
    /// The invoice number series in use, comma-separated (an empty item is the unnamed series)
    /// [default: ,A,B,CN].
    #[arg(long, env = "ITINERA_INVOICE_SERIES", value_delimiter = ',')]
    invoice_series: Option<Vec<String>>,
    /// The region (ISO 3166, such as HU) phone numbers without a country code are read in
    /// [default: HU].
    #[arg(long, env = "ITINERA_PHONE_REGION")]
    phone_region: Option<String>,
    /// Issue and payment dates older than this many days need office's approval [default: 60].
    #[arg(long, env = "ITINERA_BACKDATE_LIMIT_DAYS")]
    backdate_limit_days: Option<i64>,
}

/// The company's conventions: flags (or their environment variables), then the config file's
/// `[company]` table, then the defaults.
fn company_settings(
    args: &ServeArgs,
    file: &itinera_server::config_file::CompanyFileSettings,
) -> itinera_server::config::CompanySettings {
    let defaults = itinera_server::config::CompanySettings::default();
    itinera_server::config::CompanySettings {
        time_zone: args
            .time_zone
            .clone()
            .or_else(|| file.time_zone.clone())
            .unwrap_or(defaults.time_zone),
        invoice_series: args
            .invoice_series
            .clone()
            .or_else(|| file.invoice_series.clone())
            .unwrap_or(defaults.invoice_series),
        phone_region: args
            .phone_region
            .clone()
            .or_else(|| file.phone_region.clone())
            .unwrap_or(defaults.phone_region),
        backdate_limit_days: args
            .backdate_limit_days
            .or(file.backdate_limit_days)
            .unwrap_or(defaults.backdate_limit_days),
    }
}

/// How the admin commands reach a running server.
#[derive(Debug, Args)]
struct Remote {
    /// The running server's own address (http://127.0.0.1:8080); without it the command works
    /// on the stopped server's data folder.
    #[arg(long, global = true, env = "ITINERA_SERVER")]
    server: Option<String>,
    /// A file holding an admin token (else the ITINERA_ADMIN_TOKEN variable).
    #[arg(long, global = true, env = "ITINERA_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,
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
        /// A file holding a password for the REST login (else ITINERA_USER_PASSWORD).
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Ask for a password at the terminal.
        #[arg(long)]
        prompt_password: bool,
    },
    /// List users.
    List,
    /// Disable a user: their tokens stop working.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Set a user's password (from --password-file, ITINERA_USER_PASSWORD or a prompt).
    SetPassword {
        name: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Change a user's role.
    SetRole {
        name: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
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

/// A token lifetime as people write it (`90d`, `12h 30m`, `45s`; `0s` is expired at once),
/// refused when longer than the directory allows.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(text).map_err(|err| format!("{text:?}: {err}"))?;
    let max = Duration::from_millis(
        u64::try_from(itinera_server::accounts::MAX_TOKEN_TTL_MS).unwrap_or(u64::MAX),
    );
    if ttl > max {
        return Err(format!(
            "{text:?}: a token lasts at most {}",
            humantime::format_duration(max)
        ));
    }
    Ok(ttl)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// What every command needs: the settings after precedence, and where the store is.
struct Context {
    file: ConfigFile,
    data: PathBuf,
    store: StoreLocation,
}

impl Context {
    fn store_path(&self) -> PathBuf {
        self.server_config().store_path()
    }

    fn server_config(&self) -> ServerConfig {
        ServerConfig {
            data_dir: self.data.clone(),
            store: self.store.clone(),
            ..ServerConfig::default()
        }
    }

    /// The users of the running server given by `remote` (or the config file), else of the
    /// data folder.
    fn accounts(&self, remote: &Remote) -> Result<AccountAdmin, OperationError> {
        match self.client(remote)? {
            Some(client) => Ok(AccountAdmin::Online(client)),
            None => match &self.store {
                StoreLocation::DataFolder => {
                    AccountAdmin::offline(&self.store_path(), audit::cli_actor())
                }
                // A shared database: the same users whether a node runs or not.
                StoreLocation::Postgres(_) => {
                    let store = open_store(&self.server_config())
                        .map_err(|err| OperationError::Refused(err.to_string()))?;
                    AccountAdmin::with_store(store, audit::cli_actor())
                }
            },
        }
    }

    fn client(&self, remote: &Remote) -> Result<Option<AdminClient>, OperationError> {
        let Some(server) = remote.server.as_ref().or(self.file.server.as_ref()) else {
            return Ok(None);
        };
        let token_file = remote
            .admin_token_file
            .as_ref()
            .or(self.file.admin_token_file.as_ref());
        let token = match token_file {
            Some(path) => std::fs::read_to_string(path).map_err(OperationError::file(path))?,
            None => std::env::var(TOKEN_ENV).map_err(|_| {
                OperationError::Refused(format!(
                    "--server needs an admin token: set {TOKEN_ENV} or give --admin-token-file"
                ))
            })?,
        };
        Ok(Some(AdminClient::new(server, &token)?))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::debug!(error = %err, "command failed");
            eprintln!("itinera-server: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), OperationError> {
    let file = match &cli.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let log = cli.log.as_deref().or(file.log.as_deref());
    let format = cli.log_format.or(file.log_format).unwrap_or_default();
    itinera_server::logging::init(log, format).map_err(OperationError::Refused)?;
    let data = cli
        .data
        .or_else(|| file.data.clone())
        .unwrap_or_else(|| PathBuf::from("./itinera-data"));
    let store = cli.store.unwrap_or(StoreLocation::DataFolder);
    let context = Context { file, data, store };
    let now = SystemClock.now_ms();
    match cli.command {
        Command::Init(args) => init(&context, args, now),
        Command::Serve(args) => serve(&context, *args),
        Command::User { remote, command } => user(&context.accounts(&remote)?, command, now),
        Command::Token { remote, command } => token(&context.accounts(&remote)?, command, now),
        Command::Audit { remote, limit } => show_audit(&context.accounts(&remote)?, limit),
        Command::Check { list } => check(&context, list),
        Command::Backup { dest, remote } => run_backup(&context, &remote, &dest),
        Command::Restore { backup, force } => run_restore(&context, &backup, force),
        Command::Export { dest, from_backup } => run_export(&context, &dest, from_backup, now),
        Command::Import { source } => run_import(&context, &source),
        Command::ImportCsv(args) => import_command::run(args).map_err(OperationError::Refused),
    }
}

fn init(context: &Context, args: InitArgs, now: i64) -> Result<(), OperationError> {
    let password = PasswordSource {
        file: args.password_file.as_deref(),
        env: "ITINERA_ADMIN_PASSWORD",
    }
    .require(&format!("password for {}", args.admin))?;
    let token = itinera_server::init::init(
        &context.data,
        &context.store_path(),
        &args.admin,
        &password,
        millis(args.token_ttl),
        &audit::cli_actor(),
        now,
    )?;
    println!(
        "initialised {} with admin {}; their token, valid for {}s (keep it secret; use it as \
         {TOKEN_ENV} for the admin commands):",
        context.data.display(),
        args.admin,
        args.token_ttl.as_secs()
    );
    println!("{token}");
    Ok(())
}

fn serve(context: &Context, args: ServeArgs) -> Result<(), OperationError> {
    let defaults = ServerConfig::default();
    let company = company_settings(&args, &context.file.company);
    let file = &context.file.serve;
    let relaxed = args.relaxed_durability || file.relaxed_durability.unwrap_or(false);
    let config = ServerConfig {
        data_dir: context.data.clone(),
        store: context.store.clone(),
        listen: args.listen.or(file.listen).unwrap_or(defaults.listen),
        idle_unload: args
            .idle_unload_ms
            .or(file.idle_unload_ms)
            .map_or(defaults.idle_unload, Duration::from_millis),
        max_frame_bytes: args
            .max_frame_bytes
            .or(file.max_frame_bytes)
            .unwrap_or(defaults.max_frame_bytes),
        max_outgoing_bytes: args
            .max_outgoing_bytes
            .or(file.max_outgoing_bytes)
            .unwrap_or(defaults.max_outgoing_bytes),
        ping_interval: args
            .ping_interval_ms
            .or(file.ping_interval_ms)
            .map_or(defaults.ping_interval, |ms| {
                Duration::from_millis(ms.max(1))
            }),
        client_timeout: args
            .client_timeout_ms
            .or(file.client_timeout_ms)
            .map_or(defaults.client_timeout, Duration::from_millis),
        durability: if relaxed {
            Durability::Relaxed
        } else {
            Durability::Immediate
        },
        workers: args.workers.or(file.workers).unwrap_or(defaults.workers),
        store_cache_bytes: args
            .store_cache_mb
            .or(file.store_cache_mb)
            .map_or(defaults.store_cache_bytes, |mb| {
                mb.saturating_mul(1024 * 1024)
            }),
        max_documents_per_session: args
            .max_documents_per_session
            .or(file.max_documents_per_session)
            .unwrap_or(defaults.max_documents_per_session),
        max_messages_per_second: args
            .max_messages_per_second
            .or(file.max_messages_per_second)
            .unwrap_or(defaults.max_messages_per_second),
        max_body_bytes: args
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(defaults.max_body_bytes),
        index_title_quiet: args
            .index_title_quiet_ms
            .map_or(defaults.index_title_quiet, Duration::from_millis),
        max_sessions_per_user: args
            .max_sessions_per_user
            .or(file.max_sessions_per_user)
            .unwrap_or(defaults.max_sessions_per_user),
        behind_proxy: args.behind_proxy || file.behind_proxy.unwrap_or(false),
        seed_demo: args.demo,
        tls: match (
            args.tls_cert.or_else(|| file.tls_cert.clone()),
            args.tls_key.or_else(|| file.tls_key.clone()),
        ) {
            (Some(cert), Some(key)) => Some(itinera_server::tls::TlsFiles { cert, key }),
            (None, None) => None,
            _ => {
                return Err(OperationError::Refused(
                    "TLS needs both a certificate (tls_cert) and its key (tls_key)".into(),
                ));
            }
        },
        company,
        ..defaults
    };
    itinera_server::init::create_private_folder(&config.data_dir)?;
    let system = actix_web::rt::System::new();
    system
        .block_on(itinera_server::serve(config, |started| {
            if !started.demo_users.is_empty() {
                println!(
                    "demo company seeded; every demo user's password is {:?}; tokens:",
                    itinera_server::demo::DEMO_PASSWORD
                );
                for (user, role, token) in &started.demo_users {
                    println!("  {user:<8} {role:<7} {token}");
                }
            }
            let address = started.address;
            let (http, ws) = if started.tls {
                ("https", "wss")
            } else {
                ("http", "ws")
            };
            println!(
                "itinera-server listening on {http}://{address} (WebSocket: {ws}://{address}/sync)"
            );
        }))
        .map_err(|e| OperationError::Refused(e.to_string()))
}

fn print_user(user: &itinera_server::account_admin::UserView) {
    let status = if user.disabled { "disabled" } else { "active" };
    println!(
        "{:<20} {:<7} {:<9} {}",
        user.name,
        user.role,
        status,
        user.grants.join(" ")
    );
}

fn user(accounts: &AccountAdmin, command: UserCommand, now: i64) -> Result<(), OperationError> {
    match command {
        UserCommand::Add {
            name,
            role,
            grants,
            password_file,
            prompt_password,
        } => {
            let source = PasswordSource {
                file: password_file.as_deref(),
                env: "ITINERA_USER_PASSWORD",
            };
            let password = if prompt_password {
                Some(source.require(&format!("password for {name}"))?)
            } else if password_file.is_some() || std::env::var_os(source.env).is_some() {
                source.read("password")?
            } else {
                None
            };
            let user = accounts.add_user(&name, role, &grants, password.as_deref(), now)?;
            println!("added {} ({})", user.name, user.role);
        }
        UserCommand::List => accounts.users()?.iter().for_each(print_user),
        UserCommand::Disable { name } => {
            accounts.set_disabled(&name, true, now)?;
            println!("disabled {name}");
        }
        UserCommand::Enable { name } => {
            accounts.set_disabled(&name, false, now)?;
            println!("enabled {name}");
        }
        UserCommand::SetPassword {
            name,
            password_file,
        } => {
            let password = PasswordSource {
                file: password_file.as_deref(),
                env: "ITINERA_USER_PASSWORD",
            }
            .require(&format!("new password for {name}"))?;
            accounts.set_password(&name, &password, now)?;
            println!("password of {name} set");
        }
        UserCommand::SetRole { name, role } => {
            accounts.set_role(&name, role, now)?;
            println!("{name} is now {}", role.as_str());
        }
        UserCommand::Grants { name, grants } => {
            accounts.set_grants(&name, &grants, now)?;
            println!("grants of {name} set");
        }
    }
    Ok(())
}

fn token(accounts: &AccountAdmin, command: TokenCommand, now: i64) -> Result<(), OperationError> {
    match command {
        TokenCommand::Issue { name, ttl } => {
            let token = accounts.issue_token(&name, millis(ttl), now)?;
            println!("token for {name}, valid for {}s:", ttl.as_secs());
            println!("{token}");
        }
        TokenCommand::Revoke { token, user } => {
            let count = accounts.revoke(token.as_deref(), user.as_deref(), now)?;
            println!("revoked {count}");
        }
    }
    Ok(())
}

fn show_audit(accounts: &AccountAdmin, limit: usize) -> Result<(), OperationError> {
    for entry in accounts.audit(limit)? {
        println!(
            "{} {:<16} {:<18} {:<20} {}",
            entry.at, entry.actor, entry.action, entry.target, entry.detail
        );
    }
    Ok(())
}

fn run_backup(context: &Context, remote: &Remote, dest: &Path) -> Result<(), OperationError> {
    let outcome = match context.client(remote)? {
        Some(client) => backup::backup_running(&client, dest)?,
        None => backup::backup_stopped(&context.store_path(), dest)?,
    };
    if dest != Path::new("-") {
        println!(
            "backed up {} records (store layout {}) to {}: {} bytes in {:.1}s",
            outcome.report.records,
            outcome.report.layout,
            dest.display(),
            outcome.report.bytes,
            outcome.took.as_secs_f64()
        );
    }
    Ok(())
}

fn run_restore(context: &Context, source: &Path, force: bool) -> Result<(), OperationError> {
    let outcome = backup::restore(source, &context.store_path(), force)?;
    if let Some(aside) = &outcome.moved_aside {
        println!("the previous store is kept as {}", aside.display());
    }
    println!(
        "restored {} records (store layout {}) into {} in {:.1}s; run `itinera-server check`",
        outcome.report.records,
        outcome.report.layout,
        context.store_path().display(),
        outcome.took.as_secs_f64()
    );
    Ok(())
}

fn run_export(
    context: &Context,
    dest: &Path,
    from_backup: Option<PathBuf>,
    now: i64,
) -> Result<(), OperationError> {
    let moved = match from_backup {
        Some(backup_file) => {
            let scratch =
                std::env::temp_dir().join(format!("itinera-export-{}-{now}", std::process::id()));
            let store_path = scratch.join("itinera.redb");
            let exported = backup::restore(&backup_file, &store_path, false).and_then(|_| {
                let store = itinera_core::store::RedbStore::open(&store_path)?;
                export::export(&store, dest, now)
            });
            let _ = std::fs::remove_dir_all(&scratch);
            exported?
        }
        None => {
            let store = open_store(&context.server_config()).map_err(|err| match err {
                itinera_server::Error::Store(itinera_core::store::StoreError::AlreadyOpen {
                    ..
                }) => OperationError::Refused(
                    "a running server holds the store: take a backup with --server, then \
                     export --from-backup FILE"
                        .into(),
                ),
                other => OperationError::Refused(other.to_string()),
            })?;
            export::export(&*store, dest, now)?
        }
    };
    println!(
        "exported {} documents and {} values to {} in {:.1}s",
        moved.documents,
        moved.values,
        dest.display(),
        moved.took.as_secs_f64()
    );
    Ok(())
}

fn run_import(context: &Context, source: &Path) -> Result<(), OperationError> {
    let moved = export::import(source, &context.store_path())?;
    println!(
        "imported {} documents and {} values into {} in {:.1}s",
        moved.documents,
        moved.values,
        context.data.display(),
        moved.took.as_secs_f64()
    );
    Ok(())
}

/// Opens the store (redb repairs it first if the server stopped without closing it), loads
/// every document and validates it; prints what it found and fails if anything is broken. On
/// redb it also prints the file's layout and its history.
fn check(context: &Context, list: bool) -> Result<(), OperationError> {
    let (store, redb): (Arc<dyn DocumentStore>, _) = match &context.store {
        StoreLocation::DataFolder => {
            let redb = Arc::new(itinera_core::store::RedbStore::open(context.store_path())?);
            (redb.clone(), Some(redb))
        }
        StoreLocation::Postgres(_) => {
            let store = open_store(&context.server_config())
                .map_err(|err| OperationError::Refused(err.to_string()))?;
            (store, None)
        }
    };
    let documents = store.documents()?;
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
    match &redb {
        Some(redb) => {
            println!(
                "{} documents checked, {} broken; store layout {}",
                documents.len(),
                broken.len(),
                redb.layout()?
            );
            for step in redb.layout_history()? {
                println!("  layout {}: {}", step.layout, step.note);
            }
        }
        None => println!(
            "{} documents checked, {} broken; on PostgreSQL",
            documents.len(),
            broken.len()
        ),
    }
    for (id, problem) in &broken {
        println!("  {id}: {problem}");
    }
    if list {
        for (id, meta) in &documents {
            println!(
                "  {id} {} {}",
                meta.kind.as_deref().unwrap_or("generic"),
                meta.creator.as_deref().unwrap_or("-")
            );
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(OperationError::Refused(format!(
            "{} documents are broken",
            broken.len()
        )))
    }
}

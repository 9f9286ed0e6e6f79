//! The `rectus` command line: `start`, `bootstrap`, `schema snapshot|diff|apply`,
//! `--version`. Each command reads the configuration, does its work and exits non-zero
//! with a one-line message on failure.

pub mod schema;

use crate::app::AppState;
use crate::config::{Config, LogStyle};
use crate::db::Db;
use crate::schema::service::SchemaService;
use crate::system::{bootstrap, migrations};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "rectus",
    version,
    about = "Rectus: REST and GraphQL over any SQL database"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create or upgrade the system tables, create the first admin if none, and serve.
    Start,
    /// Create or upgrade the system tables and create the first admin if none.
    Bootstrap,
    /// Export, compare or apply the data model.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
}

#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Write the data model to FILE (YAML, or JSON for a .json name), or to stdout.
    Snapshot {
        file: Option<PathBuf>,
        /// Output format when writing to stdout: yaml or json.
        #[arg(long, default_value = "yaml")]
        format: String,
    },
    /// Show what applying FILE would change.
    Diff { file: PathBuf },
    /// Change the database to match FILE; shows the plan first. Idempotent.
    Apply {
        file: PathBuf,
        /// Only show the plan.
        #[arg(long)]
        dry_run: bool,
        /// Accepted for compatibility with Directus's CLI; apply never prompts.
        #[arg(short, long)]
        yes: bool,
    },
}

/// A failure the CLI reports as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Db(#[from] crate::db::DbError),
    #[error("migrations: {0}")]
    Migration(#[from] migrations::MigrationError),
    #[error("{0}")]
    Other(String),
}

pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let level = match config.log_level.as_str() {
        "fatal" => "error",
        "silent" => "off",
        other => other,
    };
    let filter = EnvFilter::try_new(format!("{level},sqlx=warn,hyper=warn"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_style {
        LogStyle::Raw => {
            let _ = builder.json().try_init();
        }
        LogStyle::Pretty => {
            let _ = builder.compact().try_init();
        }
    }
}

pub async fn connect(config: &Config) -> Result<Db, CliError> {
    Db::connect(&config.db, config.db_pool_max)
        .await
        .map_err(|e| CliError::Other(format!("could not connect to the database: {}", e.message)))
}

/// Migrations and first admin; prints the generated password once.
pub async fn bootstrap(config: &Config, db: &Db) -> Result<(), CliError> {
    let applied = migrations::run(db).await?;
    for name in applied {
        tracing::info!(migration = name, "applied");
    }
    let done = bootstrap::run(
        db,
        bootstrap::AdminInput {
            email: config.admin_email.as_deref(),
            password: config.admin_password.as_deref(),
            token: config.admin_token.as_deref(),
        },
    )
    .await?;
    if let Some((email, generated)) = done.admin_created {
        match generated {
            Some(pw) => println!(
                "Created the first admin: {email} with password {pw} (shown once; change it)"
            ),
            None => println!("Created the first admin: {email}"),
        }
    }
    Ok(())
}

/// Everything a running host shares, ready to serve: database connected and migrated,
/// schema loaded, modules registered with their stored state. (`start` adds the
/// listener and the extensions; tests that drive the library use this directly.)
pub async fn open(config: Config) -> Result<Arc<AppState>, CliError> {
    let db = connect(&config).await?;
    bootstrap(&config, &db).await?;
    let schema = SchemaService::load(db.clone(), config.db_exclude_tables.clone()).await?;
    let secret = match &config.secret {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            tracing::warn!(
                "SECRET is not set: using a random one, so tokens will not survive a restart"
            );
            let bytes: [u8; 32] = rand::random();
            bytes.to_vec()
        }
    };
    let mut modules = crate::registry::Registry::builtin();
    let wasm = std::sync::OnceLock::new();
    if let Some(path) = &config.rest_component {
        // REST_MODULE=component: the same REST module, built as a component, serves
        // /items & co. in place of the linked crate.
        let (runtime, handler) = crate::extensions::wasm::rest_component(&config, path)
            .await
            .map_err(|e| CliError::Other(format!("REST_MODULE=component: {e}")))?;
        modules.replace_handler("rest", crate::registry::Source::Wasm, handler);
        let _ = wasm.set(Ok(runtime));
        tracing::info!(path = %path.display(), "REST served by its WebAssembly component");
    }
    modules.load_state(&db).await?;
    modules.add_builtin_operations();
    let mailer = crate::mail::Mailer::new(&config.email)
        .map_err(|e| CliError::Other(format!("mail: {e}")))?;
    let login_limits =
        crate::auth::limits::LoginLimits::new(config.login_points, config.login_window);
    let state = Arc::new(AppState {
        login_limits,
        token_cache: Default::default(),
        access: Default::default(),
        config,
        db,
        schema,
        secret,
        events: crate::events::Bus::default(),
        modules,
        flows: Default::default(),
        mailer,
        service_id: uuid::Uuid::new_v4().to_string(),
        wasm,
    });
    crate::flows::validate::register(&state);
    Ok(state)
}

pub async fn start(config: Config) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let addr = std::net::SocketAddr::new(config.host, config.port);
    let shown_host = if config.host.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        config.host.to_string()
    };
    let state = open(config).await?;
    let db = state.db.clone();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Other(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::Other(e.to_string()))?;
    let collections = state.schema.current().collections.len();
    crate::flows::Flows::start(&state).await;
    // Guest extensions from EXTENSIONS_PATH: loaded before the server answers, then
    // watched (the watcher and hook tasks live as long as the runtime).
    let _extensions = crate::extensions::Extensions::start(state.clone()).await;
    tracing::info!(
        collections,
        startup_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    println!("Rectus is running at http://{shown_host}:{}", local.port());
    crate::http::serve(state, listener)
        .await
        .map_err(|e| CliError::Other(format!("server error: {e}")))?;
    db.close().await;
    Ok(())
}

//! The state every request handler shares: configuration, the database pool, the schema
//! service (which holds the current snapshot), and the token-signing secret.

use crate::config::Config;
use crate::db::Db;
use crate::registry::Registry;
use crate::runtime::wasm::{WasmRuntime, WasmSettings};
use crate::schema::service::SchemaService;

pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub schema: SchemaService,
    pub secret: Vec<u8>,
    /// Static token → accountability, for a few seconds.
    pub token_cache: crate::auth::cache::TokenCache,
    /// Callers' policies and compiled permissions (cleared with the token cache).
    pub access: crate::access::AccessCache,
    /// Login throttling per IP and per account.
    pub login_limits: crate::auth::limits::LoginLimits,
    /// Filter and action events of every write.
    pub events: crate::events::Bus,
    /// The modules (REST, …) and whether each is on.
    pub modules: Registry,
    /// The flow engine: loaded flows, the run queue, schedules.
    pub flows: crate::flows::Flows,
    /// Sends mail through `EMAIL_TRANSPORT`.
    pub mailer: crate::mail::Mailer,
    /// Identifies this process in `/server/health` (several hosts may share a database).
    pub service_id: String,
    /// The WASM runtime, started the first time a component is loaded.
    pub wasm: std::sync::OnceLock<Result<std::sync::Arc<WasmRuntime>, String>>,
}

impl AppState {
    /// The WASM runtime (one engine per process), started on first use.
    pub fn wasm(&self) -> Result<std::sync::Arc<WasmRuntime>, String> {
        self.wasm
            .get_or_init(|| {
                WasmRuntime::new(WasmSettings {
                    timeout: self.config.wasm_timeout,
                    memory_mb: self.config.wasm_memory_mb,
                    cache_path: self.config.wasm_cache_path.clone(),
                })
            })
            .clone()
    }
}

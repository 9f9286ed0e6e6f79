//! The state every request handler shares: configuration, the database pool, the schema
//! service (which holds the current snapshot), and the token-signing secret.

use crate::config::Config;
use crate::db::Db;
use crate::registry::Registry;
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
    /// Identifies this process in `/server/health` (several hosts may share a database).
    pub service_id: String,
}

//! Configuration: read once at start from the process environment and an optional `.env`
//! file (the environment wins), using Directus's variable names where they exist.
//!
//! Owns: parsing and validating every setting into [`Config`]. Must not touch: the
//! database, the network, or any global state — a bad value is reported as a
//! [`ConfigError`] naming the variable, and `main` turns that into a one-line error and a
//! non-zero exit.

mod flows;
pub use flows::{EmailConfig, EmailTransport, FlowsConfig};

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

mod graphql;
pub use graphql::GraphqlConfig;

/// Which SQL database Rectus talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbConfig {
    Sqlite { filename: PathBuf },
    Postgres { url: String },
    MySql { url: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStyle {
    Pretty,
    Raw,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub db: DbConfig,
    pub host: IpAddr,
    pub port: u16,
    pub public_url: String,
    /// Signs access tokens. `None` means a random one is made per boot (tokens do not
    /// survive a restart, which is logged as a warning).
    pub secret: Option<String>,
    pub log_level: String,
    pub log_style: LogStyle,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub admin_token: Option<String>,
    pub extensions_path: PathBuf,
    /// `EXTENSIONS_AUTO_RELOAD` (true): watch `EXTENSIONS_PATH` and apply added, changed or
    /// removed extension folders without a restart.
    pub extensions_auto_reload: bool,
    /// `EXTENSIONS_RHAI_TIMEOUT_MS` (1000): wall-clock limit of one Rhai hook call.
    pub rhai_timeout: Duration,
    /// `EXTENSIONS_WASM_TIMEOUT_MS` (1000): wall-clock limit of one WASM component call.
    pub wasm_timeout: Duration,
    /// `EXTENSIONS_WASM_MEMORY_MB` (64): linear memory one WASM component call may use.
    pub wasm_memory_mb: u64,
    /// `EXTENSIONS_WASM_CACHE_PATH` (`.rectus-cache/wasm`): compiled components, keyed
    /// by the component's hash and the engine, so restarts and reloads don't recompile.
    pub wasm_cache_path: PathBuf,
    /// `REST_MODULE` (`linked`): `component` serves `/items` & co. from the REST module
    /// built as a WebAssembly component (`REST_COMPONENT_PATH`) instead of the linked crate.
    pub rest_component: Option<PathBuf>,
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL` (7d): refresh tokens and their cookie.
    pub refresh_token_ttl: Duration,
    /// `SESSION_COOKIE_TTL` (1d): cookie sessions.
    pub session_cookie_ttl: Duration,
    pub refresh_token_cookie_name: String,
    pub session_cookie_name: String,
    /// `REFRESH_TOKEN_COOKIE_SECURE` / `SESSION_COOKIE_SECURE`: add `Secure` to the cookies.
    pub cookie_secure: bool,
    /// `RATE_LIMITER_LOGIN_POINTS` login attempts per client IP per
    /// `RATE_LIMITER_LOGIN_DURATION` seconds.
    pub login_points: u32,
    /// `PASSWORD_RESET_URL_ALLOW_LIST`: reset links a client may ask for.
    pub password_reset_url_allow_list: Vec<String>,
    /// `USER_INVITE_URL_ALLOW_LIST`: invitation links an admin may ask for.
    pub user_invite_url_allow_list: Vec<String>,
    pub login_window: Duration,
    pub max_payload_size: usize,
    pub db_pool_max: u32,
    pub db_exclude_tables: Vec<String>,
    /// `QUERY_LIMIT_DEFAULT`: items per page when a query names no limit.
    pub query_limit_default: i64,
    /// `MAX_RELATIONAL_DEPTH`: how deep fields, filters and sorts may follow relations.
    pub max_relational_depth: usize,
    /// `FLOWS_*`: the flow engine.
    pub flows: FlowsConfig,
    /// `EMAIL_*`: the mail transport and templates.
    pub email: EmailConfig,
    /// `GRAPHQL_*`: the GraphQL module's limits.
    pub graphql: GraphqlConfig,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}: {reason} (got {value:?})")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("{name} is required when {because}")]
    Missing {
        name: &'static str,
        because: &'static str,
    },
    #[error("could not read {path}: {reason}")]
    EnvFile { path: String, reason: String },
}

/// A source of raw settings; the environment and `.env` merged, or a map in tests.
pub struct Vars(HashMap<String, String>);

impl Vars {
    /// The process environment over the `.env` file at `CONFIG_PATH` (default `./.env`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut vars = HashMap::new();
        let path = std::env::var("CONFIG_PATH").unwrap_or_else(|_| ".env".to_string());
        match dotenvy::from_path_iter(&path) {
            Ok(iter) => {
                for item in iter {
                    let (k, v) = item.map_err(|e| ConfigError::EnvFile {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                    vars.insert(k, v);
                }
            }
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError::EnvFile {
                    path,
                    reason: e.to_string(),
                })
            }
        }
        vars.extend(std::env::vars());
        Ok(Self(vars))
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// A non-empty value, with Directus's `string:` type prefix stripped.
    fn get(&self, name: &str) -> Option<&str> {
        let v = self.0.get(name)?.trim();
        let v = v.strip_prefix("string:").unwrap_or(v);
        (!v.is_empty()).then_some(v)
    }
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn parse_num<T: std::str::FromStr>(
    vars: &Vars,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match vars.get(name) {
        None => Ok(default),
        Some(v) => v
            .strip_prefix("number:")
            .unwrap_or(v)
            .parse()
            .map_err(|_| invalid(name, v, "must be a whole number in range")),
    }
}

/// Durations as Directus writes them: `900` (ms), `15m`, `7d`, `10s`, `1h`, `500ms`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "" | "ms" => n,
        "s" => n * 1_000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        "w" => n * 7 * 86_400_000,
        "y" => n * 365 * 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

/// Sizes as Directus writes them: `1mb`, `512kb`, `100` (bytes).
fn parse_size(text: &str) -> Option<usize> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let n: usize = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "b" => 1,
        "kb" => 1024,
        "mb" => 1024 * 1024,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_env()?)
    }

    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let db = Self::db_from_vars(vars)?;
        let host = match vars.get("HOST") {
            None => IpAddr::from([0, 0, 0, 0]),
            Some("localhost") => IpAddr::from([127, 0, 0, 1]),
            Some(v) => v
                .parse()
                .map_err(|_| invalid("HOST", v, "must be an IP address"))?,
        };
        let port = parse_num(vars, "PORT", 8055u16)?;
        let public_url = vars.get("PUBLIC_URL").unwrap_or("/").to_string();
        let log_level = vars.get("LOG_LEVEL").unwrap_or("info").to_ascii_lowercase();
        if !["trace", "debug", "info", "warn", "error", "fatal", "silent"]
            .contains(&log_level.as_str())
        {
            return Err(invalid(
                "LOG_LEVEL",
                &log_level,
                "must be one of trace, debug, info, warn, error, fatal, silent",
            ));
        }
        let log_style = match vars.get("LOG_STYLE").unwrap_or("pretty") {
            "pretty" => LogStyle::Pretty,
            "raw" | "json" => LogStyle::Raw,
            other => return Err(invalid("LOG_STYLE", other, "must be pretty or raw")),
        };
        let admin_email = vars.get("ADMIN_EMAIL").map(str::to_string);
        if let Some(email) = &admin_email {
            if !crate::auth::is_plausible_email(email) {
                return Err(invalid("ADMIN_EMAIL", email, "must be an e-mail address"));
            }
        }
        let access_token_ttl = match vars.get("ACCESS_TOKEN_TTL") {
            None => Duration::from_secs(15 * 60),
            Some(v) => parse_duration(v)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| invalid("ACCESS_TOKEN_TTL", v, "must be a duration like 15m"))?,
        };
        let duration = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            match vars.get(name) {
                None => Ok(default),
                Some(v) => parse_duration(v)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| invalid(name, v, "must be a duration like 7d")),
            }
        };
        let refresh_token_ttl = duration("REFRESH_TOKEN_TTL", Duration::from_secs(7 * 86_400))?;
        let session_cookie_ttl = duration("SESSION_COOKIE_TTL", Duration::from_secs(86_400))?;
        let cookie_secure = matches!(
            vars.get("REFRESH_TOKEN_COOKIE_SECURE")
                .or(vars.get("SESSION_COOKIE_SECURE")),
            Some("true")
        );
        let login_points = parse_num(vars, "RATE_LIMITER_LOGIN_POINTS", 60u32)?;
        let login_window =
            Duration::from_secs(parse_num(vars, "RATE_LIMITER_LOGIN_DURATION", 60u64)?.max(1));
        let max_payload_size = match vars.get("MAX_PAYLOAD_SIZE") {
            None => 1024 * 1024,
            Some(v) => parse_size(v)
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("MAX_PAYLOAD_SIZE", v, "must be a size like 1mb"))?,
        };
        let db_pool_max = parse_num(vars, "DB_POOL__MAX", 10u32)?;
        if db_pool_max == 0 {
            return Err(invalid("DB_POOL__MAX", "0", "must be at least 1"));
        }
        let db_exclude_tables = vars
            .get("DB_EXCLUDE_TABLES")
            .unwrap_or("spatial_ref_sys,sysdiagrams")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let query_limit_default = parse_num(vars, "QUERY_LIMIT_DEFAULT", 100i64)?;
        if query_limit_default < 1 {
            return Err(invalid(
                "QUERY_LIMIT_DEFAULT",
                &query_limit_default.to_string(),
                "must be at least 1",
            ));
        }
        let max_relational_depth = parse_num(vars, "MAX_RELATIONAL_DEPTH", 10usize)?;
        if max_relational_depth < 2 {
            return Err(invalid(
                "MAX_RELATIONAL_DEPTH",
                &max_relational_depth.to_string(),
                "must be at least 2",
            ));
        }
        let extensions_auto_reload = match vars.get("EXTENSIONS_AUTO_RELOAD") {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => {
                return Err(invalid(
                    "EXTENSIONS_AUTO_RELOAD",
                    v,
                    "must be true or false",
                ))
            }
        };
        let rhai_timeout_ms = parse_num(vars, "EXTENSIONS_RHAI_TIMEOUT_MS", 1000u64)?;
        if rhai_timeout_ms == 0 {
            return Err(invalid(
                "EXTENSIONS_RHAI_TIMEOUT_MS",
                "0",
                "must be at least 1",
            ));
        }
        let wasm_timeout_ms = parse_num(vars, "EXTENSIONS_WASM_TIMEOUT_MS", 1000u64)?;
        if wasm_timeout_ms == 0 {
            return Err(invalid(
                "EXTENSIONS_WASM_TIMEOUT_MS",
                "0",
                "must be at least 1",
            ));
        }
        let wasm_memory_mb = parse_num(vars, "EXTENSIONS_WASM_MEMORY_MB", 64u64)?;
        if !(1..=4096).contains(&wasm_memory_mb) {
            return Err(invalid(
                "EXTENSIONS_WASM_MEMORY_MB",
                &wasm_memory_mb.to_string(),
                "must be between 1 and 4096",
            ));
        }
        let rest_component = match vars.get("REST_MODULE") {
            None | Some("linked") => None,
            Some("component") => Some(PathBuf::from(
                vars.get("REST_COMPONENT_PATH")
                    .unwrap_or("./target/guests/rectus_rest.wasm"),
            )),
            Some(v) => return Err(invalid("REST_MODULE", v, "must be linked or component")),
        };
        let secret = vars.get("SECRET").map(str::to_string);
        Ok(Config {
            db,
            host,
            port,
            public_url,
            secret,
            log_level,
            log_style,
            admin_email,
            admin_password: vars.get("ADMIN_PASSWORD").map(str::to_string),
            admin_token: vars.get("ADMIN_TOKEN").map(str::to_string),
            extensions_path: PathBuf::from(vars.get("EXTENSIONS_PATH").unwrap_or("./extensions")),
            extensions_auto_reload,
            rhai_timeout: Duration::from_millis(rhai_timeout_ms),
            wasm_timeout: Duration::from_millis(wasm_timeout_ms),
            wasm_memory_mb,
            wasm_cache_path: PathBuf::from(
                vars.get("EXTENSIONS_WASM_CACHE_PATH")
                    .unwrap_or(".rectus-cache/wasm"),
            ),
            rest_component,
            access_token_ttl,
            refresh_token_ttl,
            session_cookie_ttl,
            refresh_token_cookie_name: vars
                .get("REFRESH_TOKEN_COOKIE_NAME")
                .unwrap_or("directus_refresh_token")
                .to_string(),
            session_cookie_name: vars
                .get("SESSION_COOKIE_NAME")
                .unwrap_or("directus_session_token")
                .to_string(),
            cookie_secure,
            login_points,
            login_window,
            password_reset_url_allow_list: vars
                .get("PASSWORD_RESET_URL_ALLOW_LIST")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            user_invite_url_allow_list: vars
                .get("USER_INVITE_URL_ALLOW_LIST")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            max_payload_size,
            db_pool_max,
            db_exclude_tables,
            query_limit_default,
            max_relational_depth,
            flows: FlowsConfig::from_vars(vars)?,
            email: EmailConfig::from_vars(vars)?,
            graphql: GraphqlConfig::from_vars(vars)?,
        })
    }

    fn db_from_vars(vars: &Vars) -> Result<DbConfig, ConfigError> {
        let client = vars.get("DB_CLIENT").unwrap_or("sqlite");
        match client {
            "sqlite" | "sqlite3" => Ok(DbConfig::Sqlite {
                filename: PathBuf::from(vars.get("DB_FILENAME").unwrap_or("./data.db")),
            }),
            "pg" | "postgres" | "postgresql" => {
                let url = match vars.get("DB_CONNECTION_STRING") {
                    Some(url) => {
                        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                            return Err(invalid(
                                "DB_CONNECTION_STRING",
                                url,
                                "must start with postgres://",
                            ));
                        }
                        url.to_string()
                    }
                    None => network_url(vars, "postgres", 5432)?,
                };
                Ok(DbConfig::Postgres { url })
            }
            "mysql" | "mariadb" => {
                let url = match vars.get("DB_CONNECTION_STRING") {
                    Some(url) => {
                        if !(url.starts_with("mysql://") || url.starts_with("mariadb://")) {
                            return Err(invalid(
                                "DB_CONNECTION_STRING",
                                url,
                                "must start with mysql://",
                            ));
                        }
                        url.replacen("mariadb://", "mysql://", 1)
                    }
                    None => network_url(vars, "mysql", 3306)?,
                };
                Ok(DbConfig::MySql { url })
            }
            other => Err(invalid("DB_CLIENT", other, "must be sqlite, pg or mysql")),
        }
    }
}

/// Builds `scheme://user:password@host:port/database` from the separate `DB_*` variables,
/// percent-encoding the parts so a password with `@` or `/` survives.
fn network_url(vars: &Vars, scheme: &str, default_port: u16) -> Result<String, ConfigError> {
    let host = vars.get("DB_HOST").unwrap_or("127.0.0.1");
    let port = parse_num(vars, "DB_PORT", default_port)?;
    let database = vars.get("DB_DATABASE").ok_or(ConfigError::Missing {
        name: "DB_DATABASE",
        because: "DB_CLIENT is pg or mysql and DB_CONNECTION_STRING is not set",
    })?;
    let user = vars.get("DB_USER").unwrap_or(if scheme == "mysql" {
        "root"
    } else {
        "postgres"
    });
    let auth = match vars.get("DB_PASSWORD") {
        Some(pw) => format!("{}:{}", encode(user), encode(pw)),
        None => encode(user),
    };
    Ok(format!(
        "{scheme}://{auth}@{host}:{port}/{}",
        encode(database)
    ))
}

fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_sqlite_on_8055() {
        let c = Config::from_vars(&Vars::from_pairs([])).unwrap();
        assert_eq!(
            c.db,
            DbConfig::Sqlite {
                filename: "./data.db".into()
            }
        );
        assert_eq!(c.port, 8055);
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
    }

    #[test]
    fn extension_settings() {
        let c = Config::from_vars(&Vars::from_pairs([])).unwrap();
        assert!(c.extensions_auto_reload);
        assert_eq!(c.rhai_timeout, Duration::from_millis(1000));
        let c = Config::from_vars(&Vars::from_pairs([
            ("EXTENSIONS_AUTO_RELOAD", "false"),
            ("EXTENSIONS_RHAI_TIMEOUT_MS", "250"),
        ]))
        .unwrap();
        assert!(!c.extensions_auto_reload);
        assert_eq!(c.rhai_timeout, Duration::from_millis(250));
        for (name, value) in [
            ("EXTENSIONS_AUTO_RELOAD", "maybe"),
            ("EXTENSIONS_RHAI_TIMEOUT_MS", "0"),
            ("EXTENSIONS_RHAI_TIMEOUT_MS", "soon"),
            ("EXTENSIONS_WASM_TIMEOUT_MS", "0"),
            ("EXTENSIONS_WASM_MEMORY_MB", "0"),
            ("EXTENSIONS_WASM_MEMORY_MB", "lots"),
            ("REST_MODULE", "remote"),
        ] {
            let err = Config::from_vars(&Vars::from_pairs([(name, value)])).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn builds_a_postgres_url_with_encoded_password() {
        let c = Config::from_vars(&Vars::from_pairs([
            ("DB_CLIENT", "pg"),
            ("DB_DATABASE", "test"),
            ("DB_USER", "me"),
            ("DB_PASSWORD", "p@ss/w"),
        ]))
        .unwrap();
        assert_eq!(
            c.db,
            DbConfig::Postgres {
                url: "postgres://me:p%40ss%2Fw@127.0.0.1:5432/test".into()
            }
        );
    }

    #[test]
    fn names_the_bad_variable() {
        let err = Config::from_vars(&Vars::from_pairs([("PORT", "eighty")])).unwrap_err();
        assert!(err.to_string().starts_with("PORT:"), "{err}");
        let err = Config::from_vars(&Vars::from_pairs([("DB_CLIENT", "oracle")])).unwrap_err();
        assert!(err.to_string().starts_with("DB_CLIENT:"), "{err}");
        let err = Config::from_vars(&Vars::from_pairs([("DB_CLIENT", "pg")])).unwrap_err();
        assert!(err.to_string().starts_with("DB_DATABASE"), "{err}");
        let err = Config::from_vars(&Vars::from_pairs([("ACCESS_TOKEN_TTL", "soon")])).unwrap_err();
        assert!(err.to_string().starts_with("ACCESS_TOKEN_TTL:"), "{err}");
    }

    #[test]
    fn parses_directus_durations() {
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_duration("900"), Some(Duration::from_millis(900)));
        assert_eq!(parse_duration("x"), None);
    }
}

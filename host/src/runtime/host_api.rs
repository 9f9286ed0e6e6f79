//! The host API a guest calls (the WIT interfaces `items`, `schema`, `log`, `http`,
//! `cache`, `env`), independent of the WIT version and of the runtime: the WASM
//! adapters (`wasm::since_v0_1_0`) and Rhai call these.
//!
//! Every function is blocking: guests run on the blocking pool, and a call that needs the
//! database drives the async items service with the runtime's handle. Each call checks
//! the extension's grants first, then acts under the caller's [`Context`] through the
//! same [`NativeHost`] linked modules use, so access rules and events apply. The context
//! is the one the host started the guest call with; nothing a guest passes can change it.
//!
//! Owns: capability checks and the bridge to the host's services. Must not touch: guest
//! memory or WIT types (the adapters), the folder or the registry.

use super::capabilities::Grants;
use crate::app::AppState;
use crate::registry::NativeHost;
use rectus_sdk::{Context, Host, HostError, Items, QueryInput, SchemaView, Target};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Entries one extension may keep in its cache; the oldest go first.
const CACHE_ENTRIES_PER_EXTENSION: usize = 10_000;
/// The largest body an outgoing HTTP call returns to a guest.
const HTTP_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Log levels of the `log` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// One extension's cache entries: key → (value, expiry).
type Namespace = HashMap<String, (String, Option<Instant>)>;

/// The extensions' key/value cache, one namespace per extension id.
#[derive(Default)]
pub struct GuestCache {
    entries: Mutex<HashMap<String, Namespace>>,
}

impl GuestCache {
    fn get(&self, ns: &str, key: &str) -> Option<String> {
        let mut all = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let map = all.get_mut(ns)?;
        match map.get(key) {
            Some((_, Some(expires))) if *expires <= Instant::now() => {
                map.remove(key);
                None
            }
            Some((value, _)) => Some(value.clone()),
            None => None,
        }
    }

    fn set(&self, ns: &str, key: String, value: String, ttl: Option<Duration>) {
        let mut all = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let map = all.entry(ns.to_string()).or_default();
        if map.len() >= CACHE_ENTRIES_PER_EXTENSION && !map.contains_key(&key) {
            let now = Instant::now();
            map.retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
            if map.len() >= CACHE_ENTRIES_PER_EXTENSION {
                if let Some(k) = map.keys().next().cloned() {
                    map.remove(&k);
                }
            }
        }
        map.insert(key, (value, ttl.map(|t| Instant::now() + t)));
    }

    fn delete(&self, ns: &str, key: &str) {
        let mut all = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(map) = all.get_mut(ns) {
            map.remove(key);
        }
    }
}

/// One guest call's view of the host.
#[derive(Clone)]
pub struct GuestHost {
    pub state: Arc<AppState>,
    /// The caller the guest acts for.
    pub ctx: Context,
    /// The extension's id (log lines, cache namespace).
    pub extension: String,
    pub grants: Grants,
    pub cache: Arc<GuestCache>,
    pub runtime: tokio::runtime::Handle,
    /// For hooks: `ctx` holds only the writer's id (all an event carries); its role and
    /// admin flag are looked up at the first call that acts for it, not on every event.
    writer: Option<Arc<OnceLock<Context>>>,
    /// Nanoseconds this call spent waiting on the host's services (database, HTTP): a
    /// guest's deadline counts its own time, not the host's.
    waited: Arc<AtomicU64>,
}

impl GuestHost {
    pub fn new(
        state: Arc<AppState>,
        ctx: Context,
        extension: String,
        grants: Grants,
        cache: Arc<GuestCache>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        GuestHost {
            state,
            ctx,
            extension,
            grants,
            cache,
            runtime,
            writer: None,
            waited: Arc::default(),
        }
    }

    /// Time spent waiting on the host's services so far.
    pub fn waited(&self) -> Duration {
        Duration::from_nanos(self.waited.load(Ordering::Relaxed))
    }

    /// A hook's host: acts for the user who wrote (`ctx.user`), resolved when needed.
    pub fn for_writer(mut self) -> Self {
        self.writer = Some(Arc::new(OnceLock::new()));
        self
    }

    /// The caller items calls act for.
    fn caller(&self) -> Context {
        let Some(resolved) = &self.writer else {
            return self.ctx.clone();
        };
        resolved
            .get_or_init(|| {
                let mut ctx = self.ctx.clone();
                if let Some(user) = ctx.user.clone() {
                    let db = &self.state.db;
                    match self.block_on(crate::auth::user_access(db, &user)) {
                        Ok((role, admin)) => {
                            ctx.role = role;
                            ctx.admin = admin;
                        }
                        Err(e) => {
                            tracing::warn!(extension = self.extension, error = %e, "could not resolve the hook's writer; acting without its rights")
                        }
                    }
                }
                ctx
            })
            .clone()
    }

    fn native(&self) -> NativeHost {
        NativeHost::new(self.state.clone())
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        let started = Instant::now();
        let out = self.runtime.block_on(f);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.waited.fetch_add(nanos, Ordering::Relaxed);
        out
    }

    pub fn read_items(&self, collection: &str, query: QueryInput) -> Result<Items, HostError> {
        self.grants.check(&format!("items:read:{collection}"))?;
        self.block_on(self.native().read_items(&self.caller(), collection, query))
    }

    pub fn read_item(
        &self,
        collection: &str,
        key: &str,
        query: QueryInput,
    ) -> Result<String, HostError> {
        self.grants.check(&format!("items:read:{collection}"))?;
        self.block_on(
            self.native()
                .read_item(&self.caller(), collection, key, query),
        )
    }

    pub fn create_items(&self, collection: &str, payload: Json) -> Result<Vec<Json>, HostError> {
        self.grants.check(&format!("items:write:{collection}"))?;
        self.block_on(
            self.native()
                .create_items(&self.caller(), collection, payload),
        )
    }

    pub fn update_items(
        &self,
        collection: &str,
        target: Target,
        data: Json,
    ) -> Result<Vec<Json>, HostError> {
        self.grants.check(&format!("items:write:{collection}"))?;
        self.block_on(
            self.native()
                .update_items(&self.caller(), collection, target, data),
        )
    }

    pub fn update_batch(&self, collection: &str, items: Vec<Json>) -> Result<Vec<Json>, HostError> {
        self.grants.check(&format!("items:write:{collection}"))?;
        self.block_on(
            self.native()
                .update_batch(&self.caller(), collection, items),
        )
    }

    pub fn delete_items(&self, collection: &str, target: Target) -> Result<(), HostError> {
        self.grants.check(&format!("items:write:{collection}"))?;
        self.block_on(
            self.native()
                .delete_items(&self.caller(), collection, target),
        )
    }

    /// Primary key and singleton flag of a collection the guest may read.
    pub fn collection(&self, name: &str) -> Option<(Option<String>, bool)> {
        let native = self.native();
        let pk = native.primary_key(name);
        let singleton = native.is_singleton(name);
        if pk.is_none() && !singleton {
            return None;
        }
        Some((pk, singleton))
    }

    pub fn schema(&self) -> Result<SchemaView, HostError> {
        self.block_on(self.native().schema(&self.caller()))
    }

    pub fn log(&self, level: Level, message: &str) {
        let message: String = message.chars().take(4096).collect();
        let ext = self.extension.as_str();
        match level {
            Level::Debug => tracing::debug!(extension = ext, "{message}"),
            Level::Info => tracing::info!(extension = ext, "{message}"),
            Level::Warn => tracing::warn!(extension = ext, "{message}"),
            Level::Error => tracing::error!(extension = ext, "{message}"),
        }
    }

    pub fn cache_get(&self, key: &str) -> Result<Option<String>, HostError> {
        self.grants.check("cache")?;
        Ok(self.cache.get(&self.extension, key))
    }

    pub fn cache_set(
        &self,
        key: String,
        value: String,
        ttl: Option<Duration>,
    ) -> Result<(), HostError> {
        self.grants.check("cache")?;
        self.cache.set(&self.extension, key, value, ttl);
        Ok(())
    }

    pub fn cache_delete(&self, key: &str) -> Result<(), HostError> {
        self.grants.check("cache")?;
        self.cache.delete(&self.extension, key);
        Ok(())
    }

    /// An environment variable the admin granted (`env:<KEY>`).
    pub fn env(&self, key: &str) -> Result<Option<String>, HostError> {
        self.grants.check(&format!("env:{key}"))?;
        Ok(std::env::var(key).ok())
    }

    /// An outgoing HTTP request to a granted host (`http:<host>`). Plain HTTP only: the
    /// host is built without a TLS stack.
    pub fn http(&self, req: HttpRequest) -> Result<HttpResponse, HostError> {
        let url = req
            .url
            .parse::<reqwest::Url>()
            .map_err(|e| HostError::invalid_payload(format!("invalid URL: {e}")))?;
        let host = url.host_str().unwrap_or_default().to_string();
        self.grants.check(&format!("http:{host}"))?;
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| HostError::invalid_payload(format!("invalid method {}", req.method)))?;
        let failed = |e: reqwest::Error| {
            HostError::new(
                502,
                "SERVICE_UNAVAILABLE",
                format!("HTTP request failed: {e}"),
            )
        };
        self.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(failed)?;
            let mut builder = client.request(method, url).body(req.body);
            for (k, v) in req.headers {
                builder = builder.header(k, v);
            }
            let res = builder.send().await.map_err(failed)?;
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let body = res.bytes().await.map_err(failed)?;
            if body.len() > HTTP_BODY_LIMIT {
                return Err(HostError::new(
                    502,
                    "SERVICE_UNAVAILABLE",
                    "HTTP response too large",
                ));
            }
            Ok(HttpResponse {
                status,
                headers,
                body: body.to_vec(),
            })
        })
    }
}

pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_expires_and_is_per_extension() {
        let c = GuestCache::default();
        c.set("a", "k".into(), "v".into(), None);
        c.set("a", "t".into(), "v".into(), Some(Duration::from_millis(0)));
        assert_eq!(c.get("a", "k").as_deref(), Some("v"));
        assert_eq!(c.get("b", "k"), None, "namespaced by extension");
        assert_eq!(c.get("a", "t"), None, "expired");
        c.delete("a", "k");
        assert_eq!(c.get("a", "k"), None);
    }
}

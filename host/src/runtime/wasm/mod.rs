//! The WASM runtime: guest extensions as WebAssembly components (wasmtime, component
//! model), built against the WIT package `rectus:extension` (`wit/`).
//!
//! One [`WasmRuntime`] per process: one engine (`engine.rs`: epoch deadlines, pooling
//! allocator, compiled code cached on disk), one linker with the host interfaces of every
//! supported WIT version (`since_v0_1_0.rs`, …) and WASI without files, sockets or
//! environment. Loading a component checks its imports against the linker (a missing
//! host function is refused at load, naming it) and prepares an `InstancePre` per world
//! it claims. Every call gets a fresh `Store` (`state.rs`) with the memory limit and a
//! deadline, instantiates from the `InstancePre` and calls one export; a trap, timeout or
//! out-of-memory fails that call with a clear error and a log line, and nothing else.
//!
//! Calls are blocking: run them on the blocking pool. Host imports that need the
//! database drive the async services with the runtime handle (`host_api`).
//!
//! Owns: the engine, linking, instantiating and calling components. Must not touch: the
//! folder and the registry (the loader), what the host API does (`host_api`).

mod codes;
mod engine;
mod since_v0_1_0;
mod state;

use super::host_api::{GuestCache, GuestHost};
use crate::events::{ActionEvent, FilterEvent, Rejection};
use rectus_sdk::{Context, HostError, OperationInfo, Request, Response};
use serde_json::Value as Json;
use since_v0_1_0 as v1;
use state::CallState;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

/// Limits and places the runtime works with (from `Config`).
#[derive(Debug, Clone)]
pub struct WasmSettings {
    pub timeout: Duration,
    pub memory_mb: u64,
    pub cache_path: PathBuf,
}

pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    settings: WasmSettings,
    memory_bytes: usize,
    /// The extensions' key/value cache (`cache` interface).
    pub cache: Arc<GuestCache>,
}

/// A component ready to run: prepared once per world it provides.
pub struct LoadedComponent {
    pub id: String,
    endpoint: Option<v1::endpoint::EndpointPre<CallState>>,
    hook: Option<v1::hook::HookPre<CallState>>,
    operation: Option<v1::operation::OperationPre<CallState>>,
}

/// A hook's wish to receive an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub filter: bool,
    pub event: String,
}

impl WasmRuntime {
    pub fn new(settings: WasmSettings) -> Result<Arc<WasmRuntime>, String> {
        let memory_bytes = usize::try_from(settings.memory_mb << 20).unwrap_or(usize::MAX);
        let engine = engine::engine(memory_bytes)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| e.to_string())?;
        v1::add_to_linker(&mut linker).map_err(|e| e.to_string())?;
        engine::spawn_ticker(engine.clone());
        Ok(Arc::new(WasmRuntime {
            engine,
            linker,
            settings,
            memory_bytes,
            cache: Arc::new(GuestCache::default()),
        }))
    }

    /// Compiles (or loads from the cache) and links a component that claims `kinds`.
    /// Blocking. The error says why the component can't be used.
    pub fn load(
        &self,
        id: &str,
        bytes: &[u8],
        kinds: &[String],
    ) -> Result<LoadedComponent, String> {
        let component: Component = engine::load(&self.engine, &self.settings.cache_path, bytes)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| format!("refused at load: {e:#}"))?;
        let mut loaded = LoadedComponent {
            id: id.to_string(),
            endpoint: None,
            hook: None,
            operation: None,
        };
        let missing = |world: &str, e: wasmtime::Error| {
            format!(
                "the component does not provide the \"{world}\" world of rectus:extension@0.1.0: {}",
                e.root_cause()
            )
        };
        for kind in kinds {
            match kind.as_str() {
                "endpoint" => {
                    loaded.endpoint = Some(
                        v1::endpoint::EndpointPre::new(pre.clone())
                            .map_err(|e| missing("endpoint", e))?,
                    )
                }
                "hook" => {
                    loaded.hook =
                        Some(v1::hook::HookPre::new(pre.clone()).map_err(|e| missing("hook", e))?)
                }
                "operation" => {
                    loaded.operation = Some(
                        v1::operation::OperationPre::new(pre.clone())
                            .map_err(|e| missing("operation", e))?,
                    )
                }
                other => {
                    return Err(format!(
                        "kind \"{other}\" is not supported for WASM components by this host yet"
                    ))
                }
            }
        }
        Ok(loaded)
    }

    /// A store for one call: the memory limit, and a deadline on the guest's own time.
    /// The epoch deadline fires after `timeout` of wall-clock time; the callback then
    /// subtracts the time the call spent waiting on host services (a slow database is
    /// not the guest's loop) and either extends the deadline by what is left or stops
    /// the call.
    fn store(&self, host: GuestHost) -> Store<CallState> {
        let mut store = Store::new(&self.engine, CallState::new(host, self.memory_bytes));
        store.limiter(|s| &mut s.limiter);
        let timeout = self.settings.timeout;
        store.set_epoch_deadline(ticks(timeout));
        store.epoch_deadline_callback(move |ctx| {
            let s = ctx.data();
            let own = s.started.elapsed().saturating_sub(s.host.waited());
            Ok(match timeout.checked_sub(own) {
                Some(left) if !left.is_zero() => UpdateDeadline::Continue(ticks(left)),
                _ => UpdateDeadline::Interrupt,
            })
        });
        store
    }

    /// Why a call failed, in words an operator can act on; logged once here.
    fn failure(&self, store: &Store<CallState>, id: &str, e: wasmtime::Error) -> String {
        let reason = if store.data().limiter.exceeded {
            format!(
                "it exceeded the memory limit of {} MiB",
                self.settings.memory_mb
            )
        } else if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            format!(
                "it ran longer than {} ms and was stopped",
                self.settings.timeout.as_millis()
            )
        } else if let Some(trap) = e.downcast_ref::<Trap>() {
            format!("it trapped: {trap}")
        } else {
            format!("it failed: {}", e.root_cause())
        };
        tracing::error!(extension = id, error = %reason, "WASM extension call failed");
        format!("Extension \"{id}\" failed: {reason}.")
    }

    fn guest_failed(message: String) -> HostError {
        HostError::new(500, "INTERNAL_SERVER_ERROR", message)
    }

    /// Serves one request with an endpoint component.
    pub fn call_endpoint(
        &self,
        c: &LoadedComponent,
        host: GuestHost,
        req: Request,
        headers: Vec<(String, String)>,
    ) -> Response {
        let Some(pre) = &c.endpoint else {
            return Response::error(&HostError::route_not_found(&req.mount));
        };
        let ctx = v1::context(&host.ctx);
        let mut store = self.store(host);
        let result = pre
            .instantiate(&mut store)
            .and_then(|guest| guest.call_handle(&mut store, &ctx, &v1::request(req, headers)));
        match result {
            Ok(res) => v1::response(res).unwrap_or_else(|reason| {
                tracing::error!(extension = c.id, error = %reason, "WASM endpoint answered malformed data");
                Response::error(&Self::guest_failed(format!(
                    "Extension \"{}\" failed: {reason}.",
                    c.id
                )))
            }),
            Err(e) => Response::error(&Self::guest_failed(self.failure(&store, &c.id, e))),
        }
    }

    /// What an operation component says about itself (called once at load).
    pub fn operation_info(
        &self,
        c: &LoadedComponent,
        host: GuestHost,
    ) -> Result<OperationInfo, String> {
        let pre = c.operation.as_ref().ok_or("not an operation")?;
        let mut store = self.store(host);
        let info = pre
            .instantiate(&mut store)
            .and_then(|guest| guest.call_info(&mut store))
            .map_err(|e| self.failure(&store, &c.id, e))?;
        let options = serde_json::from_str(&info.options_json)
            .map_err(|e| format!("its options schema is not valid JSON: {e}"))?;
        if info.id.is_empty() {
            return Err("its operation id is empty".into());
        }
        Ok(OperationInfo {
            id: info.id,
            name: info.name,
            description: info.description,
            options,
        })
    }

    /// Runs an operation component once.
    pub fn run_operation(
        &self,
        c: &LoadedComponent,
        host: GuestHost,
        options: &Json,
        data: &Json,
    ) -> Result<Json, HostError> {
        let pre = c
            .operation
            .as_ref()
            .ok_or_else(|| Self::guest_failed(format!("\"{}\" is not an operation", c.id)))?;
        let ctx = v1::context(&host.ctx);
        let mut store = self.store(host);
        let result = pre.instantiate(&mut store).and_then(|guest| {
            guest.call_run(&mut store, &ctx, &options.to_string(), &data.to_string())
        });
        match result {
            Ok(Ok(text)) => serde_json::from_str(&text).map_err(|e| {
                let reason = format!("it returned malformed JSON ({e})");
                tracing::error!(extension = c.id, error = %reason, "WASM operation answered malformed data");
                Self::guest_failed(format!("Extension \"{}\" failed: {reason}.", c.id))
            }),
            Ok(Err(e)) => Err(v1::host_error(e)),
            Err(e) => Err(Self::guest_failed(self.failure(&store, &c.id, e))),
        }
    }

    /// The events a hook component wants (called once at load).
    pub fn subscriptions(
        &self,
        c: &LoadedComponent,
        host: GuestHost,
    ) -> Result<Vec<Subscription>, String> {
        let pre = c.hook.as_ref().ok_or("not a hook")?;
        let mut store = self.store(host);
        let subs = pre
            .instantiate(&mut store)
            .and_then(|guest| guest.call_subscriptions(&mut store))
            .map_err(|e| self.failure(&store, &c.id, e))?;
        Ok(subs
            .into_iter()
            .map(|s| Subscription {
                filter: matches!(s.kind, v1::hook::HookKind::Filter),
                event: s.event,
            })
            .collect())
    }

    fn event(name: &str, collection: &str, payload: &Json, keys: &[Json]) -> v1::hook::Event {
        v1::hook::Event {
            name: name.to_string(),
            collection: collection.to_string(),
            payload_json: payload.to_string(),
            keys_json: Json::Array(keys.to_vec()).to_string(),
        }
    }

    /// Runs a filter hook: the payload to write, or the rejection.
    pub fn call_filter(
        &self,
        c: &LoadedComponent,
        host: GuestHost,
        e: &FilterEvent,
    ) -> Result<Json, Rejection> {
        let reject = Rejection::new;
        let pre = c.hook.as_ref().ok_or_else(|| reject("not a hook".into()))?;
        let ctx = v1::context(&host.ctx);
        let event = Self::event(&e.name, &e.collection, &e.payload, &e.keys);
        let mut store = self.store(host);
        let result = pre
            .instantiate(&mut store)
            .and_then(|guest| guest.call_filter(&mut store, &ctx, &event));
        match result {
            Ok(Ok(text)) => serde_json::from_str(&text).map_err(|err| {
                let reason = format!("Extension \"{}\" failed: its filter returned malformed JSON ({err}).", c.id);
                tracing::error!(extension = c.id, error = %reason, "WASM filter answered malformed data");
                reject(reason)
            }),
            Ok(Err(message)) => Err(reject(message)),
            Err(err) => Err(reject(self.failure(&store, &c.id, err))),
        }
    }

    /// Runs an action hook; the error is the caller's to log.
    pub fn call_action(
        &self,
        c: &LoadedComponent,
        host: GuestHost,
        e: &ActionEvent,
    ) -> Result<(), String> {
        let pre = c.hook.as_ref().ok_or("not a hook")?;
        let ctx = v1::context(&host.ctx);
        let event = Self::event(&e.name, &e.collection, &e.payload, &e.keys);
        let mut store = self.store(host);
        let result = pre
            .instantiate(&mut store)
            .and_then(|guest| guest.call_action(&mut store, &ctx, &event));
        match result {
            Ok(r) => r,
            Err(err) => Err(self.failure(&store, &c.id, err)),
        }
    }
}

/// Epoch ticks covering `d` (at least one).
fn ticks(d: Duration) -> u64 {
    u64::try_from(d.as_millis().div_ceil(engine::TICK.as_millis()))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The context a hook acts under: the writer of the event, never an administrator (an
/// event carries only the user's id).
pub fn event_context(user: Option<String>) -> Context {
    Context {
        user,
        role: None,
        admin: false,
        ip: None,
        user_agent: None,
    }
}

//! Wiring a loaded WASM component into the host: its endpoint into the registry's
//! mounts (`/<extension-id>/…`), its hooks into [`Hooks`] like a Rhai script's, and its
//! operation into the registry's operations table as an [`OperationRunner`].
//!
//! Every call runs on the blocking pool (instantiating and running guest code is CPU
//! work) with a [`GuestHost`] for the caller: the request's or flow's context, the
//! extension's grants and the runtime handle for the host's async services.
//!
//! Owns: adapting component calls to the registry's and bus's shapes. Must not touch:
//! how components are compiled, limited and called (`runtime::wasm`).

use crate::app::AppState;
use crate::registry::operations::{OperationRunner, RunFuture};
use crate::registry::Handler;
use crate::runtime::capabilities::Grants;
use crate::runtime::host_api::GuestHost;
use crate::runtime::wasm::{event_context, LoadedComponent, WasmRuntime};
use crate::runtime::{ActionFn, FilterFn, Hooks};
use rectus_sdk::{Context, HostError, OperationInfo, Response};
use serde_json::Value as Json;
use std::sync::Arc;

/// A loaded component with what every call needs.
#[derive(Clone)]
pub struct Guest {
    pub runtime: Arc<WasmRuntime>,
    pub component: Arc<LoadedComponent>,
    pub grants: Grants,
    pub id: String,
}

impl Guest {
    pub fn host(
        &self,
        state: Arc<AppState>,
        ctx: Context,
        runtime: tokio::runtime::Handle,
    ) -> GuestHost {
        GuestHost::new(
            state,
            ctx,
            self.id.clone(),
            self.grants.clone(),
            self.runtime.cache.clone(),
            runtime,
        )
    }

    /// The registry handler serving `/<id>/…`.
    pub fn endpoint(&self) -> Handler {
        let guest = self.clone();
        Arc::new(move |state, ctx, req| {
            let guest = guest.clone();
            Box::pin(async move {
                let host = guest.host(state, ctx, tokio::runtime::Handle::current());
                let g = guest.clone();
                tokio::task::spawn_blocking(move || {
                    g.runtime.call_endpoint(&g.component, host, req, Vec::new())
                })
                .await
                .unwrap_or_else(|e| {
                    Response::error(&HostError::new(
                        500,
                        "INTERNAL_SERVER_ERROR",
                        format!("Extension \"{}\" failed: {e}.", guest.id),
                    ))
                })
            })
        })
    }

    /// The hooks the component subscribed to at load. Blocking (calls the guest).
    pub fn hooks(
        &self,
        state: &Arc<AppState>,
        handle: &tokio::runtime::Handle,
    ) -> Result<Hooks, String> {
        let host = self.host(state.clone(), event_context(None), handle.clone());
        let subscriptions = self.runtime.subscriptions(&self.component, host)?;
        let mut hooks = Hooks::default();
        for sub in subscriptions {
            let (guest, state, handle) = (self.clone(), state.clone(), handle.clone());
            if sub.filter {
                let run: FilterFn = Arc::new(move |event| {
                    let host = guest
                        .host(
                            state.clone(),
                            event_context(event.user.clone()),
                            handle.clone(),
                        )
                        .for_writer();
                    guest.runtime.call_filter(&guest.component, host, &event)
                });
                hooks.filters.push((sub.event, run));
            } else {
                let run: ActionFn = Arc::new(move |event| {
                    let host = guest
                        .host(
                            state.clone(),
                            event_context(event.user.clone()),
                            handle.clone(),
                        )
                        .for_writer();
                    guest.runtime.call_action(&guest.component, host, &event)
                });
                hooks.actions.push((sub.event, run));
            }
        }
        Ok(hooks)
    }

    /// The component's operation, described by the component itself. Blocking.
    pub fn operation(
        &self,
        state: &Arc<AppState>,
        handle: &tokio::runtime::Handle,
    ) -> Result<WasmOperation, String> {
        let host = self.host(state.clone(), event_context(None), handle.clone());
        let info = self.runtime.operation_info(&self.component, host)?;
        Ok(WasmOperation {
            guest: self.clone(),
            info,
        })
    }
}

/// The REST module's component build, loaded as the handler of the built-in `rest`
/// module (`REST_MODULE=component`). It is first-party: granted every collection, and
/// like the linked crate it acts under each request's caller.
pub async fn rest_component(
    config: &crate::config::Config,
    path: &std::path::Path,
) -> Result<(Arc<WasmRuntime>, Handler), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let runtime = WasmRuntime::new(crate::runtime::wasm::WasmSettings {
        timeout: config.wasm_timeout,
        memory_mb: config.wasm_memory_mb,
        cache_path: config.wasm_cache_path.clone(),
    })?;
    let rt = runtime.clone();
    let component =
        tokio::task::spawn_blocking(move || rt.load("rest", &bytes, &["endpoint".to_string()]))
            .await
            .map_err(|e| e.to_string())??;
    let guest = Guest {
        runtime: runtime.clone(),
        component: Arc::new(component),
        grants: Grants::new(vec!["items:read:*".into(), "items:write:*".into()]),
        id: "rest".into(),
    };
    Ok((runtime, guest.endpoint()))
}

/// A component's flow operation, as the flow engine calls it.
pub struct WasmOperation {
    guest: Guest,
    info: OperationInfo,
}

impl OperationRunner for WasmOperation {
    fn info(&self) -> &OperationInfo {
        &self.info
    }

    fn run(&self, state: Arc<AppState>, ctx: Context, options: Json, data: Json) -> RunFuture {
        let guest = self.guest.clone();
        Box::pin(async move {
            let host = guest.host(state, ctx, tokio::runtime::Handle::current());
            let id = guest.id.clone();
            tokio::task::spawn_blocking(move || {
                guest
                    .runtime
                    .run_operation(&guest.component, host, &options, &data)
            })
            .await
            .unwrap_or_else(|e| {
                Err(HostError::new(
                    500,
                    "INTERNAL_SERVER_ERROR",
                    format!("Extension \"{id}\" failed: {e}."),
                ))
            })
        })
    }
}

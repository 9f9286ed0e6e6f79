//! Guest runtimes: what runs the code of an extension a user dropped in. Each runtime
//! turns a guest into [`Hooks`] — plain, blocking functions over the events bus's event
//! types — so the extensions loader (`crate::extensions`) wires every runtime the same
//! way. Rhai scripts now ([`rhai`]); the WASM runtime slots in beside it, producing the
//! same `Hooks` from a component.
//!
//! Owns: sandboxing and calling guest code. Must not touch: the folder, the registry, the
//! bus (the loader registers what a runtime hands back), async workers (every function
//! here is CPU work the caller runs on the blocking pool).

pub mod capabilities;
pub mod host_api;
pub mod rhai;
pub mod wasm;

use crate::events::{ActionEvent, FilterEvent, Rejection};
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::Duration;

/// A guest's filter handler: returns the (possibly changed) payload or rejects the write.
/// Blocking: run it on `spawn_blocking`.
pub type FilterFn = Arc<dyn Fn(FilterEvent) -> Result<Json, Rejection> + Send + Sync>;
/// A guest's action handler; an error is only logged. Blocking, like [`FilterFn`].
pub type ActionFn = Arc<dyn Fn(ActionEvent) -> Result<(), String> + Send + Sync>;

/// A guest's flow operation: runs with the flow's caller, options and data chain.
/// Blocking, like [`FilterFn`].
pub type OperationFn = Arc<
    dyn Fn(rectus_sdk::Context, Json, Json) -> Result<Json, rectus_sdk::HostError> + Send + Sync,
>;

/// What a guest registered when it was loaded, by event name (and its operations).
#[derive(Default, Clone)]
pub struct Hooks {
    pub filters: Vec<(String, FilterFn)>,
    pub actions: Vec<(String, ActionFn)>,
    pub operations: Vec<(rectus_sdk::OperationInfo, OperationFn)>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field(
                "filters",
                &self.filters.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field(
                "actions",
                &self.actions.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Limits every guest call runs under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock time of one call (loading included).
    pub timeout: Duration,
}

//! What one guest call's `Store` holds: the host API under the caller's context, a WASI
//! context with nothing in it (no files, no sockets, no environment, no arguments; stdout
//! and stderr discarded), and the memory limiter.
//!
//! Owns: per-call state and the memory limit. Must not touch: the engine, components.

use crate::runtime::host_api::GuestHost;
use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Tables a guest may grow to (function references), far beyond what compiled guests use.
const TABLE_ELEMENTS: usize = 100_000;

pub struct CallState {
    pub host: GuestHost,
    /// When the call started: its deadline counts from here, less the host's waits.
    pub started: std::time::Instant,
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: MemoryLimiter,
}

impl CallState {
    pub fn new(host: GuestHost, memory_bytes: usize) -> Self {
        CallState {
            host,
            started: std::time::Instant::now(),
            // WasiCtxBuilder starts empty: no preopened directories, no network, no
            // environment; stdio goes nowhere.
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                max_bytes: memory_bytes,
                exceeded: false,
            },
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps each linear memory of a call; growing past the cap traps the call (and records
/// that it did, so the error says "memory limit" rather than a bare trap).
pub struct MemoryLimiter {
    pub max_bytes: usize,
    pub exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            wasmtime::bail!(
                "the memory limit of {} MiB was exceeded",
                self.max_bytes / (1024 * 1024)
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
}

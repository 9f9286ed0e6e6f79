//! The one wasmtime `Engine` and the on-disk cache of compiled components.
//!
//! Engine: Cranelift, the component model, epoch interruption (a ticker thread advances
//! the epoch every [`TICK`]; each call's store gets a deadline in ticks), and the pooling
//! allocator sized from the memory limit (falling back to on-demand allocation, with a
//! warning, where the pool's address space can't be reserved).
//!
//! Cache: compiling a component costs 30 ms (Rust) to 10 s (StarlingMonkey JS); loading
//! its precompiled form costs about 1 ms. A component is compiled once into
//! `<cache>/<sha256 of the component>-<engine hash>.cwasm`, so restarts and reloads of an
//! unchanged component don't recompile; a file the engine refuses (other wasmtime version
//! or settings, corrupt) is compiled again and replaced.
//!
//! Owns: engine settings, the epoch ticker, the cache folder. Must not touch: linking,
//! calls (`super`).

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the resolution of call deadlines.
pub const TICK: Duration = Duration::from_millis(10);

/// Concurrent guest instances the pool holds; a call past this fails with a clear error.
const POOL_INSTANCES: u32 = 256;

fn config(memory_bytes: usize, pooling: bool) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 4)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 4)
            .max_core_instances_per_component(32)
            .max_memories_per_component(8)
            .max_tables_per_component(8)
            .max_memory_size(memory_bytes)
            .table_elements(20_000)
            .max_core_instance_size(16 << 20)
            .max_component_instance_size(16 << 20);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // Reserve only what the limit allows per memory (plus guard pages), not the
        // default 4 GiB: the pool reserves every slot up front.
        c.memory_reservation(memory_bytes as u64);
    }
    c
}

/// The engine, with the pooling allocator when it can be set up.
pub fn engine(memory_bytes: usize) -> Result<Engine, String> {
    match Engine::new(&config(memory_bytes, true)) {
        Ok(e) => Ok(e),
        Err(pool_error) => {
            tracing::warn!(error = %pool_error, "WASM pooling allocator unavailable; allocating per call");
            Engine::new(&config(memory_bytes, false)).map_err(|e| e.to_string())
        }
    }
}

/// Advances `engine`'s epoch every [`TICK`] for the life of the process.
pub fn spawn_ticker(engine: Engine) {
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            engine.increment_epoch();
        })
        .expect("spawn the WASM epoch thread");
}

/// The cache file for `bytes` compiled by `engine`.
fn cache_file(engine: &Engine, dir: &Path, bytes: &[u8]) -> PathBuf {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{hex}-{:016x}.cwasm", h.finish()))
}

fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file is one this host wrote with `precompile_component` (the cache
    // folder is the host's own); wasmtime checks that it matches this engine's version
    // and settings and refuses it otherwise.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Loads `bytes` as a component: from the cache when compiled before, else compiled and
/// cached. Blocking (compiling is CPU work): call it on the blocking pool.
pub fn load(engine: &Engine, cache_dir: &Path, bytes: &[u8]) -> Result<Component, String> {
    let started = Instant::now();
    let path = cache_file(engine, cache_dir, bytes);
    if path.is_file() {
        match deserialize(engine, &path) {
            Ok(c) => {
                tracing::debug!(file = %path.display(), elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "component loaded from the compile cache");
                return Ok(c);
            }
            Err(e) => {
                tracing::info!(file = %path.display(), error = %e, "cached component refused; compiling again")
            }
        }
    }
    let compiled = engine
        .precompile_component(bytes)
        .map_err(|e| format!("not a valid WebAssembly component: {}", e.root_cause()))?;
    let written = std::fs::create_dir_all(cache_dir).and_then(|()| {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &compiled)?;
        std::fs::rename(&tmp, &path)
    });
    let component = match written {
        Ok(()) => deserialize(engine, &path),
        Err(e) => {
            tracing::warn!(dir = %cache_dir.display(), error = %e, "cannot write the WASM compile cache; components will be compiled at every start");
            // SAFETY: `compiled` was produced by this engine a moment ago.
            unsafe { Component::deserialize(engine, &compiled) }
        }
    }
    .map_err(|e| format!("the compiled component could not be loaded: {e}"))?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        bytes = bytes.len(),
        "component compiled"
    );
    Ok(component)
}

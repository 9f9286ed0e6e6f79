//! The extensions folder: `EXTENSIONS_PATH/<folder>/extension.toml` (see [`manifest`]).
//!
//! At start the host scans the folder and loads every guest extension; with
//! `EXTENSIONS_AUTO_RELOAD` (default) it watches the folder and, about 250 ms after the
//! last change, scans again: new folders load, changed ones reload, removed ones unload.
//! A folder that can't be used (bad manifest, duplicate id, a script that doesn't compile
//! or fails while loading) is logged and listed with its error in `GET /extensions`, and
//! the others load — nothing here is fatal. `builtin` folders (`extensions/rest`) are the
//! host's own modules, already registered, and are skipped.
//!
//! Loading a guest: the runtime for its source ([`crate::runtime`]) turns it into hooks;
//! filter hooks go on the events bus under the owner `ext:<folder>#<fingerprint>` (so a
//! reload registers the new version before the old one is removed, by owner); action
//! hooks go in a table that one bus subscriber serves. Every hook checks the guest's
//! enabled flag (shared with the registry) first and runs on the blocking pool.
//!
//! Owns: discovering, validating, loading, unloading and watching extensions. Must not
//! touch: what guests do (the runtimes), the events' meaning (the bus, the items service).

pub mod manifest;
pub mod wasm;

use crate::app::AppState;
use crate::events::{ActionEvent, FilterHandler, Rejection};
use crate::registry::{Guest, Source as ModuleSource};
use crate::runtime::host_api::GuestHost;
use crate::runtime::{self, ActionFn, Limits};
use manifest::{Manifest, Source};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Mutex;

/// First path segments the host serves itself: no guest endpoint can be mounted there.
const RESERVED_MOUNTS: &[&str] = &[
    "items",
    "users",
    "roles",
    "policies",
    "permissions",
    "access",
    "activity",
    "revisions",
    "server",
    "auth",
    "extensions",
    "schema",
    "collections",
    "fields",
    "relations",
    "graphql",
    "flows",
    "operations",
    "files",
    "assets",
    "folders",
    "settings",
    "utils",
    "presets",
    "webhooks",
    "dashboards",
    "panels",
    "notifications",
    "shares",
    "translations",
    "versions",
    "comments",
    "specs",
];

/// Quiet time after the last change in the folder before it is scanned again: copying a
/// folder in is many events, and one scan should see the whole folder.
const DEBOUNCE: Duration = Duration::from_millis(250);

struct ActionHook {
    owner: String,
    event: String,
    enabled: Arc<AtomicBool>,
    run: ActionFn,
}

/// What is loaded from one folder.
struct Loaded {
    fingerprint: u64,
    owner: String,
    /// Failed folders are tried again at every scan (the id they clashed with may be gone).
    failed: bool,
    /// The id it was loaded under (its endpoint mount and operations' module).
    id: Option<String>,
}

/// The extension host: the loaded folders and the action hooks.
pub struct Extensions {
    state: Arc<AppState>,
    path: PathBuf,
    limits: Limits,
    loaded: Mutex<HashMap<String, Loaded>>,
    actions: Arc<RwLock<Vec<ActionHook>>>,
}

/// One folder as a scan found it.
enum Found {
    /// A built-in module's folder, or a folder with no manifest: nothing to load.
    Skip,
    Guest {
        manifest: Manifest,
        /// The entry file's bytes (a script or a component).
        entry: Vec<u8>,
    },
    Broken {
        id: Option<String>,
        reason: String,
    },
}

fn fingerprint(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// Reads one folder: its manifest and entry file, and a fingerprint of both.
fn inspect(dir: &Path) -> (Found, u64) {
    let manifest_path = dir.join("extension.toml");
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Found::Skip, 0),
        Err(e) => {
            let reason = format!("could not read extension.toml: {e}");
            return (Found::Broken { id: None, reason }, fingerprint(&[]));
        }
    };
    let manifest = match manifest::parse(&text, dir) {
        Ok(m) => m,
        Err(e) => {
            let fp = fingerprint(&[&text]);
            return (
                Found::Broken {
                    id: e.id,
                    reason: e.reason,
                },
                fp,
            );
        }
    };
    if manifest.source == Source::Builtin {
        return (Found::Skip, 0);
    }
    let entry = manifest.entry.as_deref().unwrap_or_default();
    match std::fs::read(dir.join(entry)) {
        Ok(bytes) => {
            let mut h = DefaultHasher::new();
            text.hash(&mut h);
            bytes.hash(&mut h);
            (
                Found::Guest {
                    manifest,
                    entry: bytes,
                },
                h.finish(),
            )
        }
        Err(e) => (
            Found::Broken {
                id: Some(manifest.id),
                reason: format!("could not read \"{entry}\": {e}"),
            },
            fingerprint(&[&text]),
        ),
    }
}

/// The extension folders under `path`, by name (a missing folder has none).
fn folders(path: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    out.sort();
    out
}

impl Extensions {
    /// Loads the folder once and, with auto-reload, keeps watching it. Returns when the
    /// first scan is done, so the extensions present at start are active when the server
    /// answers.
    pub async fn start(state: Arc<AppState>) -> Arc<Extensions> {
        let ext = Arc::new(Extensions {
            path: state.config.extensions_path.clone(),
            limits: Limits {
                timeout: state.config.rhai_timeout,
            },
            state,
            loaded: Mutex::new(HashMap::new()),
            actions: Arc::new(RwLock::new(Vec::new())),
        });
        ext.spawn_action_dispatcher();
        ext.scan().await;
        if ext.state.config.extensions_auto_reload {
            ext.clone().spawn_watcher();
        }
        ext
    }

    /// Brings the loaded set in line with the folder.
    pub async fn scan(&self) {
        let path = self.path.clone();
        let found = tokio::task::spawn_blocking(move || {
            folders(&path)
                .into_iter()
                .map(|(name, dir)| {
                    let (found, fp) = inspect(&dir);
                    (name, found, fp)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut loaded = self.loaded.lock().await;
        // Gone or changed: unload. Reloads register the new version first (below), so
        // changed folders are only dropped here when they stopped being guests.
        let present: HashMap<&str, (&Found, u64)> = found
            .iter()
            .map(|(name, f, fp)| (name.as_str(), (f, *fp)))
            .collect();
        let gone: Vec<String> = loaded
            .keys()
            .filter(|folder| {
                !matches!(
                    present.get(folder.as_str()),
                    Some((Found::Guest { .. } | Found::Broken { .. }, _))
                )
            })
            .cloned()
            .collect();
        for folder in gone {
            if let Some(old) = loaded.remove(&folder) {
                self.unload(&folder, &old.owner, old.id.as_deref());
                tracing::info!(folder, "extension removed");
            }
        }
        for (folder, found, fp) in found {
            let previous = loaded.get(&folder);
            if previous.is_some_and(|p| p.fingerprint == fp && !p.failed) {
                continue;
            }
            let old_owner = previous.map(|p| p.owner.clone());
            let old_id = previous.and_then(|p| p.id.clone());
            let owner = format!("ext:{folder}#{fp:x}");
            let mut id = None;
            let failed = match found {
                Found::Skip => continue,
                Found::Guest { manifest, entry } => {
                    match self.load(&folder, &owner, &manifest, entry).await {
                        Ok(()) => {
                            tracing::info!(
                                folder,
                                id = manifest.id,
                                version = manifest.version,
                                "extension loaded"
                            );
                            id = Some(manifest.id.clone());
                            false
                        }
                        Err(reason) => {
                            self.broken(&folder, None, Some(&manifest), reason).await;
                            true
                        }
                    }
                }
                Found::Broken { id, reason } => {
                    self.broken(&folder, id, None, reason).await;
                    true
                }
            };
            if let Some(old) = old_owner.filter(|o| *o != owner) {
                self.unload_hooks(&old);
            }
            if let Some(old_id) = old_id.filter(|old| id.as_ref() != Some(old)) {
                self.unload_parts(&old_id);
            }
            loaded.insert(
                folder,
                Loaded {
                    fingerprint: fp,
                    owner,
                    failed,
                    id,
                },
            );
        }
    }

    /// Loads one guest: runtime, registry, hooks. On error nothing of it is registered.
    async fn load(
        &self,
        folder: &str,
        owner: &str,
        manifest: &Manifest,
        entry: Vec<u8>,
    ) -> Result<(), String> {
        if let Some(other) = self.state.modules.id_taken(&manifest.id, folder) {
            return Err(format!(
                "duplicate id \"{}\": already used by {other}",
                manifest.id
            ));
        }
        if manifest.kinds.iter().any(|k| k == "endpoint")
            && RESERVED_MOUNTS.contains(&manifest.id.as_str())
        {
            return Err(format!(
                "the id \"{}\" is a path the host serves itself; an endpoint can't be mounted there",
                manifest.id
            ));
        }
        match manifest.source {
            Source::Wasm => self.load_wasm(folder, owner, manifest, entry).await,
            Source::Rhai | Source::Builtin => {
                let script = String::from_utf8(entry)
                    .map_err(|_| "the script is not valid UTF-8 text".to_string())?;
                self.load_rhai(folder, owner, manifest, script).await
            }
        }
    }

    async fn load_rhai(
        &self,
        folder: &str,
        owner: &str,
        manifest: &Manifest,
        script: String,
    ) -> Result<(), String> {
        let registered = guest(folder, manifest, None);
        // Handlers reach items as the writer of their event (operations as the flow's
        // caller), within the guest's grants.
        let factory: runtime::rhai::HostFactory = {
            let (state, id, grants) = (
                self.state.clone(),
                manifest.id.clone(),
                registered.grants.clone(),
            );
            let (handle, cache) = (tokio::runtime::Handle::current(), Arc::default());
            Arc::new(move |ctx| {
                GuestHost::new(
                    state.clone(),
                    ctx,
                    id.clone(),
                    grants.clone(),
                    Arc::clone(&cache),
                    handle.clone(),
                )
            })
        };
        let hooks = {
            let (id, caps, limits) = (
                manifest.id.clone(),
                manifest.capabilities.clone(),
                self.limits,
            );
            tokio::task::spawn_blocking(move || {
                runtime::rhai::load(&id, &script, &caps, limits, Some(factory))
            })
            .await
            .map_err(|e| format!("the script could not be loaded: {e}"))??
        };
        let guest = self
            .state
            .modules
            .put_guest(&self.state.db, registered)
            .await
            .map_err(|e| format!("could not read the module's state: {e}"))?;
        let modules = &self.state.modules;
        modules.remove_operations_of(&manifest.id);
        for (info, run) in hooks.operations.clone() {
            modules.put_operation(
                &manifest.id,
                guest.enabled.clone(),
                Arc::new(ScriptOperation { info, run }),
            );
        }
        self.register_hooks(owner, &guest, hooks);
        Ok(())
    }

    /// A component: compiled (or loaded from the compile cache) and linked, then its
    /// endpoint, hooks and operation registered.
    async fn load_wasm(
        &self,
        folder: &str,
        owner: &str,
        manifest: &Manifest,
        entry: Vec<u8>,
    ) -> Result<(), String> {
        let runtime = self.state.wasm()?;
        let handle = tokio::runtime::Handle::current();
        let registered = guest(folder, manifest, None);
        let (component, hooks, operation) = {
            let (state, id, kinds, grants) = (
                self.state.clone(),
                manifest.id.clone(),
                manifest.kinds.clone(),
                registered.grants.clone(),
            );
            tokio::task::spawn_blocking(move || {
                let component = Arc::new(runtime.load(&id, &entry, &kinds)?);
                let g = wasm::Guest {
                    runtime,
                    component,
                    grants,
                    id,
                };
                let hooks = if kinds.iter().any(|k| k == "hook") {
                    g.hooks(&state, &handle)?
                } else {
                    crate::runtime::Hooks::default()
                };
                let operation = if kinds.iter().any(|k| k == "operation") {
                    Some(g.operation(&state, &handle)?)
                } else {
                    None
                };
                Ok::<_, String>((g, hooks, operation))
            })
            .await
            .map_err(|e| format!("the component could not be loaded: {e}"))??
        };
        let guest = self
            .state
            .modules
            .put_guest(&self.state.db, registered)
            .await
            .map_err(|e| format!("could not read the module's state: {e}"))?;
        let modules = &self.state.modules;
        modules.remove_operations_of(&manifest.id);
        if let Some(op) = operation {
            modules.put_operation(&manifest.id, guest.enabled.clone(), Arc::new(op));
        }
        if manifest.kinds.iter().any(|k| k == "endpoint") {
            modules.put_guest_endpoint(&manifest.id, guest.enabled.clone(), component.endpoint());
        } else {
            modules.remove_guest_endpoint(&manifest.id);
        }
        self.register_hooks(owner, &guest, hooks);
        Ok(())
    }

    /// Filter hooks on the bus under `owner`, action hooks in the table.
    fn register_hooks(&self, owner: &str, guest: &Guest, hooks: runtime::Hooks) {
        for (event, run) in hooks.filters {
            let enabled = guest.enabled.clone();
            let handler: FilterHandler = Arc::new(move |e| {
                let (enabled, run) = (enabled.clone(), run.clone());
                Box::pin(async move {
                    if !enabled.load(Ordering::Acquire) {
                        return Ok(e.payload);
                    }
                    tokio::task::spawn_blocking(move || run(e))
                        .await
                        .unwrap_or_else(|err| {
                            Err(Rejection::new(format!(
                                "An extension's filter failed: {err}"
                            )))
                        })
                })
            });
            self.state.events.on_filter_owned(owner, &event, handler);
        }
        let mut actions = self.actions.write().expect("action table lock");
        for (event, run) in hooks.actions {
            actions.push(ActionHook {
                owner: owner.to_string(),
                event,
                enabled: guest.enabled.clone(),
                run,
            });
        }
    }

    /// Lists a folder that did not load, with its reason.
    async fn broken(
        &self,
        folder: &str,
        id: Option<String>,
        manifest: Option<&Manifest>,
        reason: String,
    ) {
        tracing::error!(folder, error = %reason, "extension skipped");
        let mut g = match manifest {
            Some(m) => guest(folder, m, Some(reason)),
            None => Guest {
                id: folder.to_string(),
                folder: folder.to_string(),
                kinds: Vec::new(),
                source: ModuleSource::Rhai,
                version: String::new(),
                capabilities: Vec::new(),
                grants: Default::default(),
                error: Some(reason),
                enabled: Arc::new(AtomicBool::new(false)),
            },
        };
        if let Some(id) = id {
            g.id = id;
        }
        // A broken guest touches no stored state, so this can't fail.
        let _ = self.state.modules.put_guest(&self.state.db, g).await;
    }

    fn unload_hooks(&self, owner: &str) {
        self.state.events.remove_owner(owner);
        self.actions
            .write()
            .expect("action table lock")
            .retain(|a| a.owner != owner);
    }

    /// What a guest registered under its id: its endpoint and operations.
    fn unload_parts(&self, id: &str) {
        self.state.modules.remove_guest_endpoint(id);
        self.state.modules.remove_operations_of(id);
    }

    fn unload(&self, folder: &str, owner: &str, id: Option<&str>) {
        self.unload_hooks(owner);
        if let Some(id) = id {
            self.unload_parts(id);
        }
        self.state.modules.remove_guest(folder);
    }

    /// One subscriber for every guest's action hooks: each event runs the matching
    /// enabled hooks on the blocking pool, in registration order; errors are logged.
    fn spawn_action_dispatcher(&self) {
        let mut rx = self.state.events.subscribe();
        let actions = self.actions.clone();
        tokio::spawn(async move {
            loop {
                let event: ActionEvent = match rx.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "extension action hooks fell behind");
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let runs: Vec<(String, ActionFn)> = actions
                    .read()
                    .expect("action table lock")
                    .iter()
                    .filter(|a| a.event == event.name && a.enabled.load(Ordering::Acquire))
                    .map(|a| (a.owner.clone(), a.run.clone()))
                    .collect();
                if runs.is_empty() {
                    continue;
                }
                let _ = tokio::task::spawn_blocking(move || {
                    for (owner, run) in runs {
                        if let Err(error) = run(event.clone()) {
                            tracing::warn!(owner, event = event.name, %error, "action hook failed");
                        }
                    }
                })
                .await;
            }
        });
    }

    /// Watches the folder; every burst of changes ends in one scan.
    fn spawn_watcher(self: Arc<Self>) {
        use notify::{EventKind, RecursiveMode, Watcher};
        if !self.path.is_dir() {
            // No folder is a normal set-up (no guests); say so once, quietly.
            tracing::info!(path = %self.path.display(), "no extensions folder; not watching");
            return;
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            // Reading files (our own scans included) is no change.
            if let Ok(e) = res {
                if !matches!(e.kind, EventKind::Access(_)) {
                    let _ = tx.send(());
                }
            }
        });
        let mut watcher = match watcher {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, "cannot watch the extensions folder; changes need a restart");
                return;
            }
        };
        if let Err(e) = watcher.watch(&self.path, RecursiveMode::Recursive) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot watch the extensions folder; changes need a restart");
            return;
        }
        tokio::spawn(async move {
            let _watcher = watcher; // dropping it stops the watch
            while rx.recv().await.is_some() {
                while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
                self.scan().await;
            }
        });
    }
}

/// A Rhai script's operation, run on the blocking pool.
struct ScriptOperation {
    info: rectus_sdk::OperationInfo,
    run: runtime::OperationFn,
}

impl crate::registry::operations::OperationRunner for ScriptOperation {
    fn info(&self) -> &rectus_sdk::OperationInfo {
        &self.info
    }

    fn run(
        &self,
        _state: Arc<AppState>,
        ctx: rectus_sdk::Context,
        options: serde_json::Value,
        data: serde_json::Value,
    ) -> crate::registry::operations::RunFuture {
        let run = self.run.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || run(ctx, options, data))
                .await
                .unwrap_or_else(|e| {
                    Err(rectus_sdk::HostError::new(
                        500,
                        "INTERNAL_SERVER_ERROR",
                        format!("An extension's operation failed: {e}"),
                    ))
                })
        })
    }
}

fn guest(folder: &str, m: &Manifest, error: Option<String>) -> Guest {
    Guest {
        id: m.id.clone(),
        folder: folder.to_string(),
        kinds: m.kinds.clone(),
        source: match m.source {
            Source::Rhai | Source::Builtin => ModuleSource::Rhai,
            Source::Wasm => ModuleSource::Wasm,
        },
        version: m.version.clone(),
        capabilities: m.capabilities.clone(),
        grants: Default::default(),
        error,
        enabled: Arc::new(AtomicBool::new(false)),
    }
}

//! The module registry: every module the host runs, with its id, kind, source and enabled
//! state. A disabled module's routes answer `404 ROUTE_NOT_FOUND` at once, without a
//! restart. Built-in modules (REST now) are linked natively and registered here; guests
//! (extensions loaded from `EXTENSIONS_PATH`, `guest.rs`) come and go at runtime beside
//! them. The enabled state of both is kept in `rectus_extensions` (`state.rs`).
//!
//! Owns: which module serves which mount point, and the native [`rectus_sdk::Host`]
//! implementation handed to linked modules. Must not touch: what modules do with requests.

mod guest;
mod native;
pub mod operations;
mod state;

pub use guest::Guest;
pub use native::NativeHost;

use crate::app::AppState;
use crate::http::socket::ModuleSocket;
use rectus_sdk::{Context, Endpoint, Request, Response, SocketEndpoint};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

pub type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send>>;
/// Serves one request routed to a module.
pub type Handler = Arc<dyn Fn(Arc<AppState>, Context, Request) -> BoxFuture + Send + Sync>;
type SocketFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// Serves one WebSocket of a module that takes them (GraphQL subscriptions).
pub type SocketHandler =
    Arc<dyn Fn(Arc<AppState>, Context, ModuleSocket) -> SocketFuture + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Linked into the host.
    Builtin,
    /// A Rhai script from the extensions folder.
    Rhai,
    /// A WebAssembly component from the extensions folder.
    Wasm,
}

impl Source {
    /// The manifest's and `/extensions`'s spelling.
    pub fn name(self) -> &'static str {
        match self {
            Source::Builtin => "builtin",
            Source::Rhai => "rhai",
            Source::Wasm => "wasm",
        }
    }
}

pub struct Module {
    pub id: &'static str,
    pub kind: &'static str,
    pub source: Source,
    pub version: &'static str,
    pub mounts: &'static [&'static str],
    enabled: AtomicBool,
    handler: Handler,
    /// The WebSocket subprotocol and handler, for modules that serve sockets.
    socket: Option<(&'static str, SocketHandler)>,
}

impl Module {
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Release);
    }
}

#[derive(Default)]
pub struct Registry {
    modules: Vec<Module>,
    guests: RwLock<Vec<Guest>>,
    /// Flow operations by type, from every source (`operations.rs`).
    operations: RwLock<Vec<operations::RegisteredOperation>>,
    /// Guests' endpoints by mount point (their id), with their enabled flag.
    guest_endpoints: RwLock<Vec<(String, Arc<AtomicBool>, Handler)>>,
}

impl Registry {
    /// The built-in modules, all enabled.
    pub fn builtin() -> Self {
        let mut r = Registry::default();
        r.add_native("rest", "endpoint", rectus_rest::Rest);
        r.add_native_with_sockets("graphql", "endpoint", rectus_graphql::GraphQl::default());
        r
    }

    fn add_native<E: Endpoint>(&mut self, id: &'static str, kind: &'static str, endpoint: E) {
        self.add_native_arc(id, kind, Arc::new(endpoint), None);
    }

    /// A native module that also serves WebSockets on its mount points.
    fn add_native_with_sockets<E: SocketEndpoint>(
        &mut self,
        id: &'static str,
        kind: &'static str,
        endpoint: E,
    ) {
        let endpoint = Arc::new(endpoint);
        let serving = endpoint.clone();
        let socket: SocketHandler = Arc::new(move |state, ctx, socket| {
            let endpoint = serving.clone();
            Box::pin(async move {
                endpoint
                    .serve_socket(NativeHost::new(state), ctx, socket)
                    .await
            })
        });
        let protocol = endpoint.protocol();
        self.add_native_arc(id, kind, endpoint, Some((protocol, socket)));
    }

    fn add_native_arc<E: Endpoint>(
        &mut self,
        id: &'static str,
        kind: &'static str,
        endpoint: Arc<E>,
        socket: Option<(&'static str, SocketHandler)>,
    ) {
        let mounts = endpoint.mounts();
        let handler: Handler = Arc::new(move |state, ctx, req| {
            let endpoint = endpoint.clone();
            Box::pin(async move {
                let host = NativeHost::new(state);
                endpoint.handle(&host, &ctx, req).await
            })
        });
        self.modules.push(Module {
            id,
            kind,
            source: Source::Builtin,
            version: env!("CARGO_PKG_VERSION"),
            mounts,
            enabled: AtomicBool::new(true),
            handler,
            socket,
        });
    }

    pub fn get(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.id == id)
    }

    /// Every mount point any module serves.
    pub fn mounts(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = self
            .modules
            .iter()
            .flat_map(|m| m.mounts.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The WebSocket subprotocol and handler of the enabled module mounted at `mount`.
    pub fn socket(&self, mount: &str) -> Option<(&'static str, SocketHandler)> {
        self.modules
            .iter()
            .find(|m| m.mounts.contains(&mount) && m.enabled())?
            .socket
            .clone()
    }

    /// The enabled module mounted at `mount`, ready to handle a request: a built-in,
    /// else a guest's endpoint.
    pub fn endpoint(&self, mount: &str) -> Option<Handler> {
        if let Some(m) = self.modules.iter().find(|m| m.mounts.contains(&mount)) {
            return m.enabled().then(|| m.handler.clone());
        }
        self.guest_endpoints
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(m, on, _)| m == mount && on.load(Ordering::Acquire))
            .map(|(_, _, h)| h.clone())
    }

    /// Serves `/<mount>/…` with a guest's handler (replacing the one it had).
    pub fn put_guest_endpoint(&self, mount: &str, enabled: Arc<AtomicBool>, handler: Handler) {
        let mut all = self
            .guest_endpoints
            .write()
            .unwrap_or_else(|e| e.into_inner());
        all.retain(|(m, _, _)| m != mount);
        all.push((mount.to_string(), enabled, handler));
    }

    pub fn remove_guest_endpoint(&self, mount: &str) {
        self.guest_endpoints
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(m, _, _)| m != mount);
    }

    /// Replaces a built-in module's handler (REST served by its component build).
    pub fn replace_handler(&mut self, id: &str, source: Source, handler: Handler) {
        if let Some(m) = self.modules.iter_mut().find(|m| m.id == id) {
            m.handler = handler;
            m.source = source;
        }
    }
}

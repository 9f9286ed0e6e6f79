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

type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send>>;
type Handler = Arc<dyn Fn(Arc<AppState>, Context, Request) -> BoxFuture + Send + Sync>;
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
}

impl Source {
    /// The manifest's and `/extensions`'s spelling.
    pub fn name(self) -> &'static str {
        match self {
            Source::Builtin => "builtin",
            Source::Rhai => "rhai",
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

    /// The enabled module mounted at `mount`, ready to handle a request.
    pub fn endpoint(
        &self,
        mount: &str,
    ) -> Option<impl Fn(Arc<AppState>, Context, Request) -> BoxFuture + '_> {
        let m = self
            .modules
            .iter()
            .find(|m| m.mounts.contains(&mount) && m.enabled())?;
        Some(move |state, ctx, req| (m.handler)(state, ctx, req))
    }
}

//! The component backend: [`Host`] implemented over the WIT imports of
//! `rectus:extension` (`wit/`), so a module written against this SDK builds as a
//! WebAssembly component (`--target wasm32-wasip2`) from the same source it links
//! natively from.
//!
//! A guest crate exports its module with one macro, naming the WIT folder relative to
//! its own `Cargo.toml`:
//!
//! ```ignore
//! rectus_sdk::export_endpoint!(rectus_rest::Rest, "../../wit");
//! rectus_sdk::export_operation!(MyOperation, "../wit");
//! ```
//!
//! The host calls a component synchronously, and every import returns at once, so the
//! SDK's async functions are driven by [`block_on`], which polls a future until it is
//! ready with a no-op waker: nothing here ever waits for a wake-up.
//!
//! The [`Context`] a module passes back to a host call is not sent: the host runs every
//! import under the caller it started the component call with.

use crate::{Context, Host, HostError, Items, QueryInput, SchemaView, Target};
use serde_json::Value as Json;
use std::future::Future;

#[doc(hidden)]
pub use wit_bindgen;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "imports",
        runtime_path: "::rectus_sdk::component::wit_bindgen::rt",
    });
}

use bindings::rectus::extension::{items, log, schema, types};

/// Runs a future whose every await is ready at once (the host's imports are blocking).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        // Only a future that waits on something other than the host could get here.
        std::hint::spin_loop();
    }
}

/// A Directus error code as the `&'static str` the SDK's records hold.
fn static_code(code: String) -> &'static str {
    const KNOWN: &[&str] = &[
        "FORBIDDEN",
        "INVALID_PAYLOAD",
        "INVALID_QUERY",
        "ROUTE_NOT_FOUND",
        "RECORD_NOT_UNIQUE",
        "FAILED_VALIDATION",
        "INVALID_FOREIGN_KEY",
        "VALUE_TOO_LONG",
        "VALUE_OUT_OF_RANGE",
        "NOT_NULL_VIOLATION",
        "CONTAINS_NULL_VALUES",
        "INTERNAL_SERVER_ERROR",
        "SERVICE_UNAVAILABLE",
        "UNSUPPORTED_MEDIA_TYPE",
        "UNPROCESSABLE_CONTENT",
        "INVALID_CREDENTIALS",
    ];
    KNOWN
        .iter()
        .find(|k| **k == code)
        .copied()
        // A component instance lives for one call: leaking an unusual code is bounded.
        .unwrap_or_else(|| Box::leak(code.into_boxed_str()))
}

pub fn host_error(e: types::HostError) -> HostError {
    HostError {
        status: e.status,
        code: static_code(e.code),
        message: e.message,
        extensions: match serde_json::from_str(&e.extensions_json) {
            Ok(Json::Object(map)) => map,
            _ => serde_json::Map::new(),
        },
    }
}

pub fn wit_error(e: &HostError) -> types::HostError {
    types::HostError {
        status: e.status,
        code: e.code.to_string(),
        message: e.message.clone(),
        extensions_json: Json::Object(e.extensions.clone()).to_string(),
    }
}

pub fn context(c: types::Context) -> Context {
    Context {
        user: c.user,
        role: c.role,
        admin: c.admin,
        ip: c.ip,
        user_agent: c.user_agent,
    }
}

pub fn request(r: types::Request) -> crate::Request {
    crate::Request {
        mount: r.mount,
        method: r.method,
        segments: r.segments,
        query: r.query,
        body: r.body,
    }
}

pub fn response(r: crate::Response) -> types::Response {
    types::Response {
        status: r.status,
        content_type: r.content_type.to_string(),
        headers: r.headers,
        body: r.body,
    }
}

fn query(q: QueryInput) -> types::QueryInput {
    match q {
        QueryInput::String(s) => types::QueryInput::Text(s),
        QueryInput::Json(v) => types::QueryInput::Json(v.to_string()),
    }
}

fn target(t: Target) -> types::Target {
    match t {
        Target::Keys(keys) => types::Target::KeysJson(Json::Array(keys).to_string()),
        Target::Query(q) => types::Target::Query(query(q)),
    }
}

/// Keys the host returns as a JSON array.
fn keys(text: String) -> Result<Vec<Json>, HostError> {
    match serde_json::from_str(&text) {
        Ok(Json::Array(keys)) => Ok(keys),
        _ => Err(HostError::new(
            500,
            "INTERNAL_SERVER_ERROR",
            "The host returned malformed keys.",
        )),
    }
}

/// Writes a line to the host's log, tagged with the extension.
pub fn log_info(message: &str) {
    log::log(log::Level::Info, message);
}

/// [`Host`] over the component's imports.
#[derive(Debug, Default, Clone, Copy)]
pub struct ComponentHost;

impl Host for ComponentHost {
    async fn read_items(
        &self,
        _ctx: &Context,
        collection: &str,
        q: QueryInput,
    ) -> Result<Items, HostError> {
        let page = items::read_items(collection, &query(q)).map_err(host_error)?;
        Ok(Items {
            data: page.data,
            total_count: page.total_count,
            filter_count: page.filter_count,
        })
    }

    async fn read_item(
        &self,
        _ctx: &Context,
        collection: &str,
        key: &str,
        q: QueryInput,
    ) -> Result<String, HostError> {
        items::read_item(collection, key, &query(q)).map_err(host_error)
    }

    async fn create_items(
        &self,
        _ctx: &Context,
        collection: &str,
        payload: Json,
    ) -> Result<Vec<Json>, HostError> {
        keys(items::create_items(collection, &payload.to_string()).map_err(host_error)?)
    }

    async fn update_items(
        &self,
        _ctx: &Context,
        collection: &str,
        t: Target,
        data: Json,
    ) -> Result<Vec<Json>, HostError> {
        keys(items::update_items(collection, &target(t), &data.to_string()).map_err(host_error)?)
    }

    async fn update_batch(
        &self,
        _ctx: &Context,
        collection: &str,
        batch: Vec<Json>,
    ) -> Result<Vec<Json>, HostError> {
        keys(items::update_batch(collection, &Json::Array(batch).to_string()).map_err(host_error)?)
    }

    async fn delete_items(
        &self,
        _ctx: &Context,
        collection: &str,
        t: Target,
    ) -> Result<(), HostError> {
        items::delete_items(collection, &target(t)).map_err(host_error)
    }

    fn is_singleton(&self, collection: &str) -> bool {
        schema::collection(collection).is_some_and(|c| c.singleton)
    }

    fn primary_key(&self, collection: &str) -> Option<String> {
        schema::collection(collection).and_then(|c| c.primary_key)
    }

    /// Host settings (`GRAPHQL_*` limits) don't reach components; modules use their
    /// defaults there.
    fn setting(&self, _name: &str) -> Option<String> {
        None
    }

    type Events = NoEvents;

    fn item_events(&self) -> NoEvents {
        NoEvents
    }

    async fn schema(&self, _ctx: &Context) -> Result<SchemaView, HostError> {
        let view = schema::read().map_err(host_error)?;
        let parse = |text: &str| serde_json::from_str(text).unwrap_or(Json::Null);
        Ok(SchemaView {
            hash: view.hash,
            snapshot: parse(&view.snapshot_json),
            permissions: parse(&view.permissions_json),
        })
    }
}

/// A component serves no WebSockets, so it never follows item events: the stream ends
/// at once.
#[derive(Debug, Default)]
pub struct NoEvents;

impl crate::ItemEvents for NoEvents {
    async fn next(&mut self) -> Option<crate::ItemEvent> {
        None
    }
}

/// Exports an [`crate::Endpoint`] (a `Default` type) as the `endpoint` world.
#[macro_export]
macro_rules! export_endpoint {
    ($ty:ty, $wit:literal) => {
        mod __rectus_endpoint {
            ::rectus_sdk::component::wit_bindgen::generate!({
                path: $wit,
                world: "endpoint",
                runtime_path: "::rectus_sdk::component::wit_bindgen::rt",
                with: {
                    "rectus:extension/types@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::types,
                    "rectus:extension/items@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::items,
                    "rectus:extension/schema@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::schema,
                    "rectus:extension/log@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::log,
                    "rectus:extension/http@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::http,
                    "rectus:extension/cache@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::cache,
                    "rectus:extension/env@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::env,
                },
            });
            use ::rectus_sdk::component::bindings::rectus::extension::types;
            struct Export;
            impl Guest for Export {
                fn handle(ctx: types::Context, request: types::Request) -> types::Response {
                    let module: $ty = ::core::default::Default::default();
                    let ctx = ::rectus_sdk::component::context(ctx);
                    let req = ::rectus_sdk::component::request(request);
                    let res = ::rectus_sdk::component::block_on(<$ty as ::rectus_sdk::Endpoint>::handle(
                        &module,
                        &::rectus_sdk::component::ComponentHost,
                        &ctx,
                        req,
                    ));
                    ::rectus_sdk::component::response(res)
                }
            }
            export!(Export);
        }
    };
}

/// Exports an [`crate::Operation`] (a `Default` type) as the `operation` world.
#[macro_export]
macro_rules! export_operation {
    ($ty:ty, $wit:literal) => {
        mod __rectus_operation {
            ::rectus_sdk::component::wit_bindgen::generate!({
                path: $wit,
                world: "operation",
                runtime_path: "::rectus_sdk::component::wit_bindgen::rt",
                with: {
                    "rectus:extension/types@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::types,
                    "rectus:extension/items@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::items,
                    "rectus:extension/schema@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::schema,
                    "rectus:extension/log@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::log,
                    "rectus:extension/http@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::http,
                    "rectus:extension/cache@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::cache,
                    "rectus:extension/env@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::env,
                },
            });
            use ::rectus_sdk::component::bindings::rectus::extension::types;
            struct Export;
            impl Guest for Export {
                fn info() -> OperationInfo {
                    let module: $ty = ::core::default::Default::default();
                    let info = <$ty as ::rectus_sdk::Operation>::info(&module);
                    OperationInfo {
                        id: info.id,
                        name: info.name,
                        description: info.description,
                        options_json: info.options.to_string(),
                    }
                }

                fn run(
                    ctx: types::Context,
                    options_json: String,
                    data_json: String,
                ) -> Result<String, types::HostError> {
                    let module: $ty = ::core::default::Default::default();
                    let ctx = ::rectus_sdk::component::context(ctx);
                    let parse = |t: &str| ::rectus_sdk::component::parse_json(t);
                    let result = ::rectus_sdk::component::block_on(<$ty as ::rectus_sdk::Operation>::run(
                        &module,
                        &::rectus_sdk::component::ComponentHost,
                        &ctx,
                        parse(&options_json),
                        parse(&data_json),
                    ));
                    result
                        .map(|v| v.to_string())
                        .map_err(|e| ::rectus_sdk::component::wit_error(&e))
                }
            }
            export!(Export);
        }
    };
}

/// JSON from the host (always valid); `null` if it were not.
pub fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

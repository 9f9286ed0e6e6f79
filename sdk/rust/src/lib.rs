//! The Rectus module SDK: the contract between the host and a module.
//!
//! A module (the REST API, GraphQL, a flow operation, a user's endpoint) is written
//! against [`Host`] — the capabilities the host offers — and implements a module trait
//! such as [`Endpoint`]. Built-in modules are linked natively: the host implements `Host`
//! directly. The extension issue adds the second backend, where `Host` is implemented
//! over WIT imports and the same module source builds as a WebAssembly component.
//!
//! Data crosses as typed records where the shape is fixed (requests, responses, errors)
//! and as JSON where it is user data (queries, items). Item reads come back as JSON
//! *text*, already serialised by the database, so a module can pass it on without
//! parsing it.

use serde_json::Value as Json;
use std::future::Future;

mod capabilities;
mod operation;
pub use capabilities::{HttpRequest, HttpResponse, Mail, MailBody};
mod socket;
pub use operation::{Operation, OperationInfo};
pub use socket::{ItemAction, ItemEvent, ItemEvents, Socket, SocketEndpoint};

#[cfg(target_arch = "wasm32")]
pub mod component;
// The component bindings name this crate by its path, from inside it too.
#[cfg(target_arch = "wasm32")]
extern crate self as rectus_sdk;

/// The caller a module acts for. Created by the host; a module passes it back unchanged
/// to every [`Host`] call, and the host decides what it may do.
#[derive(Debug, Clone)]
pub struct Context {
    pub user: Option<String>,
    pub role: Option<String>,
    pub admin: bool,
    /// Where the request came from, for the activity log.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An HTTP request routed to a module, with the path below the module's mount point.
#[derive(Debug, Clone)]
pub struct Request {
    /// The mount point the request came in on (`items`, `users` …).
    pub mount: String,
    pub method: String,
    /// Path segments below the mount point, percent-decoded (`/items/orders/1` → `["orders", "1"]`).
    pub segments: Vec<String>,
    /// The raw query string, without `?`.
    pub query: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// `{"data": <raw json text>}` (and `"meta"` when given) without re-parsing the data.
    pub fn data_raw(data: &str, meta: Option<Json>) -> Response {
        let mut body = String::with_capacity(data.len() + 16);
        body.push_str("{\"data\":");
        body.push_str(data);
        if let Some(meta) = meta {
            body.push_str(",\"meta\":");
            body.push_str(&meta.to_string());
        }
        body.push('}');
        Response {
            status: 200,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: body.into_bytes(),
        }
    }

    pub fn no_content() -> Response {
        Response {
            status: 204,
            content_type: "text/plain",
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The Directus error envelope.
    pub fn error(e: &HostError) -> Response {
        let mut ext = e.extensions.clone();
        ext.insert("code".into(), Json::from(e.code));
        let body = serde_json::json!({"errors": [{"message": e.message, "extensions": ext}]});
        Response {
            status: e.status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }
}

/// An error the host reports to a module, already in Directus's terms (code and HTTP
/// status), so every module renders the same envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct HostError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Error-specific extensions (`reason`, `path`, `field` …); `code` is added on output.
    pub extensions: serde_json::Map<String, Json>,
}

impl HostError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        HostError {
            status,
            code,
            message: message.into(),
            extensions: serde_json::Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.extensions.insert(key.to_string(), value.into());
        self
    }

    pub fn forbidden() -> Self {
        Self::new(
            403,
            "FORBIDDEN",
            "You don't have permission to access this.",
        )
    }

    pub fn route_not_found(path: &str) -> Self {
        Self::new(
            404,
            "ROUTE_NOT_FOUND",
            format!("Route {path} doesn't exist."),
        )
        .with("path", path)
    }

    /// The host offers no such capability.
    pub fn not_supported(capability: &str) -> Self {
        Self::new(
            501,
            "NOT_SUPPORTED",
            format!("This host does not offer \"{capability}\"."),
        )
    }

    pub fn invalid_payload(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            400,
            "INVALID_PAYLOAD",
            format!("Invalid payload. {}.", reason.trim_end_matches('.')),
        )
        .with("reason", reason)
    }
}

/// A page of items: the JSON array as text, and the counts `meta` asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Items {
    pub data: String,
    pub total_count: Option<i64>,
    pub filter_count: Option<i64>,
}

/// A query as the client sent it: a raw query string (`GET`) or a JSON object (`SEARCH`
/// bodies, `PATCH {query}`).
#[derive(Debug, Clone)]
pub enum QueryInput {
    String(String),
    Json(Json),
}

/// What the host offers a module. Every item call goes through the host's items service,
/// under the caller's [`Context`]: access rules and events always apply.
///
/// A host is a cheap handle (`Clone + 'static`), so a module can keep it for work that
/// outlives one call: GraphQL resolvers find it in the request's data, subscriptions keep
/// it for the life of the socket.
pub trait Host: Send + Sync + Clone + 'static {
    /// Items of `collection` matching `query`.
    fn read_items(
        &self,
        ctx: &Context,
        collection: &str,
        query: QueryInput,
    ) -> impl Future<Output = Result<Items, HostError>> + Send;

    /// One item by primary key, as JSON text; a missing or unreadable item is
    /// `403 FORBIDDEN`, so existence does not leak.
    fn read_item(
        &self,
        ctx: &Context,
        collection: &str,
        key: &str,
        query: QueryInput,
    ) -> impl Future<Output = Result<String, HostError>> + Send;

    /// Creates one item (object) or several (array), in one transaction. Returns the keys.
    fn create_items(
        &self,
        ctx: &Context,
        collection: &str,
        payload: Json,
    ) -> impl Future<Output = Result<Vec<Json>, HostError>> + Send;

    /// Applies `data` to the targeted items, in one transaction. Returns their keys.
    fn update_items(
        &self,
        ctx: &Context,
        collection: &str,
        target: Target,
        data: Json,
    ) -> impl Future<Output = Result<Vec<Json>, HostError>> + Send;

    /// Updates each object by the primary key it carries, in one transaction.
    fn update_batch(
        &self,
        ctx: &Context,
        collection: &str,
        items: Vec<Json>,
    ) -> impl Future<Output = Result<Vec<Json>, HostError>> + Send;

    /// Deletes the targeted items, in one transaction.
    fn delete_items(
        &self,
        ctx: &Context,
        collection: &str,
        target: Target,
    ) -> impl Future<Output = Result<(), HostError>> + Send;

    /// Whether `collection` is a singleton (served as one object, not a list).
    fn is_singleton(&self, collection: &str) -> bool;

    /// The primary key field of `collection`, if it can be served.
    fn primary_key(&self, collection: &str) -> Option<String>;

    /// A configuration value a module reads by its environment name, for the settings the
    /// host hands to modules (`GRAPHQL_INTROSPECTION`, `GRAPHQL_MAX_DEPTH`,
    /// `GRAPHQL_MAX_COMPLEXITY`); `None` for any other name.
    fn setting(&self, name: &str) -> Option<String>;

    /// The schema as the caller may see it: only the collections, fields and relations
    /// it may read, and per collection the fields it may use per action. Modules that
    /// build something from the schema (GraphQL's types) cache it by [`SchemaView::hash`].
    fn schema(&self, ctx: &Context) -> impl Future<Output = Result<SchemaView, HostError>> + Send;

    // Capabilities for flow operations. Each has a default that answers
    // `501 NOT_SUPPORTED`, so a host backend that lacks one still builds.

    /// Writes `message` to the host's log, attributed to the calling module.
    fn log(&self, ctx: &Context, message: &str) {
        let _ = (ctx, message);
    }

    /// Waits `milliseconds` (capped by the host).
    fn sleep(&self, milliseconds: u64) -> impl Future<Output = ()> + Send {
        let _ = milliseconds;
        async {}
    }

    /// Sends one e-mail through the configured mail transport (`EMAIL_TRANSPORT`).
    fn send_mail(
        &self,
        ctx: &Context,
        mail: Mail,
    ) -> impl Future<Output = Result<(), HostError>> + Send {
        let _ = (ctx, mail);
        async { Err(HostError::not_supported("send_mail")) }
    }

    /// Makes an HTTP request on the flow's behalf.
    fn http_request(
        &self,
        ctx: &Context,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, HostError>> + Send {
        let _ = (ctx, request);
        async { Err(HostError::not_supported("http_request")) }
    }

    /// Runs the flow `flow` (whose trigger is "another flow") with `payload` as its
    /// `$trigger`, and returns what it returns.
    fn trigger_flow(
        &self,
        ctx: &Context,
        flow: &str,
        payload: Json,
    ) -> impl Future<Output = Result<Json, HostError>> + Send {
        let _ = (ctx, flow, payload);
        async { Err(HostError::not_supported("trigger_flow")) }
    }

    /// Checks `data` against a filter rule (the query language's operators, nested
    /// objects for nested keys). Returns the failures as Directus's `FAILED_VALIDATION`
    /// errors (`field`, `path`, `type` in their extensions); empty when `data` passes. A
    /// malformed filter is an error.
    fn check_filter(&self, filter: &Json, data: &Json) -> Result<Vec<HostError>, HostError> {
        let _ = (filter, data);
        Err(HostError::not_supported("check_filter"))
    }

    /// Runs a sandboxed script (the host's script runtime, with its time and operation
    /// limits) that defines `fn main(data)`; returns what it returns.
    fn run_script(
        &self,
        ctx: &Context,
        code: &str,
        data: Json,
    ) -> impl Future<Output = Result<Json, HostError>> + Send {
        let _ = (ctx, code, data);
        async { Err(HostError::not_supported("run_script")) }
    }

    /// Item changes committed from now on, for every collection (a module filters what it
    /// wants and re-reads items under its caller's context, so access rules apply).
    fn item_events(&self) -> Self::Events;

    /// The host's [`ItemEvents`] stream.
    type Events: ItemEvents;

    /// `schema(ctx).hash` without building the view: what a module checks its cache with
    /// on every request. Hosts that can tell it cheaply override this.
    fn schema_hash(&self, ctx: &Context) -> impl Future<Output = Result<String, HostError>> + Send {
        async move { Ok(self.schema(ctx).await?.hash) }
    }
}

/// The schema as one caller sees it.
#[derive(Debug, Clone)]
pub struct SchemaView {
    /// Changes whenever the schema or what the caller may do changes: a cache key.
    pub hash: String,
    /// Directus's snapshot shape, `{"collections": […], "fields": […], "relations": […]}`,
    /// each entry as `/collections`, `/fields` and `/relations` serve it.
    pub snapshot: Json,
    /// Per collection, the fields the caller may use per action:
    /// `{"orders": {"read": ["id", "amount"], "create": ["*"]}}`. A missing action is
    /// not allowed; `["*"]` is every field.
    pub permissions: Json,
}

/// Which items a write applies to.
#[derive(Debug, Clone)]
pub enum Target {
    Keys(Vec<Json>),
    Query(QueryInput),
}

/// A module that serves HTTP under a mount point (`/items` for REST, `/<id>` for a
/// user's endpoint).
pub trait Endpoint: Send + Sync + 'static {
    /// The first path segments it serves (`["items"]` for the items API).
    fn mounts(&self) -> &'static [&'static str];

    fn handle<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        req: Request,
    ) -> impl Future<Output = Response> + Send;
}

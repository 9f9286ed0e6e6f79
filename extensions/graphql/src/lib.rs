//! The GraphQL module: Directus's `/graphql` (user collections) and `/graphql/system`
//! (`directus_*` collections) over a schema built per caller from [`Host::schema`], with
//! async-graphql's dynamic schema.
//!
//! Owns: the GraphQL transport (`GET`/`POST`, variables, operation names), the per-view
//! schema cache (keyed by the view's hash, so a role's schema is built once per
//! schema/permission version), and Directus's error envelopes for GraphQL. Queries,
//! access and SQL are the host's: each root field makes one [`Host`] call (`resolve.rs`).
//! It depends on `rectus-sdk` only, so the same source can load as a component.

mod build;
mod model;
mod plan;
mod resolve;
mod shape;
mod shared_types;
mod subscribe;

pub use build::Limits;
pub use model::Scope;

use async_graphql::dynamic::Schema;
use async_graphql::parser::types::OperationType;
use async_graphql::Variables;
use model::Model;
use rectus_sdk::{Context, Endpoint, Host, HostError, Request, Response, Socket, SocketEndpoint};
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Schemas kept at once (Directus's `GRAPHQL_SCHEMA_CACHE_CAPACITY` default): one per
/// scope and distinct view (role × schema version).
const CACHE_CAPACITY: usize = 100;

#[derive(Default)]
pub struct GraphQl {
    cache: RwLock<HashMap<(Scope, String), Arc<Schema>>>,
}

impl Endpoint for GraphQl {
    fn mounts(&self) -> &'static [&'static str] {
        &["graphql"]
    }

    async fn handle<H: Host>(&self, host: &H, ctx: &Context, req: Request) -> Response {
        match self.serve(host, ctx, req).await {
            Ok(r) => r,
            Err(e) => Response::error(&e),
        }
    }
}

impl SocketEndpoint for GraphQl {
    fn protocol(&self) -> &'static str {
        "graphql-transport-ws"
    }

    async fn serve_socket<H: Host, S: Socket>(&self, host: H, ctx: Context, socket: S) {
        subscribe::serve(self, host, ctx, socket).await
    }
}

/// A GraphQL request as the transport carried it.
struct Operation {
    query: String,
    variables: Option<Json>,
    operation_name: Option<String>,
}

fn must_provide_query() -> HostError {
    HostError::new(400, "INVALID_PAYLOAD", "Must provide query string.")
}

/// `GET ?query=&variables=&operationName=` or a `POST` JSON body.
fn operation_of(req: &Request) -> Result<Operation, HostError> {
    match req.method.as_str() {
        "GET" => {
            let params = form_params(&req.query);
            let query = params
                .get("query")
                .filter(|q| !q.trim().is_empty())
                .cloned()
                .ok_or_else(must_provide_query)?;
            let variables = match params.get("variables").filter(|v| !v.is_empty()) {
                Some(v) => Some(serde_json::from_str(v).map_err(|_| {
                    HostError::new(400, "INVALID_QUERY", "Variables are invalid JSON.")
                })?),
                None => None,
            };
            Ok(Operation {
                query,
                variables,
                operation_name: params.get("operationName").cloned(),
            })
        }
        "POST" => {
            let body: Json = if req.body.is_empty() {
                Json::Null
            } else {
                serde_json::from_slice(&req.body)
                    .map_err(|e| HostError::invalid_payload(format!("Invalid JSON: {e}")))?
            };
            // One operation per request: a batch (an array) is refused like a body without
            // a query, so one request can't carry a flood of operations.
            let Json::Object(mut body) = body else {
                return Err(must_provide_query());
            };
            let query = match body.remove("query") {
                Some(Json::String(q)) if !q.trim().is_empty() => q,
                _ => return Err(must_provide_query()),
            };
            let variables = match body.remove("variables") {
                None | Some(Json::Null) => None,
                Some(Json::String(text)) => Some(serde_json::from_str(&text).map_err(|_| {
                    HostError::new(400, "INVALID_QUERY", "Variables are invalid JSON.")
                })?),
                Some(v @ Json::Object(_)) => Some(v),
                Some(_) => {
                    return Err(HostError::new(
                        400,
                        "INVALID_QUERY",
                        "Variables must be an object.",
                    ))
                }
            };
            let operation_name = match body.remove("operationName") {
                Some(Json::String(n)) => Some(n),
                _ => None,
            };
            Ok(Operation {
                query,
                variables,
                operation_name,
            })
        }
        _ => Err(method_not_allowed(&["GET", "POST"])),
    }
}

fn method_not_allowed(allowed: &[&str]) -> HostError {
    HostError::new(405, "METHOD_NOT_ALLOWED", "Method not allowed.").with("allowed", json!(allowed))
}

/// `a=1&b=x%20y` → map (the last value wins).
fn form_params(raw: &str) -> HashMap<String, String> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The limits from the host's settings (`GRAPHQL_MAX_DEPTH`, `GRAPHQL_MAX_COMPLEXITY`,
/// `GRAPHQL_INTROSPECTION`).
pub fn limits<H: Host>(host: &H) -> Limits {
    let number = |name: &str, default: usize| {
        host.setting(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Limits {
        max_depth: number("GRAPHQL_MAX_DEPTH", 20),
        max_complexity: number("GRAPHQL_MAX_COMPLEXITY", 5000),
        introspection: host.setting("GRAPHQL_INTROSPECTION").as_deref() != Some("false"),
    }
}

impl GraphQl {
    /// The caller's schema for `scope`, from the cache or built now.
    pub async fn schema_for<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        scope: Scope,
    ) -> Result<Arc<Schema>, HostError> {
        let limits = limits(host);
        let key = (
            scope,
            format!("{}:{limits:?}", host.schema_hash(ctx).await?),
        );
        if let Some(s) = self.cache.read().map_err(|_| poisoned())?.get(&key) {
            return Ok(s.clone());
        }
        let view = host.schema(ctx).await?;
        // Keyed by the hash the view itself carries (the schema may have moved on since).
        let key = (scope, format!("{}:{limits:?}", view.hash));
        let model = Arc::new(Model::from_view(&view.snapshot, &view.permissions, scope));
        let schema = build::schema::<H>(model, scope, limits).map_err(|e| {
            HostError::new(
                500,
                "INTERNAL_SERVER_ERROR",
                format!("The GraphQL schema could not be built: {e}"),
            )
        })?;
        let schema = Arc::new(schema);
        let mut cache = self.cache.write().map_err(|_| poisoned())?;
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, schema.clone());
        Ok(schema)
    }

    async fn serve<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        req: Request,
    ) -> Result<Response, HostError> {
        if req.mount == "specs" {
            return self.sdl(host, ctx, &req.segments).await;
        }
        let scope = match req.segments.as_slice() {
            [] => Scope::Items,
            [s] if s == "system" => Scope::System,
            _ => {
                return Err(HostError::route_not_found(&format!(
                    "/graphql/{}",
                    req.segments.join("/")
                )))
            }
        };
        let op = operation_of(&req)?;
        let schema = self.schema_for(host, ctx, scope).await?;
        let mut request = async_graphql::Request::new(op.query);
        if let Some(name) = op.operation_name {
            request = request.operation_name(name);
        }
        if let Some(vars) = op.variables {
            request = request.variables(Variables::from_json(vars));
        }
        // Mutations only over POST, as Directus (a GET must be safe to repeat).
        if req.method == "GET" {
            let name = request.operation_name.clone();
            if let Ok(doc) = request.parsed_query() {
                let mutation = doc.operations.iter().any(|(n, o)| {
                    (name.is_none() || n.map(|n| n.as_str()) == name.as_deref())
                        && o.node.ty == OperationType::Mutation
                });
                if mutation {
                    return Err(method_not_allowed(&["POST"]));
                }
            }
        }
        let request = request.data(host.clone()).data(ctx.clone());
        let response = schema.execute(request).await;
        Ok(render(response))
    }
}

fn poisoned() -> HostError {
    HostError::new(
        500,
        "INTERNAL_SERVER_ERROR",
        "The schema cache is unavailable.",
    )
}

/// Directus's answer: errors before execution (syntax, unknown fields, wrong variables,
/// limits) are one `400 GRAPHQL_VALIDATION` error listing them; otherwise `200` with
/// `data` and each resolver error carrying its code.
fn render(response: async_graphql::Response) -> Response {
    let executed = response.errors.iter().all(|e| {
        e.extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some())
    });
    let body = if !executed && response.data == async_graphql::Value::Null {
        let errors: Vec<Json> = response
            .errors
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("message".into(), Json::from(e.message.clone()));
                if !e.locations.is_empty() {
                    m.insert(
                        "locations".into(),
                        Json::Array(
                            e.locations
                                .iter()
                                .map(|p| json!({"line": p.line, "column": p.column}))
                                .collect(),
                        ),
                    );
                }
                Json::Object(m)
            })
            .collect();
        let body = json!({"errors": [{
            "message": "GraphQL validation error.",
            "extensions": {"errors": errors, "code": "GRAPHQL_VALIDATION"},
        }]});
        return Response {
            status: 400,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        };
    } else {
        serde_json::to_vec(&response).unwrap_or_else(|_| b"{\"data\":null}".to_vec())
    };
    Response {
        status: 200,
        content_type: "application/json; charset=utf-8",
        headers: Vec::new(),
        body,
    }
}

impl GraphQl {
    /// `/server/specs/graphql/<scope>` (forwarded by the host under the mount `specs`): the
    /// caller's schema as an SDL download, unless introspection is off.
    async fn sdl<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        segments: &[String],
    ) -> Result<Response, HostError> {
        let scope = match segments.first().map(String::as_str) {
            None | Some("items") => Scope::Items,
            Some("system") => Scope::System,
            Some(_) => return Err(HostError::forbidden()),
        };
        if !limits(host).introspection {
            return Err(HostError::forbidden());
        }
        let sdl = self.schema_for(host, ctx, scope).await?.sdl();
        let date = chrono::Utc::now().format("%Y-%m-%d");
        Ok(Response {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            headers: vec![(
                "content-disposition".into(),
                format!("attachment; filename=\"rectus_{date}.graphql\""),
            )],
            body: sdl.into_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_parameters() {
        let p = form_params("query=%7B%20a%20%7D&variables=&operationName=x+y");
        assert_eq!(p["query"], "{ a }");
        assert_eq!(p["variables"], "");
        assert_eq!(p["operationName"], "x y");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}

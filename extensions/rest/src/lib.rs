//! The REST module: `/items/:collection` and `/items/:collection/:key`, Directus's shapes.
//!
//! It owns HTTP concerns only — routing within `/items`, the `{data, meta}` envelope,
//! singletons. Queries, access rules and SQL are the host's: every read goes through
//! [`Host::read_items`] / [`Host::read_item`]. It depends on `rectus-sdk` and nothing of
//! the host, so the same source can be loaded as a component.

use rectus_sdk::{Context, Endpoint, Host, HostError, QueryInput, Request, Response};
use serde_json::{json, Value as Json};

#[derive(Default)]
pub struct Rest;

impl Endpoint for Rest {
    fn mount(&self) -> &'static str {
        "items"
    }

    async fn handle<H: Host>(&self, host: &H, ctx: &Context, req: Request) -> Response {
        match self.route(host, ctx, req).await {
            Ok(r) => r,
            Err(e) => Response::error(&e),
        }
    }
}

impl Rest {
    async fn route<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        req: Request,
    ) -> Result<Response, HostError> {
        let path = format!("/items/{}", req.segments.join("/"));
        match (req.method.as_str(), req.segments.as_slice()) {
            ("GET", [collection]) => {
                self.list(host, ctx, collection, QueryInput::String(req.query.clone()))
                    .await
            }
            ("SEARCH", [collection]) => {
                let body = parse_body(&req.body)?;
                let query = body.get("query").cloned().unwrap_or_else(|| json!({}));
                if !query.is_object() {
                    return Err(HostError::invalid_payload("\"query\" must be an object"));
                }
                self.list(host, ctx, collection, QueryInput::Json(query))
                    .await
            }
            ("GET", [collection, key]) => {
                let item = host
                    .read_item(ctx, collection, key, QueryInput::String(req.query.clone()))
                    .await?;
                Ok(Response::data_raw(&item, None))
            }
            (_, [_] | [_, _]) => Err(HostError::route_not_found(&path)),
            _ => Err(HostError::route_not_found(&path)),
        }
    }

    async fn list<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        collection: &str,
        query: QueryInput,
    ) -> Result<Response, HostError> {
        let items = host.read_items(ctx, collection, query).await?;
        let meta = match (items.total_count, items.filter_count) {
            (None, None) => None,
            (t, f) => {
                let mut m = serde_json::Map::new();
                if let Some(t) = t {
                    m.insert("total_count".into(), json!(t));
                }
                if let Some(f) = f {
                    m.insert("filter_count".into(), json!(f));
                }
                Some(Json::Object(m))
            }
        };
        if host.is_singleton(collection) {
            // A singleton answers one object: its only row, or null before it exists.
            let first = first_element(&items.data);
            return Ok(Response::data_raw(first.as_deref().unwrap_or("null"), meta));
        }
        Ok(Response::data_raw(&items.data, meta))
    }
}

fn parse_body(body: &[u8]) -> Result<Json, HostError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| HostError::invalid_payload(e.to_string()))
}

/// The first element of a JSON array text, re-serialised (only for singletons, one row).
fn first_element(array: &str) -> Option<String> {
    let v: Json = serde_json::from_str(array).ok()?;
    v.as_array()?.first().map(|f| f.to_string())
}

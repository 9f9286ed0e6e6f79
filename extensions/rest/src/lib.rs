//! The REST module: Directus's `/items` API — list, read, search, create, update, delete,
//! singletons — with its request and response shapes.
//!
//! It owns HTTP concerns only: routing within `/items`, body shapes, the `{data, meta}`
//! envelope, re-reading written items with the request's `fields`. Queries, access rules,
//! transactions and SQL are the host's: every call goes through [`Host`]. It depends on
//! `rectus-sdk` and nothing of the host, so the same source can load as a component.

mod export;

use rectus_sdk::{Context, Endpoint, Host, HostError, QueryInput, Request, Response, Target};
use serde_json::{json, Map, Value as Json};

#[derive(Default)]
pub struct Rest;

/// Directus's system routes this module serves like `/items/<collection>`: the mount
/// point names the collection.
const SYSTEM: &[(&str, &str)] = &[
    ("users", "directus_users"),
    ("roles", "directus_roles"),
    ("policies", "directus_policies"),
    ("permissions", "directus_permissions"),
    ("access", "directus_access"),
    ("activity", "directus_activity"),
    ("revisions", "directus_revisions"),
    ("flows", "directus_flows"),
    ("operations", "directus_operations"),
    ("notifications", "directus_notifications"),
];

impl Endpoint for Rest {
    fn mounts(&self) -> &'static [&'static str] {
        &[
            "items",
            "users",
            "roles",
            "policies",
            "permissions",
            "access",
            "activity",
            "revisions",
            "flows",
            "operations",
            "notifications",
        ]
    }

    async fn handle<H: Host>(&self, host: &H, ctx: &Context, req: Request) -> Response {
        match route(host, ctx, &req).await {
            Ok(r) => r,
            Err(e) => Response::error(&e),
        }
    }
}

async fn route<H: Host>(host: &H, ctx: &Context, req: &Request) -> Result<Response, HostError> {
    // A system route is `/items/<its collection>/…`; `/users/me` is the caller's own row.
    let Some((_, system)) = SYSTEM.iter().find(|(m, _)| *m == req.mount) else {
        // System collections are served on their own routes only, as in Directus.
        if req
            .segments
            .first()
            .is_some_and(|c| c.starts_with("directus_"))
        {
            return Err(HostError::forbidden());
        }
        return items_route(host, ctx, req).await;
    };
    let mut segments = vec![system.to_string()];
    let mut rest = req.segments.clone();
    if req.mount == "users" && rest.first().map(String::as_str) == Some("me") {
        let me = ctx.user.clone().ok_or_else(|| {
            HostError::new(401, "INVALID_CREDENTIALS", "Invalid user credentials.")
        })?;
        if rest.len() > 1 || !matches!(req.method.as_str(), "GET" | "PATCH") {
            return Err(HostError::route_not_found(&format!(
                "/users/{}",
                rest.join("/")
            )));
        }
        rest = vec![me];
    }
    segments.extend(rest);
    let inner = Request {
        segments,
        ..req.clone()
    };
    items_route(host, ctx, &inner).await
}

async fn items_route<H: Host>(
    host: &H,
    ctx: &Context,
    req: &Request,
) -> Result<Response, HostError> {
    let path = format!("/{}/{}", req.mount, req.segments.join("/"));
    let query = || QueryInput::String(req.query.clone());
    match (req.method.as_str(), req.segments.as_slice()) {
        ("GET", [c]) => {
            let response = list(host, ctx, c, query()).await?;
            match export::Format::from_query(&req.query) {
                // `list` produced `{"data": …}`; the download is the data alone.
                Some(format) => {
                    let body: Json = serde_json::from_slice(&response.body).unwrap_or(Json::Null);
                    Ok(export::download(c, format, &body["data"].to_string()))
                }
                None => Ok(response),
            }
        }
        ("SEARCH", [c]) => {
            let body = body(req)?;
            if let Some(keys) = body.get("keys") {
                let keys = key_list(keys)?;
                return reread(host, ctx, c, &keys, &req.query, true).await;
            }
            let q = body.get("query").cloned().unwrap_or_else(|| json!({}));
            if !q.is_object() {
                return Err(HostError::invalid_payload("\"query\" must be an object"));
            }
            list(host, ctx, c, QueryInput::Json(q)).await
        }
        ("GET", [c, key]) => Ok(Response::data_raw(
            &host.read_item(ctx, c, key, query()).await?,
            None,
        )),
        ("POST", [c]) => {
            if host.is_singleton(c) {
                return Err(HostError::route_not_found(&path));
            }
            let payload = body(req)?;
            let many = payload.is_array();
            if !many && !payload.is_object() {
                return Err(HostError::invalid_payload(
                    "The body must be an object or an array of objects",
                ));
            }
            let keys = host.create_items(ctx, c, payload).await?;
            reread(host, ctx, c, &keys, &req.query, many).await
        }
        ("PATCH", [c]) => {
            let payload = body(req)?;
            if host.is_singleton(c) {
                return update_singleton(host, ctx, c, payload, &req.query).await;
            }
            match payload {
                Json::Array(items) => {
                    let keys = host.update_batch(ctx, c, items).await?;
                    reread(host, ctx, c, &keys, &req.query, true).await
                }
                Json::Object(obj) => {
                    let data = obj.get("data").cloned().ok_or_else(|| HostError::invalid_payload("\"data\" is required"))?;
                    if !data.is_object() {
                        return Err(HostError::invalid_payload("\"data\" must be an object"));
                    }
                    let target = target_of(&obj)?;
                    let keys = host.update_items(ctx, c, target, data).await?;
                    reread(host, ctx, c, &keys, &req.query, true).await
                }
                _ => Err(HostError::invalid_payload("The body must be an array, or an object with \"keys\" or \"query\" and \"data\"")),
            }
        }
        ("PATCH", [c, key]) => {
            if host.is_singleton(c) {
                return Err(HostError::route_not_found(&path));
            }
            let data = body(req)?;
            if !data.is_object() {
                return Err(HostError::invalid_payload("The body must be an object"));
            }
            let keys = host
                .update_items(ctx, c, Target::Keys(vec![Json::String(key.clone())]), data)
                .await?;
            reread(host, ctx, c, &keys, &req.query, false).await
        }
        ("DELETE", [c]) => {
            let payload = body(req)?;
            let target = match payload {
                Json::Array(keys) => Target::Keys(keys),
                Json::Object(obj) => target_of(&obj)?,
                _ => return Err(HostError::invalid_payload(
                    "The body must be an array of keys, or an object with \"keys\" or \"query\"",
                )),
            };
            host.delete_items(ctx, c, target).await?;
            Ok(Response::no_content())
        }
        ("DELETE", [c, key]) => {
            host.delete_items(ctx, c, Target::Keys(vec![Json::String(key.clone())]))
                .await?;
            Ok(Response::no_content())
        }
        _ => Err(HostError::route_not_found(&path)),
    }
}

async fn list<H: Host>(
    host: &H,
    ctx: &Context,
    collection: &str,
    query: QueryInput,
) -> Result<Response, HostError> {
    let items = host.read_items(ctx, collection, query).await?;
    let meta = match (items.total_count, items.filter_count) {
        (None, None) => None,
        (t, f) => {
            let mut m = Map::new();
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

/// A singleton's PATCH creates its row the first time and updates it afterwards.
async fn update_singleton<H: Host>(
    host: &H,
    ctx: &Context,
    c: &str,
    data: Json,
    query: &str,
) -> Result<Response, HostError> {
    if !data.is_object() {
        return Err(HostError::invalid_payload("The body must be an object"));
    }
    let pk = host.primary_key(c).ok_or_else(HostError::forbidden)?;
    let existing = host
        .read_items(
            ctx,
            c,
            QueryInput::Json(json!({"fields": [pk.clone()], "limit": 1})),
        )
        .await?;
    let keys: Vec<Json> = serde_json::from_str::<Vec<Json>>(&existing.data)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.get(&pk).cloned())
        .collect();
    let keys = if keys.is_empty() {
        host.create_items(ctx, c, data).await?
    } else {
        host.update_items(ctx, c, Target::Keys(keys), data).await?
    };
    reread(host, ctx, c, &keys, query, false).await
}

/// Re-reads written items with the request's query (`fields` …), as Directus answers
/// writes. When the caller may not read them back, the answer is `204`.
async fn reread<H: Host>(
    host: &H,
    ctx: &Context,
    c: &str,
    keys: &[Json],
    query: &str,
    many: bool,
) -> Result<Response, HostError> {
    if keys.is_empty() {
        return Ok(if many {
            Response::data_raw("[]", None)
        } else {
            Response::no_content()
        });
    }
    if let ([key], false) = (keys, many) {
        // One item: read it the way a client would, under the same rules.
        let key = match key {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let q = parse_query_object(query);
        return match host
            .read_item(ctx, c, &key, QueryInput::Json(Json::Object(q)))
            .await
        {
            Ok(item) => Ok(Response::data_raw(&item, None)),
            Err(e) if e.code == "FORBIDDEN" => Ok(Response::no_content()),
            Err(e) => Err(e),
        };
    }
    let pk = host.primary_key(c).ok_or_else(HostError::forbidden)?;
    let mut q = parse_query_object(query);
    q.insert("filter".into(), json!({ pk: { "_in": keys } }));
    q.insert("limit".into(), json!(-1));
    q.remove("page");
    q.remove("offset");
    q.remove("meta");
    let items = match host
        .read_items(ctx, c, QueryInput::Json(Json::Object(q)))
        .await
    {
        Ok(items) => items,
        Err(e) if e.code == "FORBIDDEN" => return Ok(Response::no_content()),
        Err(e) => return Err(e),
    };
    if many {
        return Ok(Response::data_raw(&items.data, None));
    }
    match first_element(&items.data) {
        Some(one) => Ok(Response::data_raw(&one, None)),
        None => Ok(Response::no_content()),
    }
}

/// The read-relevant parameters of the request's query string, as a JSON query (only
/// `fields`, `deep`, `alias` matter for a re-read; the host parses the rest strictly).
fn parse_query_object(query: &str) -> Map<String, Json> {
    let mut out = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "fields" || k == "fields[]" {
            let v = decode(v);
            let list = out.entry("fields").or_insert_with(|| json!([]));
            if let Some(a) = list.as_array_mut() {
                a.push(Json::String(v));
            }
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            ) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `{keys: [...]}` or `{query: {...}}`, not both (Directus's batch-body rule).
fn target_of(obj: &Map<String, Json>) -> Result<Target, HostError> {
    match (obj.get("keys"), obj.get("query")) {
        (Some(_), Some(_)) => Err(HostError::invalid_payload(
            "\"keys\" and \"query\" can't be used together",
        )),
        (Some(keys), None) => Ok(Target::Keys(key_list(keys)?)),
        (None, Some(q)) if q.is_object() => Ok(Target::Query(QueryInput::Json(q.clone()))),
        (None, Some(_)) => Err(HostError::invalid_payload("\"query\" must be an object")),
        (None, None) => Err(HostError::invalid_payload(
            "\"keys\" or \"query\" is required",
        )),
    }
}

fn key_list(v: &Json) -> Result<Vec<Json>, HostError> {
    match v {
        Json::Array(keys) if keys.iter().all(|k| k.is_string() || k.is_number()) => {
            Ok(keys.clone())
        }
        _ => Err(HostError::invalid_payload(
            "\"keys\" must be an array of strings or numbers",
        )),
    }
}

fn body(req: &Request) -> Result<Json, HostError> {
    if req.body.is_empty() {
        return Err(HostError::invalid_payload("A JSON body is required"));
    }
    serde_json::from_slice(&req.body).map_err(|e| HostError::invalid_payload(e.to_string()))
}

/// The first element of a JSON array text, re-serialised (one row: singletons, re-reads).
fn first_element(array: &str) -> Option<String> {
    let v: Json = serde_json::from_str(array).ok()?;
    v.as_array()?.first().map(|f| f.to_string())
}

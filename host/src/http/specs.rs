//! `GET /server/specs/oas`: an OpenAPI 3.0.1 document generated from the live schema —
//! the `/items/<collection>` paths and one `Items<Collection>` schema per collection, in
//! Directus's naming. Until access control lands, only administrators can read items, so
//! the document is theirs; others get the system paths alone.

use super::extract::Caller;
use crate::app::AppState;
use crate::schema::{Collection, FieldType, Schema};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/server/specs/oas", get(oas))
        .route("/server/specs/graphql", get(graphql_sdl))
        .route("/server/specs/graphql/{scope}", get(graphql_sdl))
}

/// `GET /server/specs/graphql[/items|system]`: the caller's GraphQL schema as SDL. The
/// GraphQL module owns the schema, so the request is forwarded to it under the internal
/// mount `specs` (no client request can carry that mount: requests reach a module by
/// their first path segment, and no module serves `/specs`).
async fn graphql_sdl(
    State(state): State<Arc<AppState>>,
    scope: Option<axum::extract::Path<String>>,
    caller: Result<Caller, super::error::ApiError>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(handle) = state.modules.endpoint("graphql") else {
        return super::error::ApiError::route_not_found("/server/specs/graphql").into_response();
    };
    let Caller(acc) = match caller {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let ctx = super::modules::context(acc, peer, &headers);
    let req = rectus_sdk::Request {
        mount: "specs".into(),
        method: "GET".into(),
        segments: vec![scope.map(|s| s.0).unwrap_or_else(|| "items".into())],
        query: String::new(),
        body: Vec::new(),
    };
    super::modules::into_http(handle(state.clone(), ctx, req).await)
}

async fn oas(State(state): State<Arc<AppState>>, Caller(caller): Caller) -> Json<Value> {
    let schema = state.schema.current();
    Json(document(&schema, caller.admin, &state.config.public_url))
}

/// `orders` → `ItemsOrders`, `order_lines` → `ItemsOrderLines`.
fn schema_name(collection: &str) -> String {
    let mut out = String::from("Items");
    for part in collection.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn property(ty: FieldType, nullable: bool) -> Value {
    let mut p = match ty {
        FieldType::Integer => json!({"type": "integer"}),
        FieldType::BigInteger => json!({"type": "string", "format": "int64"}),
        FieldType::Float => json!({"type": "number", "format": "float"}),
        FieldType::Decimal => json!({"type": "string", "format": "decimal"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::DateTime | FieldType::Timestamp => {
            json!({"type": "string", "format": "date-time"})
        }
        FieldType::Time => json!({"type": "string", "format": "time"}),
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        FieldType::Json => json!({}),
        FieldType::Csv => json!({"type": "array", "items": {"type": "string"}}),
        FieldType::Alias => json!({"type": "array", "items": {}}),
        _ => json!({"type": "string"}),
    };
    if nullable {
        p["nullable"] = json!(true);
    }
    p
}

fn item_schema(c: &Collection) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in c.fields.values() {
        props.insert(f.name.clone(), property(f.field_type, f.nullable()));
        if let Some(col) = &f.column {
            if !col.is_nullable && col.default_value.is_null() && !col.has_auto_increment {
                required.push(json!(f.name));
            }
        }
    }
    let mut s = json!({"type": "object", "properties": props, "x-collection": c.name});
    if !required.is_empty() {
        s["required"] = Value::Array(required);
    }
    s
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn collection_paths(c: &Collection) -> (Value, Value) {
    let name = schema_name(&c.name);
    let item = json!({"$ref": format!("#/components/schemas/{name}")});
    let tag = json!([name]);
    let query_params = json!([
        {"$ref": "#/components/parameters/Fields"}, {"$ref": "#/components/parameters/Limit"},
        {"$ref": "#/components/parameters/Offset"}, {"$ref": "#/components/parameters/Page"},
        {"$ref": "#/components/parameters/Sort"}, {"$ref": "#/components/parameters/Filter"},
        {"$ref": "#/components/parameters/Search"}, {"$ref": "#/components/parameters/Meta"}
    ]);
    let one = |summary: &str, op: &str| {
        json!({"summary": summary, "operationId": format!("{op}{name}"), "tags": tag,
               "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": {"type": "object", "properties": {"data": item}}}}},
                             "400": error_response("Bad request"), "403": error_response("Forbidden")}})
    };
    let many = json!({"type": "object", "properties": {"data": {"type": "array", "items": item}, "meta": {"type": "object"}}});
    let mut list = json!({
        "get": {"summary": format!("List the {} items.", c.name), "operationId": format!("read{name}"), "tags": tag, "parameters": query_params,
                "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": many}}},
                              "400": error_response("Bad request"), "403": error_response("Forbidden")}},
    });
    if !c.is_singleton() {
        list["post"] = one(&format!("Create {} items.", c.name), "create");
        list["post"]["requestBody"] = json!({"content": {"application/json": {"schema": {"oneOf": [item, {"type": "array", "items": item}]}}}});
        list["patch"] = json!({"summary": format!("Update several {} items.", c.name), "operationId": format!("update{name}Items"), "tags": tag,
                               "responses": {"200": {"description": "Successful request"}, "400": error_response("Bad request")}});
        list["delete"] = json!({"summary": format!("Delete several {} items.", c.name), "operationId": format!("delete{name}Items"), "tags": tag,
                                "responses": {"204": {"description": "Deleted"}, "400": error_response("Bad request")}});
    } else {
        list["patch"] = one(&format!("Update the {} singleton.", c.name), "update");
    }
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"oneOf": [{"type": "integer"}, {"type": "string"}]}});
    let mut by_id = json!({
        "get": one(&format!("Read one {} item.", c.name), "readSingle"),
        "delete": {"summary": format!("Delete one {} item.", c.name), "operationId": format!("deleteSingle{name}"), "tags": tag,
                   "responses": {"204": {"description": "Deleted"}, "403": error_response("Forbidden")}},
    });
    by_id["get"]["parameters"] = json!([id]);
    by_id["delete"]["parameters"] = json!([id]);
    if !c.is_singleton() {
        by_id["patch"] = one(&format!("Update one {} item.", c.name), "updateSingle");
        by_id["patch"]["parameters"] = json!([id]);
        by_id["patch"]["requestBody"] = json!({"content": {"application/json": {"schema": item}}});
    }
    (list, by_id)
}

pub fn document(schema: &Schema, admin: bool, public_url: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    paths.insert("/server/ping".into(), json!({"get": {"summary": "Ping", "operationId": "ping", "tags": ["Server"], "responses": {"200": {"description": "pong", "content": {"text/html": {"schema": {"type": "string"}}}}}}}));
    paths.insert("/server/info".into(), json!({"get": {"summary": "Server information", "operationId": "serverInfo", "tags": ["Server"], "responses": {"200": {"description": "Successful request"}}}}));
    paths.insert("/auth/login".into(), json!({"post": {"summary": "Log in", "operationId": "login", "tags": ["Authentication"],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string", "format": "email"}, "password": {"type": "string"}, "mode": {"type": "string", "enum": ["json"]}}}}}},
        "responses": {"200": {"description": "Tokens"}, "401": error_response("Invalid credentials")}}}));
    if admin {
        for c in schema
            .collections
            .values()
            .filter(|c| c.primary_key().is_some())
        {
            let (list, by_id) = collection_paths(c);
            paths.insert(format!("/items/{}", c.name), list);
            paths.insert(format!("/items/{}/{{id}}", c.name), by_id);
            schemas.insert(schema_name(&c.name), item_schema(c));
        }
    }
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "properties": {"errors": {"type": "array", "items": {"type": "object", "properties": {
            "message": {"type": "string"}, "extensions": {"type": "object", "properties": {"code": {"type": "string"}}}}}}}}),
    );
    let param = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "description": description, "schema": schema});
    json!({
        "openapi": "3.0.1",
        "info": {"title": "Rectus", "description": "Rectus's API, generated from the live schema.", "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": public_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "Fields": param("fields", "Fields to return, with relational paths (`*`, `author.name`).", json!({"type": "array", "items": {"type": "string"}})),
                "Limit": param("limit", "Items per page; -1 for all.", json!({"type": "integer"})),
                "Offset": param("offset", "Items to skip.", json!({"type": "integer"})),
                "Page": param("page", "Page number (1-based), with limit.", json!({"type": "integer"})),
                "Sort": param("sort", "Fields to sort by; `-field` descending.", json!({"type": "array", "items": {"type": "string"}})),
                "Filter": param("filter", "Filter rules, as JSON or in bracket form.", json!({"type": "object"})),
                "Search": param("search", "Full-text search over text fields.", json!({"type": "string"})),
                "Meta": param("meta", "total_count, filter_count or *.", json!({"type": "string"})),
            },
            "securitySchemes": {"Auth": {"type": "http", "scheme": "bearer"}, "KeyAuth": {"type": "apiKey", "in": "query", "name": "access_token"}},
        },
        "security": [{"Auth": []}, {"KeyAuth": []}],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_schemas_like_directus() {
        assert_eq!(super::schema_name("orders"), "ItemsOrders");
        assert_eq!(super::schema_name("order_lines"), "ItemsOrderLines");
    }
}

//! The schema API, as Directus has it: `/collections`, `/fields`, `/relations`.
//! Changes are for administrators; reads show a non-administrator only the collections,
//! fields and relations it may read (the readable schema of `access/`).
//!
//! Writes call the schema service and answer with the changed object re-read from the new
//! snapshot, as Directus does.

use super::error::ApiError;
use super::extract::{Admin, Caller, JsonBody};
use crate::app::AppState;
use crate::auth::Accountability;
use crate::schema::service::SchemaError;
use crate::schema::Schema;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value as Json_};
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/collections",
            get(list_collections)
                .post(create_collections)
                .patch(update_collections),
        )
        .route(
            "/collections/{collection}",
            get(read_collection)
                .patch(update_collection)
                .delete(delete_collection),
        )
        .route("/fields", get(list_all_fields))
        .route(
            "/fields/{collection}",
            get(list_fields).post(create_field).patch(update_fields),
        )
        .route(
            "/fields/{collection}/{field}",
            get(read_field).patch(update_field).delete(delete_field),
        )
        .route("/relations", get(list_relations).post(create_relation))
        .route("/relations/{collection}", get(list_collection_relations))
        .route(
            "/relations/{collection}/{field}",
            get(read_relation)
                .patch(update_relation)
                .delete(delete_relation),
        )
}

fn array_of<'a>(body: &'a Json_, what: &str) -> Result<&'a Vec<Json_>, ApiError> {
    body.as_array()
        .ok_or_else(|| ApiError::invalid_payload(format!("{what} must be an array")))
}

/// `body[key]` as a string, or 400.
fn key_of<'a>(item: &'a Json_, key: &str) -> Result<&'a str, ApiError> {
    item.get(key)
        .and_then(Json_::as_str)
        .ok_or_else(|| ApiError::invalid_payload(format!("\"{key}\" is required")))
}

fn collection_api(s: &AppState, name: &str) -> Result<Json_, ApiError> {
    collection_in(&s.schema.current(), name)
}

fn collection_in(schema: &Schema, name: &str) -> Result<Json_, ApiError> {
    Ok(crate::schema::service::collection_of(schema, name)?.to_api())
}

fn field_api(s: &AppState, collection: &str, field: &str) -> Result<Json_, ApiError> {
    field_in(&s.schema.current(), collection, field)
}

fn field_in(schema: &Schema, collection: &str, field: &str) -> Result<Json_, ApiError> {
    let (_, f) = crate::schema::service::field_of(schema, collection, field)?;
    Ok(f.to_api())
}

/// The user schema as the caller may see it: all of it for an administrator, else the
/// collections, fields and relations it may read.
async fn visible(
    s: &AppState,
    caller: &Accountability,
    peer: SocketAddr,
) -> Result<Arc<Schema>, ApiError> {
    let ip = peer.ip().to_string();
    let access = crate::access::for_caller(
        &s.access,
        &s.db,
        caller.user.as_deref(),
        caller.role.as_deref(),
        caller.admin,
        Some(&ip),
    )
    .await?;
    Ok(match access {
        None => s.schema.current(),
        Some(a) => {
            let generation = s.schema.generation();
            a.read_view(
                crate::access::SchemaKind::User,
                generation,
                s.schema.current(),
                s.schema.system(),
            )
            .0
        }
    })
}

fn relation_api(s: &AppState, collection: &str, field: &str) -> Result<Json_, ApiError> {
    relation_in(&s.schema.current(), collection, field)
}

fn relation_in(schema: &Schema, collection: &str, field: &str) -> Result<Json_, ApiError> {
    let r = schema
        .relation(collection, field)
        .ok_or_else(|| SchemaError::RelationNotFound {
            collection: collection.to_string(),
            field: field.to_string(),
        })?;
    Ok(r.to_api())
}

async fn create_collections(
    State(s): State<Arc<AppState>>,
    _: Admin,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    match &body {
        Json_::Array(items) => {
            s.schema.create_collections(items).await?;
            let out = items
                .iter()
                .map(|item| collection_api(&s, key_of(item, "collection")?))
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(data(Json_::Array(out)))
        }
        item => {
            s.schema.create_collection(item).await?;
            Ok(data(collection_api(&s, key_of(item, "collection")?)?))
        }
    }
}

async fn update_collections(
    State(s): State<Arc<AppState>>,
    _: Admin,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    let items = array_of(&body, "The body")?;
    s.schema.update_collections(items).await?;
    let out = items
        .iter()
        .map(|item| collection_api(&s, key_of(item, "collection")?))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(data(Json_::Array(out)))
}

async fn update_collection(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    s.schema.update_collection(&name, &body).await?;
    Ok(data(collection_api(&s, &name)?))
}

async fn delete_collection(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.schema.delete_collection(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_field(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path(collection): Path<String>,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    s.schema.create_field(&collection, &body).await?;
    Ok(data(field_api(&s, &collection, key_of(&body, "field")?)?))
}

async fn update_fields(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path(collection): Path<String>,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    let mut out = Vec::new();
    for item in array_of(&body, "The body")? {
        let field = key_of(item, "field")?;
        s.schema.update_field(&collection, field, item).await?;
        out.push(field_api(&s, &collection, field)?);
    }
    Ok(data(Json_::Array(out)))
}

async fn update_field(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path((collection, field)): Path<(String, String)>,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    s.schema.update_field(&collection, &field, &body).await?;
    Ok(data(field_api(&s, &collection, &field)?))
}

async fn delete_field(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path((collection, field)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.schema.delete_field(&collection, &field).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_relation(
    State(s): State<Arc<AppState>>,
    _: Admin,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    s.schema.create_relation(&body).await?;
    Ok(data(relation_api(
        &s,
        key_of(&body, "collection")?,
        key_of(&body, "field")?,
    )?))
}

async fn update_relation(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path((collection, field)): Path<(String, String)>,
    JsonBody(body): JsonBody<Json_>,
) -> Data {
    s.schema.update_relation(&collection, &field, &body).await?;
    Ok(data(relation_api(&s, &collection, &field)?))
}

async fn delete_relation(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path((collection, field)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.schema.delete_relation(&collection, &field).await?;
    Ok(StatusCode::NO_CONTENT)
}

type Data = Result<Json<Json_>, ApiError>;

fn data(v: Json_) -> Json<Json_> {
    Json(json!({ "data": v }))
}

async fn list_collections(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Data {
    let schema = visible(&s, &caller, peer).await?;
    Ok(data(
        schema.collections.values().map(|c| c.to_api()).collect(),
    ))
}

async fn read_collection(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
) -> Data {
    Ok(data(collection_in(
        &*visible(&s, &caller, peer).await?,
        &name,
    )?))
}

async fn list_all_fields(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Data {
    let schema = visible(&s, &caller, peer).await?;
    Ok(data(
        schema
            .collections
            .values()
            .flat_map(|c| c.fields.values().map(|f| f.to_api()))
            .collect(),
    ))
}

async fn list_fields(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
) -> Data {
    let schema = visible(&s, &caller, peer).await?;
    let c = crate::schema::service::collection_of(&schema, &name)?;
    Ok(data(c.fields.values().map(|f| f.to_api()).collect()))
}

async fn read_field(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((c, f)): Path<(String, String)>,
) -> Data {
    Ok(data(field_in(&*visible(&s, &caller, peer).await?, &c, &f)?))
}

async fn list_relations(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Data {
    let schema = visible(&s, &caller, peer).await?;
    Ok(data(schema.relations.iter().map(|r| r.to_api()).collect()))
}

async fn list_collection_relations(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(c): Path<String>,
) -> Data {
    let schema = visible(&s, &caller, peer).await?;
    crate::schema::service::collection_of(&schema, &c)?;
    Ok(data(
        schema
            .relations
            .iter()
            .filter(|r| r.collection == c)
            .map(|r| r.to_api())
            .collect(),
    ))
}

async fn read_relation(
    State(s): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((c, f)): Path<(String, String)>,
) -> Data {
    Ok(data(relation_in(
        &*visible(&s, &caller, peer).await?,
        &c,
        &f,
    )?))
}

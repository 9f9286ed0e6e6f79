//! The schema API, as Directus has it: `/collections`, `/fields`, `/relations`.
//! Admin only for now; once access control lands a non-admin sees what it may read.

use super::error::ApiError;
use super::extract::Admin;
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value as Json_};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/collections", get(list_collections))
        .route("/collections/{collection}", get(read_collection))
        .route("/fields", get(list_all_fields))
        .route("/fields/{collection}", get(list_fields))
        .route("/fields/{collection}/{field}", get(read_field))
        .route("/relations", get(list_relations))
        .route("/relations/{collection}", get(list_collection_relations))
        .route("/relations/{collection}/{field}", get(read_relation))
}

type Data = Result<Json<Json_>, ApiError>;

fn data(v: Json_) -> Json<Json_> {
    Json(json!({ "data": v }))
}

async fn list_collections(State(s): State<Arc<AppState>>, _: Admin) -> Data {
    let schema = s.schema.current();
    Ok(data(
        schema.collections.values().map(|c| c.to_api()).collect(),
    ))
}

async fn read_collection(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
) -> Data {
    let schema = s.schema.current();
    let c =
        schema
            .collection(&name)
            .ok_or(crate::schema::service::SchemaError::CollectionNotFound(
                name,
            ))?;
    Ok(data(c.to_api()))
}

async fn list_all_fields(State(s): State<Arc<AppState>>, _: Admin) -> Data {
    let schema = s.schema.current();
    Ok(data(
        schema
            .collections
            .values()
            .flat_map(|c| c.fields.values().map(|f| f.to_api()))
            .collect(),
    ))
}

async fn list_fields(State(s): State<Arc<AppState>>, _: Admin, Path(name): Path<String>) -> Data {
    let schema = s.schema.current();
    let c =
        schema
            .collection(&name)
            .ok_or(crate::schema::service::SchemaError::CollectionNotFound(
                name,
            ))?;
    Ok(data(c.fields.values().map(|f| f.to_api()).collect()))
}

async fn read_field(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path((c, f)): Path<(String, String)>,
) -> Data {
    let schema = s.schema.current();
    if schema.collection(&c).is_none() {
        return Err(crate::schema::service::SchemaError::CollectionNotFound(c).into());
    }
    let field = schema
        .field(&c, &f)
        .ok_or(crate::schema::service::SchemaError::FieldNotFound {
            collection: c,
            field: f,
        })?;
    Ok(data(field.to_api()))
}

async fn list_relations(State(s): State<Arc<AppState>>, _: Admin) -> Data {
    let schema = s.schema.current();
    Ok(data(schema.relations.iter().map(|r| r.to_api()).collect()))
}

async fn list_collection_relations(
    State(s): State<Arc<AppState>>,
    _: Admin,
    Path(c): Path<String>,
) -> Data {
    let schema = s.schema.current();
    if schema.collection(&c).is_none() {
        return Err(crate::schema::service::SchemaError::CollectionNotFound(c).into());
    }
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
    _: Admin,
    Path((c, f)): Path<(String, String)>,
) -> Data {
    let schema = s.schema.current();
    let r =
        schema
            .relation(&c, &f)
            .ok_or(crate::schema::service::SchemaError::RelationNotFound {
                collection: c,
                field: f,
            })?;
    Ok(data(r.to_api()))
}

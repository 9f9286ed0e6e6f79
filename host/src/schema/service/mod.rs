//! Changing the schema: creating, altering and dropping tables, columns and foreign keys,
//! together with their metadata rows, so that both always agree. Holds the current
//! [`Schema`] snapshot and replaces it after every change.
//!
//! Atomicity: on PostgreSQL and SQLite each change runs in one transaction, DDL included.
//! MySQL commits every DDL statement implicitly, so there each step that ran is undone
//! explicitly when a later step fails; a failed change leaves no half-made table, column
//! or metadata row behind on any database. [`plan`] is the one runner that does this; the
//! other submodules only decide which steps a change needs.
//!
//! - `collections`, `fields`, `relations`: validation and the steps of each change;
//! - `convert`: which type changes keep the data, checked against the rows;
//! - `rebuild`: SQLite's table rebuild (it cannot alter columns or add constraints);
//! - `plan`: running the steps atomically.

mod collections;
mod convert;
mod fields;
mod plan;
mod rebuild;
mod relations;

use super::ddl::DdlError;
use super::meta::MetaError;
use super::names::NameError;
use super::{introspect, Schema};
use crate::db::{Db, DbError, Sql};
use arc_swap::ArcSwap;
use serde_json::Value as Json;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("collection \"{0}\" does not exist")]
    CollectionNotFound(String),
    #[error("field \"{field}\" does not exist in collection \"{collection}\"")]
    FieldNotFound { collection: String, field: String },
    #[error("relation on \"{collection}.{field}\" does not exist")]
    RelationNotFound { collection: String, field: String },
    /// The request is well-formed JSON but asks for something invalid.
    #[error("{0}")]
    Invalid(String),
    #[error("field \"{field}\" of \"{collection}\" contains null values")]
    ContainsNulls { collection: String, field: String },
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error(transparent)]
    Ddl(#[from] DdlError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A collection of the snapshot, or the error that answers "missing or not yours" (403).
pub fn collection_of<'s>(
    schema: &'s Schema,
    collection: &str,
) -> Result<&'s super::Collection, SchemaError> {
    schema
        .collection(collection)
        .ok_or_else(|| SchemaError::CollectionNotFound(collection.to_string()))
}

/// A field and its collection, with the not-found error for whichever is missing.
pub fn field_of<'s>(
    schema: &'s Schema,
    collection: &str,
    field: &str,
) -> Result<(&'s super::Collection, &'s super::Field), SchemaError> {
    let c = collection_of(schema, collection)?;
    let f = c
        .fields
        .get(field)
        .ok_or_else(|| SchemaError::FieldNotFound {
            collection: collection.to_string(),
            field: field.to_string(),
        })?;
    Ok((c, f))
}

pub struct SchemaService {
    db: Db,
    current: ArcSwap<Schema>,
    /// Rectus's own served tables (`directus_users` …), from the same catalogue read.
    system: ArcSwap<Schema>,
    /// Bumped on every reload: a cheap cache key for anything derived from the snapshot.
    generation: std::sync::atomic::AtomicU64,
    exclude: Vec<String>,
    /// One schema change at a time per host: DDL and the snapshot swap must not interleave.
    changes: tokio::sync::Mutex<()>,
}

impl SchemaService {
    pub async fn load(db: Db, exclude: Vec<String>) -> Result<Self, DbError> {
        let (schema, system) = introspect::load_both(&db, &exclude).await?;
        Ok(SchemaService {
            db,
            current: ArcSwap::from_pointee(schema),
            system: ArcSwap::from_pointee(system),
            generation: std::sync::atomic::AtomicU64::new(0),
            exclude,
            changes: tokio::sync::Mutex::new(()),
        })
    }

    /// The current snapshot; cheap (an `Arc` clone).
    pub fn current(&self) -> Arc<Schema> {
        self.current.load_full()
    }

    /// How many times the snapshots were reloaded since start.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The system collections' snapshot.
    pub fn system(&self) -> Arc<Schema> {
        self.system.load_full()
    }

    /// Re-reads catalogue and metadata and swaps the snapshots in.
    pub async fn reload(&self) -> Result<Arc<Schema>, DbError> {
        let (schema, system) = introspect::load_both(&self.db, &self.exclude).await?;
        let schema = Arc::new(schema);
        self.current.store(schema.clone());
        self.system.store(Arc::new(system));
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(schema)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Holds the change lock for the duration of a schema change.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.changes.lock().await
    }

    /// Runs one change under the lock: `build` looks at a freshly loaded snapshot (so a
    /// change never plans against a stale one) and returns the steps; they run atomically
    /// and the snapshot is reloaded afterwards.
    async fn change<F, Fut>(&self, build: F) -> Result<(), SchemaError>
    where
        F: FnOnce(Arc<Schema>) -> Fut,
        Fut: std::future::Future<Output = Result<plan::Plan, SchemaError>>,
    {
        let _guard = self.lock().await;
        let schema = self.reload().await?;
        let plan = build(schema).await?;
        let result = plan.run(&self.db).await;
        // Reload even after a failure: the snapshot must describe the database as it is.
        self.reload().await?;
        result
    }
}

/// The schema changes, taking Directus's request payloads as JSON (the same shapes the
/// `/collections`, `/fields` and `/relations` endpoints and schema snapshots use). Each
/// validates its input, runs atomically (see the module docs), and reloads the snapshot.
impl SchemaService {
    /// `POST /collections` body: `{collection, meta?, schema?, fields?}`; `schema: null`
    /// makes a folder (no table).
    pub async fn create_collection(&self, payload: &serde_json::Value) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move { collections::create(&db, &schema, payload).await })
            .await
    }

    /// `POST /collections` with an array: all collections are created, or none.
    pub async fn create_collections(
        &self,
        payloads: &[serde_json::Value],
    ) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move {
            let mut all = plan::Plan::default();
            let mut seen: Vec<&str> = Vec::new();
            for p in payloads {
                let name = p
                    .get("collection")
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                    return Err(SchemaError::Invalid(format!(
                        "Collection \"{name}\" is given more than once"
                    )));
                }
                seen.push(name);
                all.append(collections::create(&db, &schema, p).await?);
            }
            Ok(all)
        })
        .await
    }

    /// `PATCH /collections` body: `[{collection, meta}]`; all are updated, or none.
    pub async fn update_collections(
        &self,
        payloads: &[serde_json::Value],
    ) -> Result<(), SchemaError> {
        self.change(|schema| async move {
            let mut all = plan::Plan::default();
            for p in payloads {
                let name = required_str(object(p, "A collection")?, "collection")?;
                all.append(collections::update(&schema, name, p)?);
            }
            Ok(all)
        })
        .await
    }

    /// `PATCH /collections/:c` body: `{meta}`.
    pub async fn update_collection(
        &self,
        collection: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        self.change(|schema| async move { collections::update(&schema, collection, payload) })
            .await
    }

    /// `DELETE /collections/:c`: drops the table and its metadata.
    pub async fn delete_collection(&self, collection: &str) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move { collections::delete(&db, &schema, collection).await })
            .await
    }

    /// `POST /fields/:c` body: `{field, type, schema?, meta?}`.
    pub async fn create_field(
        &self,
        collection: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move { fields::create(&db, &schema, collection, payload).await })
            .await
    }

    /// `PATCH /fields/:c/:f` body: `{type?, schema?, meta?}`.
    pub async fn update_field(
        &self,
        collection: &str,
        field: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move {
            fields::update(&db, &schema, collection, field, payload).await
        })
        .await
    }

    /// `DELETE /fields/:c/:f`.
    pub async fn delete_field(&self, collection: &str, field: &str) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move { fields::delete(&db, &schema, collection, field).await })
            .await
    }

    /// `POST /relations` body: `{collection, field, related_collection, schema?, meta?}`.
    pub async fn create_relation(&self, payload: &serde_json::Value) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move { relations::create(&db, &schema, payload).await })
            .await
    }

    /// `PATCH /relations/:c/:f` body: `{schema?: {on_delete, on_update}, meta?}`.
    pub async fn update_relation(
        &self,
        collection: &str,
        field: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(|schema| async move {
            relations::update(&db, &schema, collection, field, payload).await
        })
        .await
    }

    /// `DELETE /relations/:c/:f`: drops the foreign key and the metadata row (the column
    /// stays).
    pub async fn delete_relation(&self, collection: &str, field: &str) -> Result<(), SchemaError> {
        let db = self.db.clone();
        self.change(
            |schema| async move { relations::delete(&db, &schema, collection, field).await },
        )
        .await
    }
}

/// The payload as an object, or 400.
fn object<'a>(
    payload: &'a Json,
    what: &str,
) -> Result<&'a serde_json::Map<String, Json>, SchemaError> {
    payload
        .as_object()
        .ok_or_else(|| SchemaError::Invalid(format!("{what} must be an object")))
}

/// A required string member, or 400.
fn required_str<'a>(
    obj: &'a serde_json::Map<String, Json>,
    key: &str,
) -> Result<&'a str, SchemaError> {
    match obj.get(key) {
        Some(Json::String(s)) => Ok(s),
        None | Some(Json::Null) => Err(SchemaError::Invalid(format!("\"{key}\" is required"))),
        Some(_) => Err(SchemaError::Invalid(format!("\"{key}\" must be a string"))),
    }
}

/// `SELECT COUNT(*)` as a number.
async fn count(db: &Db, sql: &Sql) -> Result<i64, DbError> {
    let row = db.fetch_optional(sql).await?;
    Ok(row
        .and_then(|r| r.into_iter().next().map(|(_, v)| v))
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(0))
}

/// Whether a table holds any row.
async fn has_rows(db: &Db, table: &str) -> Result<bool, DbError> {
    let mut sql = db.sql();
    sql.push("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ")
        .ident(table)
        .push(" LIMIT 1) t");
    Ok(count(db, &sql).await? > 0)
}

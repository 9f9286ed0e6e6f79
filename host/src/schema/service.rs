//! Changing the schema: creating, altering and dropping tables, columns and foreign keys,
//! together with their metadata rows, so that both always agree. Holds the current
//! [`Schema`] snapshot and replaces it after every change.
//!
//! Atomicity: on PostgreSQL and SQLite each change runs in one transaction, DDL included.
//! MySQL commits every DDL statement implicitly, so there each step that ran is undone
//! explicitly when a later step fails; a failed change leaves no half-made table, column
//! or metadata row behind on any database.

use super::{introspect, Schema};
use crate::db::{Db, DbError};
use arc_swap::ArcSwap;
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
    Db(#[from] DbError),
}

pub struct SchemaService {
    db: Db,
    current: ArcSwap<Schema>,
    exclude: Vec<String>,
    /// One schema change at a time per host: DDL and the snapshot swap must not interleave.
    changes: tokio::sync::Mutex<()>,
}

impl SchemaService {
    pub async fn load(db: Db, exclude: Vec<String>) -> Result<Self, DbError> {
        let schema = introspect::load(&db, &exclude).await?;
        Ok(SchemaService {
            db,
            current: ArcSwap::from_pointee(schema),
            exclude,
            changes: tokio::sync::Mutex::new(()),
        })
    }

    /// The current snapshot; cheap (an `Arc` clone).
    pub fn current(&self) -> Arc<Schema> {
        self.current.load_full()
    }

    /// Re-reads catalogue and metadata and swaps the snapshot in.
    pub async fn reload(&self) -> Result<Arc<Schema>, DbError> {
        let schema = Arc::new(introspect::load(&self.db, &self.exclude).await?);
        self.current.store(schema.clone());
        Ok(schema)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Holds the change lock for the duration of a schema change.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.changes.lock().await
    }
}

/// The schema changes, taking Directus's request payloads as JSON (the same shapes the
/// `/collections`, `/fields` and `/relations` endpoints and schema snapshots use). Each
/// validates its input, runs atomically (see the module docs), and reloads the snapshot.
impl SchemaService {
    /// `POST /collections` body: `{collection, meta?, schema?, fields?}`; `schema: null`
    /// makes a folder (no table).
    pub async fn create_collection(&self, payload: &serde_json::Value) -> Result<(), SchemaError> {
        let _ = payload;
        Err(SchemaError::Invalid(
            "creating collections is not built yet".into(),
        ))
    }

    /// `PATCH /collections/:c` body: `{meta}`.
    pub async fn update_collection(
        &self,
        collection: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        let _ = (collection, payload);
        Err(SchemaError::Invalid(
            "updating collections is not built yet".into(),
        ))
    }

    /// `DELETE /collections/:c`: drops the table and its metadata.
    pub async fn delete_collection(&self, collection: &str) -> Result<(), SchemaError> {
        let _ = collection;
        Err(SchemaError::Invalid(
            "deleting collections is not built yet".into(),
        ))
    }

    /// `POST /fields/:c` body: `{field, type, schema?, meta?}`.
    pub async fn create_field(
        &self,
        collection: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        let _ = (collection, payload);
        Err(SchemaError::Invalid(
            "creating fields is not built yet".into(),
        ))
    }

    /// `PATCH /fields/:c/:f` body: `{type?, schema?, meta?}`.
    pub async fn update_field(
        &self,
        collection: &str,
        field: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        let _ = (collection, field, payload);
        Err(SchemaError::Invalid(
            "updating fields is not built yet".into(),
        ))
    }

    /// `DELETE /fields/:c/:f`.
    pub async fn delete_field(&self, collection: &str, field: &str) -> Result<(), SchemaError> {
        let _ = (collection, field);
        Err(SchemaError::Invalid(
            "deleting fields is not built yet".into(),
        ))
    }

    /// `POST /relations` body: `{collection, field, related_collection, schema?, meta?}`.
    pub async fn create_relation(&self, payload: &serde_json::Value) -> Result<(), SchemaError> {
        let _ = payload;
        Err(SchemaError::Invalid(
            "creating relations is not built yet".into(),
        ))
    }

    /// `PATCH /relations/:c/:f` body: `{schema?: {on_delete, on_update}, meta?}`.
    pub async fn update_relation(
        &self,
        collection: &str,
        field: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SchemaError> {
        let _ = (collection, field, payload);
        Err(SchemaError::Invalid(
            "updating relations is not built yet".into(),
        ))
    }

    /// `DELETE /relations/:c/:f`: drops the foreign key and the metadata row (the column
    /// stays).
    pub async fn delete_relation(&self, collection: &str, field: &str) -> Result<(), SchemaError> {
        let _ = (collection, field);
        Err(SchemaError::Invalid(
            "deleting relations is not built yet".into(),
        ))
    }
}

//! The schema snapshot: every collection, field and relation Rectus serves, built from the
//! database's own catalogue (introspection) merged with the optional metadata rows in
//! `rectus_collections`, `rectus_fields` and `rectus_relations`.
//!
//! Owns: the in-memory model ([`Schema`]), introspection per dialect, type mapping, the
//! metadata rows, and DDL for changing the schema. Must not touch: HTTP or access rules —
//! the API layer decides who may change what, this module only knows how.
//!
//! A pre-existing table needs no metadata: its fields come straight from the catalogue and
//! report `meta: null`. Foreign keys become many-to-one relations automatically (Directus
//! needs a `directus_relations` row for that).

pub mod ddl;
pub mod introspect;
pub mod meta;
pub mod names;
pub mod service;
pub mod snapshot;
pub mod system;
pub mod types;

pub use types::FieldType;

use crate::db::Dialect;
use indexmap::IndexMap;
use serde_json::{json, Map, Value as Json};

/// The whole schema as Rectus serves it. Immutable; a change builds a new one.
#[derive(Debug, Clone)]
pub struct Schema {
    pub dialect: Dialect,
    pub collections: IndexMap<String, Collection>,
    pub relations: Vec<Relation>,
}

#[derive(Debug, Clone)]
pub struct Collection {
    pub name: String,
    /// `None` for a folder: a collection with metadata but no table.
    pub table: Option<TableInfo>,
    /// The `rectus_collections` row, normalised; `None` when the table has none.
    pub meta: Option<Map<String, Json>>,
    pub fields: IndexMap<String, Field>,
}

#[derive(Debug, Clone)]
pub struct TableInfo {
    /// The PostgreSQL schema (`public`); `None` elsewhere.
    pub schema: Option<String>,
    pub comment: Option<String>,
    /// Columns of the primary key, in key order (empty: no primary key).
    pub primary_key: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub collection: String,
    pub name: String,
    pub field_type: FieldType,
    /// `None` for alias fields.
    pub column: Option<ColumnInfo>,
    /// The `rectus_fields` row, normalised; `None` when the field has none.
    pub meta: Option<Map<String, Json>>,
}

/// What the catalogue says about a column, in Directus's `schema` shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnInfo {
    pub data_type: String,
    pub default_value: Json,
    pub max_length: Option<i64>,
    pub numeric_precision: Option<i64>,
    pub numeric_scale: Option<i64>,
    pub is_generated: bool,
    pub generation_expression: Option<String>,
    pub is_nullable: bool,
    pub is_unique: bool,
    pub is_indexed: bool,
    pub is_primary_key: bool,
    pub has_auto_increment: bool,
    pub foreign_key_schema: Option<String>,
    pub foreign_key_table: Option<String>,
    pub foreign_key_column: Option<String>,
    pub comment: Option<String>,
}

/// A relation: `collection.field` points at `related_collection` (many-to-one), with the
/// foreign key's details when the database has one, and the `rectus_relations` row when
/// there is one (which adds the one-to-many side, junctions, sort fields …).
#[derive(Debug, Clone)]
pub struct Relation {
    pub collection: String,
    pub field: String,
    pub related_collection: Option<String>,
    pub schema: Option<ForeignKey>,
    pub meta: Option<Map<String, Json>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub constraint_name: String,
    pub table: String,
    pub column: String,
    pub foreign_key_schema: Option<String>,
    pub foreign_key_table: String,
    pub foreign_key_column: String,
    pub on_update: String,
    pub on_delete: String,
}

impl Schema {
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.get(name)
    }

    pub fn field(&self, collection: &str, field: &str) -> Option<&Field> {
        self.collections.get(collection)?.fields.get(field)
    }

    pub fn relation(&self, collection: &str, field: &str) -> Option<&Relation> {
        self.relations
            .iter()
            .find(|r| r.collection == collection && r.field == field)
    }

    /// Relations whose many side or one side is this collection.
    pub fn relations_of<'a>(&'a self, collection: &'a str) -> impl Iterator<Item = &'a Relation> {
        self.relations.iter().filter(move |r| {
            r.collection == collection || r.related_collection.as_deref() == Some(collection)
        })
    }

    /// Relations that use a field, from either side (the foreign key column, or the o2m
    /// alias named in `meta.one_field`).
    pub fn relations_using<'a>(
        &'a self,
        collection: &'a str,
        field: &'a str,
    ) -> impl Iterator<Item = &'a Relation> {
        self.relations.iter().filter(move |r| {
            (r.collection == collection && r.field == field)
                || (r.related_collection.as_deref() == Some(collection)
                    && r.one_field() == Some(field))
        })
    }
}

impl Collection {
    /// The single-column primary key, which is what items are addressed by. Tables with a
    /// composite key or none are listed but cannot be served as items.
    pub fn primary_key(&self) -> Option<&str> {
        match self.table.as_ref()?.primary_key.as_slice() {
            [one] => Some(one.as_str()),
            _ => None,
        }
    }

    pub fn is_folder(&self) -> bool {
        self.table.is_none()
    }

    pub fn is_singleton(&self) -> bool {
        meta_bool(self.meta.as_ref(), "singleton")
    }

    /// The Directus API shape: `{collection, meta, schema}`.
    pub fn to_api(&self) -> Json {
        json!({
            "collection": self.name,
            "meta": self.meta.as_ref().map(|m| Json::Object(m.clone())).unwrap_or(Json::Null),
            "schema": match &self.table {
                None => Json::Null,
                Some(t) => json!({
                    "schema": t.schema,
                    "name": self.name,
                    "comment": t.comment,
                }),
            },
        })
    }
}

impl Field {
    pub fn is_alias(&self) -> bool {
        self.column.is_none()
    }

    /// `meta.special` as a list.
    pub fn special(&self) -> Vec<String> {
        special_of(self.meta.as_ref())
    }

    pub fn nullable(&self) -> bool {
        self.column.as_ref().is_none_or(|c| c.is_nullable)
    }

    /// The Directus API shape: `{collection, field, type, meta, schema}`.
    pub fn to_api(&self) -> Json {
        json!({
            "collection": self.collection,
            "field": self.name,
            "type": self.field_type.as_str(),
            "meta": self.meta.as_ref().map(|m| Json::Object(m.clone())).unwrap_or(Json::Null),
            "schema": match &self.column {
                None => Json::Null,
                Some(c) => json!({
                    "name": self.name,
                    "table": self.collection,
                    "data_type": c.data_type,
                    "default_value": c.default_value,
                    "max_length": c.max_length,
                    "numeric_precision": c.numeric_precision,
                    "numeric_scale": c.numeric_scale,
                    "is_generated": c.is_generated,
                    "generation_expression": c.generation_expression,
                    "is_nullable": c.is_nullable,
                    "is_unique": c.is_unique,
                    "is_indexed": c.is_indexed,
                    "is_primary_key": c.is_primary_key,
                    "has_auto_increment": c.has_auto_increment,
                    "foreign_key_schema": c.foreign_key_schema,
                    "foreign_key_table": c.foreign_key_table,
                    "foreign_key_column": c.foreign_key_column,
                    "comment": c.comment,
                }),
            },
        })
    }
}

impl Relation {
    /// The o2m alias on the related collection, if the relation has one.
    pub fn one_field(&self) -> Option<&str> {
        self.meta.as_ref()?.get("one_field")?.as_str()
    }

    /// The Directus API shape: `{collection, field, related_collection, schema, meta}`.
    pub fn to_api(&self) -> Json {
        json!({
            "collection": self.collection,
            "field": self.field,
            "related_collection": self.related_collection,
            "schema": match &self.schema {
                None => Json::Null,
                Some(fk) => json!({
                    "constraint_name": fk.constraint_name,
                    "table": fk.table,
                    "column": fk.column,
                    "foreign_key_schema": fk.foreign_key_schema,
                    "foreign_key_table": fk.foreign_key_table,
                    "foreign_key_column": fk.foreign_key_column,
                    "on_update": fk.on_update,
                    "on_delete": fk.on_delete,
                }),
            },
            "meta": self.meta.as_ref().map(|m| Json::Object(m.clone())).unwrap_or(Json::Null),
        })
    }
}

pub(crate) fn meta_bool(meta: Option<&Map<String, Json>>, key: &str) -> bool {
    meta.and_then(|m| m.get(key)).and_then(Json::as_bool) == Some(true)
}

pub(crate) fn special_of(meta: Option<&Map<String, Json>>) -> Vec<String> {
    match meta.and_then(|m| m.get("special")) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

//! The metadata rows in `rectus_collections`, `rectus_fields` and `rectus_relations`:
//! loading them (normalised to JSON: booleans as booleans, JSON columns parsed, CSV
//! columns as arrays), validating metadata sent by clients, and writing it back.
//!
//! Column kinds come from the table definitions in `system::tables`, so each column is
//! declared once.

use super::ddl::ColumnSpec;
use super::types::pg_cast;
use super::FieldType;
use crate::db::{Db, DbError, Dialect, Row, Sql, Value};
use crate::system::tables::{self, SystemTable};
use indexmap::IndexMap;
use serde_json::{Map, Value as Json};

pub type MetaMap = Map<String, Json>;

#[derive(Debug, Default, Clone)]
pub struct MetaRows {
    pub collections: IndexMap<String, MetaMap>,
    pub fields: IndexMap<(String, String), MetaMap>,
    pub relations: IndexMap<(String, String), MetaMap>,
}

impl MetaRows {
    pub fn collection(&self, name: &str) -> Option<&MetaMap> {
        self.collections.get(name)
    }
    pub fn field(&self, collection: &str, field: &str) -> Option<&MetaMap> {
        self.fields
            .get(&(collection.to_string(), field.to_string()))
    }
    pub fn relation(&self, collection: &str, field: &str) -> Option<&MetaMap> {
        self.relations
            .get(&(collection.to_string(), field.to_string()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetaError {
    #[error("\"meta\" must be an object")]
    NotAnObject,
    #[error("\"meta.{key}\" must be {expected}")]
    WrongType { key: String, expected: &'static str },
}

fn select_all(db: &Db, table: &str, order: &str) -> Sql {
    let mut sql = db.sql();
    sql.push("SELECT * FROM ")
        .ident(table)
        .push(" ORDER BY ")
        .ident(order);
    sql
}

pub async fn load(db: &Db) -> Result<MetaRows, DbError> {
    let collections = db
        .fetch_all(&select_all(db, "rectus_collections", "collection"))
        .await?;
    let fields = db.fetch_all(&select_all(db, "rectus_fields", "id")).await?;
    let relations = db
        .fetch_all(&select_all(db, "rectus_relations", "id"))
        .await?;
    let text = |m: &MetaMap, k: &str| {
        m.get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut out = MetaRows::default();
    for row in collections {
        let m = normalize_row(&tables::COLLECTIONS, row);
        out.collections.insert(text(&m, "collection"), m);
    }
    for row in fields {
        let m = normalize_row(&tables::FIELDS, row);
        out.fields
            .insert((text(&m, "collection"), text(&m, "field")), m);
    }
    for row in relations {
        let m = normalize_row(&tables::RELATIONS, row);
        out.relations
            .insert((text(&m, "many_collection"), text(&m, "many_field")), m);
    }
    Ok(out)
}

/// Converts a stored row to its API form by the declared kind of each column.
pub fn normalize_row(table: &SystemTable, row: Row) -> MetaMap {
    let columns = (table.columns)();
    let mut out = Map::new();
    for spec in &columns {
        let v = row.get(&spec.name).cloned().unwrap_or(Json::Null);
        out.insert(spec.name.clone(), from_stored(spec, v));
    }
    out
}

fn from_stored(spec: &ColumnSpec, v: Json) -> Json {
    match (spec.field_type, v) {
        (_, Json::Null) => Json::Null,
        (FieldType::Boolean, Json::Number(n)) => Json::Bool(n.as_i64() == Some(1)),
        (FieldType::Boolean, Json::String(s)) => Json::Bool(s == "1" || s == "true"),
        (FieldType::Json, Json::String(s)) => serde_json::from_str(&s).unwrap_or(Json::String(s)),
        (FieldType::Csv, Json::String(s)) => {
            if s.is_empty() {
                Json::Array(Vec::new())
            } else {
                Json::Array(s.split(',').map(|p| Json::String(p.to_string())).collect())
            }
        }
        (FieldType::Integer, Json::String(s)) => {
            s.parse::<i64>().map(Json::from).unwrap_or(Json::String(s))
        }
        (_, v) => v,
    }
}

/// Checks client-sent metadata against the column kinds and returns the known keys with
/// their values (unknown keys are dropped, as Directus does). Keys in `fixed` are set by
/// the server (names, ids) and ignored here.
pub fn validate(table: &SystemTable, input: &Json, fixed: &[&str]) -> Result<MetaMap, MetaError> {
    let obj = match input {
        Json::Null => return Ok(Map::new()),
        Json::Object(o) => o,
        _ => return Err(MetaError::NotAnObject),
    };
    let mut out = Map::new();
    for spec in (table.columns)() {
        if fixed.contains(&spec.name.as_str()) || spec.auto_increment {
            continue;
        }
        let Some(v) = obj.get(&spec.name) else {
            continue;
        };
        let wrong = |expected| MetaError::WrongType {
            key: spec.name.clone(),
            expected,
        };
        let v = match (spec.field_type, v) {
            (_, Json::Null) => Json::Null,
            (FieldType::Boolean, Json::Bool(_)) => v.clone(),
            (FieldType::Boolean, _) => return Err(wrong("a boolean")),
            (FieldType::Integer, Json::Number(n)) if n.as_i64().is_some() => v.clone(),
            (FieldType::Integer, _) => return Err(wrong("a whole number")),
            (FieldType::Json, _) => v.clone(),
            (FieldType::Csv, Json::Array(items)) if items.iter().all(Json::is_string) => v.clone(),
            (FieldType::Csv, Json::String(s)) => Json::Array(
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Json::String(p.to_string()))
                    .collect(),
            ),
            (FieldType::Csv, _) => return Err(wrong("a list of strings")),
            (_, Json::String(s)) => {
                if let Some(max) = spec.max_length {
                    if s.chars().count() > max as usize {
                        return Err(wrong("a shorter string"));
                    }
                }
                v.clone()
            }
            (_, _) => return Err(wrong("a string")),
        };
        out.insert(spec.name.clone(), v);
    }
    Ok(out)
}

/// A normalised value as the parameter stored for its column.
fn to_stored(spec: &ColumnSpec, v: &Json) -> Value {
    match (spec.field_type, v) {
        (_, Json::Null) => Value::Null,
        (FieldType::Json, v) => Value::Text(v.to_string()),
        (FieldType::Csv, Json::Array(items)) => Value::Text(
            items
                .iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        (_, v) => Value::from_json(v),
    }
}

/// The PostgreSQL cast for a stored value: a NULL parameter is sent as text, which
/// PostgreSQL refuses for a boolean or integer column, so it is cast to the column's type.
fn cast_for(spec: &ColumnSpec, v: &Json) -> Option<&'static str> {
    match (spec.field_type, v) {
        (FieldType::Boolean, Json::Null) => Some("boolean"),
        (FieldType::Integer, Json::Null) => Some("integer"),
        (ty, _) => pg_cast(ty),
    }
}

fn spec_of(table: &SystemTable, key: &str) -> Option<ColumnSpec> {
    (table.columns)().into_iter().find(|c| c.name == key)
}

/// INSERT of the given columns (unknown keys skipped), each value cast for its column.
pub fn insert(dialect: Dialect, table: &SystemTable, values: &MetaMap) -> Sql {
    let mut sql = Sql::new(dialect);
    let cols: Vec<(&String, &Json)> = values
        .iter()
        .filter(|(k, _)| spec_of(table, k).is_some())
        .collect();
    sql.push("INSERT INTO ")
        .ident(table.name)
        .push(" (")
        .idents(cols.iter().map(|(k, _)| k.as_str()))
        .push(") VALUES (");
    for (i, (k, v)) in cols.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        let spec = spec_of(table, k).expect("filtered above");
        sql.bind_cast(to_stored(&spec, v), cast_for(&spec, v));
    }
    sql.push(")");
    sql
}

/// UPDATE of the given columns where every `(column, value)` in `key` matches.
pub fn update(
    dialect: Dialect,
    table: &SystemTable,
    values: &MetaMap,
    key: &[(&str, &str)],
) -> Option<Sql> {
    let cols: Vec<(&String, &Json)> = values
        .iter()
        .filter(|(k, _)| spec_of(table, k).is_some())
        .collect();
    if cols.is_empty() {
        return None;
    }
    let mut sql = Sql::new(dialect);
    sql.push("UPDATE ").ident(table.name).push(" SET ");
    for (i, (k, v)) in cols.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        let spec = spec_of(table, k).expect("filtered above");
        sql.ident(k)
            .push(" = ")
            .bind_cast(to_stored(&spec, v), cast_for(&spec, v));
    }
    where_key(&mut sql, table, key);
    Some(sql)
}

pub fn delete(dialect: Dialect, table: &SystemTable, key: &[(&str, &str)]) -> Sql {
    let mut sql = Sql::new(dialect);
    sql.push("DELETE FROM ").ident(table.name);
    where_key(&mut sql, table, key);
    sql
}

fn where_key(sql: &mut Sql, table: &SystemTable, key: &[(&str, &str)]) {
    for (i, (k, v)) in key.iter().enumerate() {
        sql.push(if i == 0 { " WHERE " } else { " AND " });
        let cast = spec_of(table, k).and_then(|s| pg_cast(s.field_type));
        sql.ident(k).push(" = ").bind_cast(*v, cast);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalizes_stored_rows() {
        let mut row = Row::new();
        row.insert("collection".into(), json!("orders"));
        row.insert("field".into(), json!("status"));
        row.insert("special".into(), json!("cast-json,uuid"));
        row.insert("options".into(), json!("{\"choices\":[1]}"));
        row.insert("hidden".into(), json!(1));
        let m = normalize_row(&tables::FIELDS, row);
        assert_eq!(m["special"], json!(["cast-json", "uuid"]));
        assert_eq!(m["options"], json!({"choices": [1]}));
        assert_eq!(m["hidden"], json!(true));
        assert_eq!(m["note"], Json::Null);
    }

    #[test]
    fn validates_client_metadata() {
        let ok = validate(&tables::FIELDS, &json!({"interface": "select-dropdown", "hidden": true, "special": "a,b", "bogus": 1, "id": 9}), &["collection", "field"]).unwrap();
        assert_eq!(ok.get("special"), Some(&json!(["a", "b"])));
        assert!(!ok.contains_key("bogus"));
        assert!(!ok.contains_key("id"));
        assert_eq!(
            validate(&tables::FIELDS, &json!({"hidden": "yes"}), &[]),
            Err(MetaError::WrongType {
                key: "hidden".into(),
                expected: "a boolean"
            })
        );
        assert_eq!(
            validate(&tables::FIELDS, &json!([1]), &[]),
            Err(MetaError::NotAnObject)
        );
        assert!(validate(&tables::COLLECTIONS, &json!({"icon": "x".repeat(65)}), &[]).is_err());
    }
}

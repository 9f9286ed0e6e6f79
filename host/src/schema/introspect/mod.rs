//! Introspection: reading tables, columns, keys and foreign keys from the database's own
//! catalogue, in a handful of catalogue queries per dialect (not one per table), and
//! merging them with the metadata rows into a [`Schema`].

mod mysql;
mod postgres;
mod sqlite;

use super::meta::{self, MetaRows};
use super::types::{field_type_of, special_override, ColumnType, FieldType, ALIAS_SPECIALS};
use super::{Collection, ColumnInfo, Field, ForeignKey, Relation, Schema, TableInfo};
use crate::db::{Db, DbError, Dialect};
use indexmap::IndexMap;
use serde_json::Value as Json;

/// One table as the catalogue describes it.
#[derive(Debug, Clone, Default)]
pub struct RawTable {
    pub name: String,
    pub schema: Option<String>,
    pub comment: Option<String>,
    pub columns: Vec<RawColumn>,
    pub primary_key: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawColumn {
    pub name: String,
    /// Lower-case base type (`varchar`, `int4`, `numeric`).
    pub base_type: String,
    /// Declared type with modifiers (`character varying(255)`, `tinyint(1)`).
    pub full_type: String,
    /// What `schema.data_type` reports.
    pub data_type: String,
    pub nullable: bool,
    pub default_value: Json,
    pub max_length: Option<i64>,
    pub numeric_precision: Option<i64>,
    pub numeric_scale: Option<i64>,
    pub auto_increment: bool,
    pub generated: bool,
    pub generation_expression: Option<String>,
    pub unique: bool,
    pub indexed: bool,
    pub comment: Option<String>,
    /// A JSON column that the catalogue shows as text (MariaDB's JSON is LONGTEXT with a
    /// `json_valid` check).
    pub json_check: bool,
}

#[derive(Debug, Clone)]
pub struct RawForeignKey {
    pub constraint_name: String,
    pub table: String,
    pub column: String,
    pub foreign_schema: Option<String>,
    pub foreign_table: String,
    /// `None` when SQLite's declaration names no column (the referenced primary key).
    pub foreign_column: Option<String>,
    pub on_update: String,
    pub on_delete: String,
}

/// What the catalogue holds, before metadata is merged in.
#[derive(Debug, Default)]
pub struct Catalogue {
    pub tables: Vec<RawTable>,
    pub foreign_keys: Vec<RawForeignKey>,
}

pub async fn read_catalogue(db: &Db) -> Result<Catalogue, DbError> {
    match db {
        Db::Postgres(_) => postgres::read(db).await,
        Db::MySql(_) => mysql::read(db).await,
        Db::Sqlite(_) => sqlite::read(db).await,
    }
}

/// Reads the catalogue and the metadata rows, and builds the schema.
pub async fn load(db: &Db, exclude: &[String]) -> Result<Schema, DbError> {
    Ok(load_both(db, exclude).await?.0)
}

/// The user schema and the system schema (Rectus's own served tables), from one read of
/// the catalogue.
pub async fn load_both(db: &Db, exclude: &[String]) -> Result<(Schema, Schema), DbError> {
    let catalogue = read_catalogue(db).await?;
    let meta = meta::load(db).await?;
    let system = super::system::build(db.dialect(), &catalogue);
    Ok((build(db.dialect(), catalogue, meta, exclude), system))
}

/// Merges catalogue and metadata. Pure, so it is tested without a database.
pub fn build(dialect: Dialect, catalogue: Catalogue, meta: MetaRows, exclude: &[String]) -> Schema {
    build_with(dialect, catalogue, meta, |name| {
        !crate::system::is_system_table(name)
            && !exclude.iter().any(|e| e == name)
            && !name.contains(' ')
    })
}

/// [`build`] over the tables `keep` accepts.
pub fn build_with(
    dialect: Dialect,
    catalogue: Catalogue,
    meta: MetaRows,
    keep: impl Fn(&str) -> bool,
) -> Schema {
    let mut collections: IndexMap<String, Collection> = IndexMap::new();
    let fks = catalogue.foreign_keys;
    let pk_of = |tables: &[RawTable], name: &str| -> Option<String> {
        tables
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| match t.primary_key.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            })
    };
    let mut tables = catalogue.tables;
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let resolved_fks: Vec<RawForeignKey> = fks
        .into_iter()
        .filter_map(|mut fk| {
            if fk.foreign_column.is_none() {
                fk.foreign_column = pk_of(&tables, &fk.foreign_table);
            }
            fk.foreign_column.as_ref()?;
            Some(fk)
        })
        .collect();

    for table in &tables {
        if !keep(&table.name) {
            continue;
        }
        let mut fields = IndexMap::new();
        for col in &table.columns {
            let fmeta = meta.field(&table.name, &col.name);
            let special = super::special_of(fmeta);
            let mut field_type = if col.json_check {
                FieldType::Json
            } else {
                field_type_of(
                    dialect,
                    ColumnType {
                        base: &col.base_type,
                        full: &col.full_type,
                    },
                )
            };
            if let Some(over) = special_override(&special) {
                field_type = over;
            }
            let is_pk = table.primary_key.contains(&col.name);
            let default_value = boolean_default(field_type, &col.default_value);
            let fk = resolved_fks
                .iter()
                .find(|f| f.table == table.name && f.column == col.name);
            fields.insert(
                col.name.clone(),
                Field {
                    collection: table.name.clone(),
                    name: col.name.clone(),
                    field_type,
                    column: Some(ColumnInfo {
                        data_type: col.data_type.clone(),
                        default_value: if col.auto_increment {
                            Json::Null
                        } else {
                            default_value
                        },
                        max_length: col.max_length,
                        numeric_precision: col.numeric_precision,
                        numeric_scale: col.numeric_scale,
                        is_generated: col.generated,
                        generation_expression: col.generation_expression.clone(),
                        is_nullable: col.nullable && !is_pk,
                        is_unique: col.unique || (is_pk && table.primary_key.len() == 1),
                        is_indexed: col.indexed || is_pk,
                        is_primary_key: is_pk,
                        has_auto_increment: col.auto_increment,
                        foreign_key_schema: fk.and_then(|f| f.foreign_schema.clone()),
                        foreign_key_table: fk.map(|f| f.foreign_table.clone()),
                        foreign_key_column: fk.and_then(|f| f.foreign_column.clone()),
                        comment: col.comment.clone(),
                    }),
                    meta: fmeta.cloned(),
                },
            );
        }
        collections.insert(
            table.name.clone(),
            Collection {
                name: table.name.clone(),
                table: Some(TableInfo {
                    schema: table.schema.clone(),
                    comment: table.comment.clone(),
                    primary_key: table.primary_key.clone(),
                }),
                meta: meta.collection(&table.name).cloned(),
                fields,
            },
        );
    }

    // Folders: metadata without a table.
    for (name, row) in &meta.collections {
        if !collections.contains_key(name) && keep(name) {
            collections.insert(
                name.clone(),
                Collection {
                    name: name.clone(),
                    table: None,
                    meta: Some(row.clone()),
                    fields: IndexMap::new(),
                },
            );
        }
    }

    // Alias fields: metadata rows whose special makes them columnless, on known collections.
    for ((coll, field), row) in &meta.fields {
        let Some(c) = collections.get_mut(coll) else {
            continue;
        };
        if c.fields.contains_key(field) {
            continue;
        }
        let special = super::special_of(Some(row));
        if special.iter().any(|s| ALIAS_SPECIALS.contains(&s.as_str())) {
            c.fields.insert(
                field.clone(),
                Field {
                    collection: coll.clone(),
                    name: field.clone(),
                    field_type: FieldType::Alias,
                    column: None,
                    meta: Some(row.clone()),
                },
            );
        }
    }
    // Keep fields in metadata `sort` order where given, catalogue order otherwise.
    for c in collections.values_mut() {
        let position = |f: &Field| {
            f.meta
                .as_ref()
                .and_then(|m| m.get("sort"))
                .and_then(Json::as_i64)
        };
        let mut order: Vec<(usize, Option<i64>, String)> = c
            .fields
            .values()
            .enumerate()
            .map(|(i, f)| (i, position(f), f.name.clone()))
            .collect();
        order.sort_by_key(|(i, sort, _)| (sort.unwrap_or(i64::MAX), *i));
        let mut sorted = IndexMap::new();
        for (_, _, name) in order {
            let f = c.fields.shift_remove(&name).expect("field listed above");
            sorted.insert(name, f);
        }
        c.fields = sorted;
    }

    // Relations: every single-column foreign key between served tables, plus the
    // metadata rows (which may describe relations with no foreign key, e.g. many-to-any).
    let mut relations = Vec::new();
    for fk in &resolved_fks {
        if !collections.contains_key(&fk.table) {
            continue;
        }
        relations.push(Relation {
            collection: fk.table.clone(),
            field: fk.column.clone(),
            related_collection: Some(fk.foreign_table.clone()),
            schema: Some(ForeignKey {
                constraint_name: fk.constraint_name.clone(),
                table: fk.table.clone(),
                column: fk.column.clone(),
                foreign_key_schema: fk.foreign_schema.clone(),
                foreign_key_table: fk.foreign_table.clone(),
                foreign_key_column: fk.foreign_column.clone().unwrap_or_default(),
                on_update: fk.on_update.clone(),
                on_delete: fk.on_delete.clone(),
            }),
            meta: meta.relation(&fk.table, &fk.column).cloned(),
        });
    }
    for ((coll, field), row) in &meta.relations {
        if relations
            .iter()
            .any(|r| &r.collection == coll && &r.field == field)
        {
            continue;
        }
        if !collections.contains_key(coll) {
            continue;
        }
        relations.push(Relation {
            collection: coll.clone(),
            field: field.clone(),
            related_collection: row
                .get("one_collection")
                .and_then(Json::as_str)
                .map(str::to_string),
            schema: None,
            meta: Some(row.clone()),
        });
    }
    relations.sort_by(|a, b| (&a.collection, &a.field).cmp(&(&b.collection, &b.field)));

    Schema {
        dialect,
        collections,
        relations,
    }
}

/// Booleans stored as 0/1 (MySQL, SQLite) or declared with a quoted `'true'` (SQLite keeps
/// whatever literal was written) report their default as a boolean.
fn boolean_default(field_type: FieldType, v: &Json) -> Json {
    if field_type != FieldType::Boolean {
        return v.clone();
    }
    match v {
        Json::Number(n) => Json::Bool(n.as_i64() == Some(1)),
        Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Json::Bool(true),
            "false" | "0" => Json::Bool(false),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}

/// Turns a catalogue default expression into a JSON value: string literals unquoted and
/// unescaped, numbers parsed, booleans, `CURRENT_TIMESTAMP` for the clock functions;
/// other expressions as their text.
pub fn parse_default(raw: Option<&str>, numeric: bool) -> Json {
    let Some(raw) = raw.map(str::trim) else {
        return Json::Null;
    };
    if raw.eq_ignore_ascii_case("null") || raw.starts_with("NULL::") {
        return Json::Null;
    }
    // PostgreSQL's `'x'::character varying`, `(0)::numeric`: strip the trailing cast.
    let mut body = raw;
    if let Some(idx) = body.rfind("::") {
        let after = &body[idx + 2..];
        if after
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _\"()[],".contains(c))
        {
            body = &body[..idx];
        }
    }
    let body = body.trim();
    let lower = body.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "now()"
            | "current_timestamp"
            | "current_timestamp()"
            | "localtimestamp"
            | "transaction_timestamp()"
    ) || lower.starts_with("current_timestamp(")
    {
        return Json::String("CURRENT_TIMESTAMP".into());
    }
    if lower == "true" {
        return Json::Bool(true);
    }
    if lower == "false" {
        return Json::Bool(false);
    }
    if body.len() >= 2 && body.starts_with('\'') && body.ends_with('\'') {
        let inner = &body[1..body.len() - 1];
        let text = inner.replace("''", "'");
        if numeric {
            if let Ok(n) = text.parse::<f64>() {
                return number(n, &text);
            }
        }
        return Json::String(text);
    }
    let unparen = body.trim_start_matches('(').trim_end_matches(')');
    if let Ok(n) = unparen.parse::<f64>() {
        if numeric || !unparen.is_empty() {
            return number(n, unparen);
        }
    }
    Json::String(body.to_string())
}

fn number(n: f64, text: &str) -> Json {
    if let Ok(i) = text.parse::<i64>() {
        return Json::from(i);
    }
    serde_json::Number::from_f64(n)
        .map(Json::Number)
        .unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_catalogue_defaults() {
        assert_eq!(
            parse_default(Some("'Pending'::character varying"), false),
            json!("Pending")
        );
        assert_eq!(parse_default(Some("'it''s'::text"), false), json!("it's"));
        assert_eq!(parse_default(Some("42"), true), json!(42));
        assert_eq!(parse_default(Some("(0)::numeric"), true), json!(0));
        assert_eq!(parse_default(Some("'1.50'::numeric"), true), json!(1.5));
        assert_eq!(
            parse_default(Some("now()"), false),
            json!("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            parse_default(Some("current_timestamp()"), false),
            json!("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            parse_default(Some("CURRENT_TIMESTAMP"), false),
            json!("CURRENT_TIMESTAMP")
        );
        assert_eq!(parse_default(Some("true"), false), json!(true));
        assert_eq!(parse_default(Some("NULL"), false), Json::Null);
        assert_eq!(parse_default(None, false), Json::Null);
        assert_eq!(
            parse_default(Some("gen_random_uuid()"), false),
            json!("gen_random_uuid()")
        );
    }

    #[test]
    fn boolean_defaults_are_booleans_however_written() {
        let b = |v: Json| boolean_default(FieldType::Boolean, &v);
        assert_eq!(b(json!(1)), json!(true));
        assert_eq!(b(json!(0)), json!(false));
        assert_eq!(b(json!("false")), json!(false));
        assert_eq!(b(json!("TRUE")), json!(true));
        assert_eq!(b(json!("1")), json!(true));
        assert_eq!(b(json!(true)), json!(true));
        assert_eq!(b(json!("maybe")), json!("maybe"));
        assert_eq!(b(Json::Null), Json::Null);
        assert_eq!(boolean_default(FieldType::Integer, &json!(1)), json!(1));
        assert_eq!(
            boolean_default(FieldType::String, &json!("true")),
            json!("true")
        );
    }

    fn table(name: &str, cols: &[(&str, &str)], pk: &[&str]) -> RawTable {
        RawTable {
            name: name.into(),
            columns: cols
                .iter()
                .map(|(n, t)| RawColumn {
                    name: n.to_string(),
                    base_type: t.to_string(),
                    full_type: t.to_string(),
                    data_type: t.to_string(),
                    nullable: true,
                    ..Default::default()
                })
                .collect(),
            primary_key: pk.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn builds_collections_relations_and_skips_system_tables() {
        let catalogue = Catalogue {
            tables: vec![
                table(
                    "orders",
                    &[("id", "integer"), ("customer", "integer")],
                    &["id"],
                ),
                table(
                    "customers",
                    &[("id", "integer"), ("name", "varchar")],
                    &["id"],
                ),
                table("rectus_users", &[("id", "uuid")], &["id"]),
                table("links", &[("a", "integer"), ("b", "integer")], &["a", "b"]),
            ],
            foreign_keys: vec![RawForeignKey {
                constraint_name: "orders_customer_fk".into(),
                table: "orders".into(),
                column: "customer".into(),
                foreign_schema: None,
                foreign_table: "customers".into(),
                foreign_column: None,
                on_update: "NO ACTION".into(),
                on_delete: "SET NULL".into(),
            }],
        };
        let s = build(Dialect::Sqlite, catalogue, MetaRows::default(), &[]);
        assert_eq!(
            s.collections.keys().collect::<Vec<_>>(),
            ["customers", "links", "orders"]
        );
        assert_eq!(s.collection("orders").unwrap().primary_key(), Some("id"));
        assert_eq!(s.collection("links").unwrap().primary_key(), None);
        let r = s.relation("orders", "customer").unwrap();
        assert_eq!(r.related_collection.as_deref(), Some("customers"));
        assert_eq!(r.schema.as_ref().unwrap().foreign_key_column, "id");
        let f = s.field("orders", "customer").unwrap();
        assert_eq!(
            f.column.as_ref().unwrap().foreign_key_table.as_deref(),
            Some("customers")
        );
        assert!(f.meta.is_none());
    }
}

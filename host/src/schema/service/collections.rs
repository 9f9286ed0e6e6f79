//! Collections: creating a table (or a folder) with its fields and metadata, updating
//! collection metadata, and dropping a collection with everything that points at it.

use super::fields::{self, FieldInput};
use super::plan::Plan;
use super::{object, required_str, SchemaError};
use crate::db::{Db, Dialect};
use crate::schema::ddl::{self, ColumnSpec};
use crate::schema::meta::{self, MetaMap};
use crate::schema::{names, FieldType, Schema};
use crate::system::tables;
use serde_json::{json, Value as Json};

const FIXED: &[&str] = &["collection"];

fn collection_meta(
    payload: &serde_json::Map<String, Json>,
) -> Result<Option<MetaMap>, SchemaError> {
    match payload.get("meta") {
        None | Some(Json::Null) => Ok(None),
        Some(m) => Ok(Some(meta::validate(&tables::COLLECTIONS, m, FIXED)?)),
    }
}

pub(super) async fn create(db: &Db, schema: &Schema, payload: &Json) -> Result<Plan, SchemaError> {
    let obj = object(payload, "A collection")?;
    let name = required_str(obj, "collection")?;
    names::check_collection(name)?;
    // Table names are case-insensitive in SQLite (and on some MySQL installations).
    if schema
        .collections
        .keys()
        .any(|c| c.eq_ignore_ascii_case(name))
    {
        return Err(SchemaError::Invalid(format!(
            "Collection \"{name}\" already exists"
        )));
    }
    let meta_row = collection_meta(obj)?;
    let is_table = match obj.get("schema") {
        None | Some(Json::Null) => false,
        Some(Json::Object(_)) => true,
        Some(_) => {
            return Err(SchemaError::Invalid(
                "\"schema\" must be an object or null".into(),
            ))
        }
    };
    let mut inputs: Vec<FieldInput> = match obj.get("fields") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items.iter().map(fields::parse).collect::<Result<_, _>>()?,
        Some(_) => return Err(SchemaError::Invalid("\"fields\" must be an array".into())),
    };
    for (i, f) in inputs.iter().enumerate() {
        if inputs[..i]
            .iter()
            .any(|g| g.name.eq_ignore_ascii_case(&f.name))
        {
            return Err(SchemaError::Invalid(format!(
                "Field \"{}\" is given more than once",
                f.name
            )));
        }
    }
    let d = db.dialect();
    let mut plan = Plan::default();
    let mut specs: Vec<ColumnSpec> = Vec::new();
    let mut rows: Vec<MetaMap> = Vec::new();

    if is_table {
        let is_pk = |f: &FieldInput| f.schema.get("is_primary_key") == Some(&Json::Bool(true));
        match inputs.iter().filter(|f| is_pk(f)).count() {
            0 => {
                if inputs.iter().any(|f| f.name.eq_ignore_ascii_case("id")) {
                    return Err(SchemaError::Invalid(
                        "A collection needs a primary key: mark one field with \"schema.is_primary_key\"".into(),
                    ));
                }
                // Directus adds an auto-increment `id` when no key is given.
                inputs.insert(
                    0,
                    fields::parse(&json!({
                        "field": "id",
                        "type": "integer",
                        "schema": {"is_primary_key": true, "has_auto_increment": true},
                    }))?,
                );
            }
            1 => {}
            _ => {
                return Err(SchemaError::Invalid(
                    "Only one field can be the primary key".into(),
                ))
            }
        }
        for input in &inputs {
            if input.ty == FieldType::Alias {
                rows.extend(fields::new_meta_row(name, input, None));
                continue;
            }
            let spec = fields::new_column(d, input)?;
            rows.extend(fields::new_meta_row(name, input, Some(&spec)));
            specs.push(spec);
        }
        plan.ddl(
            ddl::create_table(d, name, &specs, &[])?,
            vec![ddl::drop_table(d, name)],
        );
    } else {
        if let Some(f) = inputs.iter().find(|f| f.ty != FieldType::Alias) {
            return Err(SchemaError::Invalid(format!(
                "\"{name}\" has no schema (a folder), so field \"{}\" cannot have a column",
                f.name
            )));
        }
        for input in &inputs {
            rows.extend(fields::new_meta_row(name, input, None));
        }
    }

    // A folder exists only through its metadata row.
    if meta_row.is_some() || !is_table {
        let mut row = meta_row.unwrap_or_default();
        row.insert("collection".into(), Json::from(name));
        plan.meta(meta::insert(d, &tables::COLLECTIONS, &row));
    }
    for row in rows {
        plan.meta(meta::insert(d, &tables::FIELDS, &row));
    }
    Ok(plan)
}

pub(super) fn update(
    schema: &Schema,
    collection: &str,
    payload: &Json,
) -> Result<Plan, SchemaError> {
    let coll = super::collection_of(schema, collection)?;
    let obj = object(payload, "A collection")?;
    let mut plan = Plan::default();
    let Some(mut changes) = collection_meta(obj)? else {
        return Ok(plan);
    };
    if changes.is_empty() {
        return Ok(plan);
    }
    let d = schema.dialect;
    if coll.meta.is_some() {
        let sql = meta::update(
            d,
            &tables::COLLECTIONS,
            &changes,
            &[("collection", collection)],
        )
        .expect("changes are not empty");
        plan.meta(sql);
    } else {
        changes.insert("collection".into(), Json::from(collection));
        plan.meta(meta::insert(d, &tables::COLLECTIONS, &changes));
    }
    Ok(plan)
}

pub(super) async fn delete(
    db: &Db,
    schema: &Schema,
    collection: &str,
) -> Result<Plan, SchemaError> {
    let coll = super::collection_of(schema, collection)?;
    let d = db.dialect();
    let mut plan = Plan::default();

    // Foreign keys of other tables that point here go first (the column stays, as when
    // a relation is deleted).
    for r in schema.relations_of(collection) {
        if r.collection == collection {
            continue;
        }
        if let Some(fk) = &r.schema {
            super::relations::drop_fk_steps(db, schema, &mut plan, &r.collection, fk).await?;
        }
    }

    if coll.table.is_some() {
        let undo = match d {
            Dialect::MySql => vec![show_create_table(db, collection).await?],
            _ => vec![],
        };
        plan.ddl(ddl::drop_table(d, collection), undo);
    }

    plan.meta(meta::delete(
        d,
        &tables::COLLECTIONS,
        &[("collection", collection)],
    ));
    plan.meta(meta::delete(
        d,
        &tables::FIELDS,
        &[("collection", collection)],
    ));
    // o2m aliases elsewhere that list this collection's rows.
    for r in schema
        .relations
        .iter()
        .filter(|r| r.collection == collection)
    {
        if let (Some(one), Some(field)) = (r.related_collection.as_deref(), r.one_field()) {
            if one != collection {
                plan.meta(meta::delete(
                    d,
                    &tables::FIELDS,
                    &[("collection", one), ("field", field)],
                ));
            }
        }
    }
    plan.meta(meta::delete(
        d,
        &tables::RELATIONS,
        &[("many_collection", collection)],
    ));
    plan.meta(meta::delete(
        d,
        &tables::RELATIONS,
        &[("one_collection", collection)],
    ));
    // Collections grouped under a deleted folder move to the top level.
    let mut ungroup = MetaMap::new();
    ungroup.insert("group".into(), Json::Null);
    if let Some(sql) = meta::update(d, &tables::COLLECTIONS, &ungroup, &[("group", collection)]) {
        plan.meta(sql);
    }
    Ok(plan)
}

/// MySQL's own CREATE TABLE text for a table: the exact inverse of dropping it.
async fn show_create_table(db: &Db, table: &str) -> Result<String, SchemaError> {
    let row = db
        .fetch_optional(&{
            let mut sql = db.sql();
            sql.push("SHOW CREATE TABLE ").ident(table);
            sql
        })
        .await?
        .ok_or_else(|| SchemaError::CollectionNotFound(table.to_string()))?;
    row.get("Create Table")
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| SchemaError::Invalid(format!("cannot read the definition of \"{table}\"")))
}

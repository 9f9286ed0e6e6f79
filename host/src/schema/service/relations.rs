//! Relations: the foreign key on the many side (`collection.field` → the related
//! collection's primary key), the `rectus_relations` row, and the o2m alias field on the
//! related collection named by `meta.one_field`.

use super::fields::FIXED as FIELD_FIXED;
use super::plan::Plan;
use super::rebuild::{self, fk_name};
use super::{object, required_str, SchemaError};
use crate::db::{Db, Dialect};
use crate::schema::ddl::{self, ForeignKeySpec};
use crate::schema::meta::{self, MetaMap};
use crate::schema::{names, ForeignKey, Schema};
use crate::system::tables;
use serde_json::{Map, Value as Json};

const FIXED: &[&str] = &["id", "many_collection", "many_field", "one_collection"];

/// `schema` of a payload: absent → a foreign key with the default actions, `null` → no
/// foreign key, an object → a foreign key with its actions.
enum FkRequest {
    Default,
    None,
    Actions(Map<String, Json>),
}

fn fk_request(obj: &Map<String, Json>) -> Result<FkRequest, SchemaError> {
    match obj.get("schema") {
        None => Ok(FkRequest::Default),
        Some(Json::Null) => Ok(FkRequest::None),
        Some(Json::Object(o)) => Ok(FkRequest::Actions(o.clone())),
        Some(_) => Err(SchemaError::Invalid(
            "\"schema\" must be an object or null".into(),
        )),
    }
}

fn action(
    opts: &Map<String, Json>,
    key: &str,
    current: Option<&str>,
    default: &str,
) -> Result<String, SchemaError> {
    match opts.get(key) {
        None | Some(Json::Null) => Ok(current.unwrap_or(default).to_string()),
        Some(Json::String(s)) => Ok(ddl::check_action(s)?),
        Some(_) => Err(SchemaError::Invalid(format!(
            "\"schema.{key}\" must be a string"
        ))),
    }
}

/// The foreign key for `collection.field` → `related`, checked against both columns.
fn foreign_key(
    schema: &Schema,
    collection: &str,
    field: &str,
    related: &str,
    opts: &Map<String, Json>,
    current: Option<&ForeignKey>,
) -> Result<ForeignKeySpec, SchemaError> {
    let many = schema
        .field(collection, field)
        .filter(|f| !f.is_alias())
        .ok_or_else(|| {
            SchemaError::Invalid(format!(
                "\"{collection}.{field}\" has no column to hold a foreign key"
            ))
        })?;
    let one = schema
        .collection(related)
        .ok_or_else(|| SchemaError::Invalid(format!("Collection \"{related}\" does not exist")))?;
    let pk = one.primary_key().ok_or_else(|| {
        SchemaError::Invalid(format!(
            "\"{related}\" has no single-column primary key to point at"
        ))
    })?;
    let pk_field = &one.fields[pk];
    if pk_field.field_type != many.field_type {
        return Err(SchemaError::Invalid(format!(
            "\"{collection}.{field}\" is {} but the primary key of \"{related}\" is {}: the types must match",
            many.field_type.as_str(),
            pk_field.field_type.as_str()
        )));
    }
    Ok(ForeignKeySpec {
        name: fk_name(collection, field),
        column: field.to_string(),
        foreign_table: related.to_string(),
        foreign_column: pk.to_string(),
        on_delete: action(
            opts,
            "on_delete",
            current.map(|c| c.on_delete.as_str()),
            "SET NULL",
        )?,
        on_update: action(
            opts,
            "on_update",
            current.map(|c| c.on_update.as_str()),
            "NO ACTION",
        )?,
    })
}

fn spec_of(fk: &ForeignKey) -> ForeignKeySpec {
    ForeignKeySpec {
        name: fk.constraint_name.clone(),
        column: fk.column.clone(),
        foreign_table: fk.foreign_key_table.clone(),
        foreign_column: fk.foreign_key_column.clone(),
        on_delete: fk.on_delete.clone(),
        on_update: fk.on_update.clone(),
    }
}

/// Steps that replace the foreign keys on `table.column` (`old` → `new`, either absent).
async fn fk_steps(
    db: &Db,
    schema: &Schema,
    plan: &mut Plan,
    table: &str,
    old: Option<&ForeignKey>,
    new: Option<ForeignKeySpec>,
) -> Result<(), SchemaError> {
    let d = db.dialect();
    if d == Dialect::Sqlite {
        if old.is_none() && new.is_none() {
            return Ok(());
        }
        let from = rebuild::read(db, schema, table).await?;
        let mut to = from.clone();
        if let Some(old) = old {
            to.foreign_keys.retain(|f| f.column != old.column);
        }
        if let Some(new) = new {
            to.foreign_keys.retain(|f| f.column != new.column);
            to.foreign_keys.push(new);
        }
        plan.rebuild(rebuild::statements(&from, &to)?);
        return Ok(());
    }
    if let Some(old) = old {
        plan.ddl(
            ddl::drop_foreign_key(d, table, &old.constraint_name),
            vec![ddl::add_foreign_key(d, table, &spec_of(old))],
        );
    }
    if let Some(new) = new {
        plan.ddl(
            ddl::add_foreign_key(d, table, &new),
            vec![ddl::drop_foreign_key(d, table, &new.name)],
        );
    }
    Ok(())
}

/// Steps that drop a foreign key (used when the collection it points at is deleted).
pub(super) async fn drop_fk_steps(
    db: &Db,
    schema: &Schema,
    plan: &mut Plan,
    table: &str,
    fk: &ForeignKey,
) -> Result<(), SchemaError> {
    fk_steps(db, schema, plan, table, Some(fk), None).await
}

/// The o2m alias row to create on the related collection; `None` when the alias field
/// exists already (the Studio creates the field first, then the relation).
fn alias_row(
    schema: &Schema,
    related: &str,
    one_field: &str,
) -> Result<Option<MetaMap>, SchemaError> {
    names::check_field(one_field)?;
    let coll = schema
        .collection(related)
        .ok_or_else(|| SchemaError::Invalid(format!("Collection \"{related}\" does not exist")))?;
    if let Some(existing) = coll
        .fields
        .values()
        .find(|f| f.name.eq_ignore_ascii_case(one_field))
    {
        if existing.is_alias() && existing.name == one_field {
            return Ok(None);
        }
        return Err(SchemaError::Invalid(format!(
            "Field \"{one_field}\" already exists in collection \"{related}\" and has a column"
        )));
    }
    let mut row = meta::validate(
        &tables::FIELDS,
        &serde_json::json!({"special": ["o2m"], "interface": "list-o2m"}),
        FIELD_FIXED,
    )?;
    row.insert("collection".into(), Json::from(related));
    row.insert("field".into(), Json::from(one_field));
    Ok(Some(row))
}

fn relation_meta(obj: &Map<String, Json>) -> Result<Option<MetaMap>, SchemaError> {
    match obj.get("meta") {
        None | Some(Json::Null) => Ok(None),
        Some(m) => Ok(Some(meta::validate(&tables::RELATIONS, m, FIXED)?)),
    }
}

pub(super) async fn create(db: &Db, schema: &Schema, payload: &Json) -> Result<Plan, SchemaError> {
    let obj = object(payload, "A relation")?;
    let collection = required_str(obj, "collection")?;
    let field = required_str(obj, "field")?;
    let related = match obj.get("related_collection") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(SchemaError::Invalid(
                "\"related_collection\" must be a string".into(),
            ))
        }
    };
    super::field_of(schema, collection, field)?;
    if schema.relation(collection, field).is_some() {
        return Err(SchemaError::Invalid(format!(
            "A relation on \"{collection}.{field}\" already exists"
        )));
    }
    let meta_row = relation_meta(obj)?;
    let d = db.dialect();
    let mut plan = Plan::default();
    let fk = match (fk_request(obj)?, related) {
        (FkRequest::None, _) | (_, None) => None,
        (FkRequest::Default, Some(r)) => Some(foreign_key(
            schema,
            collection,
            field,
            r,
            &Map::new(),
            None,
        )?),
        (FkRequest::Actions(opts), Some(r)) => {
            Some(foreign_key(schema, collection, field, r, &opts, None)?)
        }
    };
    if related.is_some_and(|r| schema.collection(r).is_none()) {
        return Err(SchemaError::Invalid(format!(
            "Collection \"{}\" does not exist",
            related.unwrap_or_default()
        )));
    }
    let has_fk = fk.is_some();
    fk_steps(db, schema, &mut plan, collection, None, fk).await?;

    // Without a foreign key the row is all there is of the relation.
    if meta_row.is_some() || !has_fk {
        let mut row = meta_row.unwrap_or_default();
        if let (Some(one_field), Some(r)) = (row.get("one_field").and_then(Json::as_str), related) {
            if let Some(alias) = alias_row(schema, r, one_field)? {
                plan.meta(meta::insert(d, &tables::FIELDS, &alias));
            }
        }
        row.insert("many_collection".into(), Json::from(collection));
        row.insert("many_field".into(), Json::from(field));
        row.insert(
            "one_collection".into(),
            related.map(Json::from).unwrap_or(Json::Null),
        );
        plan.meta(meta::insert(d, &tables::RELATIONS, &row));
    }
    Ok(plan)
}

pub(super) async fn update(
    db: &Db,
    schema: &Schema,
    collection: &str,
    field: &str,
    payload: &Json,
) -> Result<Plan, SchemaError> {
    let rel = schema
        .relation(collection, field)
        .ok_or_else(|| SchemaError::RelationNotFound {
            collection: collection.to_string(),
            field: field.to_string(),
        })?;
    let obj = object(payload, "A relation")?;
    let d = db.dialect();
    let mut plan = Plan::default();
    let related = rel.related_collection.as_deref();
    match (obj.get("schema"), fk_request(obj)?, related) {
        // Absent: the foreign key stays as it is.
        (None, _, _) => {}
        (_, FkRequest::None, _) => {
            fk_steps(db, schema, &mut plan, collection, rel.schema.as_ref(), None).await?
        }
        (_, FkRequest::Actions(opts), Some(r)) => {
            let new = foreign_key(schema, collection, field, r, &opts, rel.schema.as_ref())?;
            let unchanged = rel.schema.as_ref().is_some_and(|old| {
                old.on_delete.eq_ignore_ascii_case(&new.on_delete)
                    && old.on_update.eq_ignore_ascii_case(&new.on_update)
            });
            if !unchanged {
                fk_steps(
                    db,
                    schema,
                    &mut plan,
                    collection,
                    rel.schema.as_ref(),
                    Some(new),
                )
                .await?;
            }
        }
        (_, _, _) => {
            return Err(SchemaError::Invalid(
                "A relation without a related collection cannot have a foreign key".into(),
            ))
        }
    }

    if let Some(changes) = relation_meta(obj)? {
        let old_one = rel.one_field();
        let new_one = match changes.get("one_field") {
            Some(Json::String(s)) => Some(s.as_str()),
            Some(_) => None,
            None => old_one,
        };
        if new_one != old_one {
            if let (Some(old), Some(r)) = (old_one, related) {
                plan.meta(meta::delete(
                    d,
                    &tables::FIELDS,
                    &[("collection", r), ("field", old)],
                ));
            }
            if let (Some(new), Some(r)) = (new_one, related) {
                if let Some(alias) = alias_row(schema, r, new)? {
                    plan.meta(meta::insert(d, &tables::FIELDS, &alias));
                }
            }
        }
        if !changes.is_empty() {
            if rel.meta.is_some() {
                let sql = meta::update(
                    d,
                    &tables::RELATIONS,
                    &changes,
                    &[("many_collection", collection), ("many_field", field)],
                )
                .expect("changes are not empty");
                plan.meta(sql);
            } else {
                let mut row = changes;
                row.insert("many_collection".into(), Json::from(collection));
                row.insert("many_field".into(), Json::from(field));
                row.insert(
                    "one_collection".into(),
                    related.map(Json::from).unwrap_or(Json::Null),
                );
                plan.meta(meta::insert(d, &tables::RELATIONS, &row));
            }
        }
    }
    Ok(plan)
}

pub(super) async fn delete(
    db: &Db,
    schema: &Schema,
    collection: &str,
    field: &str,
) -> Result<Plan, SchemaError> {
    let rel = schema
        .relation(collection, field)
        .ok_or_else(|| SchemaError::RelationNotFound {
            collection: collection.to_string(),
            field: field.to_string(),
        })?;
    let d = db.dialect();
    let mut plan = Plan::default();
    fk_steps(db, schema, &mut plan, collection, rel.schema.as_ref(), None).await?;
    if let (Some(r), Some(one)) = (rel.related_collection.as_deref(), rel.one_field()) {
        plan.meta(meta::delete(
            d,
            &tables::FIELDS,
            &[("collection", r), ("field", one)],
        ));
    }
    plan.meta(meta::delete(
        d,
        &tables::RELATIONS,
        &[("many_collection", collection), ("many_field", field)],
    ));
    Ok(plan)
}

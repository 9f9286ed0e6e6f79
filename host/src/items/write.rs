//! Item writes: create, update, delete — each request in ONE transaction, so a batch
//! either lands whole or not at all.

use super::payload::{coerce, Mode, PayloadError, Row, Writer};
use super::ItemsError;
use crate::db::{Db, Dialect, Sql, Tx, Value};
use crate::events::Bus;
use crate::query::compile::CompileError;
use crate::schema::types::pg_cast;
use crate::schema::{Collection, Schema};
use chrono::Utc;
use serde_json::Value as Json;

/// The collection to write: it must exist and have a single-column primary key.
fn target<'s>(
    schema: &'s Schema,
    collection: &str,
) -> Result<(&'s Collection, &'s str), ItemsError> {
    let c = schema
        .collection(collection)
        .ok_or_else(|| CompileError::collection_forbidden(collection))?;
    let pk = c
        .primary_key()
        .ok_or_else(|| CompileError::collection_forbidden(collection))?;
    Ok((c, pk))
}

/// A key as the primary key's type; a key that cannot be one is not there.
fn key_value(c: &Collection, pk: &str, key: &Json) -> Result<Value, ItemsError> {
    coerce(&c.fields[pk], key).map_err(|_| ItemsError::Forbidden)
}

/// Who writes, and the bus their writes are announced on.
pub struct WriteContext<'a> {
    pub db: &'a Db,
    pub schema: &'a Schema,
    pub bus: &'a Bus,
    pub user: Option<&'a str>,
}

/// Creates one item (object) or several (array). Returns their primary keys. Each item's
/// payload passes the `create` filter handlers first; the action events follow the commit.
pub async fn create(
    w: &WriteContext<'_>,
    collection: &str,
    payload: &Json,
) -> Result<Vec<Json>, ItemsError> {
    let (c, pk) = target(w.schema, collection)?;
    let objects: Vec<Json> = match payload {
        Json::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let writer = Writer {
        collection: c,
        user: w.user,
        now: Utc::now(),
    };
    let mut rows = Vec::with_capacity(objects.len());
    let mut filtered = Vec::with_capacity(objects.len());
    for o in objects {
        if !o.is_object() {
            return Err(PayloadError::NotAnObject.into());
        }
        let o = w.bus.filter("create", collection, o, &[], w.user).await?;
        rows.push(writer.row(&o, Mode::Create).await?);
        filtered.push(o);
    }
    let mut tx = w.db.begin().await?;
    let mut keys = Vec::with_capacity(rows.len());
    let mut explicit_key = false;
    for row in &rows {
        explicit_key |= row.iter().any(|(k, _, _)| k == pk);
        keys.push(insert(&mut tx, c, pk, row).await?);
    }
    if explicit_key
        && c.fields[pk]
            .column
            .as_ref()
            .is_some_and(|col| col.has_auto_increment)
    {
        resync_sequence(&mut tx, c, pk).await?;
    }
    tx.commit().await?;
    for (payload, key) in filtered.into_iter().zip(&keys) {
        w.bus
            .action("create", collection, payload, vec![key.clone()], w.user);
    }
    Ok(keys)
}

async fn insert(tx: &mut Tx, c: &Collection, pk: &str, row: &Row) -> Result<Json, ItemsError> {
    let d = tx.dialect();
    let mut sql = Sql::new(d);
    sql.push("INSERT INTO ").ident(&c.name);
    if row.is_empty() {
        sql.push(if d == Dialect::MySql {
            " () VALUES ()"
        } else {
            " DEFAULT VALUES"
        });
    } else {
        sql.push(" (")
            .idents(row.iter().map(|(k, _, _)| k.as_str()))
            .push(") VALUES (");
        for (i, (_, v, ty)) in row.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_cast(v.clone(), pg_cast(*ty));
        }
        sql.push(")");
    }
    if d == Dialect::MySql {
        // MySQL has no RETURNING: the key is the one given, or the connection's last id.
        tx.execute(&sql).await?;
        if let Some((_, v, _)) = row.iter().find(|(k, _, _)| k == pk) {
            return Ok(value_json(v));
        }
        let mut last = Sql::new(d);
        last.push("SELECT LAST_INSERT_ID() AS k");
        let r = tx.fetch_optional(&last).await?.unwrap_or_default();
        return Ok(r.get("k").cloned().unwrap_or(Json::Null));
    }
    sql.push(" RETURNING ").ident(pk);
    let r = tx.fetch_optional(&sql).await?.unwrap_or_default();
    Ok(r.get(pk).cloned().unwrap_or(Json::Null))
}

/// After rows were inserted with explicit keys, the next generated key must not collide.
async fn resync_sequence(tx: &mut Tx, c: &Collection, pk: &str) -> Result<(), ItemsError> {
    let d = tx.dialect();
    let mut sql = Sql::new(d);
    match d {
        Dialect::Postgres => {
            sql.push("SELECT setval(pg_get_serial_sequence(")
                .bind(d.quote(&c.name))
                .push(", ")
                .bind(pk.to_string())
                .push("), GREATEST((SELECT MAX(")
                .ident(pk)
                .push(") FROM ")
                .ident(&c.name)
                .push("), 1))");
            tx.fetch_all(&sql).await?;
        }
        // SQLite and MySQL continue after the largest key by themselves.
        Dialect::Sqlite | Dialect::MySql => {}
    }
    Ok(())
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Text(s) => Json::String(s.clone()),
    }
}

/// Applies `data` to the items with these keys. Returns the keys.
pub async fn update(
    w: &WriteContext<'_>,
    collection: &str,
    keys: &[Json],
    data: &Json,
) -> Result<Vec<Json>, ItemsError> {
    let (c, pk) = target(w.schema, collection)?;
    let writer = Writer {
        collection: c,
        user: w.user,
        now: Utc::now(),
    };
    let data = w
        .bus
        .filter("update", collection, data.clone(), keys, w.user)
        .await?;
    let row = writer.row(&data, Mode::Update).await?;
    let mut tx = w.db.begin().await?;
    update_rows(&mut tx, c, pk, keys, &row).await?;
    tx.commit().await?;
    w.bus
        .action("update", collection, data, keys.to_vec(), w.user);
    Ok(keys.to_vec())
}

/// Updates each object by the primary key it carries, all in one transaction.
pub async fn update_batch(
    w: &WriteContext<'_>,
    collection: &str,
    items: &[Json],
) -> Result<Vec<Json>, ItemsError> {
    let (c, pk) = target(w.schema, collection)?;
    let writer = Writer {
        collection: c,
        user: w.user,
        now: Utc::now(),
    };
    let mut work = Vec::with_capacity(items.len());
    for item in items {
        let key = item
            .get(pk)
            .filter(|k| !k.is_null())
            .ok_or_else(|| PayloadError::Invalid {
                field: pk.to_string(),
                reason: "each item of a batch update needs its primary key".into(),
            })?
            .clone();
        let data = w
            .bus
            .filter(
                "update",
                collection,
                item.clone(),
                std::slice::from_ref(&key),
                w.user,
            )
            .await?;
        let row: Row = writer
            .row(&data, Mode::Update)
            .await?
            .into_iter()
            .filter(|(k, _, _)| k != pk)
            .collect();
        work.push((key, data, row));
    }
    let mut tx = w.db.begin().await?;
    for (key, _, row) in &work {
        update_rows(&mut tx, c, pk, std::slice::from_ref(key), row).await?;
    }
    tx.commit().await?;
    let mut keys = Vec::with_capacity(work.len());
    for (key, data, _) in work {
        w.bus
            .action("update", collection, data, vec![key.clone()], w.user);
        keys.push(key);
    }
    Ok(keys)
}

async fn update_rows(
    tx: &mut Tx,
    c: &Collection,
    pk: &str,
    keys: &[Json],
    row: &Row,
) -> Result<(), ItemsError> {
    if row.is_empty() || keys.is_empty() {
        return Ok(());
    }
    let d = tx.dialect();
    let mut sql = Sql::new(d);
    sql.push("UPDATE ").ident(&c.name).push(" SET ");
    for (i, (k, v, ty)) in row.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.ident(k).push(" = ").bind_cast(v.clone(), pg_cast(*ty));
    }
    where_keys(&mut sql, c, pk, keys)?;
    tx.execute(&sql).await?;
    Ok(())
}

fn where_keys(sql: &mut Sql, c: &Collection, pk: &str, keys: &[Json]) -> Result<(), ItemsError> {
    let ty = c.fields[pk].field_type;
    sql.push(" WHERE ").ident(pk).push(" IN (");
    let mut any = false;
    for key in keys {
        // Keys of the wrong type cannot match any row; leave them out.
        let Ok(v) = key_value(c, pk, key) else {
            continue;
        };
        if any {
            sql.push(", ");
        }
        sql.bind_cast(v, pg_cast(ty));
        any = true;
    }
    if !any {
        sql.push("NULL");
    }
    sql.push(")");
    Ok(())
}

/// Deletes the items with these keys.
pub async fn delete(
    w: &WriteContext<'_>,
    collection: &str,
    keys: &[Json],
) -> Result<(), ItemsError> {
    let (c, pk) = target(w.schema, collection)?;
    if keys.is_empty() {
        return Ok(());
    }
    w.bus
        .filter(
            "delete",
            collection,
            Json::Array(keys.to_vec()),
            keys,
            w.user,
        )
        .await?;
    let mut sql = w.db.sql();
    sql.push("DELETE FROM ").ident(&c.name);
    where_keys(&mut sql, c, pk, keys)?;
    let mut tx = w.db.begin().await?;
    tx.execute(&sql).await?;
    tx.commit().await?;
    w.bus.action(
        "delete",
        collection,
        Json::Array(keys.to_vec()),
        keys.to_vec(),
        w.user,
    );
    Ok(())
}

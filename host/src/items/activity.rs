//! The activity log and revisions: one `rectus_activity` row per item written (who, what,
//! when, from where) and, for creates and updates, a `rectus_revisions` row with the
//! item's data after the change and the payload that changed it — written in the same
//! transaction as the change. A collection's `accountability` decides: `all` (the
//! default), `activity` (no revisions), or null (nothing recorded).

use super::write::WriteContext;
use super::ItemsError;
use crate::db::{Sql, Tx};
use crate::schema::types::pg_cast;
use crate::schema::FieldType;
use serde_json::Value as Json;

fn key_text(key: &Json) -> String {
    match key {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What the collection asks to be recorded: (activity, revisions).
fn accountability(w: &WriteContext<'_>, collection: &str) -> (bool, bool) {
    let Some(c) = w.schema.collection(collection) else {
        return (false, false);
    };
    match c
        .meta
        .as_ref()
        .map(|m| m.get("accountability").cloned().unwrap_or(Json::Null))
    {
        // No metadata row: Directus's default.
        None => (true, true),
        Some(Json::String(s)) if s == "all" => (true, true),
        Some(Json::String(s)) if s == "activity" => (true, false),
        _ => (false, false),
    }
}

pub(super) async fn record(
    tx: &mut Tx,
    w: &WriteContext<'_>,
    op: &str,
    collection: &str,
    payload: &Json,
    keys: &[Json],
) -> Result<(), ItemsError> {
    // The log does not log itself.
    if matches!(collection, "rectus_activity" | "rectus_revisions") {
        return Ok(());
    }
    let (activity, revisions) = accountability(w, collection);
    if !activity {
        return Ok(());
    }
    // System collections are logged under their Directus names.
    let logged_name = crate::schema::system::SERVED
        .iter()
        .find(|(_, t)| *t == collection)
        .map(|(c, _)| *c)
        .unwrap_or(collection);
    for key in keys {
        let d = tx.dialect();
        let mut sql = Sql::new(d);
        sql.push("INSERT INTO ")
            .ident("rectus_activity")
            .push(" (")
            .idents(["action", "user", "ip", "user_agent", "collection", "item"])
            .push(") VALUES (")
            .bind(op)
            .push(", ")
            .bind_cast(w.user.map(str::to_string), pg_cast(FieldType::Uuid))
            .push(", ")
            .bind(w.ip.map(str::to_string))
            .push(", ")
            .bind(w.user_agent.map(str::to_string))
            .push(", ")
            .bind(logged_name)
            .push(", ")
            .bind(key_text(key))
            .push(")");
        let id = super::write::insert_returning(tx, sql, "id", None)
            .await?
            .as_i64()
            .unwrap_or_default();
        if !revisions || op == "delete" {
            continue;
        }
        let data = current_row(tx, w, collection, key).await?;
        let mut rev = Sql::new(d);
        rev.push("INSERT INTO ")
            .ident("rectus_revisions")
            .push(" (")
            .idents(["activity", "collection", "item", "data", "delta"])
            .push(") VALUES (")
            .bind(id)
            .push(", ")
            .bind(logged_name)
            .push(", ")
            .bind(key_text(key))
            .push(", ")
            .bind_cast(data.map(|d| d.to_string()), pg_cast(FieldType::Json))
            .push(", ")
            .bind_cast(payload.to_string(), pg_cast(FieldType::Json))
            .push(")");
        tx.execute(&rev).await?;
    }
    Ok(())
}

/// The item as it stands inside the transaction, as JSON.
async fn current_row(
    tx: &mut Tx,
    w: &WriteContext<'_>,
    collection: &str,
    key: &Json,
) -> Result<Option<Json>, ItemsError> {
    let Some(c) = w.schema.collection(collection) else {
        return Ok(None);
    };
    let Some(pk) = c.primary_key() else {
        return Ok(None);
    };
    let Ok(value) = super::payload::coerce(&c.fields[pk], key) else {
        return Ok(None);
    };
    let mut sql = tx.sql();
    sql.push("SELECT * FROM ")
        .ident(&c.name)
        .push(" WHERE ")
        .ident(pk)
        .push(" = ");
    sql.bind_cast(value, pg_cast(c.fields[pk].field_type));
    let row = tx.fetch_optional(&sql).await?;
    Ok(row.map(|mut r| {
        // Secrets never reach the log.
        for f in c
            .fields
            .values()
            .filter(|f| f.field_type == FieldType::Hash)
        {
            if r.get(&f.name).is_some_and(|v| !v.is_null()) {
                r.insert(f.name.clone(), Json::String("**********".into()));
            }
        }
        Json::Object(r)
    }))
}

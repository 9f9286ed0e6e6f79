//! The items service: every read (and, with the REST issue's writes, every write) of user
//! collections goes through here, whichever module asks. It parses the query, compiles it
//! against the current schema snapshot into one statement, runs it, and hands back JSON
//! text: a plain list is written from the statement's rows (`compile_rows`), a read with
//! `meta` counts or an aggregate comes back as one row the database built (`compile_read`).
//!
//! Owns: running item queries. Must not touch: HTTP (modules do), SQL text (the query
//! compiler builds it).

pub mod activity;
pub mod payload;
pub mod write;

use crate::db::{Db, DbError};
use crate::query::compile::{compile_read, compile_rows, CompileError, ReadOptions};
use crate::query::{Condition, Filter, Op, Query, QueryError};
use crate::schema::Schema;
use serde_json::Value as Json;

#[derive(Debug, thiserror::Error)]
pub enum ItemsError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Payload(#[from] payload::PayloadError),
    /// A filter handler refused the write.
    #[error(transparent)]
    Rejected(#[from] crate::events::Rejection),
    /// Refused by the caller's permissions.
    #[error(transparent)]
    Access(#[from] crate::access::writes::AccessError),
    /// A missing item, answered like an unreadable one.
    #[error("forbidden")]
    Forbidden,
}

/// The primary keys of the items a query selects (for updates and deletes by query).
pub async fn keys_of(
    db: &Db,
    schema: &Schema,
    collection: &str,
    query: &Query,
    opts: &ReadOptions,
) -> Result<Vec<Json>, ItemsError> {
    let pk = schema
        .collection(collection)
        .and_then(|c| c.primary_key())
        .ok_or_else(|| CompileError::collection_forbidden(collection))?;
    let mut q = query.clone();
    q.fields = Some(vec![pk.to_string()]);
    q.meta.clear();
    q.deep.clear();
    q.alias.clear();
    let page = read(db, schema, collection, &q, opts).await?;
    let rows: Vec<Json> = serde_json::from_str(&page.data).unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter_map(|r| r.get(pk).cloned())
        .collect())
}

/// The result of a list read: the JSON array text and the counts asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub data: String,
    pub total_count: Option<i64>,
    pub filter_count: Option<i64>,
}

pub async fn read(
    db: &Db,
    schema: &Schema,
    collection: &str,
    query: &Query,
    opts: &ReadOptions,
) -> Result<Page, ItemsError> {
    if query.meta.is_empty() && query.aggregate.is_empty() {
        let read = compile_rows(schema, collection, query, opts)?;
        return Ok(Page {
            data: db.fetch_json_array(&read.sql, &read.cells).await?,
            total_count: None,
            filter_count: None,
        });
    }
    let sql = compile_read(schema, collection, query, opts)?;
    let row = db.fetch_optional(&sql).await?.unwrap_or_default();
    let data = match row.get("data") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => "[]".to_string(),
        Some(other) => other.to_string(),
    };
    let count = |k: &str| {
        row.get(k)
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    };
    Ok(Page {
        data,
        total_count: count("total_count"),
        filter_count: count("filter_count"),
    })
}

/// One item by primary key: the query's fields and deep, filtered to that key. Answers
/// `Forbidden` when there is no such item (or the key cannot be one).
pub async fn read_one(
    db: &Db,
    schema: &Schema,
    collection: &str,
    key: &str,
    query: &Query,
    opts: &ReadOptions,
) -> Result<String, ItemsError> {
    let pk = schema
        .collection(collection)
        .and_then(|c| c.primary_key())
        .ok_or_else(|| CompileError::collection_forbidden(collection))?;
    let mut q = query.clone();
    let by_key = Filter::Field {
        key: pk.to_string(),
        condition: Condition::Ops(vec![(Op::Eq, Json::String(key.to_string()))]),
    };
    q.filter = Some(match q.filter.take() {
        Some(f) => Filter::And(vec![by_key, f]),
        None => by_key,
    });
    q.limit = Some(1);
    q.offset = None;
    q.page = None;
    q.sort.clear();
    q.meta.clear();
    let page = match read(db, schema, collection, &q, opts).await {
        // A key that is not even of the key's type (`/items/orders/abc`) is simply not there.
        Err(ItemsError::Compile(CompileError::Invalid(_))) if query.filter.is_none() => {
            return Err(ItemsError::Forbidden)
        }
        other => other?,
    };
    // At most one object (`limit 1`): the array's brackets come off, no parse needed.
    let inner = page
        .data
        .strip_prefix('[')
        .and_then(|d| d.strip_suffix(']'))
        .map(str::trim)
        .unwrap_or("");
    if inner.is_empty() {
        return Err(ItemsError::Forbidden);
    }
    Ok(inner.to_string())
}

//! Dialect-specific JSON building: how a column becomes a JSON value in Directus's format
//! (decimals and big integers as strings, timestamps as ISO text with `Z`, booleans as
//! booleans even where they are stored as 0/1), how objects are built, and how a
//! subquery's JSON is embedded in an enclosing object.

use crate::db::{Dialect, Sql};
use crate::schema::FieldType;

/// The JSON value of column `col` (an already-qualified, quoted reference).
pub fn value(d: Dialect, ty: FieldType, col: &str) -> String {
    use Dialect::*;
    use FieldType as T;
    match (d, ty) {
        (Postgres, T::Decimal | T::BigInteger) => format!("{col}::text"),
        (Postgres, T::Timestamp) => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"),
        (Postgres, T::DateTime) => format!("to_char({col}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"),
        (Postgres, T::Csv) => format!("string_to_array({col}, ',')"),
        (Sqlite, T::Boolean) => format!("CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') ELSE json('false') END"),
        (Sqlite, T::Json) => format!("CASE WHEN json_valid({col}) THEN json({col}) ELSE {col} END"),
        (Sqlite, T::Decimal | T::BigInteger) => format!("CAST({col} AS TEXT)"),
        (Sqlite, T::Timestamp) => format!("strftime('%Y-%m-%dT%H:%M:%fZ', {col})"),
        (Sqlite, T::DateTime) => format!("strftime('%Y-%m-%dT%H:%M:%S', {col})"),
        (Sqlite, T::Csv) => format!("CASE WHEN {col} IS NULL THEN NULL WHEN {col} = '' THEN json('[]') ELSE json('[\"' || replace(replace(replace({col}, '\\', '\\\\'), '\"', '\\\"'), ',', '\",\"') || '\"]') END"),
        (MySql, T::Boolean) => format!("JSON_EXTRACT(IF({col} IS NULL, NULL, IF({col}, 'true', 'false')), '$')"),
        (MySql, T::Json) => format!("JSON_EXTRACT({col}, '$')"),
        (MySql, T::Decimal | T::BigInteger) => format!("CAST({col} AS CHAR)"),
        (MySql, T::Timestamp) => format!("DATE_FORMAT({col}, '%Y-%m-%dT%H:%i:%s.000Z')"),
        (MySql, T::DateTime) => format!("DATE_FORMAT({col}, '%Y-%m-%dT%H:%i:%s')"),
        (MySql, T::Date) => format!("DATE_FORMAT({col}, '%Y-%m-%d')"),
        (MySql, T::Time) => format!("TIME_FORMAT({col}, '%H:%i:%s')"),
        (MySql, T::Csv) => format!("IF({col} IS NULL, NULL, IF({col} = '', JSON_ARRAY(), JSON_EXTRACT(CONCAT('[\"', REPLACE(REPLACE(REPLACE({col}, '\\\\', '\\\\\\\\'), '\"', '\\\\\"'), ',', '\",\"'), '\"]'), '$')))"),
        (_, T::Binary) => "NULL".to_string(),
        // Directus never returns a hash, only that there is one.
        (_, T::Hash) => format!("CASE WHEN {col} IS NULL THEN NULL ELSE '**********' END"),
        _ => col.to_string(),
    }
}

/// Pairs per object-building call: PostgreSQL's functions take at most 100 arguments and
/// SQLite's at most 127.
const PAIRS_PER_CALL: usize = 50;

/// A JSON object from `(key, value expression)` pairs; keys are bound parameters, so an
/// alias chosen by the client never enters the SQL text.
pub fn object(d: Dialect, pairs: Vec<(String, Sql)>) -> Sql {
    let calls: Vec<Sql> = if pairs.is_empty() {
        vec![one_call(d, &[])]
    } else {
        pairs
            .chunks(PAIRS_PER_CALL)
            .map(|c| one_call(d, c))
            .collect()
    };
    combine(d, calls)
}

fn one_call(d: Dialect, pairs: &[(String, Sql)]) -> Sql {
    let mut out = Sql::new(d);
    out.push(match d {
        Dialect::Postgres => "json_build_object(",
        Dialect::Sqlite => "json_object(",
        Dialect::MySql => "JSON_OBJECT(",
    });
    for (i, (key, expr)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(", ");
        }
        // PostgreSQL cannot infer a parameter's type inside json_build_object.
        out.bind_cast(key.as_str(), Some("text"));
        out.push(", ").append(expr);
    }
    out.push(")");
    out
}

/// Merges several object calls into one object, keeping the keys of each.
fn combine(d: Dialect, mut calls: Vec<Sql>) -> Sql {
    if calls.len() == 1 {
        return calls.pop().expect("one call");
    }
    let mut out = Sql::new(d);
    match d {
        // jsonb concatenation; jsonb orders keys its own way, the price of very wide rows.
        Dialect::Postgres => {
            out.push("(");
            for (i, c) in calls.iter().enumerate() {
                if i > 0 {
                    out.push(" || ");
                }
                out.append(c).push("::jsonb");
            }
            out.push(")::json");
        }
        // json_patch keeps the first object's key order and appends the second's.
        Dialect::Sqlite => {
            let mut iter = calls.into_iter();
            let mut acc = iter.next().expect("several calls");
            for next in iter {
                let mut merged = Sql::new(d);
                merged
                    .push("json_patch(")
                    .append(&acc)
                    .push(", ")
                    .append(&next)
                    .push(")");
                acc = merged;
            }
            return acc;
        }
        Dialect::MySql => {
            out.push("JSON_MERGE_PATCH(");
            for (i, c) in calls.iter().enumerate() {
                if i > 0 {
                    out.push(", ");
                }
                out.append(c);
            }
            out.push(")");
        }
    }
    out
}

/// Wraps a scalar subquery that yields JSON so the enclosing object embeds it as JSON, not
/// as a string (SQLite and MariaDB lose the JSON flag across a subquery).
pub fn embed(d: Dialect, subquery: &Sql) -> Sql {
    let mut out = Sql::new(d);
    match d {
        Dialect::Postgres => out.push("(").append(subquery).push(")"),
        Dialect::Sqlite => out.push("json((").append(subquery).push("))"),
        Dialect::MySql => out.push("JSON_EXTRACT((").append(subquery).push("), '$')"),
    };
    out
}

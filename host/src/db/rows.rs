//! Decoding driver rows into JSON maps, by each column's type. Used for the `rectus_*`
//! tables and catalogue queries; item reads come back from the database as JSON already.

use super::{DbError, Row};
use serde_json::{Number, Value as Json};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

fn float(f: f64) -> Json {
    Number::from_f64(f).map(Json::Number).unwrap_or(Json::Null)
}

pub(super) fn sqlite_rows(rows: Vec<sqlx::sqlite::SqliteRow>) -> Result<Vec<Row>, DbError> {
    rows.iter()
        .map(|row| {
            let mut out = Row::new();
            for (i, col) in row.columns().iter().enumerate() {
                let raw = row.try_get_raw(i)?;
                let v = if raw.is_null() {
                    Json::Null
                } else {
                    // The value's storage class, not the declared type: SQLite columns
                    // hold whatever was stored.
                    match raw.type_info().name() {
                        "INTEGER" | "BOOLEAN" => Json::from(row.try_get::<i64, _>(i)?),
                        "REAL" | "NUMERIC" => float(row.try_get::<f64, _>(i)?),
                        "BLOB" => Json::Null,
                        _ => Json::String(row.try_get::<String, _>(i)?),
                    }
                };
                out.insert(col.name().to_string(), v);
            }
            Ok(out)
        })
        .collect()
}

pub(super) fn postgres_rows(rows: Vec<sqlx::postgres::PgRow>) -> Result<Vec<Row>, DbError> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
    rows.iter()
        .map(|row| {
            let mut out = Row::new();
            for (i, col) in row.columns().iter().enumerate() {
                if row.try_get_raw(i)?.is_null() {
                    out.insert(col.name().to_string(), Json::Null);
                    continue;
                }
                let v = match col.type_info().name() {
                    "BOOL" => Json::Bool(row.try_get(i)?),
                    "INT2" => Json::from(row.try_get::<i16, _>(i)?),
                    "INT4" => Json::from(row.try_get::<i32, _>(i)?),
                    "INT8" => Json::from(row.try_get::<i64, _>(i)?),
                    "OID" => Json::from(row.try_get::<sqlx::postgres::types::Oid, _>(i)?.0),
                    "FLOAT4" => float(row.try_get::<f32, _>(i)? as f64),
                    "FLOAT8" => float(row.try_get::<f64, _>(i)?),
                    "JSON" | "JSONB" => row.try_get::<Json, _>(i)?,
                    "UUID" => Json::String(row.try_get::<uuid::Uuid, _>(i)?.to_string()),
                    "TIMESTAMPTZ" => Json::String(
                        row.try_get::<DateTime<Utc>, _>(i)?
                            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                            .to_string(),
                    ),
                    "TIMESTAMP" => Json::String(
                        row.try_get::<NaiveDateTime, _>(i)?
                            .format("%Y-%m-%dT%H:%M:%S")
                            .to_string(),
                    ),
                    "DATE" => Json::String(row.try_get::<NaiveDate, _>(i)?.to_string()),
                    "TIME" => Json::String(
                        row.try_get::<NaiveTime, _>(i)?
                            .format("%H:%M:%S")
                            .to_string(),
                    ),
                    "TEXT[]" | "VARCHAR[]" | "NAME[]" => {
                        Json::from(row.try_get::<Vec<String>, _>(i)?)
                    }
                    "BYTEA" => Json::Null,
                    _ => match row.try_get::<String, _>(i) {
                        Ok(s) => Json::String(s),
                        Err(_) => Json::Null,
                    },
                };
                out.insert(col.name().to_string(), v);
            }
            Ok(out)
        })
        .collect()
}

pub(super) fn mysql_rows(rows: Vec<sqlx::mysql::MySqlRow>) -> Result<Vec<Row>, DbError> {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    rows.iter()
        .map(|row| {
            let mut out = Row::new();
            for (i, col) in row.columns().iter().enumerate() {
                if row.try_get_raw(i)?.is_null() {
                    out.insert(col.name().to_string(), Json::Null);
                    continue;
                }
                let name = col.type_info().name();
                let v = match name {
                    "BOOLEAN" => Json::Bool(row.try_get(i)?),
                    "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                        Json::from(row.try_get_unchecked::<i64, _>(i)?)
                    }
                    n if n.ends_with("UNSIGNED") => Json::from(row.try_get_unchecked::<u64, _>(i)?),
                    "FLOAT" => float(row.try_get::<f32, _>(i)? as f64),
                    "DOUBLE" => float(row.try_get::<f64, _>(i)?),
                    "JSON" => row.try_get::<Json, _>(i)?,
                    "DATETIME" => Json::String(
                        row.try_get::<NaiveDateTime, _>(i)?
                            .format("%Y-%m-%dT%H:%M:%S")
                            .to_string(),
                    ),
                    // The connection's time zone is UTC; sqlx reads TIMESTAMP as an instant.
                    "TIMESTAMP" => Json::String(
                        row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)?
                            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                            .to_string(),
                    ),
                    "DATE" => Json::String(row.try_get::<NaiveDate, _>(i)?.to_string()),
                    "TIME" => Json::String(
                        row.try_get::<NaiveTime, _>(i)?
                            .format("%H:%M:%S")
                            .to_string(),
                    ),
                    "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" => {
                        // information_schema text columns arrive as binary on some servers.
                        match row.try_get_unchecked::<Vec<u8>, _>(i) {
                            Ok(bytes) => match String::from_utf8(bytes) {
                                Ok(s) => Json::String(s),
                                Err(_) => Json::Null,
                            },
                            Err(_) => Json::Null,
                        }
                    }
                    // DECIMAL, CHAR, VARCHAR, TEXT, ENUM, SET: the wire carries text.
                    _ => match row.try_get_unchecked::<String, _>(i) {
                        Ok(s) => Json::String(s),
                        Err(_) => Json::Null,
                    },
                };
                out.insert(col.name().to_string(), v);
            }
            Ok(out)
        })
        .collect()
}

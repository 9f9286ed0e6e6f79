//! Item reads as JSON text built here, from plain result columns, instead of in the
//! database. Measured on PostgreSQL (`bench/README.md`): `json_agg(json_build_object(…))`
//! over a page of 100 rows costs the server about four times what returning the same
//! rows does, and the server is the bottleneck on a shared machine. So the compiler
//! selects one column per top-level key (relations still arrive as JSON text built by the
//! database, in the same statement) and this module writes `[{"key": value, …}, …]`
//! straight from the driver's rows, without building a `serde_json::Value` per cell.
//!
//! Each column comes with a [`CellKind`] chosen by the compiler, which knows what SQL it
//! wrote; the dialect's wire types decide the rest.

use super::{Db, DbError, Sql};
use sqlx::{Column, MySql, Postgres, Row as _, Sqlite, TypeInfo, ValueRef};

/// How a result column becomes a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum CellKind {
    /// JSON text the database built (relations, JSON columns): embedded as is.
    Json,
    /// Text, whatever the wire type: a JSON string.
    Text,
    /// A number or boolean stored as an integer (`0`/`1`): `true` / `false`.
    Bool,
    /// Decided by the wire type: numbers, booleans, strings, PostgreSQL timestamps,
    /// dates and UUIDs in Directus's formats.
    Auto,
    /// A related row joined into the same result (a many-to-one): one column that is
    /// NULL when there is no related row (the object is then `null`), followed by the
    /// columns of `cells`.
    Object(Vec<Cell>),
}

impl CellKind {
    /// How many result columns the cell reads.
    fn width(&self) -> usize {
        match self {
            CellKind::Object(cells) => 1 + cells.iter().map(|c| c.kind.width()).sum::<usize>(),
            _ => 1,
        }
    }
}

/// One output column: its key, already written as a JSON string followed by `:`, and how
/// to write its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub key: String,
    pub kind: CellKind,
}

impl Cell {
    pub fn new(key: &str, kind: CellKind) -> Cell {
        let mut quoted = serde_json::to_string(key).expect("strings serialise");
        quoted.push(':');
        Cell { key: quoted, kind }
    }
}

impl Db {
    /// Runs `sql` (one column per cell, in order) and returns the rows as a JSON array of
    /// objects.
    pub async fn fetch_json_array(&self, sql: &Sql, cells: &[Cell]) -> Result<String, DbError> {
        let mut out = Writer::new();
        match self {
            Db::Sqlite(p) => out.rows(&sql.bound::<Sqlite>().fetch_all(p).await?, cells)?,
            Db::Postgres(p) => out.rows(&sql.bound::<Postgres>().fetch_all(p).await?, cells)?,
            Db::MySql(p) => out.rows(&sql.bound::<MySql>().fetch_all(p).await?, cells)?,
        }
        Ok(out.finish())
    }
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn new() -> Self {
        Writer {
            buf: Vec::with_capacity(4096),
        }
    }

    fn rows<R: JsonRow>(&mut self, rows: &[R], cells: &[Cell]) -> Result<(), DbError> {
        self.buf.push(b'[');
        for (r, row) in rows.iter().enumerate() {
            if r > 0 {
                self.buf.push(b',');
            }
            self.object(row, cells, &mut 0)?;
        }
        self.buf.push(b']');
        Ok(())
    }

    /// Writes `cells` as one object, reading columns from `*next` on.
    fn object<R: JsonRow>(
        &mut self,
        row: &R,
        cells: &[Cell],
        next: &mut usize,
    ) -> Result<(), DbError> {
        self.buf.push(b'{');
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.buf.extend_from_slice(c.key.as_bytes());
            match &c.kind {
                CellKind::Object(children) => {
                    let present = !row.is_null(*next)?;
                    if present {
                        *next += 1;
                        self.object(row, children, next)?;
                    } else {
                        self.null();
                        *next += c.kind.width();
                    }
                }
                kind => {
                    row.write(self, *next, kind)?;
                    *next += 1;
                }
            }
        }
        self.buf.push(b'}');
        Ok(())
    }

    fn finish(self) -> String {
        // Only UTF-8 text and ASCII punctuation were written.
        String::from_utf8(self.buf).expect("JSON text is UTF-8")
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    fn raw(&mut self, json: &str) {
        self.buf.extend_from_slice(json.as_bytes());
    }

    fn string(&mut self, s: &str) {
        serde_json::to_writer(&mut self.buf, s).expect("writing to a Vec cannot fail");
    }

    fn bool(&mut self, b: bool) {
        self.raw(if b { "true" } else { "false" });
    }

    fn display(&mut self, v: impl std::fmt::Display) {
        use std::io::Write;
        write!(self.buf, "{v}").expect("writing to a Vec cannot fail");
    }

    /// Shortest text that reads back as the same `f32` (PostgreSQL's `real` output);
    /// JSON has no NaN or infinity.
    fn f32(&mut self, f: f32) {
        if f.is_finite() {
            self.display(f)
        } else {
            self.null()
        }
    }

    fn f64(&mut self, f: f64) {
        if f.is_finite() {
            self.display(f)
        } else {
            self.null()
        }
    }
}

/// A driver row the writer reads columns from.
trait JsonRow {
    fn is_null(&self, i: usize) -> Result<bool, DbError>;
    fn write(&self, w: &mut Writer, i: usize, kind: &CellKind) -> Result<(), DbError>;
}

macro_rules! json_row {
    ($row:ty, $write:ident) => {
        impl JsonRow for $row {
            fn is_null(&self, i: usize) -> Result<bool, DbError> {
                Ok(self.try_get_raw(i)?.is_null())
            }
            fn write(&self, w: &mut Writer, i: usize, kind: &CellKind) -> Result<(), DbError> {
                $write(w, self, i, kind)
            }
        }
    };
}

json_row!(sqlx::sqlite::SqliteRow, sqlite_cell);
json_row!(sqlx::postgres::PgRow, postgres_cell);
json_row!(sqlx::mysql::MySqlRow, mysql_cell);

fn sqlite_cell(
    w: &mut Writer,
    row: &sqlx::sqlite::SqliteRow,
    i: usize,
    kind: &CellKind,
) -> Result<(), DbError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        w.null();
        return Ok(());
    }
    // The value's storage class, not the declared type: SQLite columns hold what was stored.
    let class = raw.type_info().name().to_string();
    match (kind, class.as_str()) {
        (CellKind::Json, "INTEGER") => w.display(row.try_get::<i64, _>(i)?),
        (CellKind::Json, "REAL") => w.f64(row.try_get::<f64, _>(i)?),
        (CellKind::Json, _) => w.raw(row.try_get::<&str, _>(i)?),
        (CellKind::Bool, "INTEGER" | "BOOLEAN") => w.bool(row.try_get::<i64, _>(i)? != 0),
        (CellKind::Bool, "REAL") => w.bool(row.try_get::<f64, _>(i)? != 0.0),
        (CellKind::Text, "INTEGER" | "BOOLEAN") => w.string(&row.try_get::<i64, _>(i)?.to_string()),
        (CellKind::Text, "REAL") => w.string(&row.try_get::<f64, _>(i)?.to_string()),
        (CellKind::Auto, "INTEGER" | "BOOLEAN") => w.display(row.try_get::<i64, _>(i)?),
        (CellKind::Auto, "REAL" | "NUMERIC") => w.f64(row.try_get::<f64, _>(i)?),
        (_, "BLOB") => w.null(),
        _ => w.string(row.try_get::<&str, _>(i)?),
    }
    Ok(())
}

fn postgres_cell(
    w: &mut Writer,
    row: &sqlx::postgres::PgRow,
    i: usize,
    kind: &CellKind,
) -> Result<(), DbError> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    if row.try_get_raw(i)?.is_null() {
        w.null();
        return Ok(());
    }
    match kind {
        CellKind::Json => w.raw(row.try_get_unchecked::<&str, _>(i)?),
        CellKind::Text => w.string(row.try_get_unchecked::<&str, _>(i)?),
        // Objects are unfolded by the writer before it asks for a column.
        CellKind::Bool | CellKind::Auto | CellKind::Object(_) => {
            match row.columns()[i].type_info().name() {
                "BOOL" => w.bool(row.try_get(i)?),
                "INT2" => w.display(row.try_get::<i16, _>(i)?),
                "INT4" => w.display(row.try_get::<i32, _>(i)?),
                "INT8" => w.display(row.try_get::<i64, _>(i)?),
                "FLOAT4" => w.f32(row.try_get::<f32, _>(i)?),
                "FLOAT8" => w.f64(row.try_get::<f64, _>(i)?),
                "UUID" => w.string(&row.try_get::<uuid::Uuid, _>(i)?.to_string()),
                "TIMESTAMPTZ" => w.string(
                    &row.try_get::<DateTime<Utc>, _>(i)?
                        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                        .to_string(),
                ),
                "TIMESTAMP" => w.string(
                    &row.try_get::<NaiveDateTime, _>(i)?
                        .format("%Y-%m-%dT%H:%M:%S")
                        .to_string(),
                ),
                "DATE" => w.string(&row.try_get::<NaiveDate, _>(i)?.to_string()),
                // Text types and enums (whose binary form is the label); the compiler casts
                // anything else to text or JSON before it gets here.
                _ => w.string(row.try_get_unchecked::<&str, _>(i)?),
            }
        }
    }
    Ok(())
}

fn mysql_cell(
    w: &mut Writer,
    row: &sqlx::mysql::MySqlRow,
    i: usize,
    kind: &CellKind,
) -> Result<(), DbError> {
    if row.try_get_raw(i)?.is_null() {
        w.null();
        return Ok(());
    }
    let name = row.columns()[i].type_info().name();
    let text = |row: &sqlx::mysql::MySqlRow| -> Result<String, DbError> {
        // Text may arrive flagged binary (expressions, some collations): read the bytes.
        let bytes = row.try_get_unchecked::<&[u8], _>(i)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    };
    match (kind, name) {
        (CellKind::Json, _) => w.raw(&text(row)?),
        (CellKind::Text, _) => w.string(&text(row)?),
        (_, "BOOLEAN") => w.bool(row.try_get(i)?),
        (CellKind::Bool, _) => w.bool(row.try_get_unchecked::<i64, _>(i)? != 0),
        (_, "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR") => {
            w.display(row.try_get_unchecked::<i64, _>(i)?)
        }
        (_, n) if n.ends_with("UNSIGNED") => w.display(row.try_get_unchecked::<u64, _>(i)?),
        (_, "FLOAT") => w.f32(row.try_get::<f32, _>(i)?),
        (_, "DOUBLE") => w.f64(row.try_get::<f64, _>(i)?),
        (_, "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY") => {
            match std::str::from_utf8(row.try_get_unchecked::<&[u8], _>(i)?) {
                Ok(s) => w.string(s),
                Err(_) => w.null(),
            }
        }
        _ => w.string(&text(row)?),
    }
    Ok(())
}

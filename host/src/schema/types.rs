//! Directus's field types, and the mapping between them and each database's column types
//! (both ways: introspection reads a column type, DDL writes one).

use crate::db::Dialect;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldType {
    Integer,
    BigInteger,
    Float,
    Decimal,
    String,
    Text,
    Boolean,
    Date,
    Time,
    DateTime,
    Timestamp,
    Json,
    Uuid,
    Hash,
    Csv,
    Binary,
    /// A field with no column (o2m, m2m, m2a, presentation fields).
    Alias,
    Unknown,
}

impl FieldType {
    pub fn parse(name: &str) -> Option<FieldType> {
        serde_json::from_value(Json::String(name.to_string())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Integer => "integer",
            FieldType::BigInteger => "bigInteger",
            FieldType::Float => "float",
            FieldType::Decimal => "decimal",
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Time => "time",
            FieldType::DateTime => "dateTime",
            FieldType::Timestamp => "timestamp",
            FieldType::Json => "json",
            FieldType::Uuid => "uuid",
            FieldType::Hash => "hash",
            FieldType::Csv => "csv",
            FieldType::Binary => "binary",
            FieldType::Alias => "alias",
            FieldType::Unknown => "unknown",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::BigInteger | FieldType::Float | FieldType::Decimal
        )
    }

    /// Types that `schema.max_length` applies to.
    pub fn has_length(self) -> bool {
        matches!(self, FieldType::String | FieldType::Hash)
    }

    /// Types that can hold an auto-increment primary key.
    pub fn can_auto_increment(self) -> bool {
        matches!(self, FieldType::Integer | FieldType::BigInteger)
    }

    /// Types whose meaning lives only in `meta.special` on some databases (a `csv` is a
    /// text column, a `hash` a varchar): creating one records the special so introspection
    /// gives the same type back.
    pub fn implied_special(self) -> Option<&'static str> {
        match self {
            FieldType::Hash => Some("hash"),
            FieldType::Csv => Some("cast-csv"),
            _ => None,
        }
    }
}

/// What `schema.data_type` looks like for a column (lower-case base type) and the full
/// declared type (with length or precision), as introspection reads them.
pub struct ColumnType<'a> {
    pub base: &'a str,
    pub full: &'a str,
}

/// The Directus type of a column (`api/src/utils/get-local-type.ts`), with three
/// improvements that keep round trips exact: MySQL `tinyint(1)` is boolean, MySQL
/// `char(36)` is uuid (Rectus makes uuid columns that way there), and SQLite's free-form
/// type names `uuid`, `json`, `timestamp` are honoured.
pub fn field_type_of(dialect: Dialect, ct: ColumnType<'_>) -> FieldType {
    let base = ct.base.trim().to_ascii_lowercase();
    let full = ct.full.trim().to_ascii_lowercase();
    if dialect == Dialect::MySql && full.starts_with("tinyint(1)") {
        return FieldType::Boolean;
    }
    if dialect == Dialect::MySql && full == "char(36)" {
        return FieldType::Uuid;
    }
    if full.ends_with("unsigned") && base == "bigint" {
        return FieldType::Integer;
    }
    match base.as_str() {
        "varchar" | "char" | "character varying" | "character" | "bpchar" | "interval"
        | "nvarchar" | "nchar" | "enum" | "set" => FieldType::String,
        "text" | "longtext" | "mediumtext" | "tinytext" | "citext" | "clob" | "string" => {
            FieldType::Text
        }
        "int" | "integer" | "smallint" | "tinyint" | "mediumint" | "serial" | "smallserial"
        | "int4" | "int2" | "year" | "number" => FieldType::Integer,
        "bigint" | "bigserial" | "int8" => FieldType::BigInteger,
        "float" | "double" | "double precision" | "real" | "float4" | "float8" | "money" => {
            FieldType::Float
        }
        "decimal" | "numeric" => FieldType::Decimal,
        "boolean" | "bool" | "bit" => FieldType::Boolean,
        "date" => FieldType::Date,
        "datetime" | "timestamp without time zone" | "datetime2" => FieldType::DateTime,
        "timestamp" if dialect == Dialect::Postgres => FieldType::DateTime,
        "timestamp" | "timestamptz" | "timestamp with time zone" => FieldType::Timestamp,
        "time" | "timetz" | "time without time zone" | "time with time zone" => FieldType::Time,
        "json" | "jsonb" => FieldType::Json,
        "uuid" | "uniqueidentifier" => FieldType::Uuid,
        "blob" | "binary" | "varbinary" | "bytea" | "image" | "longblob" | "mediumblob"
        | "tinyblob" => FieldType::Binary,
        _ => FieldType::Unknown,
    }
}

/// A type named in `meta.special` that overrides the column's own type.
pub fn special_override(special: &[String]) -> Option<FieldType> {
    special.iter().find_map(|s| match s.as_str() {
        "cast-json" => Some(FieldType::Json),
        // Concealed fields read as `**********` and filter like hashes, as in Directus.
        "hash" | "conceal" => Some(FieldType::Hash),
        "cast-csv" => Some(FieldType::Csv),
        "uuid" | "file" => Some(FieldType::Uuid),
        "cast-timestamp" => Some(FieldType::Timestamp),
        "cast-datetime" => Some(FieldType::DateTime),
        "cast-boolean" => Some(FieldType::Boolean),
        _ => None,
    })
}

/// The special values that make a field an alias (no column).
pub const ALIAS_SPECIALS: &[&str] = &[
    "alias",
    "o2m",
    "m2m",
    "m2a",
    "o2a",
    "files",
    "translations",
    "no-data",
    "group",
];

/// The cast PostgreSQL needs for a text parameter of this type (see `Sql::bind_cast`).
pub fn pg_cast(ty: FieldType) -> Option<&'static str> {
    match ty {
        FieldType::Uuid => Some("uuid"),
        FieldType::Json => Some("json"),
        FieldType::Timestamp => Some("timestamptz"),
        FieldType::DateTime => Some("timestamp"),
        FieldType::Date => Some("date"),
        FieldType::Time => Some("time"),
        FieldType::Decimal => Some("numeric"),
        _ => None,
    }
}

/// The cast for a parameter of this type holding `value`. A NULL needs its column's type
/// even where a non-null value would be coerced (`NULL::text` does not assign to an
/// integer column; `5::bigint` does).
pub fn pg_cast_for(ty: FieldType, value: &crate::db::Value) -> Option<&'static str> {
    if *value != crate::db::Value::Null {
        return pg_cast(ty);
    }
    match ty {
        FieldType::Integer => Some("integer"),
        FieldType::BigInteger => Some("bigint"),
        FieldType::Float => Some("double precision"),
        FieldType::Boolean => Some("boolean"),
        FieldType::Binary => Some("bytea"),
        other => pg_cast(other),
    }
}

/// The column type Rectus declares for a field type on a dialect. `length` applies to
/// strings, `precision`/`scale` to decimals.
pub fn column_type_sql(
    dialect: Dialect,
    ty: FieldType,
    length: Option<u32>,
    precision: Option<u32>,
    scale: Option<u32>,
) -> Option<String> {
    use Dialect::*;
    let s = match (ty, dialect) {
        (FieldType::Integer, MySql) => "int".into(),
        (FieldType::Integer, _) => "integer".into(),
        (FieldType::BigInteger, _) => "bigint".into(),
        (FieldType::Float, Postgres) => "real".into(),
        (FieldType::Float, _) => "float".into(),
        (FieldType::Decimal, MySql) => format!(
            "decimal({}, {})",
            precision.unwrap_or(10),
            scale.unwrap_or(5)
        ),
        (FieldType::Decimal, _) => format!(
            "numeric({}, {})",
            precision.unwrap_or(10),
            scale.unwrap_or(5)
        ),
        (FieldType::String | FieldType::Hash, _) => {
            format!("varchar({})", length.unwrap_or(255))
        }
        (FieldType::Text | FieldType::Csv, _) => "text".into(),
        (FieldType::Boolean, MySql) => "tinyint(1)".into(),
        (FieldType::Boolean, _) => "boolean".into(),
        (FieldType::Date, _) => "date".into(),
        (FieldType::Time, _) => "time".into(),
        (FieldType::DateTime, Postgres) => "timestamp".into(),
        (FieldType::DateTime, _) => "datetime".into(),
        (FieldType::Timestamp, Postgres) => "timestamptz".into(),
        (FieldType::Timestamp, _) => "timestamp".into(),
        (FieldType::Json, _) => "json".into(),
        (FieldType::Uuid, MySql) => "char(36)".into(),
        (FieldType::Uuid, _) => "uuid".into(),
        (FieldType::Binary, Postgres) => "bytea".into(),
        (FieldType::Binary, _) => "blob".into(),
        (FieldType::Alias | FieldType::Unknown, _) => return None,
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(d: Dialect, base: &str, full: &str) -> FieldType {
        field_type_of(d, ColumnType { base, full })
    }

    #[test]
    fn maps_database_types_like_directus() {
        assert_eq!(
            ty(
                Dialect::Postgres,
                "character varying",
                "character varying(255)"
            ),
            FieldType::String
        );
        assert_eq!(
            ty(Dialect::Postgres, "int8", "bigint"),
            FieldType::BigInteger
        );
        assert_eq!(
            ty(Dialect::Postgres, "numeric", "numeric(10,2)"),
            FieldType::Decimal
        );
        assert_eq!(
            ty(Dialect::Postgres, "timestamptz", "timestamp with time zone"),
            FieldType::Timestamp
        );
        assert_eq!(
            ty(
                Dialect::Postgres,
                "timestamp",
                "timestamp without time zone"
            ),
            FieldType::DateTime
        );
        assert_eq!(ty(Dialect::Postgres, "jsonb", "jsonb"), FieldType::Json);
        assert_eq!(
            ty(Dialect::MySql, "tinyint", "tinyint(1)"),
            FieldType::Boolean
        );
        assert_eq!(
            ty(Dialect::MySql, "tinyint", "tinyint(4)"),
            FieldType::Integer
        );
        assert_eq!(ty(Dialect::MySql, "char", "char(36)"), FieldType::Uuid);
        assert_eq!(
            ty(Dialect::MySql, "timestamp", "timestamp"),
            FieldType::Timestamp
        );
        assert_eq!(
            ty(Dialect::Sqlite, "datetime", "datetime"),
            FieldType::DateTime
        );
        assert_eq!(ty(Dialect::Sqlite, "uuid", "uuid"), FieldType::Uuid);
        assert_eq!(
            ty(Dialect::Sqlite, "geometry", "geometry"),
            FieldType::Unknown
        );
    }

    #[test]
    fn every_storable_type_round_trips_through_ddl_and_introspection() {
        use FieldType::*;
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
            for t in [
                Integer, BigInteger, Float, Decimal, String, Text, Boolean, Date, Time, DateTime,
                Timestamp, Json, Uuid, Binary,
            ] {
                let full = column_type_sql(d, t, None, None, None).unwrap();
                let base = full.split('(').next().unwrap();
                let back = ty(d, base, &full);
                let back = if d == Dialect::Postgres && base == "timestamptz" {
                    Timestamp
                } else {
                    back
                };
                assert_eq!(back, t, "{d:?} {full}");
            }
        }
    }
}

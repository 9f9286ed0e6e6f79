//! DDL: portable table and column specifications rendered as each dialect's SQL.
//!
//! Identifiers are quoted names that passed [`super::names`] or come from the catalogue.
//! Column defaults are the one place a value is written into SQL text, because no database
//! accepts a bind parameter in DDL: [`literal`] renders them from typed JSON (numbers and
//! booleans as formatted by Rust, strings escaped for the dialect, NUL refused).

use super::types::{column_type_sql, FieldType};
use crate::db::Dialect;
use serde_json::Value as Json;

/// A column to create, or a column as it should become.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    pub field_type: FieldType,
    /// A declared type copied from the catalogue, used verbatim when a table is rebuilt
    /// (SQLite) so untouched columns keep exactly their type.
    pub raw_type: Option<String>,
    /// A default expression copied from the catalogue, used verbatim when a table is
    /// rebuilt (SQLite): it is the database's own text, not a client value, and may be an
    /// expression `literal` cannot express.
    pub raw_default: Option<String>,
    pub max_length: Option<u32>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    pub nullable: bool,
    pub default: Option<Json>,
    pub unique: bool,
    pub primary_key: bool,
    pub auto_increment: bool,
}

impl ColumnSpec {
    pub fn new(name: &str, field_type: FieldType) -> Self {
        ColumnSpec {
            name: name.to_string(),
            field_type,
            raw_type: None,
            raw_default: None,
            max_length: None,
            precision: None,
            scale: None,
            nullable: true,
            default: None,
            unique: false,
            primary_key: false,
            auto_increment: false,
        }
    }

    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }
    pub fn length(mut self, n: u32) -> Self {
        self.max_length = Some(n);
        self
    }
    pub fn default(mut self, v: Json) -> Self {
        self.default = Some(v);
        self
    }
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    pub fn primary(mut self) -> Self {
        self.primary_key = true;
        self.nullable = false;
        self
    }
    pub fn auto_increment(mut self) -> Self {
        self.auto_increment = true;
        self.primary().not_null()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeySpec {
    pub name: String,
    pub column: String,
    pub foreign_table: String,
    pub foreign_column: String,
    pub on_delete: String,
    pub on_update: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DdlError {
    #[error("field \"{field}\": {reason}")]
    BadDefault { field: String, reason: String },
    #[error("field \"{0}\" has a type that cannot be stored in a column")]
    NoColumnType(String),
    #[error("\"{0}\" is not a valid referential action; use NO ACTION, RESTRICT, CASCADE, SET NULL or SET DEFAULT")]
    BadAction(String),
}

/// The referential actions every dialect understands.
pub fn check_action(action: &str) -> Result<String, DdlError> {
    let upper = action.trim().to_ascii_uppercase();
    match upper.as_str() {
        "NO ACTION" | "RESTRICT" | "CASCADE" | "SET NULL" | "SET DEFAULT" => Ok(upper),
        _ => Err(DdlError::BadAction(action.to_string())),
    }
}

/// Renders a default value as a SQL literal for a column of type `ty`.
pub fn literal(
    dialect: Dialect,
    ty: FieldType,
    field: &str,
    value: &Json,
) -> Result<String, DdlError> {
    let bad = |reason: &str| DdlError::BadDefault {
        field: field.to_string(),
        reason: reason.to_string(),
    };
    match value {
        Json::Null => Ok("NULL".into()),
        Json::Bool(b) => match ty {
            FieldType::Boolean => Ok(match (dialect, b) {
                (Dialect::Postgres, true) => "true".into(),
                (Dialect::Postgres, false) => "false".into(),
                (_, true) => "1".into(),
                (_, false) => "0".into(),
            }),
            _ => Err(bad("a boolean default needs a boolean field")),
        },
        Json::Number(n) => {
            if !ty.is_numeric() && ty != FieldType::Boolean {
                return Err(bad("a numeric default needs a numeric field"));
            }
            if matches!(ty, FieldType::Integer | FieldType::BigInteger) && n.as_i64().is_none() {
                return Err(bad(
                    "the default of an integer field must be a whole number",
                ));
            }
            // serde_json's formatting of a finite number is plain digits, sign, '.', 'e'.
            Ok(n.to_string())
        }
        Json::String(s) => {
            if s.contains('\0') {
                return Err(bad("the default contains a NUL character"));
            }
            let upper = s.trim().to_ascii_uppercase();
            if matches!(upper.as_str(), "CURRENT_TIMESTAMP" | "NOW()") {
                return match ty {
                    FieldType::DateTime | FieldType::Timestamp => Ok("CURRENT_TIMESTAMP".into()),
                    FieldType::Date if dialect != Dialect::MySql => Ok("CURRENT_DATE".into()),
                    _ => Err(bad("CURRENT_TIMESTAMP needs a dateTime or timestamp field")),
                };
            }
            match ty {
                FieldType::Integer | FieldType::BigInteger => {
                    let n: i64 = s.trim().parse().map_err(|_| bad("not a whole number"))?;
                    Ok(n.to_string())
                }
                FieldType::Float | FieldType::Decimal => {
                    let text = s.trim();
                    let n: f64 = text.parse().map_err(|_| bad("not a number"))?;
                    if !n.is_finite() {
                        return Err(bad("not a finite number"));
                    }
                    // Plain decimal text is kept as written so `1.50` stays exact for
                    // decimals; anything else (`1e3`) is re-rendered from the parsed value.
                    let plain = text
                        .strip_prefix('-')
                        .unwrap_or(text)
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.');
                    Ok(if plain {
                        text.to_string()
                    } else {
                        n.to_string()
                    })
                }
                FieldType::Boolean => match s.trim() {
                    "true" | "1" => literal(dialect, ty, field, &Json::Bool(true)),
                    "false" | "0" => literal(dialect, ty, field, &Json::Bool(false)),
                    _ => Err(bad("not a boolean")),
                },
                _ => {
                    let mut out = String::with_capacity(s.len() + 2);
                    out.push('\'');
                    for c in s.chars() {
                        match c {
                            '\'' => out.push_str("''"),
                            // MySQL treats backslash as an escape inside string literals.
                            '\\' if dialect == Dialect::MySql => out.push_str("\\\\"),
                            c => out.push(c),
                        }
                    }
                    out.push('\'');
                    Ok(out)
                }
            }
        }
        Json::Array(_) | Json::Object(_) => match ty {
            FieldType::Json if dialect != Dialect::MySql => literal(
                dialect,
                FieldType::Text,
                field,
                &Json::String(value.to_string()),
            ),
            FieldType::Json => {
                // MySQL only accepts expression defaults for JSON columns.
                let inner = literal(
                    dialect,
                    FieldType::Text,
                    field,
                    &Json::String(value.to_string()),
                )?;
                Ok(format!("({inner})"))
            }
            _ => Err(bad("an object or array default needs a json field")),
        },
    }
}

/// The column type to declare.
pub fn type_sql(dialect: Dialect, col: &ColumnSpec) -> Result<String, DdlError> {
    if let Some(raw) = &col.raw_type {
        return Ok(raw.clone());
    }
    column_type_sql(
        dialect,
        col.field_type,
        col.max_length,
        col.precision,
        col.scale,
    )
    .ok_or_else(|| DdlError::NoColumnType(col.name.clone()))
}

/// `name type [constraints]` as used in CREATE TABLE and ADD COLUMN.
pub fn column_definition(
    dialect: Dialect,
    col: &ColumnSpec,
    inline_pk: bool,
) -> Result<String, DdlError> {
    Ok(format!(
        "{} {}",
        dialect.quote(&col.name),
        column_tail(dialect, col, inline_pk)?
    ))
}

/// Everything after the column name: type, nullability, default, inline keys.
fn column_tail(dialect: Dialect, col: &ColumnSpec, inline_pk: bool) -> Result<String, DdlError> {
    let big = col.field_type == FieldType::BigInteger;
    if col.auto_increment {
        let pk = if inline_pk { " PRIMARY KEY" } else { "" };
        return Ok(match dialect {
            Dialect::Postgres => format!(
                "{} GENERATED BY DEFAULT AS IDENTITY{pk}",
                if big { "bigint" } else { "integer" }
            ),
            Dialect::MySql => format!(
                "{} NOT NULL AUTO_INCREMENT{pk}",
                if big { "bigint" } else { "int" }
            ),
            // Only INTEGER PRIMARY KEY aliases the rowid.
            Dialect::Sqlite => "integer PRIMARY KEY AUTOINCREMENT".to_string(),
        });
    }
    let mut out = type_sql(dialect, col)?;
    if !col.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(raw) = &col.raw_default {
        out.push_str(" DEFAULT ");
        out.push_str(raw);
    } else if let Some(d) = col.default.as_ref().filter(|d| !d.is_null()) {
        out.push_str(" DEFAULT ");
        out.push_str(&literal(dialect, col.field_type, &col.name, d)?);
    }
    if col.primary_key && inline_pk {
        out.push_str(" PRIMARY KEY");
    }
    if col.unique && !col.primary_key {
        out.push_str(" UNIQUE");
    }
    Ok(out)
}

fn foreign_key_clause(dialect: Dialect, fk: &ForeignKeySpec) -> String {
    let q = |s: &str| dialect.quote(s);
    format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
        q(&fk.name),
        q(&fk.column),
        q(&fk.foreign_table),
        q(&fk.foreign_column),
        fk.on_delete,
        fk.on_update
    )
}

/// CREATE TABLE with its columns, primary key and foreign keys.
pub fn create_table(
    dialect: Dialect,
    table: &str,
    columns: &[ColumnSpec],
    foreign_keys: &[ForeignKeySpec],
) -> Result<String, DdlError> {
    let pk: Vec<&str> = columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name.as_str())
        .collect();
    let inline_pk = pk.len() == 1;
    let mut parts = Vec::new();
    for c in columns {
        parts.push(column_definition(dialect, c, inline_pk)?);
    }
    if pk.len() > 1 {
        let cols: Vec<String> = pk.iter().map(|c| dialect.quote(c)).collect();
        parts.push(format!("PRIMARY KEY ({})", cols.join(", ")));
    }
    for fk in foreign_keys {
        parts.push(foreign_key_clause(dialect, fk));
    }
    let mut sql = format!(
        "CREATE TABLE {} (\n  {}\n)",
        dialect.quote(table),
        parts.join(",\n  ")
    );
    if dialect == Dialect::MySql {
        sql.push_str(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci");
    }
    Ok(sql)
}

pub fn drop_table(dialect: Dialect, table: &str) -> String {
    format!("DROP TABLE {}", dialect.quote(table))
}

pub fn add_column(dialect: Dialect, table: &str, col: &ColumnSpec) -> Result<String, DdlError> {
    Ok(format!(
        "ALTER TABLE {} ADD COLUMN {}",
        dialect.quote(table),
        column_definition(dialect, col, true)?
    ))
}

pub fn drop_column(dialect: Dialect, table: &str, column: &str) -> String {
    format!(
        "ALTER TABLE {} DROP COLUMN {}",
        dialect.quote(table),
        dialect.quote(column)
    )
}

pub fn add_foreign_key(dialect: Dialect, table: &str, fk: &ForeignKeySpec) -> String {
    format!(
        "ALTER TABLE {} ADD {}",
        dialect.quote(table),
        foreign_key_clause(dialect, fk)
    )
}

pub fn drop_foreign_key(dialect: Dialect, table: &str, constraint: &str) -> String {
    match dialect {
        Dialect::MySql => format!(
            "ALTER TABLE {} DROP FOREIGN KEY {}",
            dialect.quote(table),
            dialect.quote(constraint)
        ),
        _ => format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            dialect.quote(table),
            dialect.quote(constraint)
        ),
    }
}

/// Statements that change a column in place from `old` to `new` (PostgreSQL, MySQL).
/// SQLite cannot; its caller rebuilds the table instead.
pub fn alter_column(
    dialect: Dialect,
    table: &str,
    old: &ColumnSpec,
    new: &ColumnSpec,
) -> Result<Vec<String>, DdlError> {
    let t = dialect.quote(table);
    let c = dialect.quote(&new.name);
    let mut out = Vec::new();
    match dialect {
        Dialect::Postgres => {
            let (old_ty, new_ty) = (type_sql(dialect, old)?, type_sql(dialect, new)?);
            if old_ty != new_ty && !new.auto_increment {
                out.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} TYPE {new_ty} USING {c}::{new_ty}"
                ));
            }
            if old.default != new.default && !new.auto_increment {
                match &new.default {
                    None | Some(Json::Null) => {
                        out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"))
                    }
                    Some(d) => out.push(format!(
                        "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {}",
                        literal(dialect, new.field_type, &new.name, d)?
                    )),
                }
            }
            if old.nullable != new.nullable {
                out.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} {} NOT NULL",
                    if new.nullable { "DROP" } else { "SET" }
                ));
            }
            if old.unique != new.unique && !new.primary_key {
                let name = dialect.quote(&format!("{table}_{}_unique", new.name));
                if new.unique {
                    out.push(format!(
                        "ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({c})"
                    ));
                } else {
                    out.push(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name}"));
                }
            }
        }
        Dialect::MySql => {
            // MODIFY restates the whole column (AUTO_INCREMENT included); keys stay as
            // declared on the table.
            let restated = ColumnSpec {
                unique: false,
                primary_key: false,
                ..new.clone()
            };
            out.push(format!(
                "ALTER TABLE {t} MODIFY COLUMN {c} {}",
                column_tail(dialect, &restated, false)?
            ));
            if old.unique != new.unique && !new.primary_key {
                let name = dialect.quote(&format!("{table}_{}_unique", new.name));
                if new.unique {
                    out.push(format!(
                        "ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({c})"
                    ));
                } else {
                    out.push(format!("ALTER TABLE {t} DROP INDEX {name}"));
                }
            }
        }
        Dialect::Sqlite => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn orders() -> Vec<ColumnSpec> {
        vec![
            ColumnSpec::new("id", FieldType::Integer).auto_increment(),
            ColumnSpec::new("customer_name", FieldType::String).not_null(),
            ColumnSpec::new("amount", FieldType::Float),
            ColumnSpec::new("status", FieldType::String).default(json!("Pending")),
            ColumnSpec::new("date_created", FieldType::Timestamp)
                .default(json!("CURRENT_TIMESTAMP")),
        ]
    }

    #[test]
    fn create_table_snapshots_per_dialect() {
        assert_eq!(
            create_table(Dialect::Postgres, "orders", &orders(), &[]).unwrap(),
            "CREATE TABLE \"orders\" (\n  \"id\" integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \"customer_name\" varchar(255) NOT NULL,\n  \"amount\" real,\n  \"status\" varchar(255) DEFAULT 'Pending',\n  \"date_created\" timestamptz DEFAULT CURRENT_TIMESTAMP\n)"
        );
        assert_eq!(
            create_table(Dialect::MySql, "orders", &orders(), &[]).unwrap(),
            "CREATE TABLE `orders` (\n  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,\n  `customer_name` varchar(255) NOT NULL,\n  `amount` float,\n  `status` varchar(255) DEFAULT 'Pending',\n  `date_created` timestamp DEFAULT CURRENT_TIMESTAMP\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        );
        assert_eq!(
            create_table(Dialect::Sqlite, "orders", &orders(), &[]).unwrap(),
            "CREATE TABLE \"orders\" (\n  \"id\" integer PRIMARY KEY AUTOINCREMENT,\n  \"customer_name\" varchar(255) NOT NULL,\n  \"amount\" float,\n  \"status\" varchar(255) DEFAULT 'Pending',\n  \"date_created\" timestamp DEFAULT CURRENT_TIMESTAMP\n)"
        );
    }

    #[test]
    fn composite_keys_and_foreign_keys() {
        let cols = vec![
            ColumnSpec::new("a", FieldType::Integer).primary(),
            ColumnSpec::new("b", FieldType::String).primary(),
        ];
        let fk = ForeignKeySpec {
            name: "t_a_foreign".into(),
            column: "a".into(),
            foreign_table: "other".into(),
            foreign_column: "id".into(),
            on_delete: "SET NULL".into(),
            on_update: "NO ACTION".into(),
        };
        assert_eq!(
            create_table(Dialect::Postgres, "t", &cols, &[fk]).unwrap(),
            "CREATE TABLE \"t\" (\n  \"a\" integer NOT NULL,\n  \"b\" varchar(255) NOT NULL,\n  PRIMARY KEY (\"a\", \"b\"),\n  CONSTRAINT \"t_a_foreign\" FOREIGN KEY (\"a\") REFERENCES \"other\" (\"id\") ON DELETE SET NULL ON UPDATE NO ACTION\n)"
        );
    }

    #[test]
    fn literals_are_escaped_and_typed() {
        let s = |d, v: Json| literal(d, FieldType::String, "f", &v);
        assert_eq!(s(Dialect::Postgres, json!("it's")).unwrap(), "'it''s'");
        assert_eq!(
            s(Dialect::MySql, json!("a\\'; DROP")).unwrap(),
            "'a\\\\''; DROP'"
        );
        assert_eq!(s(Dialect::Sqlite, json!("a\\b")).unwrap(), "'a\\b'");
        assert!(s(Dialect::Postgres, json!("nul\0")).is_err());
        assert_eq!(
            literal(Dialect::Postgres, FieldType::Integer, "n", &json!(5)).unwrap(),
            "5"
        );
        assert!(literal(
            Dialect::Postgres,
            FieldType::Integer,
            "n",
            &json!("5; drop")
        )
        .is_err());
        assert!(literal(Dialect::Postgres, FieldType::Integer, "n", &json!(1.5)).is_err());
        assert_eq!(
            literal(Dialect::Postgres, FieldType::Decimal, "n", &json!("1.50")).unwrap(),
            "1.50"
        );
        assert_eq!(
            literal(Dialect::MySql, FieldType::Boolean, "b", &json!(true)).unwrap(),
            "1"
        );
        assert_eq!(
            literal(Dialect::Postgres, FieldType::Boolean, "b", &json!(false)).unwrap(),
            "false"
        );
        assert!(literal(Dialect::Postgres, FieldType::String, "b", &json!(true)).is_err());
        assert_eq!(
            literal(Dialect::Postgres, FieldType::Json, "j", &json!({"a":"b'"})).unwrap(),
            "'{\"a\":\"b''\"}'"
        );
    }

    #[test]
    fn alter_column_per_dialect() {
        let old = ColumnSpec::new("n", FieldType::Integer);
        let new = ColumnSpec::new("n", FieldType::BigInteger)
            .not_null()
            .default(json!(0));
        assert_eq!(
            alter_column(Dialect::Postgres, "t", &old, &new).unwrap(),
            vec![
                "ALTER TABLE \"t\" ALTER COLUMN \"n\" TYPE bigint USING \"n\"::bigint",
                "ALTER TABLE \"t\" ALTER COLUMN \"n\" SET DEFAULT 0",
                "ALTER TABLE \"t\" ALTER COLUMN \"n\" SET NOT NULL",
            ]
        );
        assert_eq!(
            alter_column(Dialect::MySql, "t", &old, &new).unwrap(),
            vec!["ALTER TABLE `t` MODIFY COLUMN `n` bigint NOT NULL DEFAULT 0"]
        );
    }
}

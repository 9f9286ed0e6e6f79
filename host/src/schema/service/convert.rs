//! Which column type changes keep the data. Widening changes (integer → bigInteger,
//! string → text, a longer varchar, integer → float or decimal, anything → text) always
//! do; narrowing ones are allowed only when every stored value survives, which is checked
//! against the rows before any DDL runs; anything else only on a column with no values.

use super::{count, SchemaError};
use crate::db::{Db, Dialect, Sql};
use crate::schema::ddl::ColumnSpec;
use crate::schema::FieldType as T;

/// What has to hold for every non-null value of the column.
#[derive(Debug, PartialEq)]
enum Check {
    /// At most this many characters as text.
    Length(u32),
    /// A whole number (numeric source) within the range.
    WholeInRange(i64, i64),
    /// Text that reads as a whole number within the range.
    IntegerText(i64, i64),
    /// Text that reads as a number.
    NumericText,
    /// No value at all.
    Empty,
}

const INT_RANGE: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);
const BIG_RANGE: (i64, i64) = (i64::MIN, i64::MAX);

fn text_length(spec: &ColumnSpec) -> Option<u32> {
    match spec.field_type {
        T::String | T::Hash => Some(spec.max_length.unwrap_or(255)),
        _ => None,
    }
}

/// The checks a change from `old` to `new` needs; empty when it is lossless.
fn checks(old: &ColumnSpec, new: &ColumnSpec) -> Vec<Check> {
    let (from, to) = (old.field_type, new.field_type);
    let textual = |t: T| matches!(t, T::String | T::Text | T::Hash | T::Csv);
    let range = |t: T| {
        if t == T::Integer {
            INT_RANGE
        } else {
            BIG_RANGE
        }
    };
    if from == to {
        return match (text_length(old), text_length(new)) {
            (Some(a), Some(b)) if b < a => vec![Check::Length(b)],
            _ => match (from, old.precision, new.precision, old.scale, new.scale) {
                // A decimal that loses digits: only when it holds nothing.
                (T::Decimal, Some(op), Some(np), os, ns)
                    if np < op || ns.unwrap_or(5) < os.unwrap_or(5) =>
                {
                    vec![Check::Empty]
                }
                _ => Vec::new(),
            },
        };
    }
    match (from, to) {
        (_, T::Text | T::Csv) if from != T::Binary => Vec::new(),
        (_, T::String | T::Hash) if from != T::Binary => {
            vec![Check::Length(new.max_length.unwrap_or(255))]
        }
        (T::Integer, T::BigInteger | T::Float | T::Decimal) => Vec::new(),
        (T::BigInteger, T::Float | T::Decimal) => Vec::new(),
        (T::Float, T::Decimal) | (T::Decimal, T::Float) => Vec::new(),
        (T::BigInteger, T::Integer) => vec![Check::WholeInRange(INT_RANGE.0, INT_RANGE.1)],
        (T::Float | T::Decimal, T::Integer | T::BigInteger) => {
            let (lo, hi) = range(to);
            vec![Check::WholeInRange(lo, hi)]
        }
        (f, T::Integer | T::BigInteger) if textual(f) => {
            let (lo, hi) = range(to);
            vec![Check::IntegerText(lo, hi)]
        }
        (f, T::Float | T::Decimal) if textual(f) => vec![Check::NumericText],
        (T::Boolean, T::Integer | T::BigInteger) => Vec::new(),
        (T::Date, T::DateTime | T::Timestamp) => Vec::new(),
        (T::DateTime, T::Timestamp) | (T::Timestamp, T::DateTime) => Vec::new(),
        _ => vec![Check::Empty],
    }
}

/// Refuses (400) a change from `old` to `new` that would lose or mangle stored values.
pub(super) async fn ensure_lossless(
    db: &Db,
    table: &str,
    old: &ColumnSpec,
    new: &ColumnSpec,
) -> Result<(), SchemaError> {
    for check in checks(old, new) {
        let mut sql = db.sql();
        sql.push("SELECT COUNT(*) AS n FROM ")
            .ident(table)
            .push(" WHERE ")
            .ident(&old.name)
            .push(" IS NOT NULL AND (");
        condition(&mut sql, db.dialect(), &old.name, &check);
        sql.push(")");
        let bad = count(db, &sql).await?;
        if bad > 0 {
            let reason = match check {
                Check::Length(n) => format!("{bad} value(s) are longer than {n} characters"),
                Check::WholeInRange(..) | Check::IntegerText(..) => format!(
                    "{bad} value(s) are not whole numbers that fit a {} field",
                    new.field_type.as_str()
                ),
                Check::NumericText => format!("{bad} value(s) are not numbers"),
                Check::Empty => format!(
                    "{bad} value(s) cannot be converted safely; only an empty field can change from {} to {}",
                    old.field_type.as_str(),
                    new.field_type.as_str()
                ),
            };
            return Err(SchemaError::Invalid(format!(
                "Cannot change field \"{}\" from {} to {}: {reason}",
                old.name,
                old.field_type.as_str(),
                new.field_type.as_str()
            )));
        }
    }
    Ok(())
}

/// A condition true for the values that fail `check` (the column is known non-null).
fn condition(sql: &mut Sql, d: Dialect, col: &str, check: &Check) {
    match check {
        Check::Empty => {
            sql.push("1 = 1");
        }
        Check::Length(n) => {
            match d {
                Dialect::Postgres => sql.push("char_length(CAST(").ident(col).push(" AS text))"),
                Dialect::MySql => sql.push("CHAR_LENGTH(").ident(col).push(")"),
                Dialect::Sqlite => sql.push("length(").ident(col).push(")"),
            };
            sql.push(" > ").bind(*n as i64);
        }
        Check::WholeInRange(lo, hi) => {
            match d {
                Dialect::Sqlite => sql
                    .ident(col)
                    .push(" <> CAST(")
                    .ident(col)
                    .push(" AS INTEGER)"),
                _ => sql.ident(col).push(" <> FLOOR(").ident(col).push(")"),
            };
            sql.push(" OR ").ident(col).push(" < ").bind(*lo);
            sql.push(" OR ").ident(col).push(" > ").bind(*hi);
        }
        Check::IntegerText(lo, hi) => {
            // The range is compared as a number only for values that are whole numbers
            // (CASE keeps PostgreSQL from casting the others).
            match d {
                Dialect::Postgres => {
                    sql.push("CASE WHEN trim(CAST(")
                        .ident(col)
                        .push(" AS text)) ~ '^[-+]?[0-9]{1,30}$' THEN CAST(trim(CAST(")
                        .ident(col)
                        .push(" AS text)) AS numeric) NOT BETWEEN ")
                        .bind(*lo)
                        .push(" AND ")
                        .bind(*hi)
                        .push(" ELSE true END");
                }
                Dialect::MySql => {
                    sql.push("CASE WHEN TRIM(")
                        .ident(col)
                        .push(") REGEXP '^[-+]?[0-9]{1,30}$' THEN CAST(TRIM(")
                        .ident(col)
                        .push(") AS DECIMAL(65,0)) NOT BETWEEN ")
                        .bind(*lo)
                        .push(" AND ")
                        .bind(*hi)
                        .push(" ELSE 1 END");
                }
                Dialect::Sqlite => {
                    // SQLite has no regular expressions: a whole number is text whose
                    // integer reading prints back the same.
                    sql.push("CAST(CAST(trim(")
                        .ident(col)
                        .push(") AS INTEGER) AS TEXT) <> ltrim(trim(")
                        .ident(col)
                        .push("), '+') OR CAST(trim(")
                        .ident(col)
                        .push(") AS INTEGER) NOT BETWEEN ")
                        .bind(*lo)
                        .push(" AND ")
                        .bind(*hi);
                }
            }
        }
        Check::NumericText => match d {
            Dialect::Postgres => {
                sql.push("trim(CAST(")
                    .ident(col)
                    .push(" AS text)) !~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'");
            }
            Dialect::MySql => {
                sql.push("TRIM(")
                    .ident(col)
                    .push(") NOT REGEXP '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'");
            }
            Dialect::Sqlite => {
                // A number read back from text is numeric, anything else compares as text.
                sql.push("trim(")
                    .ident(col)
                    .push(") = '' OR typeof(CAST(trim(")
                    .ident(col)
                    .push(") AS NUMERIC)) NOT IN ('integer', 'real') OR trim(")
                    .ident(col)
                    .push(") GLOB '*[^0-9.eE+-]*'");
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: T) -> ColumnSpec {
        ColumnSpec::new("c", t)
    }

    #[test]
    fn widening_needs_no_check() {
        assert!(checks(&col(T::Integer), &col(T::BigInteger)).is_empty());
        assert!(checks(&col(T::String), &col(T::Text)).is_empty());
        assert!(checks(&col(T::Integer), &col(T::Float)).is_empty());
        assert!(checks(&col(T::Json), &col(T::Text)).is_empty());
        assert!(checks(&col(T::String).length(10), &col(T::String).length(20)).is_empty());
    }

    #[test]
    fn narrowing_is_checked() {
        assert_eq!(
            checks(&col(T::Text), &col(T::String).length(5)),
            vec![Check::Length(5)]
        );
        assert_eq!(
            checks(&col(T::BigInteger), &col(T::Integer)),
            vec![Check::WholeInRange(INT_RANGE.0, INT_RANGE.1)]
        );
        assert!(matches!(
            checks(&col(T::String), &col(T::Integer))[..],
            [Check::IntegerText(..)]
        ));
        assert_eq!(checks(&col(T::Text), &col(T::Boolean)), vec![Check::Empty]);
        assert_eq!(checks(&col(T::Binary), &col(T::Text)), vec![Check::Empty]);
    }
}
